"""Binned daily percentiles: within their error bound of the exact ones, memory flat."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.analysis import binned
from sim.analysis.binned import EDGES, BinnedSeries, BinnedStack
from sim.analysis.summary import MIN_EXACT, PERCENTILES, SeriesAccumulator, daily_percentiles


def _exact(stack: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanpercentile(stack, PERCENTILES, axis=0)


def _binned(stack: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    hist = BinnedSeries(stack[:k])
    for row in stack[k:]:
        hist.add(row)
    return hist.percentiles(PERCENTILES)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    k=st.integers(1, 40),
    more=st.integers(0, 300),
    kind=st.sampled_from(["normal", "integers", "zeros", "drift", "nan"]),
)
def test_the_exact_percentile_lies_within_the_bound(
    seed: int, k: int, more: int, kind: str
) -> None:
    """Whatever the data (continuous, discrete, point masses, later values outside the
    first ones' range, missing days), |reported − exact| ≤ the reported bound."""
    rng = np.random.default_rng(seed)
    n, days = k + more, 7
    if kind == "normal":
        stack = rng.normal(size=(n, days)) * 100
    elif kind == "integers":
        stack = rng.poisson(2.0, size=(n, days)).astype(float)
    elif kind == "zeros":
        stack = np.where(rng.random((n, days)) < 0.9, 0.0, rng.exponential(5.0, (n, days)))
    elif kind == "drift":  # later replications far outside the first ones
        stack = rng.normal(size=(n, days)) + np.linspace(0, 50, n)[:, None]
    else:
        stack = rng.normal(size=(n, days))
        stack[rng.random((n, days)) < 0.5] = np.nan
        stack[:k, 0] = np.nan  # a day without values among the first ones
        stack[:, 1] = np.nan  # a day without any value
    exact = _exact(stack)
    value, bound = _binned(stack, k)
    assert np.array_equal(np.isnan(value), np.isnan(exact))
    ok = ~np.isnan(exact)
    assert (bound[ok] >= 0).all()
    assert (np.abs(value[ok] - exact[ok]) <= bound[ok] * (1 + 1e-12) + 1e-9).all()


def test_point_masses_stay_exact() -> None:
    """A day that is mostly zero keeps an exact zero p05 and p50 (bound 0)."""
    rng = np.random.default_rng(1)
    stack = np.where(rng.random((2000, 5)) < 0.8, 0.0, rng.exponential(3.0, (2000, 5)))
    value, bound = _binned(stack, 100)
    assert (value[:2] == 0).all() and (bound[:2] == 0).all()


def test_the_bound_is_small_where_values_are_dense() -> None:
    """Normal values, edges from 110 of 10,000: the bound is typically under a fifth of
    σ, under 0.6 σ on 19 days in 20 (wider where a percentile falls beyond the first
    replications' outer edges); the error itself well under."""
    rng = np.random.default_rng(2)
    stack = rng.normal(size=(10_000, 40))
    value, bound = _binned(stack, 110)
    assert np.median(bound) < 0.2 and np.percentile(bound, 95) < 0.6
    assert np.abs(value - _exact(stack)).max() < 0.25


def test_the_accumulator_is_exact_up_to_its_limit_then_flat(fake_scenario, make_result):
    n = fake_scenario.calendar.n_days
    reps = 3 * MIN_EXACT
    acc = SeriesAccumulator(reps, n, exact_mib=1e-6)  # the limit is MIN_EXACT
    exact = SeriesAccumulator(reps, n)
    rng = np.random.default_rng(3)
    results = [
        make_result(fake_scenario, replication=i, scale=float(rng.exponential(2.0)))
        for i in range(reps)
    ]
    for i, r in enumerate(results[:MIN_EXACT]):
        acc.add(i, r)
        exact.add(i, r)
    assert acc.exact_limit == MIN_EXACT and acc.report() is None
    sizes = {name: arr.shape for name, arr in acc._data.items()}
    assert all(shape == (MIN_EXACT, n) for shape in sizes.values())
    for i, r in enumerate(results[MIN_EXACT:], MIN_EXACT):
        acc.add(i, r)
        exact.add(i, r)
    assert not acc._data  # the arrays are gone: only counts remain
    assert all(h.counts.shape == (n, 2 * EDGES + 1) for h in acc._binned.values())  # type: ignore[union-attr]
    got, want = acc.percentiles(), exact.percentiles()
    report = acc.report()
    assert report is not None and report["method"] == "binned"
    assert report["exact_limit"] == MIN_EXACT and report["replications"] == reps
    for name in want:
        bound = np.nan_to_num(acc._bounds[name])
        assert (np.abs(np.nan_to_num(got[name] - want[name])) <= bound + 1e-9).all(), name
        assert max(x or 0.0 for x in report["max_error"][name]) == bound.max()


def test_exact_runs_are_unchanged(fake_scenario, make_result):
    """Below the limit the accumulator is numpy's nanpercentile, byte for byte."""
    n = fake_scenario.calendar.n_days
    acc = SeriesAccumulator(5, n)
    results = [make_result(fake_scenario, replication=i, scale=1.0 + i) for i in range(5)]
    for i, r in enumerate(results):
        acc.add(i, r)
    name = "delivered_t__drops"
    stack = np.array([r.series[name] for r in results])
    np.testing.assert_array_equal(acc.percentiles()[name], daily_percentiles(stack))
    assert acc.report() is None


def _reference_counts(first: np.ndarray, later: np.ndarray) -> tuple[np.ndarray, ...]:
    """Counts, low and high of one series counted value by value (``np.searchsorted``
    on each day's edges), the definition the stack's array operations must match."""
    days = first.shape[1]
    hist = BinnedSeries(first)  # only its edges are used
    counts = np.zeros((days, 2 * EDGES + 1), dtype=np.int64)
    low = np.full(days, np.inf)
    high = np.full(days, -np.inf)
    for row in np.concatenate((first, later)):
        for d, v in enumerate(row):
            if np.isnan(v):
                continue
            edges = hist.edges[:EDGES, d]
            pos = int(np.searchsorted(edges, v, side="left"))
            on_edge = pos < EDGES and edges[pos] == v
            counts[d, 2 * pos + int(on_edge)] += 1
            low[d] = min(low[d], v)
            high[d] = max(high[d], v)
    return counts, low, high


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    k=st.integers(1, 12),
    more=st.integers(0, 12),
    series=st.integers(1, 4),
    block=st.sampled_from([1, 2, 3, 7, binned.BLOCK]),
)
def test_a_stack_counts_every_series_as_one_series_alone_would(
    seed: int, k: int, more: int, series: int, block: int
) -> None:
    """Counted together (constant days by their one edge, the others searched), every
    series gets the counts, minimum and maximum it gets counted value by value: with
    constant days, missing values, infinities, values at, below and above the edges;
    whatever the number of cells counted at once (``BLOCK``)."""
    default = binned.BLOCK
    binned.BLOCK = block
    try:
        _check_stack(seed, k, more, series)
    finally:
        binned.BLOCK = default


