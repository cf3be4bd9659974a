"""Daily percentile bands and per-metric summaries, including censored "never" times."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats

from sim.analysis.summary import (
    SeriesAccumulator,
    censored_percentiles,
    daily_percentiles,
    derived_series,
    summarize_metric,
    summarize_metrics,
)


def test_daily_percentiles_known_values():
    stack = np.array([[float(r), np.nan, r if r < 10 else np.nan] for r in range(21)])
    p = daily_percentiles(stack)
    assert p.shape == (3, 3)
    np.testing.assert_allclose(p[:, 0], [1.0, 10.0, 19.0])
    assert np.isnan(p[:, 1]).all()  # all-NaN day stays undefined, no warning escapes
    np.testing.assert_allclose(p[1, 2], 4.5)  # NaN ignored


def test_accumulator(fake_scenario, make_result):
    acc = SeriesAccumulator(3, fake_scenario.calendar.n_days)
    for i, scale in enumerate((1.0, 2.0, 3.0)):
        acc.add(i, make_result(fake_scenario, replication=i, scale=scale))
    pct = acc.percentiles()
    assert list(pct) == sorted(pct)
    np.testing.assert_allclose(pct["delivered_t__drops"][1], 20.0)
    np.testing.assert_allclose(pct["delivered_t__drops"][0], 11.0)
    # derived running totals
    np.testing.assert_allclose(pct["cumulative_delivered_t__drops"][1], 20.0 * np.arange(1, 11))
    assert "cumulative_sorties_flown__planes" in pct
    assert "cumulative_delivered_t__drops__city" not in pct


def test_accumulator_requires_every_replication(fake_scenario, make_result):
    acc = SeriesAccumulator(2, fake_scenario.calendar.n_days)
    acc.add(0, make_result(fake_scenario))
    with pytest.raises(ValueError, match="only 1 of 2"):
        acc.percentiles()
    with pytest.raises(IndexError):
        acc.add(-1, make_result(fake_scenario))
    acc.add(2, make_result(fake_scenario))  # beyond the expected count: grows
    with pytest.raises(ValueError, match="only 2 of 2"):
        acc.percentiles()  # replication 1 is missing


def test_accumulator_grows_when_more_replications_come(fake_scenario, make_result):
    n = fake_scenario.calendar.n_days
    small, whole = SeriesAccumulator(2, n), SeriesAccumulator(5, n)
    for i in range(5):
        r = make_result(fake_scenario, scale=1.0 + i)
        small.add(i, r)
        whole.add(i, r)
    a, b = small.percentiles(), whole.percentiles()
    assert list(a) == list(b)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])


def test_derived_series():
    d = derived_series(
        {
            "delivered_t__a": np.array([1.0, 2.0]),
            "sorties_flown__a": np.ones(2),
            "delivered_t__a__p": np.ones(2),
            "stock_t__p__c": np.ones(2),
        }
    )
    assert sorted(d) == ["cumulative_delivered_t__a", "cumulative_sorties_flown__a"]
    np.testing.assert_array_equal(d["cumulative_delivered_t__a"], [1.0, 3.0])


def test_summary_of_a_plain_metric():
    values = [1.0, 2.0, 3.0, 4.0, math.nan]
    s = summarize_metric("delivered_t", values)
    assert s["n"] == 4
    assert s["mean"] == 2.5 and s["median"] == 2.5
    assert s["p05"] == pytest.approx(1.15) and s["p95"] == pytest.approx(3.85)
    lo, hi = stats.t.interval(0.95, 3, loc=2.5, scale=stats.sem([1, 2, 3, 4]))
    assert s["ci95_low"] == pytest.approx(lo) and s["ci95_high"] == pytest.approx(hi)
    assert "never_share" not in s


def test_summary_edge_cases():
    s = summarize_metric("x", [5.0])
    assert s["mean"] == 5.0 and s["ci95_low"] is None and s["n"] == 1
    s = summarize_metric("x", [2.0, 2.0, 2.0])
    assert s["ci95_low"] == 2.0 and s["ci95_high"] == 2.0
    s = summarize_metric("x", [math.nan, math.nan])
    assert s["n"] == 0 and s["mean"] is None and s["median"] is None


def test_never_is_censored():
    name = "first_stockout_day__city__food"
    # all ran out
    s = summarize_metric(name, [10.0, 20.0, 30.0])
    assert s["never_share"] == 0.0 and s["mean"] == 20.0 and s["median"] == 20.0
    # 2 of 5 never: median is the 3rd value (30); p95 falls among "never"
    s = summarize_metric(name, [10.0, 20.0, 30.0, math.nan, math.nan])
    assert s["never_share"] == pytest.approx(0.4)
    assert s["median"] == 30.0
    assert s["p95"] is None
    assert s["mean"] is None and s["ci95_low"] is None
    assert s["p05"] == pytest.approx(12.0)
    assert s["n"] == 5
    # none ran out
    s = summarize_metric(name, [math.nan] * 4)
    assert s["never_share"] == 1.0 and s["median"] is None and s["p05"] is None


def test_censored_percentile_between_value_and_never():
    # 4 values: the median interpolates between 20 and "never" → unknown
    assert censored_percentiles([10.0, 20.0, math.nan, math.nan], [50.0]) == [None]
    # exactly on a finite value
    assert censored_percentiles([10.0, 20.0, 30.0, math.nan, math.nan], [50.0]) == [30.0]


def test_summarize_metrics_keeps_order():
    rows = [{"b": 1.0, "a": 2.0}, {"b": 3.0, "a": 4.0}]
    assert list(summarize_metrics(rows)) == ["b", "a"]
    assert summarize_metrics([]) == {}


@pytest.mark.parametrize("replications", [1, 2, 3, 20, 101])
def test_daily_percentiles_equal_numpy(replications):
    rng = np.random.default_rng(replications)
    stack = rng.normal(size=(replications, 200)) * 1e3
    stack[rng.random(stack.shape) < 0.3] = np.nan
    stack[:, :3] = np.nan
    stack[:, 3:6] = 2.5
    stack[:, 6:9] = np.round(stack[:, 6:9])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.nanpercentile(stack, [5.0, 50.0, 95.0], axis=0)
    np.testing.assert_array_equal(daily_percentiles(stack), expected)
