"""Uncertainty across replications: daily percentile bands and per-metric intervals.

**Daily series.** :class:`SeriesAccumulator` collects every replication's daily series
into one ``replications × days`` array per series and reduces them to the 5th, 50th
and 95th percentiles day by day (``numpy.nanpercentile``, linear interpolation):
*exact* up to its limit of ``K`` replications, those whose series fit in
:data:`EXACT_MIB` (K = ⌊160 MiB ÷ (series × days × 8 bytes)⌋, at least
:data:`MIN_EXACT`: 109 for the Deir ez-Zor baseline's 219 series × 871 days, 1.5 MB
a replication). Beyond ``K`` the memory stays flat: the first ``K`` replications become
per-day histograms (:mod:`sim.analysis.binned`) and each later one only adds to their
counts; every percentile then comes with a bound on its error (at most the span of the
bins holding it), reported by :meth:`SeriesAccumulator.report`. A day on which a
series is NaN in every replication (days of supply with no demand) stays NaN, written
blank. Besides
the model's series it derives ``cumulative_delivered_t__<fleet>`` and
``cumulative_sorties_flown__<fleet>`` (running totals, t and sorties; and
``cumulative_transferred_t__<fleet>`` for shuttles): their daily
percentiles give weekly tonnage and sortie tempo without the bias of summing daily
medians of sparse events.

**Metrics.** :func:`summarize_metrics` gives, per metric: ``mean``, ``median``,
``p05``, ``p95``, ``ci95_low``/``ci95_high`` (a 95 % interval of the mean, computed
as the metric's registry entry says: Clopper–Pearson for shares, an exact Poisson
interval for counts of rare events, a bootstrap seeded from the run's root seed for
skewed metrics, Student's t otherwise; see :mod:`sim.analysis.intervals`; never
outside the metric's range), ``ci_method`` (the method actually used; null with no
interval) and ``n`` (replications that count). NaN values are left out, except in
the "never" metrics (``first_stockout_day__*``), where NaN means the stock-out did
not happen before the end of the run, a censored time. There every replication
counts: "never" is treated as +∞ when ranking, a percentile that falls on or between
"never" values is reported as null, the mean and its interval are null as soon as one
replication never ran out, and ``never_share`` gives the share of replications that
never ran out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from sim.analysis import metric_registry
from sim.analysis.binned import EDGES, BinnedSeries, BinnedStack
from sim.analysis.intervals import Method, mean_interval
from sim.analysis.metrics import is_never_metric
from sim.model.record import RunResult

PERCENTILES: tuple[float, float, float] = (5.0, 50.0, 95.0)
"""The percentiles written for every daily series (p05, p50, p95)."""

CUMULATIVE_OF: tuple[str, ...] = ("delivered_t__", "transferred_t__", "sorties_flown__")
"""Prefixes of per-fleet series whose running totals are added as ``cumulative_*``."""


def derived_series(series: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Running totals of the per-fleet delivery and sortie series (one level, no pocket)."""
    out: dict[str, np.ndarray] = {}
    for name, values in series.items():
        for prefix in CUMULATIVE_OF:
            rest = name[len(prefix) :]
            if name.startswith(prefix) and rest and "__" not in rest:
                out[f"cumulative_{name}"] = np.cumsum(np.asarray(values, dtype=float))
    return out


EXACT_MIB = 160
"""Memory (MiB) for exact daily percentiles: the replications whose daily series fit
are kept whole; beyond, the series are binned (see the module docstring)."""

MIN_EXACT = 20
"""The fewest replications kept exactly whatever their size (the bins' edges come from
them)."""


