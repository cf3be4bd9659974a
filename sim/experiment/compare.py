"""Comparing scenarios on common random numbers: pairing replications as they stream in.

``siege compare A B C`` runs every scenario with the same root seed and number of
replications. Replication ``r`` of each then draws from the same named random streams
wherever the scenarios share components (:mod:`sim.model.streams`), so each option's
replication ``r`` is *paired* with the reference's (the first scenario).

:class:`Pairing` is fed the replications one scenario after the other, in
replication order, as the run produces them (the reference first). It keeps, of the
reference, only its per-replication metrics and its **main daily series**
(:func:`main_series`); of an option, only the running per-replication metrics and the
daily differences to the reference of the main series, reduced to their
p05/p50/p95 day by day when the option is finished. So memory grows with the
reference's main series, never with every series of every scenario.

**Main series** (when present in both scenarios): days of supply and stock per pocket
and commodity, the ration level per pocket, and the cumulative tonnes delivered per
fleet. **Metrics** compared: those both scenarios report, in the reference's order
(a fleet that exists only in the option has no counterpart).

Scenarios must share the calendar (same start and end), so that day ``d`` is the
same date in every scenario; otherwise :func:`check_calendars` refuses them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.analysis import metric_registry
from sim.analysis.metrics import MetricRow
from sim.analysis.paired import (
    PairedDifference,
    is_decisive,
    paired_difference,
    share_better,
    verdict,
)
from sim.analysis.summary import daily_percentiles, derived_series
from sim.model.record import RunResult
from sim.scenario.errors import ScenarioError
from sim.scenario.schema import Scenario

COLUMNS: tuple[str, ...] = (
    "scenario",
    "reference",
    "metric",
    "unit",
    "better",
    "n",
    "reference_mean",
    "scenario_mean",
    "diff_mean",
    "diff_ci95_low",
    "diff_ci95_high",
    "share_better",
    "share_worse",
    "share_higher",
    "share_lower",
    "variance_reduction",
    "unpaired_ci95_low",
    "unpaired_ci95_high",
    "verdict",
)
"""Columns of ``comparison.csv``: one row per option and metric."""


def check_calendars(scenarios: Sequence[Scenario], sources: Sequence[str]) -> None:
    """Raise :class:`ScenarioError` unless every scenario has the reference's calendar."""
    ref = scenarios[0].calendar
    for scenario, source in zip(scenarios[1:], sources[1:], strict=True):
        cal = scenario.calendar
        if (cal.start, cal.end) != (ref.start, ref.end):
            raise ScenarioError(
                source,
                "calendar",
                f"runs {cal.start} to {cal.end} but the reference ({sources[0]}) runs "
                f"{ref.start} to {ref.end}; siege compare pairs the scenarios day by day "
                "and needs the same calendar",
            )


def labels_for(names: Sequence[str]) -> list[str]:
    """Unique labels for the scenarios: their names, ``-2``, ``-3``... on repeats."""
    out: list[str] = []
    for name in names:
        label, k = name, 1
        while label in out:
            k += 1
            label = f"{name}-{k}"
        out.append(label)
    return out


def main_series(scenario: Scenario) -> list[str]:
    """The daily series whose paired differences ``daily_diff.csv`` reports."""
    names: list[str] = []
    for p in scenario.pockets:
        for c in scenario.commodities:
            names.append(f"days_of_supply__{p}__{c}")
            names.append(f"stock_t__{p}__{c}")
        names.append(f"ration_level__{p}")
    names.extend(f"cumulative_delivered_t__{f}" for f in scenario.fleets)
    return names


@dataclass
class OptionResult:
    """An option compared with the reference: per metric its paired difference, and per
    main series the ``3 × days`` p05/p50/p95 of the daily difference."""

    label: str
    metrics: dict[str, PairedDifference]
    daily: dict[str, np.ndarray]


@dataclass
class _Option:
    label: str
    series: list[str]
    metrics: list[Mapping[str, float]] = field(default_factory=list)
    diffs: dict[str, np.ndarray] = field(default_factory=dict)


def _kept(metrics: Mapping[str, float]) -> Mapping[str, float]:
    """A replication's metrics as kept until the comparison is done: a run's compact
    :class:`~sim.analysis.metrics.MetricRow` as it is (read-only), anything else copied."""
    return metrics if isinstance(metrics, MetricRow) else dict(metrics)


