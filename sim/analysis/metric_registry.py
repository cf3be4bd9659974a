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
    one line, in plain words, saying how the metric sums up the run (a total Σ, a
    mean per day, the lowest value...);
``interval``
    how ``summary.json``'s 95 % interval of its mean is computed
    (:mod:`sim.analysis.intervals`: ``clopper_pearson`` for shares, ``poisson`` for
    counts of rare events, ``bootstrap`` for skewed or zero-heavy metrics, ``t``
    otherwise);
``low``, ``high``
    the range one value can take; no interval bound ever leaves it.

The observation metrics (what ``[[observations]]`` can compare with, and how each
aggregates over the observation's window) are defined with the scenario format,
which must check them before anything runs: :data:`OBSERVATION_METRICS` and
:data:`AGGREGATES` here are those definitions. :func:`metric_table` renders both
tables for the README (a test fails if the README drifts from it).

The registry is plain data (a tuple of frozen records, in the order of
``replication_metrics``) so that other code can extend it and generate tables from
it. :func:`lookup` finds the entry of a metric name; :func:`metric_names` lists the
metrics a scenario gives, without running it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

from sim.analysis.intervals import Method
from sim.scenario.schema import AGGREGATES, OBSERVATION_METRICS, Scenario, shuttle_fleets

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
    interval: Method = "t"
    low: float = 0.0
    high: float = math.inf


METRICS: tuple[MetricDef, ...] = (
    MetricDef(
        "delivered_t",
        "t",
        "higher",
        False,
        "Σ over the run of the tonnes all fleets brought from outside the enclave "
        "(recovered, for drops); shuttles between pockets are not counted",
    ),
    MetricDef(
        "delivered_t__<fleet>",
        "t",
        "higher",
        False,
        "Σ over the run of the tonnes the fleet brought from outside (0 for a shuttle)",
    ),
    MetricDef(
        "transferred_t",
        "t",
        "neither",
        False,
        "Σ over the run of the tonnes shuttle fleets carried from one pocket to another",
    ),
    MetricDef(
        "transferred_t__<shuttle>",
        "t",
        "neither",
        False,
        "Σ over the run of the tonnes the shuttle carried between pockets",
    ),
    MetricDef(
        "received_t__<pocket>",
        "t",
        "higher",
        False,
        "Σ over the run of the air deliveries from outside the enclave the pocket received",
    ),
    MetricDef(
        "transferred_in_t__<pocket>",
        "t",
        "neither",
        False,
        "Σ over the run of what the pocket received from other pockets (shuttles, convoys)",
    ),
    MetricDef(
        "sorties_flown__<fleet>", "sorties", "neither", False, "Σ of the sorties that took off"
    ),
    MetricDef(
        "sorties_aborted__<fleet>",
        "sorties",
        "lower",
        False,
        "Σ of the opportunities not flown and the sorties flown back with their load "
        "(not mission-capable, weather, no open target...)",
    ),
    MetricDef(
        "deliveries__<fleet>",
        "sorties",
        "higher",
        False,
        "Σ of the sorties that reached a target and delivered",
    ),
    MetricDef(
        "aircraft_lost__<fleet>",
        "aircraft",
        "lower",
        False,
        "Σ of the fleet's aircraft lost (in flight or on the ground)",
        interval="poisson",
    ),
    MetricDef(
        "aircraft_lost",
        "aircraft",
        "lower",
        False,
        "Σ of the aircraft lost, all fleets",
        interval="poisson",
    ),
    MetricDef(
        "first_stockout_day__<pocket>__<commodity>",
        "days from the start",
        "higher",
        False,
        "first day whose end-of-day stock is below 1e-6 t while there is a demand for it "
        "(NaN = never, a censored time)",
        never=True,
        interval="bootstrap",
    ),
    MetricDef(
        "stockout__<pocket>__<commodity>",
        "share of replications",
        "lower",
        True,
        "1 if the stock was ever exhausted while there was a demand for it, else 0",
        interval="clopper_pearson",
        high=1.0,
    ),
    MetricDef(
        "person_days_below_full__<pocket>",
        "person-days",
        "lower",
        False,
        "Σ over days of the people (civilians and garrison) who ate less than a full ration",
        interval="bootstrap",
    ),
    MetricDef(
        "person_days_below_half__<pocket>",
        "person-days",
        "lower",
        False,
        "Σ over days of the people who ate less than half a ration",
        interval="bootstrap",
    ),
    MetricDef(
        "person_days_below_full",
        "person-days",
        "lower",
        False,
        "person-days below a full ration, all pockets",
        interval="bootstrap",
    ),
    MetricDef(
        "person_days_below_half",
        "person-days",
        "lower",
        False,
        "person-days below half a ration, all pockets",
        interval="bootstrap",
    ),
    MetricDef(
        "min_days_of_supply__<pocket>__<commodity>",
        "days",
        "higher",
        False,
        "lowest end-of-day stock over the run in days of full demand (NaN if never a demand)",
        interval="bootstrap",
    ),
    MetricDef(
        "shortfall_t__<pocket>__<commodity>",
        "t",
        "lower",
        False,
        "Σ over the run of the ration demand left unmet",
        interval="bootstrap",
    ),
    MetricDef(
        "combat_sorties_per_day",
        "sorties/day",
        "neither",
        False,
        "mean over the run's days of the realised combat air sorties",
    ),
    MetricDef(
        "targets_destroyed",
        "targets",
        "higher",
        False,
        "Σ over the run of the besieger targets destroyed by combat sorties",
    ),
    MetricDef(
        "obs__<id>",
        "the observation's unit",
        "neither",
        False,
        "the model's value of the historical observation of that id, aggregated over its "
        "window as the observation says (see observations.csv and the table below)",
    ),
)
"""Every metric family, in the order :func:`sim.analysis.metrics.replication_metrics`
reports them."""

PLACEHOLDERS: dict[str, str] = {
    "fleet": "fleets",
    "shuttle": "fleets",
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
    if placeholder == "shuttle":
        return shuttle_fleets(scenario)
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


INTERVAL_WORDS: dict[str, str] = {
    "clopper_pearson": "Clopper–Pearson (exact binomial)",
    "poisson": "exact Poisson (Garwood)",
    "bootstrap": "bootstrap (seeded by the root seed)",
    "t": "Student t (bootstrap if t leaves the range)",
}
"""How each interval method is named in the README's table."""


def _range_text(d: MetricDef) -> str:
    high = "∞" if d.high == math.inf else f"{d.high:g}"
    return f"[{d.low:g}, {high}]"


def metric_table() -> str:
    """The README's metric tables, in Markdown, generated from :data:`METRICS` and the
    observation metrics (``python -m tools.metric_table --write-readme`` writes it)."""
    lines = [
        "Per replication (`replications.csv`; `summary.json` gives each one's mean, "
        "percentiles and a 95 % interval of the mean, `ci_method` saying how it was "
        "computed, never outside the range):",
        "",
        "| metric | unit | better | range | 95 % interval | definition |",
        "|---|---|---|---|---|---|",
    ]
    for d in METRICS:
        better = "—" if d.better == "neither" else d.better
        lines.append(
            f"| `{d.pattern}` | {d.unit} | {better} | {_range_text(d)} | "
            f"{INTERVAL_WORDS[d.interval]} | {d.definition} |"
        )
    lines += [
        "",
        "`<shuttle>` is a fleet with an `origin` (in the file or set by an event). What "
        "`obs__<id>` aggregates over the observation's window is the observation's "
        "`aggregate`:",
        "",
        "| observation metric | unit | default aggregate | other aggregates | selector | "
        "what a day counts |",
        "|---|---|---|---|---|---|",
    ]
    for name, o in OBSERVATION_METRICS.items():
        others = ", ".join(f"`{a}`" for a in o.aggregates[1:])
        selector = ", ".join(f"`{k}`" for k in o.selector) or "—"
        lines.append(
            f"| `{name}` | {o.unit} | `{o.default}` | {others} | {selector} | {o.definition} |"
        )
    lines += ["", "| aggregate | the window's daily values become |", "|---|---|"]
    lines += [f"| `{a}` | {text} |" for a, text in AGGREGATES.items()]
    return "\n".join(lines) + "\n"