class SeriesAccumulator:
    """Collects daily series replication by replication; reduces them to percentiles.

    ``replications`` is the number expected; more may be added (a run that adds
    batches until a precision is reached). Up to :attr:`exact_limit` replications
    (known with the first one: :data:`EXACT_MIB` ÷ one replication's series) the values
    are kept and the percentiles are exact; beyond, the series are binned and memory
    stays flat (:mod:`sim.analysis.binned`). Replications may arrive in any order up to
    the limit; the first ``exact_limit`` must all be in before a later one arrives.
    """

    def __init__(self, replications: int, n_days: int, exact_mib: float = EXACT_MIB) -> None:
        self.replications = replications
        self._expected = replications
        self.n_days = n_days
        self._budget = int(exact_mib * 2**20)
        self.exact_limit: int | None = None
        self._data: dict[str, np.ndarray] = {}
        self._binned: dict[str, BinnedSeries] | None = None
        self._stack: BinnedStack | None = None  # the series of the first replications
        self._stacked: dict[str, int] = {}  # their rows in the stack
        self._rows: np.ndarray | None = None  # a replication's values in the stack's rows
        self._bounds: dict[str, np.ndarray] = {}
        self._seen: set[int] = set()

    def _grow(self, index: int) -> None:
        assert self.exact_limit is not None
        size = min(max(index + 1, 2 * self.replications), self.exact_limit)
        for name, arr in self._data.items():
            bigger = np.full((size, self.n_days), np.nan)
            bigger[: arr.shape[0]] = arr
            self._data[name] = bigger
        self.replications = size

    def _bin(self) -> dict[str, BinnedSeries]:
        """Turn the exact arrays (the first ``exact_limit`` replications, all in) into
        histograms, one series at a time (the memory of each is freed at once)."""
        k = self.exact_limit
        if self._seen != set(range(k or 0)):
            raise ValueError(
                f"replications beyond the first {k} arrived before all of those "
                "(the daily percentiles' bins are made from them)"
            )
        names = list(self._data)
        stack = BinnedStack(len(names), self.n_days)
        binned: dict[str, BinnedSeries] = {}
        for s, name in enumerate(names):
            stack.start(s, self._data.pop(name)[:k])
            binned[name] = stack.view(s)
        self._stack = stack
        self._stacked = {name: s for s, name in enumerate(names)}
        self._binned = binned
        return binned

    def add(self, index: int, result: RunResult) -> None:
        """Store replication ``index`` (0-based position in the run) of ``result``."""
        if index < 0:
            raise IndexError(f"replication index {index} is negative")
        if index in self._seen:
            raise ValueError(f"replication index {index} added twice")
        series = dict(result.series)
        series.update(derived_series(series))
        if self.exact_limit is None:
            per_replication = max(1, len(series)) * self.n_days * 8
            self.exact_limit = max(MIN_EXACT, self._budget // per_replication)
            self.replications = min(self.replications, self.exact_limit)
        if index >= self.exact_limit:
            binned = self._binned if self._binned is not None else self._bin()
            stacked = self._stacked
            assert self._stack is not None
            if self._rows is None:  # one array for every replication: not a new mapping
                self._rows = np.empty((len(stacked), self.n_days))
            rows = self._rows
            rows.fill(np.nan)  # NaN: not in this one
            for name, values in series.items():
                s = stacked.get(name)
                if s is not None:
                    rows[s] = values
                    continue
                hist = binned.get(name)
                if hist is None:  # a series none of the first replications had
                    hist = binned[name] = BinnedSeries(np.full((1, self.n_days), np.nan))
                hist.add(np.asarray(values, dtype=float))
            self._stack.add(rows)  # every series the first replications had, at once
            self._seen.add(index)
            return
        if index >= self.replications:
            self._grow(index)
        for name, values in series.items():
            arr = self._data.get(name)
            if arr is None:
                arr = np.full((self.replications, self.n_days), np.nan)
                self._data[name] = arr
            arr[index, :] = values
        self._seen.add(index)

    def names(self) -> list[str]:
        """Series names, sorted."""
        return sorted(self._binned if self._binned is not None else self._data)

    def percentiles(self) -> dict[str, np.ndarray]:
        """Sorted series name → ``3 × n_days`` array of p05, p50, p95 (NaN where undefined)."""
        n = len(self._seen)
        if self._seen != set(range(n)) or n < self._expected:
            raise ValueError(f"only {n} of {self._expected} replications added")
        if self._binned is None:
            return {name: daily_percentiles(self._data[name][:n]) for name in self.names()}
        assert self._stack is not None
        values, bounds = self._stack.percentiles(PERCENTILES)  # every stacked series at once
        out: dict[str, np.ndarray] = {}
        for name in self.names():
            s = self._stacked.get(name)
            if s is None:  # a series none of the first replications had
                out[name], self._bounds[name] = self._binned[name].percentiles(PERCENTILES)
            else:
                out[name], self._bounds[name] = values[s], bounds[s]
        return out

    def report(self) -> dict[str, Any] | None:
        """How the daily percentiles were computed, for the run's manifest: None when
        exact; when binned, the exact limit, the edges per day, and per series the
        largest error bound of its p05, p50 and p95 over the days (the same units as
        the series; after :meth:`percentiles`)."""
        if self._binned is None:
            return None
        largest = {name: [_largest(b) for b in self._bounds[name]] for name in sorted(self._bounds)}
        return {
            "method": "binned",
            "exact_limit": self.exact_limit,
            "replications": len(self._seen),
            "edges_per_day": EDGES,
            "max_error": largest,
        }


def _largest(bounds: np.ndarray) -> float | None:
    finite = bounds[np.isfinite(bounds)]
    return float(finite.max()) if finite.size else None


def daily_percentiles(stack: np.ndarray) -> np.ndarray:
    """``replications × days`` → ``3 × days`` (p05, p50, p95), ignoring NaN; all-NaN → NaN.

    The same numbers as ``numpy.nanpercentile(stack, PERCENTILES, axis=0)`` (linear
    interpolation, NumPy's own rounding), computed with one sort instead of a
    column-by-column pass, which is ~50× faster for the arrays of a run.
    """
    a = np.sort(np.asarray(stack, dtype=float), axis=0)  # NaN sorts last
    n = np.sum(~np.isnan(a), axis=0)
    cols = np.arange(a.shape[1])
    out = np.full((len(PERCENTILES), a.shape[1]), np.nan)
    for k, q in enumerate(PERCENTILES):
        pos = (n - 1) * (q / 100.0)
        lo = np.clip(np.floor(pos).astype(int), 0, None)
        hi = np.minimum(lo + 1, np.maximum(n - 1, 0))
        t = pos - lo
        below, above = a[lo, cols], a[hi, cols]
        diff = above - below
        with np.errstate(invalid="ignore"):
            value = np.where(t >= 0.5, above - diff * (1.0 - t), below + diff * t)
            value = np.where(hi == lo, below, value)
        out[k] = np.where(n > 0, value, np.nan)
    return out


def censored_percentiles(
    values: Sequence[float] | np.ndarray, qs: Iterable[float]
) -> list[float | None]:
    """Percentiles of values where NaN means "never" (+∞); None where a percentile is +∞.

    A percentile that interpolates between a finite value and "never" is also None: it
    would lie somewhere after the last observed time.
    """
    v = np.asarray(values, dtype=float)
    finite = v[np.isfinite(v)]
    if finite.size == 0:
        return [None for _ in qs]
    top = float(finite.max())
    sentinel = abs(top) * 4.0 + 1e12
    filled = np.where(np.isfinite(v), v, sentinel)
    out: list[float | None] = []
    for q in qs:
        p = float(np.percentile(filled, q))
        out.append(p if p <= top else None)
    return out


def summarize_metric(name: str, values: Sequence[float], seed: int = 0) -> dict[str, Any]:
    """Summary statistics of one metric across replications (see the module docstring).

    ``seed`` is the run's root seed (it seeds a bootstrap interval)."""
    v = np.asarray(values, dtype=float)
    if is_never_metric(name):
        n_never = int(np.sum(~np.isfinite(v)))
        p05, p50, p95 = censored_percentiles(v, PERCENTILES)
        mean, lo, hi, method = (None, None, None, None) if n_never else _mean_ci(name, v, seed)
        out = _stats(mean, p50, p05, p95, lo, hi, method, int(v.size))
        out["never_share"] = float(n_never / v.size) if v.size else None
        return out
    finite = v[np.isfinite(v)]
    if finite.size == 0:
        return _stats(None, None, None, None, None, None, None, 0)
    p05, p50, p95 = (float(x) for x in np.percentile(finite, PERCENTILES))
    mean, lo, hi, method = _mean_ci(name, finite, seed)
    return _stats(mean, p50, p05, p95, lo, hi, method, int(finite.size))


def _stats(
    mean: float | None,
    median: float | None,
    p05: float | None,
    p95: float | None,
    lo: float | None,
    hi: float | None,
    method: str | None,
    n: int,
) -> dict[str, Any]:
    """The summary.json record of one metric, keys in their documented order."""
    return {
        "mean": mean,
        "median": median,
        "p05": p05,
        "p95": p95,
        "ci95_low": lo,
        "ci95_high": hi,
        "ci_method": method,
        "n": n,
    }


def _mean_ci(
    name: str, v: np.ndarray, seed: int
) -> tuple[float | None, float | None, float | None, str | None]:
    """Mean and the registry's 95 % interval of the mean (None for fewer than 2 values)."""
    if v.size == 0:
        return None, None, None, None
    mean = float(np.mean(v))
    d = metric_registry.lookup(name)
    method: Method = d.interval if d is not None else "t"
    low, high = (d.low, d.high) if d is not None else (-math.inf, math.inf)
    lo, hi, used = mean_interval(name, v, method, seed=seed, low=low, high=high)
    return mean, lo, hi, used


def summarize_metrics(
    rows: Sequence[Mapping[str, float]], seed: int = 0
) -> dict[str, dict[str, Any]]:
    """Metric name → summary, for every metric of the per-replication rows (in row order);
    ``seed`` is the run's root seed."""
    if not rows:
        return {}
    names = list(rows[0])
    return {
        name: summarize_metric(name, [r.get(name, math.nan) for r in rows], seed) for name in names
    }
