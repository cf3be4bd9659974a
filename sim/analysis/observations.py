"""Observations: the historical figures every run is compared with.

A scenario's ``[[observations]]`` each name a metric (see
:data:`sim.scenario.schema.OBSERVATION_METRICS`), a selector, a date window
``[from, to]`` (both days included) and how the window's daily values become one
figure, its ``aggregate`` (:data:`sim.scenario.schema.AGGREGATES`: ``total``,
``mean_per_day``, ``max_day``, ``min_day`` or ``day``, the value on the last day;
each metric has a default). :func:`observation_value` turns one replication's daily
series into the model's value of that figure; :func:`observation_table` sets the
replications' spread (p05, p50, p95) beside the observed value.

The daily values, metric by metric, before they are aggregated:

* fleet metrics (``delivered_t``, ``transferred_t``, ``dropped_t``,
  ``pallets_dropped``, ``sorties_flown``, ``deliveries``, ``aircraft_lost``) sum over
  the selected fleets:
  those listed in ``fleets`` (all if absent), kept only if of the given ``mode``.
  With a ``pocket`` they count only what went to that pocket, from the model's
  per-pocket series ``<kind>__<fleet>__<pocket>`` (a sortie counts for the pocket of
  the target booked at take-off, a loss for the pocket of the target it flew to or
  stood at); a fleet with no target in the pocket counts 0. ``delivered_t`` counts
  tonnage brought from outside, ``transferred_t`` what shuttles carried between
  pockets; ``dropped_t`` what was released over drop zones, recovered or not, and
  ``pallets_dropped`` on how many pallets (or platforms).
  With a ``commodity`` (one, or a list: their sum), the tonnage metrics count each
  fleet's tonnage × its cargo share of those commodities on the day of delivery,
  taken from the scenario version in force that day (timeline events may change a
  cargo mix). **Approximation:** the model records tonnage per fleet, not per
  commodity, so a load is split by the mix in force on the day it is delivered, not
  on the day it was loaded (a shuttle's load by its nominal mix, not by what its
  origin had), and for drops the recovered share is assumed the same for every
  commodity.
* ``combat_sorties_per_day`` and ``targets_destroyed_per_day``: the daily series
  (selector not used).
* ``stock_t``, ``days_of_supply``: the end-of-day value for the pocket and commodity
  (days with no demand, NaN, are left out of an aggregate).
* ``ration_level``: the pocket's ration level in force.
* ``shortfall_t``: unmet ration demand, for the pocket (all pockets if none given)
  and the commodities (all if none given).

Units follow the metric: tonnes, sorties, aircraft, days, or a share of a full ration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sim.model.record import RunResult
from sim.scenario.schema import Aggregate, Observation, Scenario
from sim.scenario.timeline import timeline_steps

TABLE_COLUMNS: tuple[str, ...] = (
    "id",
    "metric",
    "from",
    "to",
    "observed",
    "unit",
    "model_p05",
    "model_p50",
    "model_p95",
    "rel_error",
    "within_tolerance",
    "source",
    "aggregate",
    "role",
)
"""Columns of ``observations.csv``, in order: the result-folder contract's twelve, then
two added after it, at the end so that the contract's columns keep their places:
``aggregate`` (how the model's daily values are reduced over the window: ``total``,
``mean_per_day``, ``max_day``, ``min_day`` or ``day``) and ``role`` (``calibration`` or
``validation``, see :class:`~sim.scenario.schema.Observation`)."""


def _window(scenario: Scenario, obs: Observation, n_days: int) -> slice:
    cal = scenario.calendar
    lo = max(0, cal.day(obs.from_))
    hi = min(n_days - 1, cal.day(obs.to))
    return slice(lo, hi + 1)


def selected_fleets(scenario: Scenario, obs: Observation) -> list[str]:
    """Fleets an observation's selector covers (``fleets`` and ``mode``), in scenario order."""
    sel = obs.selector
    names = list(scenario.fleets)
    if sel.fleets is not None:
        wanted = set(sel.fleets)
        names = [f for f in names if f in wanted]
    if sel.mode is not None:
        names = [f for f in names if scenario.fleets[f].mode == sel.mode]
    return names


def cargo_share_by_day(scenario: Scenario, fleet: str, commodity: str, n_days: int) -> np.ndarray:
    """Daily share of ``commodity`` in ``fleet``'s cargo, following the timeline's events."""
    share = np.full(n_days, scenario.fleets[fleet].cargo.get(commodity, 0.0))
    if any(p.startswith("fleets") for ev in scenario.events for p in ev.set):
        for step in timeline_steps(scenario):
            if 0 <= step.day < n_days:
                f = step.scenario.fleets.get(fleet)
                share[step.day :] = 0.0 if f is None else f.cargo.get(commodity, 0.0)
    return share


def _series(result: RunResult, name: str) -> np.ndarray:
    try:
        return result.series[name]
    except KeyError:
        raise KeyError(f"replication {result.replication} has no series {name!r}") from None


TONNAGE: tuple[str, ...] = ("delivered_t", "transferred_t", "dropped_t")
"""Fleet metrics in tonnes (a commodity selector applies to them)."""

COUNTS: tuple[str, ...] = ("sorties_flown", "deliveries", "aircraft_lost", "pallets_dropped")
"""Fleet metrics that count sorties, aircraft or pallets."""


