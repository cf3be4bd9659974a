"""The registry of metric definitions: what each per-replication metric means.

Every metric of :func:`sim.analysis.metrics.replication_metrics` matches exactly one
entry of :data:`METRICS`, by its name *pattern*: a name whose parts in angle brackets
are placeholders for a component of the scenario (``<fleet>``, ``<pocket>``,
``<commodity>``, ``<id>`` of an observation). Each entry says:

``unit``
    what one value is counted in (``t``, ``person-days``, ``days``...);
``better``
    ``"higher"``, ``"lower"`` or ``"neither"`` — which way is better *for the
    enclave*; a comparison (``siege compare``) uses it to say whether an option is
    better than the reference, and ``"neither"`` metrics are reported without a
    judgement (more sorties flown is not better in itself);
``share``
    True for a metric that is 0 or 1 in each replication, so that its mean across
    replications is a probability (``stockout__...``); goals on a share are judged
    with a binomial (Clopper–Pearson) bound, other goals with a Student-t bound;
``never``
    True for a time to an event that may not happen in the run (NaN = "never", a
    censored time, see :mod:`sim.analysis.summary`);
``definition``
    one line, in plain words.

The registry is plain data (a tuple of frozen records, in the order of
``replication_metrics``) so that other code can extend it and generate tables from
it. :func:`lookup` finds the entry of a metric name; :func:`metric_names` lists the
metrics a scenario gives, without running it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

from sim.scenario.schema import Scenario

Better = Literal["higher", "lower", "neither"]


@dataclass(frozen=True)
class MetricDef:
    """One metric (or one family of metrics, by name pattern)."""

    pattern: str
    unit: str
    better: Better
    share: bool
    definition: str
    never: bool = False


METRICS: tuple[MetricDef, ...] = (
    MetricDef(
        "delivered_t", "t", "higher", False, "tonnes delivered by all fleets (recovered, for drops)"
    ),
    MetricDef("delivered_t__<fleet>", "t", "higher", False, "tonnes the fleet delivered"),
    MetricDef(
        "received_t__<pocket>", "t", "higher", False, "air deliveries received by the pocket"
    ),
    MetricDef("sorties_flown__<fleet>", "sorties", "neither", False, "sorties that took off"),
    MetricDef(
        "sorties_aborted__<fleet>",
        "sorties",
        "lower",
        False,
        "sortie slots not flown (not mission-capable, weather, no open target)",
    ),
    MetricDef(
        "deliveries__<fleet>", "sorties", "higher", False, "sorties that reached their target"
    ),
    MetricDef("aircraft_lost__<fleet>", "aircraft", "lower", False, "aircraft of the fleet lost"),
    MetricDef("aircraft_lost", "aircraft", "lower", False, "aircraft lost, all fleets"),
    MetricDef(
        "first_stockout_day__<pocket>__<commodity>",
        "days from the start",
        "higher",
        False,
        "first day the stock is exhausted while there is a demand for it (NaN = never)",
        never=True,
    ),
    MetricDef(
        "stockout__<pocket>__<commodity>",
        "share of replications",
        "lower",
        True,
        "1 if the stock was ever exhausted while there was a demand for it, else 0",
    ),
    MetricDef(
        "person_days_below_full__<pocket>",
        "person-days",
        "lower",
        False,
        "Σ over days of the people (civilians and garrison) who ate less than a full ration",
    ),
    MetricDef(
        "person_days_below_half__<pocket>",
        "person-days",
        "lower",
        False,
        "Σ over days of the people who ate less than half a ration",
    ),
    MetricDef(
        "person_days_below_full",
        "person-days",
        "lower",
        False,
        "person-days below a full ration, all pockets",
    ),
    MetricDef(
        "person_days_below_half",
        "person-days",
        "lower",
        False,
        "person-days below half a ration, all pockets",
    ),
    MetricDef(
        "min_days_of_supply__<pocket>__<commodity>",
        "days",
        "higher",
        False,
        "lowest end-of-day stock in days of full demand (NaN if never a demand)",
    ),
    MetricDef(
        "shortfall_t__<pocket>__<commodity>",
        "t",
        "lower",
        False,
        "ration demand left unmet over the run",
    ),
    MetricDef(
        "combat_sorties_per_day",
        "sorties/day",
        "neither",
        False,
        "mean realised combat air sorties per day",
    ),
    MetricDef(
        "targets_destroyed",
        "targets",
        "higher",
        False,
        "besieger targets destroyed by combat sorties over the run",
    ),
    MetricDef(
        "obs__<id>",
        "the observation's unit",
        "neither",
        False,
        "the model's value of the historical observation <id> (see observations.csv)",
    ),
)
"""Every metric family, in the order :func:`sim.analysis.metrics.replication_metrics`
reports them."""

PLACEHOLDERS: dict[str, str] = {
    "fleet": "fleets",
    "pocket": "pockets",
    "commodity": "commodities",
    "id": "observations",
}
"""Placeholder → the scenario section whose names (observation ids) it stands for."""

_NAME = r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*"
"""A component name (see :data:`sim.scenario.schema.Name`): no double underscore."""

_HOLE = re.compile(r"<([a-z]+)>")


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    parts = _HOLE.split(pattern)
    out = []
    for i, part in enumerate(parts):
        out.append(f"(?:{_NAME})" if i % 2 else re.escape(part))
    return re.compile("".join(out))


def lookup(name: str) -> MetricDef | None:
    """The registry entry of metric ``name`` (None for a name no entry matches)."""
    for d in METRICS:
        if _regex(d.pattern).fullmatch(name):
            return d
    return None


def is_share(name: str) -> bool:
    """Whether the metric is 0/1 per replication (its mean is a probability)."""
    d = lookup(name)
    return bool(d and d.share)


def better(name: str) -> Better:
    """``higher``, ``lower`` or ``neither`` (unknown metrics: ``neither``)."""
    d = lookup(name)
    return d.better if d is not None else "neither"


def unit(name: str) -> str:
    """The metric's unit (``""`` if unknown)."""
    d = lookup(name)
    return d.unit if d is not None else ""


def _components(scenario: Scenario, placeholder: str) -> list[str]:
    section = PLACEHOLDERS[placeholder]
    if section == "observations":
        return [o.id for o in scenario.observations]
    return list(getattr(scenario, section))


def expand(pattern: str, scenario: Scenario) -> list[str]:
    """Every metric name ``pattern`` stands for in ``scenario`` (placeholders filled in,
    the first placeholder varying slowest)."""
    holes = _HOLE.findall(pattern)
    names = [pattern]
    for hole in holes:
        names = [
            n.replace(f"<{hole}>", value, 1) for n in names for value in _components(scenario, hole)
        ]
    return names


def metric_names(scenario: Scenario) -> list[str]:
    """The names of every metric a run of ``scenario`` reports (as a set; the order is
    the registry's, family by family)."""
    return [n for d in METRICS for n in expand(d.pattern, scenario)]
