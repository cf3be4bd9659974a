"""Observations: the historical figures every run is compared with.

A scenario's ``[[observations]]`` each name a metric (see
:data:`sim.scenario.schema.OBSERVATION_METRICS`), a selector and a date window
``[from, to]`` (both days included). :func:`observation_value` turns one replication's
daily series into the model's value of that figure; :func:`observation_table` sets the
replications' spread (p05, p50, p95) beside the observed value.

Selector semantics, metric by metric:

* fleet metrics (``delivered_t``, ``dropped_t``, ``sorties_flown``, ``deliveries``,
  ``aircraft_lost``) sum over the selected fleets: those listed in ``fleets`` (all if
  absent), kept only if of the given ``mode``. With a ``pocket``, ``delivered_t`` uses
  the per-pocket series ``delivered_t__<fleet>__<pocket>``; the others, which have no
  per-pocket series, keep only the fleets with at least one target in that pocket.
  ``dropped_t`` counts what was released over drop zones, recovered or not (a fleet
  without a ``dropped_t__<fleet>`` series dropped nothing). With a ``commodity``,
  ``delivered_t`` and ``dropped_t`` count each fleet's tonnage × its cargo share of the
  commodity on the day of delivery, taken from the scenario version in force that day
  (timeline events may change a cargo mix). **Approximation:** the model records
  tonnage per fleet, not per commodity, so a load is split by the mix in force on
  the day it is delivered, not on the day it was loaded, and for drops the recovered
  share is assumed the same for every commodity.
* ``combat_sorties_per_day`` and ``targets_destroyed_per_day``: mean of the daily series
  over the window (selector ignored).
* ``stock_t``: stock of the pocket and commodity at the end of the window's last day.
* ``days_of_supply``: mean over the window of the days of supply (days with no demand,
  NaN, are left out).
* ``ration_level``: mean ration level of the pocket over the window.
* ``shortfall_t``: unmet ration demand summed over the window, for the pocket (all
  pockets if none given) and the commodity (all commodities if none given).

Units follow the metric: tonnes, sorties, aircraft, days, or a share of a full ration.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from sim.model.record import RunResult
from sim.scenario.schema import Airfield, DropZone, Observation, Scenario
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
    "role",
)
"""Columns of ``observations.csv``, in order (the result-folder contract); ``role`` (last,
added after the others) is ``calibration`` or ``validation`` (see
:class:`~sim.scenario.schema.Observation`)."""


def _window(scenario: Scenario, obs: Observation, n_days: int) -> slice:
    cal = scenario.calendar
    lo = max(0, cal.day(obs.from_))
    hi = min(n_days - 1, cal.day(obs.to))
    return slice(lo, hi + 1)


def selected_fleets(scenario: Scenario, obs: Observation, *, by_pocket: bool) -> list[str]:
    """Fleets an observation's selector covers, in scenario order.

    With ``by_pocket`` and a selector pocket, keep only fleets with a target in it.
    """
    sel = obs.selector
    names = list(scenario.fleets)
    if sel.fleets is not None:
        wanted = set(sel.fleets)
        names = [f for f in names if f in wanted]
    if sel.mode is not None:
        names = [f for f in names if scenario.fleets[f].mode == sel.mode]
    if by_pocket and sel.pocket is not None:
        points: dict[str, Airfield | DropZone] = {
            **scenario.airfields,
            **scenario.helipads,
            **scenario.drop_zones,
        }
        names = [
            f
            for f in names
            if any(
                t in points and points[t].pocket == sel.pocket for t in scenario.fleets[f].targets
            )
        ]
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


def _tonnes(
    scenario: Scenario, fleet: str, series: np.ndarray | None, commodity: str | None, w: slice
) -> float:
    """Σ of a fleet's tonnage series over the window, optionally × its commodity share."""
    if series is None:
        return 0.0
    if commodity is None:
        return float(np.sum(series[w]))
    share = cargo_share_by_day(scenario, fleet, commodity, len(series))
    return float(np.sum(series[w] * share[w]))


def observation_value(scenario: Scenario, result: RunResult, obs: Observation) -> float:
    """The model's value of one observation in one replication (NaN if undefined)."""
    w = _window(scenario, obs, result.n_days)
    if w.stop <= w.start:
        return float("nan")
    sel = obs.selector
    metric = obs.metric

    if metric == "delivered_t":
        total = 0.0
        for f in selected_fleets(scenario, obs, by_pocket=False):
            if sel.pocket is not None:
                s = result.series.get(f"delivered_t__{f}__{sel.pocket}")
            else:
                s = _series(result, f"delivered_t__{f}")
            total += _tonnes(scenario, f, s, sel.commodity, w)
        return total
    if metric == "dropped_t":
        total = 0.0
        for f in selected_fleets(scenario, obs, by_pocket=True):
            total += _tonnes(scenario, f, result.series.get(f"dropped_t__{f}"), sel.commodity, w)
        return total
    if metric in ("sorties_flown", "deliveries", "aircraft_lost"):
        return float(
            sum(
                np.sum(_series(result, f"{metric}__{f}")[w])
                for f in selected_fleets(scenario, obs, by_pocket=True)
            )
        )
    if metric == "combat_sorties_per_day":
        return float(np.mean(_series(result, "combat_sorties")[w]))
    if metric == "targets_destroyed_per_day":
        return float(np.mean(_series(result, "targets_destroyed")[w]))
    if metric == "stock_t":
        return float(_series(result, f"stock_t__{sel.pocket}__{sel.commodity}")[w.stop - 1])
    if metric == "days_of_supply":
        v = _series(result, f"days_of_supply__{sel.pocket}__{sel.commodity}")[w]
        v = v[np.isfinite(v)]
        return float(np.mean(v)) if v.size else float("nan")
    if metric == "ration_level":
        return float(np.mean(_series(result, f"ration_level__{sel.pocket}")[w]))
    if metric == "shortfall_t":
        pockets = [sel.pocket] if sel.pocket is not None else list(scenario.pockets)
        commodities = [sel.commodity] if sel.commodity is not None else list(scenario.commodities)
        total = 0.0
        for p in pockets:
            for c in commodities:
                s = result.series.get(f"shortfall_t__{p}__{c}")
                if s is not None:
                    total += float(np.sum(s[w]))
        return total
    raise ValueError(f"unknown observation metric {metric!r}")


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
    scenario: Scenario, metrics: Sequence[dict[str, float]]
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
                "role": o.role,
            }
        )
    return rows
