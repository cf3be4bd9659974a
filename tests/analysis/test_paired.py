"""Paired differences on common random numbers: known effects, zeros, "never" times."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.analysis.paired import (
    is_decisive,
    paired_difference,
    share_better,
    verdict,
    welch_interval,
)

values = st.lists(
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False), min_size=2, max_size=40
)


def test_known_effect_paired_is_narrower_than_unpaired():
    rng = np.random.default_rng(1)
    a = rng.normal(1000.0, 100.0, size=50)  # noise common to both scenarios
    b = 1.25 * a  # the option scales the reference by a known 25 %
    d = paired_difference(a, b)
    assert d.mean == pytest.approx(0.25 * np.mean(a))
    assert d.ci_low <= 0.25 * np.mean(a) <= d.ci_high
    assert d.half_width < d.unpaired_half_width / 5
    # (s_a² + s_b²) / s_d² = (1 + 1.25²) / 0.25² = 41 exactly
    assert d.variance_reduction == pytest.approx(41.0)
    assert d.share_higher == 1.0 and d.share_lower == 0.0
    assert verdict("delivered_t", d) == "better"
    assert verdict("aircraft_lost", d) == "worse"
    assert verdict("sorties_flown__x", d) == "higher"
    assert share_better("aircraft_lost", d) == (0.0, 1.0)
    assert all(math.isnan(x) for x in share_better("sorties_flown__x", d))


@given(values)
def test_a_scenario_against_itself_gives_zeros(xs):
    d = paired_difference(xs, xs)
    assert d.mean == 0.0 and d.ci_low == 0.0 and d.ci_high == 0.0
    assert d.share_higher == 0.0 and d.share_lower == 0.0
    assert verdict("delivered_t", d) == "identical"
    assert not is_decisive(verdict("delivered_t", d))


@given(values, values)
def test_shares_and_interval(xs, ys):
    n = min(len(xs), len(ys))
    d = paired_difference(xs[:n], ys[:n])
    assert d.n == n
    assert 0.0 <= d.share_higher + d.share_lower <= 1.0
    assert d.ci_low <= d.mean <= d.ci_high
    assert d.mean == pytest.approx(np.mean(np.array(ys[:n]) - np.array(xs[:n])), abs=1e-6)


def test_nan_pairs_are_dropped():
    d = paired_difference([1.0, math.nan, 3.0, 4.0], [2.0, 5.0, math.nan, 6.0])
    assert d.n == 2 and d.mean == pytest.approx(1.5)


def test_never_times():
    # NaN = never ran out: later is better
    ref = [10.0, 20.0, math.nan, math.nan]
    opt = [12.0, math.nan, math.nan, 30.0]
    d = paired_difference(ref, opt, never=True)
    assert d.n == 4
    assert d.share_higher == pytest.approx(0.5)  # 12 > 10, never > 20
    assert d.share_lower == pytest.approx(0.25)  # 30 < never
    assert math.isnan(d.mean) and math.isnan(d.ci_low)
    assert verdict("first_stockout_day__city__food", d) == "no clear difference"
    finite = paired_difference([10.0, 20.0], [11.0, 25.0], never=True)
    assert finite.mean == pytest.approx(3.0)
    later = paired_difference([10.0, 20.0], [math.nan, math.nan], never=True)
    assert verdict("first_stockout_day__city__food", later) == "better"


def test_degenerate_samples():
    one = paired_difference([1.0], [2.0])
    assert one.n == 1 and one.mean == 1.0 and math.isnan(one.ci_low)
    assert math.isnan(one.variance_reduction)
    none = paired_difference([math.nan], [math.nan])
    assert none.n == 0 and verdict("delivered_t", none) == ""
    const = paired_difference([1.0, 1.0, 1.0], [1.0, 1.0, 1.0])
    assert math.isnan(const.variance_reduction)
    shift = paired_difference([1.0, 2.0, 3.0], [2.0, 3.0, 4.0])
    assert math.isinf(shift.variance_reduction) and verdict("delivered_t", shift) == "better"
    with pytest.raises(ValueError):
        paired_difference([1.0, 2.0], [1.0])


def test_welch_interval_contains_the_difference():
    lo, hi = welch_interval(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 6.0]))
    assert lo < 2.0 < hi
    assert welch_interval(np.array([1.0, 1.0]), np.array([3.0, 3.0])) == (2.0, 2.0)
