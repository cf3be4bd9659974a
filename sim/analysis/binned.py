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

from dataclasses import dataclass, field

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

BLOCK = 8192
"""Values counted at once (cells of :meth:`BinnedStack.add`, values of
:meth:`BinnedStack.start`): the arrays made on the way (64 kB of doubles) stay under
the size from which glibc maps each allocation afresh, fixed at 128 kB by ``siege``
(:func:`sim.experiment.executors.steady_allocator`). Over the baseline's 190,000 cells
at once, every such array was a new mapping whose pages were faulted in and handed
back: counting a replication took 10.6 ms instead of 4.9 ms, making the bins 1.1 s
instead of 0.45 s (200 replications, with that allocator)."""


PERCENTILE_CELLS = 4_096
"""Cells (a series' day each) whose percentiles :meth:`BinnedStack.percentiles` locates
at once: an array of one value per cell takes 32 kB, under the size from which glibc
maps each allocation afresh under ``siege``'s allocator (see :data:`BLOCK`; blocks of
16,384 cells, 128 kB arrays, took as long as series by series)."""


class BinnedStack:
    """Many daily series of many replications as per-day histograms, counted together.

    ``series`` series of ``days`` days each. :meth:`start` gives series ``s`` its edges
    from its first ``K`` replications and counts them; :meth:`add` counts one more
    replication of every series at once (a ``series × days`` array, NaN where a series
    has no value that day, or is missing); :meth:`view` is series ``s`` as a
    :class:`BinnedSeries` sharing the stack's arrays.

    One replication of a whole run is counted in a few array operations over every
    series and day (219 series of 871 days in the Deir ez-Zor baseline) instead of the
    same operations repeated series by series. A *constant* cell (a series' day on
    which the first replications all had one value, so that its edges are all equal:
    two thirds of the baseline's cells) needs no search: a value is below, at or above
    that one edge. The search is kept for the other cells.

    The edges are allocated untouched and written series by series, so a run that
    hands its exact values over one series at a time frees them as the stack grows.
    """

    def __init__(self, series: int, days: int) -> None:
        # edge i of series s on day d at [s, i, d], +∞ padding beyond EDGES (set in start)
        self.edges = np.empty((series, _SLOTS, days))
        self.counts = np.zeros((series, days, 2 * EDGES + 1), dtype=np.int32)
        self.low = np.full((series, days), np.inf)
        self.high = np.full((series, days), -np.inf)
        self.days = days
        self._cells: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._off = np.zeros(0, dtype=np.int32)  # per constant cell: values not at its edge
        self._pending = 0  # replications added since the last settle()

    def start(self, s: int, first: np.ndarray) -> None:
        """Series ``s``'s edges from ``first`` (its first ``K × days`` values, NaN where a
        day has none), and those values counted."""
        first = np.asarray(first, dtype=float)
        a = np.sort(first, axis=0)  # NaN sorts last
        days = self.days
        n = np.sum(~np.isnan(a), axis=0)
        ranks = np.round(np.outer(LEVELS, np.maximum(n - 1, 0)))
        edges = a[ranks.astype(int), np.arange(days)]
        edges[:, n == 0] = np.inf  # no value yet: everything falls below (closed by low/high)
        self.edges[s, :EDGES] = edges
        self.edges[s, EDGES:] = np.inf
        self.settle()
        self._cells = None  # the constant cells are found again on the next add
        rows = np.arange(days)
        has = n > 0
        top = a[np.maximum(n - 1, 0), rows]
        self.low[s] = np.where(has, np.minimum(self.low[s], a[0]), self.low[s])
        self.high[s] = np.where(has, np.maximum(self.high[s], top), self.high[s])
        # The K rows counted at once. A day whose values are all equal (its edges too)
        # has them all at edge 0 (bin 1); the other days' values are searched, and their
        # (day, bin) pairs, which repeat, counted by bincount.
        counts = self.counts[s]
        same = has & (a[0] == top)
        counts[same, 1] += n[same].astype(np.int32)
        other = np.flatnonzero(has & ~same)
        step = max(1, BLOCK // max(1, first.shape[0]))  # days searched at once (see BLOCK)
        for lo in range(0, other.size, step):
            self._count_first(s, first, counts, other[lo : lo + step])

    def _count_first(self, s: int, first: np.ndarray, counts: np.ndarray, some: np.ndarray) -> None:
        """Count the first replications' values of series ``s`` on days ``some`` (days
        whose values differ) into ``counts`` (the series' ``days × bins``)."""
        v = first[:, some].reshape(-1)
        at = np.broadcast_to(np.arange(some.size), (first.shape[0], some.size)).reshape(-1)
        keep = np.flatnonzero(~np.isnan(v))
        at, v = at[keep], v[keep]
        b = self._search(s * (_SLOTS * self.days) + some[at], v)
        width = counts.shape[1]
        found = np.bincount(at * width + b, minlength=some.size * width)
        counts[some] += found.reshape(some.size, width).astype(np.int32)

    def _search(self, base: np.ndarray, v: np.ndarray) -> np.ndarray:
        """The bin of each value ``v`` among the edges of its cell (whose edge 0 is at
        ``base`` in the flat edges, edge i at ``base + i × days``): ``2·i + 1`` for a
        value equal to edge ``i``, ``2·i`` for one between edges ``i − 1`` and ``i``."""
        days = self.days
        flat = self.edges.reshape(-1)
        pos = np.zeros(v.size, dtype=np.int64)
        step = _SLOTS // 2
        while step:  # how many edges lie below the value
            pos += step * (flat[base + (pos + step - 1) * days] < v)
            step //= 2
        on_edge = (pos < EDGES) & (flat[base + np.minimum(pos, EDGES - 1) * days] == v)
        bins: np.ndarray = 2 * pos + on_edge
        return bins

    def _split(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(constant cells, their one edge, the other cells): flat ``series × days``
        indices, found once every series has started."""
        if self._cells is None:
            e = self.edges[:, :EDGES]
            first = e[:, 0]
            # all edges equal, and a value equal to them moves neither the minimum nor
            # the maximum (not so on a day without values yet: its edges are +inf)
            constant = (
                np.all(e == e[:, :1], axis=1) & (self.low <= first) & (self.high >= first)
            ).reshape(-1)
            self._cells = (
                np.flatnonzero(constant),
                first.reshape(-1)[constant],
                np.flatnonzero(~constant),
            )
            self._off = np.zeros(self._cells[0].size, dtype=np.int32)
        return self._cells

    def add(self, values: np.ndarray) -> None:
        """Count one replication of every series (``series × days``; NaN: no value).

        The cells are taken :data:`BLOCK` at a time, so that no array made on the way
        is large (see :data:`BLOCK`)."""
        flat_v = np.asarray(values, dtype=float).reshape(-1)
        constant, edge, other = self._split()
        for lo in range(0, constant.size, BLOCK):
            self._add_constant(flat_v, lo, constant[lo : lo + BLOCK], edge[lo : lo + BLOCK])
        for lo in range(0, other.size, BLOCK):
            self._add_searched(flat_v, other[lo : lo + BLOCK])
        self._pending += 1

    def _add_constant(
        self, flat_v: np.ndarray, lo: int, cells: np.ndarray, edge: np.ndarray
    ) -> None:
        """Count constant cells ``cells`` (the ``lo``-th on) of one replication: a value
        at the cell's one edge (bin 1) is counted in bulk by :meth:`settle`; here only
        the values that differ."""
        v = flat_v[cells]
        off = np.flatnonzero(v != edge)  # NaN included: no value, nothing counted
        self._off[lo + off] += 1
        v, e, cells = v[off], edge[off], cells[off]
        keep = ~np.isnan(v)
        v, e, cells = v[keep], e[keep], cells[keep]
        width = self.counts.shape[2]
        counts = self.counts.reshape(-1)
        counts[cells * width + np.where(v < e, 0, 2 * EDGES)] += 1  # below, or above all
        self._extend(cells, v)

    def _add_searched(self, flat_v: np.ndarray, cells: np.ndarray) -> None:
        """Count the values of one replication in cells ``cells`` (not constant: searched
        among their edges)."""
        days = self.days
        w = flat_v[cells]
        keep = np.flatnonzero(~np.isnan(w))
        w, cells = w[keep], cells[keep]
        bins = self._search((cells // days) * (_SLOTS * days) + cells % days, w)
        width = self.counts.shape[2]
        counts = self.counts.reshape(-1)
        counts[cells * width + bins] += 1  # one bin per cell: no repeats
        self._extend(cells, w)

    def _extend(self, cells: np.ndarray, v: np.ndarray) -> None:
        """Widen the running minimum and maximum of flat cells ``cells`` to values ``v``."""
        low = self.low.reshape(-1)
        high = self.high.reshape(-1)
        low[cells] = np.minimum(low[cells], v)
        high[cells] = np.maximum(high[cells], v)

    def settle(self) -> None:
        """Count the constant cells' values equal to their edge since the last settle
        (every replication added, less those whose value differed or was missing)."""
        if self._pending:
            constant = self._split()[0]
            width = self.counts.shape[2]
            self.counts.reshape(-1)[constant * width + 1] += self._pending - self._off
            self._off[:] = 0
            self._pending = 0

    def percentiles(
        self, qs: tuple[float, ...], first: int = 0, last: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Series ``first .. last − 1``'s percentiles ``qs`` (``series × len(qs) × days``,
        NaN on a day without values) and the bound of each one's error (see the module
        docstring).

        The cells (a series' day each) are taken :data:`PERCENTILE_CELLS` at a time,
        across series, and each rank's bin found by a binary search of the cumulative
        counts: the same arithmetic on each cell as day by day, so the same numbers to
        the bit. The 223 series of 200 replications of the Deir ez-Zor baseline: 0.30 →
        0.21 s (series by series, a linear scan of every cumulative count), on the
        critical path of ``siege run`` after its last replication."""
        self.settle()
        last = self.counts.shape[0] if last is None else last
        days = self.days
        values = np.full((last - first, len(qs), days), np.nan)
        bounds = np.full((last - first, len(qs), days), np.nan)
        step = max(1, PERCENTILE_CELLS // max(1, days))
        for lo in range(first, last, step):
            hi = min(lo + step, last)
            v, b = self._block_percentiles(qs, lo, hi)
            values[lo - first : hi - first] = v
            bounds[lo - first : hi - first] = b
        return values, bounds

    def _block_percentiles(
        self, qs: tuple[float, ...], lo: int, hi: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`percentiles` of series ``lo .. hi − 1``, their cells (series × days)
        flattened."""
        days = self.days
        counts = self.counts[lo:hi].reshape(-1, self.counts.shape[2])  # cells × bins
        # summed along the first axis of the transpose (a C-contiguous cells × bins result,
        # twice as fast as along the last axis of 59 bins)
        cum = np.cumsum(counts.T, axis=0, dtype=counts.dtype).T
        cells = _Cells(
            counts,
            cum,
            self.edges[lo:hi, :EDGES].transpose(0, 2, 1).reshape(-1, EDGES),
            self.low[lo:hi].reshape(-1),
            self.high[lo:hi].reshape(-1),
        )
        n = cum[:, -1]
        values = np.full((len(qs), n.size), np.nan)
        bounds = np.full((len(qs), n.size), np.nan)
        has = n > 0
        for j, q in enumerate(qs):
            pos = (np.maximum(n, 1) - 1) * (q / 100.0)
            r_lo = np.floor(pos).astype(np.int64)
            r_hi = np.minimum(r_lo + 1, np.maximum(n - 1, 0))
            t = pos - r_lo
            v_lo, lower, _ = cells.rank_value(r_lo)
            v_hi, _, upper = cells.rank_value(r_hi)
            with np.errstate(invalid="ignore"):
                value = np.where(r_hi == r_lo, v_lo, v_lo + (v_hi - v_lo) * t)
            values[j] = np.where(has, value, np.nan)
            bounds[j] = np.where(has, upper - lower, np.nan)
        shape = (hi - lo, days, len(qs))
        return (
            values.T.reshape(shape).transpose(0, 2, 1),
            bounds.T.reshape(shape).transpose(0, 2, 1),
        )

    def view(self, s: int) -> BinnedSeries:
        """Series ``s`` as a :class:`BinnedSeries` sharing this stack's arrays."""
        return BinnedSeries(stack=self, index=s)


class BinnedSeries:
    """One daily series of many replications as per-day histograms (see the module
    docstring). ``first`` is the ``K × days`` array of the first ``K`` replications
    (NaN where a day has no value); :meth:`add` counts one more replication. With
    ``stack`` and ``index`` instead, it is series ``index`` of a :class:`BinnedStack`
    (counted through the stack)."""

    def __init__(
        self, first: np.ndarray | None = None, *, stack: BinnedStack | None = None, index: int = 0
    ) -> None:
        if stack is None:
            if first is None:
                raise ValueError("give the first replications' values or a stack")
            first = np.asarray(first, dtype=float)
            stack = BinnedStack(1, first.shape[1])
            stack.start(0, first)
            index = 0
        self._stack = stack
        self.edges = stack.edges[index]
        self.counts = stack.counts[index]
        self.low = stack.low[index]
        self.high = stack.high[index]
        self._index = index

    def add(self, values: np.ndarray) -> None:
        """Count one replication's series (``days`` values, NaN where undefined)."""
        if self._stack.counts.shape[0] != 1:
            raise TypeError("a series of a stack is counted by BinnedStack.add")
        self._stack.add(np.asarray(values, dtype=float)[None, :])

    def percentiles(self, qs: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
        """``len(qs) × days`` percentiles (NaN on a day without values) and the bound of
        each one's error (see the module docstring)."""
        values, bounds = self._stack.percentiles(qs, self._index, self._index + 1)
        return values[0], bounds[0]


@dataclass
class _Cells:
    """The histograms of many cells (a series' day each), flattened, for locating ranks:
    ``counts`` and their cumulative sums ``cum`` (cells × bins), the edges (cells ×
    :data:`EDGES`) and the running minimum and maximum of each cell."""

    counts: np.ndarray
    cum: np.ndarray
    edges: np.ndarray
    low: np.ndarray
    high: np.ndarray
    rows: np.ndarray = field(init=False)  # each cell's row number

    def __post_init__(self) -> None:
        self.rows = np.arange(self.counts.shape[0])

    def bin_of(self, rank: np.ndarray) -> np.ndarray:
        """The bin holding order statistic ``rank[c]`` of each cell: the number of
        cumulative counts at most the rank (they never decrease along a cell, so a
        binary search finds it), at most the last bin."""
        width = self.cum.shape[1]
        flat = self.cum.reshape(-1)
        base = self.rows * width - 1
        b = np.zeros(rank.size, dtype=np.int64)
        step = 1 << (width - 1).bit_length()
        while step:
            probe = b + step  # are the first `probe` sums all at most the rank?
            ok = (probe <= width) & (flat[base + np.minimum(probe, width)] <= rank)
            b += step * ok
            step //= 2
        last: np.ndarray = np.minimum(b, width - 1)
        return last

    def bounds(self, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper ends of bin ``b[c]`` of each cell."""
        rows, edges = self.rows, self.edges
        i = b // 2
        point = b % 2 == 1
        below = np.where(i > 0, edges[rows, np.maximum(i - 1, 0)], -np.inf)
        above = np.where(i < EDGES, edges[rows, np.minimum(i, EDGES - 1)], np.inf)
        at = edges[rows, np.minimum(i, EDGES - 1)]
        lower = np.where(point, at, below)
        upper = np.where(point, at, above)
        return np.maximum(lower, self.low), np.minimum(upper, self.high)

    def rank_value(self, rank: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The estimated value of order statistic ``rank[c]`` (0-based) of each cell, and
        the ends of its bin."""
        rows = self.rows
        b = self.bin_of(rank)
        before = np.where(b > 0, self.cum[rows, np.maximum(b - 1, 0)], 0)
        count = self.counts[rows, b]
        lower, upper = self.bounds(b)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = (rank - before + 0.5) / np.maximum(count, 1)
            value = np.where(upper > lower, lower + (upper - lower) * share, lower)
        return value, lower, upper
