"""Intervals of a mean across replications: the right method for each kind of metric."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sim.analysis import metric_registry
from sim.analysis.intervals import (
    beta_quantile,
    bootstrap,
    clopper_pearson,
    mean_interval,
    poisson_mean,
    student_t,
    t_quantile,
)
from sim.analysis.summary import summarize_metric, summarize_metrics


def test_a_stockout_in_0_of_100_is_not_impossible() -> None:
    s = summarize_metric("stockout__city__food", [0.0] * 100)
    assert s["ci95_low"] == 0.0
    assert s["ci95_high"] == pytest.approx(0.0362, abs=1e-4)  # Clopper–Pearson, 1 − 0.025^(1/100)
    assert s["ci_method"] == "clopper_pearson"
    s = summarize_metric("stockout__city__food", [1.0] * 100)
    assert s["ci95_high"] == 1.0 and s["ci95_low"] == pytest.approx(1 - 0.0362, abs=1e-4)


def test_one_loss_in_100_never_gives_a_negative_bound() -> None:
    s = summarize_metric("aircraft_lost", [1.0] + [0.0] * 99)
    assert s["ci_method"] == "poisson"
    assert s["ci95_low"] == pytest.approx(0.000253, rel=1e-2)
    assert s["ci95_high"] == pytest.approx(0.0557, rel=1e-2)
    none = summarize_metric("aircraft_lost__wfp", [0.0] * 100)
    assert none["ci95_low"] == 0.0 and none["ci95_high"] == pytest.approx(0.0369, rel=1e-2)


def test_exact_intervals_match_their_textbook_values() -> None:
    lo, hi = clopper_pearson(5, 100)
    assert (lo, hi) == (pytest.approx(0.01643, abs=1e-4), pytest.approx(0.11284, abs=1e-4))
    lo, hi = poisson_mean(10, 1)
    assert (lo, hi) == (pytest.approx(4.7954, abs=1e-3), pytest.approx(18.390, abs=1e-3))


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 5000), share=st.floats(0.0, 1.0), level=st.sampled_from([0.9, 0.95]))
def test_exact_intervals_are_scipy_stats_quantiles_bit_for_bit(
    n: int, share: float, level: float
) -> None:
    # the intervals call scipy.special (cheap to import), not scipy.stats: same numbers
    k = round(share * n)
    a = 1.0 - level
    lo = 0.0 if k <= 0 else float(stats.beta.ppf(a / 2.0, k, n - k + 1))
    hi = 1.0 if k >= n else float(stats.beta.ppf(1.0 - a / 2.0, k + 1, n - k))
    assert clopper_pearson(k, n, level) == (lo, hi)
    lo = 0.0 if k <= 0 else float(stats.chi2.ppf(a / 2.0, 2 * k)) / (2.0 * n)
    hi = float(stats.chi2.ppf(1.0 - a / 2.0, 2 * k + 2)) / (2.0 * n)
    assert poisson_mean(float(k), n, level) == (lo, hi)


@settings(max_examples=300, deadline=None)
@given(
    q=st.floats(0.5, 0.999, exclude_min=True),
    dof=st.one_of(st.integers(1, 10_000), st.floats(1.0, 1e4)),
    a=st.integers(1, 5000),
    b=st.integers(1, 5000),
)
def test_the_quantiles_are_scipy_stats_bit_for_bit(q: float, dof: float, a: int, b: int) -> None:
    """The quantiles compare (Welch's degrees of freedom are not whole) and plan use."""
    assert t_quantile(q, dof) == float(stats.t.ppf(q, dof))
    assert beta_quantile(q, a, b) == float(stats.beta.ppf(q, a, b))
    assert beta_quantile(1.0 - q, a, b) == float(stats.beta.ppf(1.0 - q, a, b))


def test_a_t_interval_outside_the_range_gives_way_to_the_bootstrap() -> None:
    values = np.array([0.0] * 97 + [50.0, 80.0, 120.0])  # tonnes: skewed, mostly 0
    assert student_t(values)[0] < 0
    lo, hi, used = mean_interval("delivered_t__x", values, "t", seed=1, low=0.0)
    assert used == "bootstrap" and lo >= 0.0 and hi > lo
    s = summarize_metric("delivered_t__x", values)
    assert s["ci_method"] == "bootstrap" and s["ci95_low"] >= 0.0
    ok = summarize_metric("delivered_t", np.linspace(900.0, 1100.0, 50))
    assert ok["ci_method"] == "t"


def test_the_bootstrap_is_seeded_from_the_root_seed_and_the_metric() -> None:
    rng = np.random.default_rng(0)
    values = rng.exponential(10.0, 60)
    a = bootstrap(values, 7, "shortfall_t__city__food")
    assert a == bootstrap(values, 7, "shortfall_t__city__food")
    assert a != bootstrap(values, 8, "shortfall_t__city__food")
    assert a != bootstrap(values, 7, "shortfall_t__base__food")
    assert a[0] < float(np.mean(values)) < a[1]
    rows = [{"shortfall_t__city__food": float(v)} for v in values]
    s1 = summarize_metrics(rows, seed=7)["shortfall_t__city__food"]
    assert (s1["ci95_low"], s1["ci95_high"]) == a and s1["ci_method"] == "bootstrap"


def test_identical_values_give_that_value_and_one_value_no_interval() -> None:
    s = summarize_metric("shortfall_t__city__food", [0.0] * 20)
    assert (s["ci95_low"], s["ci95_high"]) == (0.0, 0.0)
    s = summarize_metric("delivered_t", [5.0])
    assert s["mean"] == 5.0 and s["ci95_low"] is None and s["ci_method"] is None


def test_every_registry_entry_has_a_known_method_and_a_range() -> None:
    for d in metric_registry.METRICS:
        assert d.interval in ("clopper_pearson", "poisson", "bootstrap", "t"), d.pattern
        assert d.low < d.high
        if d.share:
            assert d.interval == "clopper_pearson" and d.high == 1.0


METRIC_KINDS = [
    "stockout__city__food",
    "aircraft_lost",
    "shortfall_t__city__food",
    "person_days_below_half",
    "min_days_of_supply__city__food",
    "delivered_t",
    "sorties_flown__wfp",
    "first_stockout_day__city__food",
]


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(METRIC_KINDS),
    st.lists(st.integers(min_value=0, max_value=3), min_size=2, max_size=60),
    st.integers(min_value=0, max_value=2**31),
)
def test_no_bound_ever_leaves_the_metrics_range(name, counts, seed) -> None:
    d = metric_registry.lookup(name)
    assert d is not None
    values = [float(min(c, 1)) if d.share else float(c) * 7.5 for c in counts]
    s = summarize_metric(name, values, seed)
    if s["ci95_low"] is None:
        assert s["ci_method"] is None
        return
    assert d.low <= s["ci95_low"] <= s["ci95_high"] <= d.high
    assert math.isfinite(s["ci95_low"]) and math.isfinite(s["ci95_high"])