def daily_values(scenario: Scenario, result: RunResult, obs: Observation) -> np.ndarray:
    """The observation's daily values over the whole run, before aggregation (NaN where
    undefined). A series the model did not write for a fleet (no per-pocket series for
    a pocket it never flies to, no ``transferred_t`` for a fleet that is never a
    shuttle, no ``dropped_t`` for one that never drops) counts 0."""
    n = result.n_days
    sel = obs.selector
    metric = obs.metric
    if metric in TONNAGE or metric in COUNTS:
        total = np.zeros(n)
        for f in selected_fleets(scenario, obs):
            name = f"{metric}__{f}" if sel.pocket is None else f"{metric}__{f}__{sel.pocket}"
            s = result.series.get(name)
            if s is None:
                if metric in ("sorties_flown", "deliveries", "aircraft_lost", "delivered_t"):
                    _series(result, f"{metric}__{f}")  # the fleet total must exist
                continue
            s = np.asarray(s, dtype=float)
            chosen = sel.commodities if metric in TONNAGE else None
            if chosen is not None:
                share = sum(cargo_share_by_day(scenario, f, c, n) for c in chosen)
                s = s * share
            total += s
        return total
    if metric == "combat_sorties_per_day":
        return np.asarray(_series(result, "combat_sorties"), dtype=float)
    if metric == "targets_destroyed_per_day":
        return np.asarray(_series(result, "targets_destroyed"), dtype=float)
    if metric in ("stock_t", "days_of_supply"):
        return np.asarray(_series(result, f"{metric}__{sel.pocket}__{sel.commodity}"), dtype=float)
    if metric == "ration_level":
        return np.asarray(_series(result, f"ration_level__{sel.pocket}"), dtype=float)
    if metric == "shortfall_t":
        pockets = [sel.pocket] if sel.pocket is not None else list(scenario.pockets)
        commodities = sel.commodities or list(scenario.commodities)
        total = np.zeros(n)
        for p in pockets:
            for c in commodities:
                s = result.series.get(f"shortfall_t__{p}__{c}")
                if s is not None:
                    total += s
        return total
    raise ValueError(f"unknown observation metric {metric!r}")


def aggregate(values: np.ndarray, how: Aggregate) -> float:
    """One figure from a window's daily values (NaN days left out; NaN if none is left,
    or for ``day`` when the last day is NaN)."""
    if values.size == 0:
        return float("nan")
    if how == "day":
        return float(values[-1])
    v = values[np.isfinite(values)]
    if v.size == 0:
        return float("nan")
    if how == "total":
        return float(np.sum(v))
    if how == "mean_per_day":
        return float(np.mean(v))
    if how == "max_day":
        return float(np.max(v))
    if how == "min_day":
        return float(np.min(v))
    raise ValueError(f"unknown aggregate {how!r}")


def observation_value(scenario: Scenario, result: RunResult, obs: Observation) -> float:
    """The model's value of one observation in one replication (NaN if undefined)."""
    w = _window(scenario, obs, result.n_days)
    if w.stop <= w.start:
        return float("nan")
    return aggregate(daily_values(scenario, result, obs)[w], obs.how)


def observation_values(scenario: Scenario, result: RunResult) -> dict[str, float]:
    """``obs__<id>`` → value, for every observation of the scenario, in file order."""
    return {f"obs__{o.id}": observation_value(scenario, result, o) for o in scenario.observations}


def within_tolerance(obs: Observation, model: float) -> bool:
    """Whether a model value lies within the observation's tolerance (see Observation)."""
    slack = max(obs.tolerance * abs(obs.observed), obs.abs_tolerance)
    if obs.range is not None:
        lo, hi = obs.range
        return lo - slack <= model <= hi + slack
    return abs(model - obs.observed) <= slack


def _percentiles(values: np.ndarray) -> tuple[float, float, float]:
    v = values[np.isfinite(values)]
    if v.size == 0:
        return (float("nan"),) * 3
    p = np.percentile(v, [5.0, 50.0, 95.0])
    return float(p[0]), float(p[1]), float(p[2])


def observation_table(
    scenario: Scenario, metrics: Sequence[Mapping[str, float]]
) -> list[dict[str, Any]]:
    """One row per observation: the record beside the model's spread across replications.

    ``metrics`` are the per-replication metric dicts (holding ``obs__<id>``). Keys of each
    row are :data:`TABLE_COLUMNS`; ``from``/``to`` are ISO date strings; a value that is
    undefined (no finite replication value, or ``rel_error`` when observed is 0) is NaN,
    and ``within_tolerance`` is then None. Replications where the value is NaN are left
    out of the percentiles.
    """
    rows: list[dict[str, Any]] = []
    for o in scenario.observations:
        vals = np.array([m.get(f"obs__{o.id}", np.nan) for m in metrics], dtype=float)
        p05, p50, p95 = _percentiles(vals)
        observed = o.observed
        rel = (p50 - observed) / observed if observed != 0 else float("nan")
        ok = within_tolerance(o, p50) if np.isfinite(p50) else None
        rows.append(
            {
                "id": o.id,
                "metric": o.metric,
                "from": o.from_.isoformat(),
                "to": o.to.isoformat(),
                "observed": float(observed),
                "unit": o.unit,
                "model_p05": p05,
                "model_p50": p50,
                "model_p95": p95,
                "rel_error": float(rel),
                "within_tolerance": ok,
                "source": o.source,
                "aggregate": o.how,
                "role": o.role,
            }
        )
    return rows