def _check_stack(seed: int, k: int, more: int, series: int) -> None:
    rng = np.random.default_rng(seed)
    days = 6
    pool = np.array([0.0, 1.0, 2.0, -3.5, np.inf, -np.inf, np.nan])
    data = rng.choice(pool, size=(series, k + more, days))
    data[:, :, 0] = 0.0  # a constant day...
    data[:, k:, 0] = rng.choice([0.0, 1.0, -1.0, np.nan], size=(series, more))  # ...left later
    data[:, :k, 1] = np.nan  # no value among the first: edges at +inf
    data[:, :, 2] += rng.normal(size=(series, k + more))  # continuous values
    stack = BinnedStack(series, days)
    for s in range(series):
        stack.start(s, data[s, :k])
    for r in range(k, k + more):
        stack.add(data[:, r, :])
    stack.settle()
    for s in range(series):
        counts, low, high = _reference_counts(data[s, :k], data[s, k:])
        np.testing.assert_array_equal(stack.counts[s], counts)
        np.testing.assert_array_equal(stack.low[s], low)
        np.testing.assert_array_equal(stack.high[s], high)
        view = stack.view(s)
        np.testing.assert_array_equal(view.counts, counts)


def _reference_percentiles(view: BinnedSeries, q: float) -> tuple[np.ndarray, np.ndarray]:
    """A series' percentile ``q`` and its error bound, day by day in plain Python: the
    ranks' bins found by a linear scan of the cumulative counts."""
    days = view.counts.shape[0]
    values = np.full(days, np.nan)
    bounds = np.full(days, np.nan)

    def bin_ends(d: int, b: int) -> tuple[float, float]:
        i, point = b // 2, b % 2 == 1
        at = view.edges[min(i, EDGES - 1), d]
        lower = at if point else (view.edges[i - 1, d] if i > 0 else -np.inf)
        upper = at if point else (view.edges[i, d] if i < EDGES else np.inf)
        return max(lower, view.low[d]), min(upper, view.high[d])

    def rank_value(d: int, cum: np.ndarray, rank: int) -> tuple[float, float, float]:
        b = min(int(np.sum(cum <= rank)), cum.size - 1)
        before = int(cum[b - 1]) if b > 0 else 0
        lower, upper = bin_ends(d, b)
        share = (rank - before + 0.5) / max(int(view.counts[d, b]), 1)
        return (lower + (upper - lower) * share if upper > lower else lower), lower, upper

    for d in range(days):
        cum = np.cumsum(view.counts[d])
        n = int(cum[-1])
        if n == 0:
            continue
        pos = (n - 1) * (q / 100.0)
        r_lo = int(np.floor(pos))
        r_hi = min(r_lo + 1, n - 1)
        v_lo, lower, _ = rank_value(d, cum, r_lo)
        v_hi, _, upper = rank_value(d, cum, r_hi)
        values[d] = v_lo if r_hi == r_lo else v_lo + (v_hi - v_lo) * (pos - r_lo)
        bounds[d] = upper - lower
    return values, bounds


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    k=st.integers(1, 12),
    more=st.integers(0, 12),
    series=st.integers(1, 5),
    cells=st.sampled_from([1, 5, 7, binned.PERCENTILE_CELLS]),
)
def test_a_stack_locates_every_series_percentiles_as_one_day_alone_would(
    seed: int, k: int, more: int, series: int, cells: int
) -> None:
    """The percentiles of every series at once (cells taken ``PERCENTILE_CELLS`` at a
    time, across series) are those found day by day with a linear scan, to the bit,
    and a series' view gives its own row of them."""
    rng = np.random.default_rng(seed)
    days = 7
    pool = np.array([0.0, 1.0, 2.0, -3.5, np.nan])
    data = rng.choice(pool, size=(series, k + more, days))
    data[:, :, 2] += rng.normal(size=(series, k + more))
    data[:, :, 3] = rng.normal(size=(series, k + more)) * 10.0
    stack = BinnedStack(series, days)
    for s in range(series):
        stack.start(s, data[s, :k])
    for r in range(k, k + more):
        stack.add(data[:, r, :])
    qs = (5.0, 50.0, 95.0)
    default = binned.PERCENTILE_CELLS
    binned.PERCENTILE_CELLS = cells
    try:
        values, bounds = stack.percentiles(qs)
        one_values, one_bounds = stack.view(series - 1).percentiles(qs)
    finally:
        binned.PERCENTILE_CELLS = default
    assert values.shape == bounds.shape == (series, len(qs), days)
    for s in range(series):
        for j, q in enumerate(qs):
            ref_values, ref_bounds = _reference_percentiles(stack.view(s), q)
            assert values[s, j].tobytes() == ref_values.tobytes()
            assert bounds[s, j].tobytes() == ref_bounds.tobytes()
    assert one_values.tobytes() == values[-1].tobytes()
    assert one_bounds.tobytes() == bounds[-1].tobytes()
