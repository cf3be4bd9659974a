"""Per-replication metrics: the few numbers that sum up one replication.

:func:`replication_metrics` reduces one :class:`~sim.model.record.RunResult` to an
insertion-ordered ``name → float`` dict; ``replications.csv`` has one row of these per
replication and ``summary.json`` summarises each across replications. Names (other
modules and users rely on them):

==========================================  =============================================
``delivered_t``                              tonnes all fleets brought from outside the
                                             enclave (recovered, for drops)
``delivered_t__<fleet>``                     the same, per fleet (0 for a shuttle)
``transferred_t``, ``transferred_t__<shuttle>``  tonnes shuttles carried between
                                             pockets (never counted as delivered)
``received_t__<pocket>``                     air deliveries from outside received by a
                                             pocket, t
``transferred_in_t__<pocket>``               received from other pockets, t
``sorties_flown__<fleet>``                   sorties that took off
``sorties_aborted__<fleet>``                 sortie slots not flown
``deliveries__<fleet>``                      sorties that delivered
``aircraft_lost__<fleet>``, ``aircraft_lost``  aircraft lost, per fleet and in all
``first_stockout_day__<pocket>__<commodity>``  first day (0 = calendar start) whose
                                             end-of-day stock is below 1e-6 t while the
                                             pocket has a demand for it; NaN = never
``stockout__<pocket>__<commodity>``          1.0 if that ever happened, else 0.0
``person_days_below_full__<pocket>``         Σ over days of the people (civilians and
                                             garrison, each by their own ration) who ate
                                             less than a full ration
``person_days_below_half__<pocket>``         the same, below half a ration
``person_days_below_full``, ``..._half``     totals over pockets
``min_days_of_supply__<pocket>__<commodity>``  lowest end-of-day days of supply (NaN if
                                             the pocket never has a demand for it)
``shortfall_t__<pocket>__<commodity>``       unmet ration demand over the run, t
``combat_sorties_per_day``                   mean realised combat air sorties per day
``targets_destroyed``                        besieger targets destroyed over the run
``obs__<id>``                                the model's value of each observation (see
                                             :mod:`sim.analysis.observations`)
==========================================  =============================================

The registry (:mod:`sim.analysis.metric_registry`) gives each metric's unit, which
way is better and how its interval is computed. Fleets, pockets and commodities
appear in the scenario's order, so the order of the
keys is the same for every replication of a scenario.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Mapping

import numpy as np

from sim.analysis.observations import observation_values
from sim.model.record import RunResult
from sim.scenario.schema import Scenario, shuttle_fleets

STOCKOUT_T = 1e-6
"""A stock below this many tonnes counts as exhausted."""

RATION_EPS = 1e-9
"""A ration below ``1 − RATION_EPS`` (or ``0.5 − RATION_EPS``) counts as cut."""

NEVER_PREFIXES: tuple[str, ...] = ("first_stockout_day__",)
"""Metrics where NaN means "never happened" (a censored time), not "undefined"."""


def _get(result: RunResult, name: str) -> np.ndarray:
    try:
        return np.asarray(result.series[name], dtype=float)
    except KeyError:
        raise KeyError(f"replication {result.replication} has no series {name!r}") from None


def _total(result: RunResult, name: str) -> float:
    return float(np.sum(_get(result, name)))


def _optional_total(result: RunResult, name: str) -> float:
    """Σ of a series the model writes only when it happens (0 when absent)."""
    values = result.series.get(name)
    return 0.0 if values is None else float(np.sum(values))


def first_stockout_day(stock_t: np.ndarray, days_of_supply: np.ndarray) -> float:
    """First day whose end-of-day stock is < :data:`STOCKOUT_T` while demand is > 0.

    The pocket has a demand on a day exactly when its days of supply is finite (the
    record writes NaN when there is no demand). Returns NaN when it never happens.
    """
    hit = (stock_t < STOCKOUT_T) & np.isfinite(days_of_supply)
    idx = np.flatnonzero(hit)
    return float(idx[0]) if idx.size else float("nan")


def person_days_below(
    civilians: np.ndarray,
    civilian_ration: np.ndarray,
    garrison: np.ndarray,
    garrison_ration: np.ndarray,
    level: float,
) -> float:
    """Σ over days of the people whose ration was below ``level`` (NaN rations are fine)."""
    cut = level - RATION_EPS
    with np.errstate(invalid="ignore"):
        civ = np.where(civilian_ration < cut, civilians, 0.0)
        gar = np.where(garrison_ration < cut, garrison, 0.0)
    return float(np.sum(civ) + np.sum(gar))


def replication_metrics(scenario: Scenario, result: RunResult) -> dict[str, float]:
    """The metrics of one replication, in a fixed order (see the module docstring)."""
    fleets = list(scenario.fleets)
    pockets = list(scenario.pockets)
    commodities = list(scenario.commodities)
    m: dict[str, float] = {}

    per_fleet = {f: _total(result, f"delivered_t__{f}") for f in fleets}
    m["delivered_t"] = float(sum(per_fleet.values()))
    for f in fleets:
        m[f"delivered_t__{f}"] = per_fleet[f]
    shuttles = shuttle_fleets(scenario)
    moved = {f: _optional_total(result, f"transferred_t__{f}") for f in shuttles}
    m["transferred_t"] = float(sum(moved.values()))
    for f in shuttles:
        m[f"transferred_t__{f}"] = moved[f]
    for p in pockets:
        m[f"received_t__{p}"] = _total(result, f"received_t__{p}")
    for p in pockets:
        m[f"transferred_in_t__{p}"] = _total(result, f"transferred_in_t__{p}")
    for kind in ("sorties_flown", "sorties_aborted", "deliveries", "aircraft_lost"):
        for f in fleets:
            m[f"{kind}__{f}"] = _total(result, f"{kind}__{f}")
    m["aircraft_lost"] = float(sum(m[f"aircraft_lost__{f}"] for f in fleets))

    first: dict[tuple[str, str], float] = {}
    for p in pockets:
        for c in commodities:
            first[p, c] = first_stockout_day(
                _get(result, f"stock_t__{p}__{c}"), _get(result, f"days_of_supply__{p}__{c}")
            )
    for (p, c), day in first.items():
        m[f"first_stockout_day__{p}__{c}"] = day
    for (p, c), day in first.items():
        m[f"stockout__{p}__{c}"] = 0.0 if np.isnan(day) else 1.0

    below: dict[str, tuple[float, float]] = {}
    for p in pockets:
        args = (
            _get(result, f"civilians__{p}"),
            _get(result, f"civilian_ration__{p}"),
            _get(result, f"garrison__{p}"),
            _get(result, f"garrison_ration__{p}"),
        )
        below[p] = (person_days_below(*args, level=1.0), person_days_below(*args, level=0.5))
    for p in pockets:
        m[f"person_days_below_full__{p}"] = below[p][0]
        m[f"person_days_below_half__{p}"] = below[p][1]
    m["person_days_below_full"] = float(sum(v[0] for v in below.values()))
    m["person_days_below_half"] = float(sum(v[1] for v in below.values()))

    for p in pockets:
        for c in commodities:
            dos = _get(result, f"days_of_supply__{p}__{c}")
            finite = dos[np.isfinite(dos)]
            m[f"min_days_of_supply__{p}__{c}"] = float(finite.min()) if finite.size else np.nan
    for p in pockets:
        for c in commodities:
            m[f"shortfall_t__{p}__{c}"] = _total(result, f"shortfall_t__{p}__{c}")

    m["combat_sorties_per_day"] = float(np.mean(_get(result, "combat_sorties")))
    m["targets_destroyed"] = _total(result, "targets_destroyed")
    m.update(observation_values(scenario, result))
    return m


def is_never_metric(name: str) -> bool:
    """Whether NaN in this metric means "never" (a time to an event that did not occur)."""
    return name.startswith(NEVER_PREFIXES)


class MetricRow(Mapping[str, float]):
    """One replication's metrics kept for the rest of a run: a read-only ``name → float``
    mapping, in the order :func:`replication_metrics` gave them, stored as one array of
    doubles (8 bytes a metric) beside a name → position index shared by every row of
    the run.

    A run keeps one row per replication until its tables are written; as plain dicts
    (a float object and a hash-table slot per metric, the names rebuilt for each
    replication) the 112 metrics of the Deir ez-Zor baseline took about 16 kB a
    replication, 160 MB for 10,000 replications; as rows about 1 kB. Values read back
    are the floats stored, bit for bit (NaN included)."""

    __slots__ = ("_index", "_values")

    def __init__(self, index: Mapping[str, int], values: array[float]) -> None:
        self._index = index
        self._values = values

    def __getitem__(self, name: str) -> float:
        return self._values[self._index[name]]

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def __repr__(self) -> str:
        return f"MetricRow({dict(self)!r})"

    def __reduce__(self) -> tuple[type[MetricRow], tuple[dict[str, int], array[float]]]:
        return (MetricRow, (dict(self._index), self._values))


class MetricRows:
    """Turns each replication's metrics dict into a :class:`MetricRow`, sharing the name
    index between rows with the same names in the same order (every row of a scenario's
    run). A dict with a value that is not a ``float`` is kept as it is: its value would
    otherwise change type."""

    def __init__(self) -> None:
        self._names: tuple[str, ...] = ()
        self._index: dict[str, int] = {}

    def __call__(self, metrics: Mapping[str, float]) -> Mapping[str, float]:
        if not all(type(v) is float for v in metrics.values()):
            return metrics
        names = tuple(metrics)
        if names != self._names:
            self._names = names
            self._index = {name: i for i, name in enumerate(names)}
        return MetricRow(self._index, array("d", metrics.values()))