class Pairing:
    """Pairs each option's replications with the reference's (see the module docstring).

    Use: :meth:`add` every replication of the reference (scenario 0), then of each
    option in turn, each in replication order ``0 .. replications-1``; call
    :meth:`finish` after each scenario.
    """

    def __init__(self, reference: Scenario, replications: int, label: str) -> None:
        self.replications = replications
        self.n_days = reference.calendar.n_days
        self.reference_label = label
        self._ref_series = main_series(reference)
        self._ref_daily = {
            s: np.full((replications, self.n_days), np.nan) for s in self._ref_series
        }
        self._ref_metrics: list[Mapping[str, float]] = []
        self._current: _Option | None = None
        self._ref_done = False
        self.options: list[OptionResult] = []

    def start(self, label: str, scenario: Scenario) -> None:
        """Begin the next scenario (the reference first)."""
        if self._current is not None:
            raise RuntimeError("finish() the previous scenario first")
        if not self._ref_done:
            self._current = _Option(label, self._ref_series)
            return
        wanted = set(main_series(scenario))
        series = [s for s in self._ref_series if s in wanted]
        self._current = _Option(
            label,
            series,
            diffs={s: np.full((self.replications, self.n_days), np.nan) for s in series},
        )

    def add(self, index: int, result: RunResult, metrics: Mapping[str, float]) -> None:
        """Replication ``index`` of the current scenario, with its metrics."""
        cur = self._current
        if cur is None:
            raise RuntimeError("start() a scenario first")
        expected = len(cur.metrics) if self._ref_done else len(self._ref_metrics)
        if index != expected:
            raise ValueError(f"replication {index} out of order (expected {expected})")
        series = dict(result.series)
        series.update(derived_series(series))
        if not self._ref_done:
            for s in cur.series:
                if s in series:
                    self._ref_daily[s][index] = series[s]
            self._ref_metrics.append(_kept(metrics))
        else:
            for s in cur.series:
                if s in series:
                    cur.diffs[s][index] = (
                        np.asarray(series[s], dtype=float) - self._ref_daily[s][index]
                    )
            cur.metrics.append(_kept(metrics))

    def finish(self) -> OptionResult | None:
        """End the current scenario; for an option, its comparison with the reference."""
        cur = self._current
        if cur is None:
            raise RuntimeError("no scenario to finish")
        if len(cur.metrics if self._ref_done else self._ref_metrics) != self.replications:
            raise ValueError(f"{cur.label}: not every replication was added")
        self._current = None
        if not self._ref_done:
            self._ref_done = True
            return None
        names = [m for m in self._ref_metrics[0] if m in cur.metrics[0]]
        diffs: dict[str, PairedDifference] = {}
        for m in names:
            a = [r[m] for r in self._ref_metrics]
            b = [r[m] for r in cur.metrics]
            d = metric_registry.lookup(m)
            diffs[m] = paired_difference(a, b, never=bool(d and d.never))
        daily = {}
        for s in sorted(cur.diffs):
            stack = cur.diffs[s]
            if np.isnan(stack).all():
                continue
            daily[s] = daily_percentiles(stack)
        result = OptionResult(cur.label, diffs, daily)
        self.options.append(result)
        return result


def comparison_rows(reference_label: str, options: Sequence[OptionResult]) -> list[dict[str, Any]]:
    """The rows of ``comparison.csv`` (keys :data:`COLUMNS`), options in order, each
    option's metrics in the reference's order."""
    rows: list[dict[str, Any]] = []
    for opt in options:
        for name, diff in opt.metrics.items():
            direction = metric_registry.better(name)
            better, worse = share_better(name, diff)
            rows.append(
                {
                    "scenario": opt.label,
                    "reference": reference_label,
                    "metric": name,
                    "unit": metric_registry.unit(name),
                    "better": direction,
                    "n": diff.n,
                    "reference_mean": diff.reference_mean,
                    "scenario_mean": diff.option_mean,
                    "diff_mean": diff.mean,
                    "diff_ci95_low": diff.ci_low,
                    "diff_ci95_high": diff.ci_high,
                    "share_better": better,
                    "share_worse": worse,
                    "share_higher": diff.share_higher,
                    "share_lower": diff.share_lower,
                    "variance_reduction": diff.variance_reduction,
                    "unpaired_ci95_low": diff.unpaired_low,
                    "unpaired_ci95_high": diff.unpaired_high,
                    "verdict": verdict(name, diff),
                }
            )
    return rows


def decisive_first(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Rows with a decisive verdict first, each group by the size of the difference
    relative to the reference's mean (largest first), then the rest in their order."""

    def size(row: Mapping[str, Any]) -> float:
        d, ref = row["diff_mean"], row["reference_mean"]
        if d is None or not math.isfinite(d):
            return -1.0
        scale = abs(ref) if ref is not None and math.isfinite(ref) and ref != 0 else 1.0
        return float(abs(d) / scale)

    decisive = [r for r in rows if is_decisive(str(r["verdict"]))]
    rest = [r for r in rows if not is_decisive(str(r["verdict"]))]
    return sorted(decisive, key=size, reverse=True) + rest
