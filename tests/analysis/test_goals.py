"""Goals: parsing, one-sided bounds (Clopper–Pearson, Student t) and verdicts."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from sim.analysis.goals import (
    Goal,
    GoalError,
    judge,
    mean_bounds,
    min_replications,
    number_text,
    parse_goals,
    share_bounds,
)

KNOWN = [
    "stockout__city__food",
    "min_days_of_supply__city__food",
    "person_days_below_half__city",
    "first_stockout_day__city__food",
    "delivered_t",
]


def test_parse_one_and_several():
    assert parse_goals("stockout__city__food <= 0.05", KNOWN) == (
        Goal("stockout__city__food", "<=", 0.05),
    )
    goals = parse_goals(
        "stockout__city__food<=0.05 and min_days_of_supply__city__food ≥ 7 AND delivered_t > 1e3",
        KNOWN,
    )
    assert [(g.metric, g.op, g.threshold) for g in goals] == [
        ("stockout__city__food", "<=", 0.05),
        ("min_days_of_supply__city__food", ">=", 7.0),
        ("delivered_t", ">", 1000.0),
    ]
    assert [g.side for g in goals] == ["upper", "lower", "lower"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("stockout__city__food", "expected METRIC OP VALUE"),
        ("stockout__city__food == 0.05", "expected METRIC OP VALUE"),
        ("stockout__city__food <= lots", "'lots' is not a number"),
        ("stockout__city__food <= nan", "finite"),
        ("stockout__city__fod <= 0.05", "did you mean 'stockout__city__food'"),
        ("zzz <= 1", "unknown metric 'zzz' (metric names:"),
        ("first_stockout_day__city__food >= 100", "stockout__city__food"),
        ("delivered_t >= 1 and delivered_t > 2", "bounded twice from below"),
        ("delivered_t >= 1 or delivered_t <= 2", "expected METRIC OP VALUE"),
    ],
)
def test_parse_errors(text, words):
    with pytest.raises(GoalError) as err:
        parse_goals(text, KNOWN)
    assert words in str(err.value)


def test_both_sides_of_one_metric_is_allowed():
    goals = parse_goals("delivered_t >= 1 and delivered_t <= 2", KNOWN)
    assert [g.side for g in goals] == ["lower", "upper"]


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_goal_text_reads_back(x):
    g = Goal("delivered_t", ">=", x)
    assert parse_goals(g.text)[0] == g
    assert float(number_text(x)) == x


def test_clopper_pearson_known_values():
    lo, hi = share_bounds(0, 59, 0.95)
    assert lo == 0.0 and hi == pytest.approx(1 - 0.05 ** (1 / 59)) and hi <= 0.05
    assert share_bounds(0, 58, 0.95)[1] > 0.05
    lo, hi = share_bounds(10, 10, 0.95)
    assert hi == 1.0 and lo == pytest.approx(0.05 ** (1 / 10))
    lo, hi = share_bounds(3, 20, 0.9)
    assert lo == pytest.approx(stats.beta.ppf(0.1, 3, 18))
    assert hi == pytest.approx(stats.beta.ppf(0.9, 4, 17))


@given(st.integers(1, 400), st.data(), st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_share_bounds_bracket_the_estimate(n, data, conf):
    k = data.draw(st.integers(0, n))
    lo, hi = share_bounds(k, n, conf)
    assert 0.0 <= lo <= k / n <= hi <= 1.0


def test_mean_bounds():
    assert mean_bounds(np.array([3.0]), 0.95) == (-math.inf, math.inf)
    v = np.array([1.0, 2.0, 3.0, 4.0])
    lo, hi = mean_bounds(v, 0.95)
    half = stats.t.ppf(0.95, 3) * np.std(v, ddof=1) / 2
    assert (lo, hi) == pytest.approx((2.5 - half, 2.5 + half))


def test_judge_share_goal():
    g = Goal("stockout__city__food", "<=", 0.05)
    assert judge(g, [0.0] * 59, 0.95).verdict == "met"
    assert judge(g, [0.0] * 40, 0.95).verdict == "undecided"
    assert judge(g, [1.0] * 3 + [0.0] * 17, 0.95).verdict == "undecided"  # lower 0.042
    assert judge(g, [1.0] * 5 + [0.0] * 15, 0.95).verdict == "not met"
    j = judge(g, [0.0] * 20, 0.95)
    assert j.estimate == 0.0 and j.bound == pytest.approx(1 - 0.05 ** (1 / 20))


def test_judge_mean_goal_and_nan():
    g = Goal("min_days_of_supply__city__food", ">=", 7.0)
    assert judge(g, [9.0, 10.0, 11.0, 10.0], 0.95).verdict == "met"
    assert judge(g, [3.0, 4.0, 5.0, 4.0], 0.95).verdict == "not met"
    assert judge(g, [6.0, 8.0, 7.0, 7.5], 0.95).verdict == "undecided"
    assert judge(g, [9.0], 0.95).verdict == "undecided"  # one value: infinite bounds
    assert judge(g, [math.nan, 9.0, 10.0, 11.0, 10.0], 0.95).n == 4
    assert judge(g, [math.nan], 0.95).verdict == "undecided"


def test_judge_exact_uses_the_value():
    g = Goal("stockout__city__food", "<=", 0.05)
    assert judge(g, [0.0], 0.95, exact=True).verdict == "met"
    assert judge(g, [1.0], 0.95, exact=True).verdict == "not met"
    strict = Goal("delivered_t", ">", 100.0)
    assert judge(strict, [100.0], 0.95, exact=True).verdict == "not met"
    assert judge(Goal("delivered_t", ">=", 100.0), [100.0], 0.95, exact=True).verdict == "met"


@pytest.mark.parametrize("conf", [0.9, 0.95, 0.99])
@pytest.mark.parametrize("t", [0.01, 0.05, 0.2])
def test_min_replications_is_the_first_sample_that_can_decide(conf, t):
    n = min_replications(Goal("stockout__city__food", "<=", t), conf)
    assert share_bounds(0, n, conf)[1] <= t < share_bounds(0, n - 1, conf)[1]
    m = min_replications(Goal("stockout__city__food", ">=", 1 - t), conf)
    assert share_bounds(m, m, conf)[0] >= 1 - t > share_bounds(m - 1, m - 1, conf)[0]
    assert min_replications(Goal("delivered_t", ">=", 1.0), conf) is None
    assert min_replications(Goal("stockout__city__food", "<", 0.0), conf) is None
