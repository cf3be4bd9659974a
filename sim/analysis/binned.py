"""Daily percentiles of any number of replications in bounded memory: per-day histograms
whose bin edges come from the first replications.

The exact daily percentiles of a run (:class:`sim.analysis.summary.SeriesAccumulator`)
need every replication's value of every series on every day: about 1.5 MB a
replication for the Deir ez-Zor baseline (219 series × 871 days × 8 bytes). Beyond a
memory budget the accumulator hands the values it holds (the first ``K``
replications) to a :class:`BinnedSeries` per series and keeps only counts.

**Bins.** Per day, ``EDGES`` edges are taken from the first ``K`` values sorted (their
minimum, maximum and the order statistics at the quantile levels :data:`LEVELS`, dense
around 5, 50 and 95 %; NaN left out). Each edge is a *point* bin of its own (a value
equal to it counts there: a day with many zero deliveries keeps an exact zero), and the
open intervals between
consecutive edges, below the first and above the last are the other bins: ``2 × EDGES
+ 1`` counts per day. Later replications only add one to a count. The running minimum
and maximum of each day close the two outer bins.

**Percentiles.** The ranks a percentile needs (NumPy's linear interpolation between
the order statistics at ⌊(n − 1)·q⌋ and ⌈(n − 1)·q⌉) are located in their bins by the
cumulative counts; within an open bin a rank is placed as if its values were spread
evenly, within a point bin it is the point. **The error bound:** the true percentile
and the reported one both lie between the lower end of the bin holding the lower rank
and the upper end of the bin holding the upper rank, so their difference is at most
that span, which :meth:`BinnedSeries.percentiles` returns day by day beside the
values (0 where both ranks fall in one point bin). Edges at the first ``K`` values'
quantiles make the bins narrow where values are dense, which is where p05, p50 and
p95 fall.
"""

from __future__ import annotations

import numpy as np

LEVELS: tuple[float, ...] = (
    0.0,
    *(i / 100 for i in range(1, 11)),
    *(i / 100 for i in range(35, 66, 5)),
    *(i / 100 for i in range(90, 100)),
    1.0,
)
"""The quantile levels of the first replications' values taken as bin edges: their
extremes, and dense around the percentiles reported (p05: 1–10 %, p50: 35–65 %, p95:
90–99 %), where the later replications' percentiles are bound to fall."""

EDGES = len(LEVELS)
"""Bin edges per day (29): ``2 × EDGES + 1`` = 59 counts a day."""

_SLOTS = 32
"""Edges are stored padded with +∞ to a power of two, for a branch-free search."""


class BinnedSeries:
    """One daily series of many replications as per-day histograms (see the module
    docstring). ``first`` is the ``K × days`` array of the first ``K`` replications
    (NaN where a day has no value); :meth:`add` counts one more replication."""

    def __init__(self, first: np.ndarray) -> None:
        a = np.sort(np.asarray(first, dtype=float), axis=0)  # NaN sorts last
        days = a.shape[1]
        n = np.sum(~np.isnan(a), axis=0)
        ranks = np.round(np.outer(LEVELS, np.maximum(n - 1, 0)))
        edges = a[ranks.astype(int), np.arange(days)]
        edges[:, n == 0] = np.inf  # no value yet: everything falls below (closed by low/high)
        # edge i of day d at [i, d] (a search reads each edge row in order), +∞ padding
        self.edges = np.full((_SLOTS, days), np.inf)
        self.edges[:EDGES] = edges
        self.counts = np.zeros((days, 2 * EDGES + 1), dtype=np.int32)
        self.low = np.full(days, np.inf)
        self.high = np.full(days, -np.inf)
        self._rows = np.arange(days)
        for row in np.asarray(first, dtype=float):
            self.add(row)

    def bins(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The days with a value, and the bin of each: ``2·i + 1`` for a value equal to
        edge ``i``, ``2·i`` for one between edges ``i − 1`` and ``i``."""
        v = np.asarray(values, dtype=float)
        days = np.flatnonzero(~np.isnan(v))
        v = v[days]
        days_n = self.edges.shape[1]
        flat = self.edges.ravel()  # a view: edge i of day d at i × days + d
        pos = np.zeros(days.size, dtype=np.int64)
        step = _SLOTS // 2
        while step:  # how many edges lie below the value
            pos += step * (flat[(pos + step - 1) * days_n + days] < v)
            step //= 2
        on_edge = (pos < EDGES) & (flat[np.minimum(pos, EDGES - 1) * days_n + days] == v)
        return days, 2 * pos + on_edge

    def add(self, values: np.ndarray) -> None:
        """Count one replication's series (``days`` values, NaN where undefined)."""
        days, b = self.bins(values)
        self.counts.ravel()[days * self.counts.shape[1] + b] += 1  # one bin a day: no repeats
        v = np.asarray(values, dtype=float)[days]
        self.low[days] = np.minimum(self.low[days], v)
        self.high[days] = np.maximum(self.high[days], v)

    def _bounds(self, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper ends of bin ``b[d]`` on each day ``d``."""
        rows = self._rows
        i = b // 2
        point = b % 2 == 1
        below = np.where(i > 0, self.edges[np.maximum(i - 1, 0), rows], -np.inf)
        above = np.where(i < EDGES, self.edges[np.minimum(i, EDGES - 1), rows], np.inf)
        at = self.edges[np.minimum(i, EDGES - 1), rows]
        lower = np.where(point, at, below)
        upper = np.where(point, at, above)
        return np.maximum(lower, self.low), np.minimum(upper, self.high)

    def percentiles(self, qs: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
        """``len(qs) × days`` percentiles (NaN on a day without values) and the bound of
        each one's error (see the module docstring)."""
        cum = np.cumsum(self.counts, axis=1)  # days × bins
        n = cum[:, -1]
        days = self.counts.shape[0]
        values = np.full((len(qs), days), np.nan)
        bounds = np.full((len(qs), days), np.nan)
        has = n > 0
        for j, q in enumerate(qs):
            pos = (np.maximum(n, 1) - 1) * (q / 100.0)
            r_lo = np.floor(pos).astype(np.int64)
            r_hi = np.minimum(r_lo + 1, np.maximum(n - 1, 0))
            t = pos - r_lo
            v_lo, lower, _ = self._rank_value(cum, r_lo)
            v_hi, _, upper = self._rank_value(cum, r_hi)
            with np.errstate(invalid="ignore"):
                value = np.where(r_hi == r_lo, v_lo, v_lo + (v_hi - v_lo) * t)
            values[j] = np.where(has, value, np.nan)
            bounds[j] = np.where(has, upper - lower, np.nan)
        return values, bounds

    def _rank_value(
        self, cum: np.ndarray, rank: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The estimated value of the order statistic ``rank[d]`` (0-based) on each day,
        and the ends of its bin."""
        b = np.sum(cum <= rank[:, None], axis=1)
        b = np.minimum(b, cum.shape[1] - 1)
        before = np.where(b > 0, cum[self._rows, np.maximum(b - 1, 0)], 0)
        count = self.counts[self._rows, b]
        lower, upper = self._bounds(b)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = (rank - before + 0.5) / np.maximum(count, 1)
            value = np.where(upper > lower, lower + (upper - lower) * share, lower)
        return value, lower, upper
