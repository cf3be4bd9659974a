"""Priors: draws by the inverse distribution function, densities, support."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.analysis.priors import Prior

PRIORS = [
    Prior("uniform", 2.0, 5.0),
    Prior("loguniform", 0.1, 10.0),
    Prior("normal", mean=20.0, sd=2.0),
    Prior("normal", low=16.0, high=35.0, mean=20.0, sd=4.0),
]


@pytest.mark.parametrize("prior", PRIORS, ids=lambda p: p.describe())
def test_density_integrates_to_one(prior: Prior) -> None:
    lo = prior.low if prior.low is not None else prior.mean - 10 * prior.sd
    hi = prior.high if prior.high is not None else prior.mean + 10 * prior.sd
    x = np.linspace(lo, hi, 200_001)
    y = np.array([prior.pdf(float(v)) for v in x[::100]])
    assert np.trapezoid(y, x[::100]) == pytest.approx(1.0, rel=2e-3)


@pytest.mark.parametrize("prior", PRIORS, ids=lambda p: p.describe())
def test_draws_follow_the_density(prior: Prior) -> None:
    """The median of many draws is the draw at u = 0.5, and draws lie in the support."""
    rng = np.random.default_rng(1)
    draws = np.array([prior.sample(float(u)) for u in rng.random(4000)])
    assert all(prior.contains(float(d)) for d in draws)
    assert np.median(draws) == pytest.approx(prior.sample(0.5), rel=0.05)


@given(u=st.floats(0.0, 1.0, exclude_max=True), v=st.floats(0.0, 1.0, exclude_max=True))
def test_sample_is_monotone_and_inside(u: float, v: float) -> None:
    for prior in PRIORS:
        a, b = prior.sample(u), prior.sample(v)
        assert prior.contains(a) and prior.pdf(a) > 0
        if u < v:
            assert a <= b


def test_loguniform_gives_each_decade_the_same_share() -> None:
    p = Prior("loguniform", 1.0, 100.0)
    assert p.sample(0.5) == pytest.approx(10.0)
    assert p.pdf(50.0) == pytest.approx(1 / (50 * math.log(100)))


def test_outside_the_support_the_density_is_zero() -> None:
    p = Prior("uniform", 0.0, 1.0)
    assert p.pdf(-0.1) == 0.0 and p.pdf(1.5) == 0.0 and p.pdf(math.nan) == 0.0
    assert p.pdf(0.5) == 1.0


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"distribution": "uniform", "low": 3.0, "high": 3.0}, "empty range"),
        ({"distribution": "uniform", "low": 3.0}, "needs low and high"),
        ({"distribution": "loguniform", "low": 0.0, "high": 3.0}, "low > 0"),
        ({"distribution": "normal", "mean": 1.0, "sd": 0.0}, "sd > 0"),
        ({"distribution": "normal", "mean": 1.0, "sd": 1.0, "low": 2.0, "high": 1.0}, "empty"),
    ],
)
def test_bad_priors_are_refused(kwargs: dict, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        Prior(**kwargs)


def test_describe() -> None:
    assert Prior("uniform", 0.5, 0.9).describe() == "uniform(0.5, 0.9)"
    assert Prior("normal", 16, None, 20, 2).describe() == "normal(20, 2) in [16, inf]"
