"""ABC-SMC pieces: distance, tolerance, kernel, weights, posterior summaries."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.analysis import abc
from sim.analysis.priors import Prior


def test_scaled_error_of_a_value_and_a_range() -> None:
    value = abc.Target(100.0, 100.0, 10.0)
    assert abc.scaled_error(115.0, value) == pytest.approx(1.5)
    assert abc.scaled_error(90.0, value) == pytest.approx(1.0)
    band = abc.Target(90.0, 110.0, 5.0)
    assert abc.scaled_error(100.0, band) == 0.0
    assert abc.scaled_error(80.0, band) == pytest.approx(2.0)


def test_distance_is_the_rms_of_scaled_errors() -> None:
    targets = [abc.Target(10.0, 10.0, 1.0), abc.Target(0.0, 0.0, 2.0)]
    assert abc.distance([13.0, 8.0], targets) == pytest.approx(math.sqrt((9 + 16) / 2))
    assert math.isnan(abc.distance([math.nan, 0.0], targets))
    with pytest.raises(ValueError):
        abc.distance([1.0], targets)


def test_next_tolerance_is_a_quantile_with_a_floor() -> None:
    assert abc.next_tolerance([1.0, 2.0, 3.0, math.nan], 0.5) == 2.0
    assert abc.next_tolerance([1.0, 2.0, 3.0], 0.5, floor=2.5) == 2.5
    assert abc.next_tolerance([math.nan], 0.5) == math.inf


def test_kernel_covariance_is_twice_the_weighted_covariance() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(50, 2))
    w = rng.random(50)
    expected = 2 * np.cov(x.T, aweights=w, bias=True)
    assert np.allclose(abc.kernel_covariance(x, w), expected)
    flat = abc.kernel_covariance(np.ones((5, 1)), np.ones(5), floors=[0.1])
    assert flat[0, 0] == pytest.approx(0.01)


def test_perturb_stays_inside_the_priors_and_is_deterministic() -> None:
    priors = [Prior("uniform", 0.0, 1.0), Prior("uniform", 0.0, 1.0)]
    x = np.array([[0.01, 0.99], [0.5, 0.5]])
    chol = np.linalg.cholesky(np.eye(2) * 0.04)
    draws = [
        abc.perturb(np.random.default_rng(k), x, np.array([0.5, 0.5]), chol, priors)
        for k in range(200)
    ]
    assert all(0 <= v <= 1 for theta, _ in draws for v in theta)
    again = abc.perturb(np.random.default_rng(7), x, np.array([0.5, 0.5]), chol, priors)
    assert np.array_equal(again[0], draws[7][0]) and again[1] == draws[7][1]


def test_importance_weights_follow_prior_over_kernel_mixture() -> None:
    priors = [Prior("uniform", 0.0, 10.0)]
    old = np.array([[2.0], [8.0]])
    cov = np.array([[1.0]])
    new = np.array([[2.0], [5.0], [11.0]])
    w = abc.importance_weights(new, priors, old, np.array([0.5, 0.5]), cov)
    mix = [
        0.5 * math.exp(-0.5 * (t - 2) ** 2) + 0.5 * math.exp(-0.5 * (t - 8) ** 2) for t in (2, 5)
    ]
    raw = [0.1 / mix[0], 0.1 / mix[1], 0.0]
    assert np.allclose(w, np.array(raw) / sum(raw))
    assert w[2] == 0.0  # outside the prior


@settings(max_examples=50)
@given(st.lists(st.floats(0.01, 10.0), min_size=1, max_size=30))
def test_weights_and_summaries(ws: list[float]) -> None:
    w = np.array(ws)
    n = len(ws)
    assert 1.0 - 1e-9 <= abc.effective_sample_size(w) <= n + 1e-9
    values = np.arange(n, dtype=float)
    for q in (0.05, 0.5, 0.95):
        v = abc.weighted_quantile(values, w, q)
        below = w[values <= v].sum() / w.sum()
        assert below >= q - 1e-9
        assert w[values < v].sum() / w.sum() < q + 1e-9


def test_equal_weights_give_the_ordinary_statistics() -> None:
    values = [5.0, 1.0, 3.0, 2.0, 4.0]
    w = [1.0] * 5
    assert abc.weighted_quantile(values, w, 0.5) == 3.0
    assert abc.weighted_mean(values, w) == 3.0
    assert abc.effective_sample_size(w) == pytest.approx(5.0)


def test_resample_draws_by_weight() -> None:
    idx = abc.resample(np.random.default_rng(0), [0.1, 0.0, 0.9], 10_000)
    counts = np.bincount(idx, minlength=3)
    assert counts[1] == 0
    assert counts[2] / 10_000 == pytest.approx(0.9, abs=0.02)
