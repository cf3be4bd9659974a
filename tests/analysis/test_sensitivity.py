"""Sobol' and Morris indices on known functions, and the replication-noise share."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.analysis.sensitivity import (
    MORRIS_COLUMNS,
    SOBOL_COLUMNS,
    morris_table,
    noise_share,
    sobol_table,
)
from sim.experiment.designs import Parameter, sample

PI = math.pi
ISHIGAMI = tuple(Parameter(n, low=-PI, high=PI) for n in ("x1", "x2", "x3"))
# Analytic indices of the Ishigami function with a = 7, b = 0.1.
S1 = (0.3139, 0.4424, 0.0)
ST = (0.5576, 0.4424, 0.2437)


def ishigami(x: np.ndarray) -> np.ndarray:
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def _with_noise(y: np.ndarray, reps: int, sd: float) -> np.ndarray:
    rng = np.random.default_rng(0)
    return y[:, None] + rng.normal(0.0, sd, size=(y.size, reps))


def test_sobol_recovers_the_ishigami_indices() -> None:
    d = sample("sobol", ISHIGAMI, 1024, seed=1)
    runs = _with_noise(ishigami(d.x), reps=3, sd=0.1)
    rows = sobol_table(d.problem(), ["y"], {"y": runs.mean(axis=1)}, {"y": runs}, seed=2)
    assert [r["parameter"] for r in rows] == ["x1", "x2", "x3"]
    assert set(rows[0]) == set(SOBOL_COLUMNS)
    for r, s1, st in zip(rows, S1, ST, strict=True):
        assert r["S1"] == pytest.approx(s1, abs=0.05)
        assert r["ST"] == pytest.approx(st, abs=0.05)
        assert 0 < r["S1_conf"] < 0.15 and 0 < r["ST_conf"] < 0.15
        assert r["ST"] >= r["S1"] - 0.05
        assert 0 <= r["S1_rep_se"] < 0.05
    assert 0.0 < rows[0]["noise_share"] < 0.01


def test_sobol_is_deterministic() -> None:
    d = sample("sobol", ISHIGAMI, 64, seed=1)
    runs = _with_noise(ishigami(d.x), reps=2, sd=0.5)
    a = sobol_table(d.problem(), ["y"], {"y": runs.mean(1)}, {"y": runs}, seed=3)
    b = sobol_table(d.problem(), ["y"], {"y": runs.mean(1)}, {"y": runs}, seed=3)
    assert a == b


def test_morris_ranks_a_linear_function_by_its_coefficients() -> None:
    params = tuple(Parameter(n, low=0.0, high=1.0) for n in ("a", "b", "c"))
    d = sample("morris", params, 20, seed=4)
    y = 10 * d.x[:, 0] + 2 * d.x[:, 1] + 0 * d.x[:, 2]
    runs = _with_noise(y, reps=2, sd=0.01)
    rows = morris_table(d.problem(), d.x, ["y"], {"y": runs.mean(1)}, {"y": runs}, seed=1)
    assert set(rows[0]) == set(MORRIS_COLUMNS)
    mu_star = [r["mu_star"] for r in rows]
    assert mu_star[0] == pytest.approx(10, rel=0.02)
    assert mu_star[1] == pytest.approx(2, rel=0.05)
    assert mu_star[2] < 0.05
    assert all(r["sigma"] < 0.1 for r in rows)  # linear: no interactions


def test_undefined_means_give_nan_indices() -> None:
    d = sample("sobol", ISHIGAMI, 16, seed=1)
    runs = _with_noise(ishigami(d.x), reps=2, sd=0.1)
    runs[3, :] = np.nan  # every run of a point failed
    means = runs.mean(axis=1)  # NaN where every run failed, as the sweep records it
    rows = sobol_table(d.problem(), ["y"], {"y": means}, {"y": runs}, seed=1)
    assert all(math.isnan(r["S1"]) and math.isnan(r["ST"]) for r in rows)
    const = np.ones_like(runs)
    rows = sobol_table(d.problem(), ["c"], {"c": const.mean(1)}, {"c": const}, seed=1)
    assert all(math.isnan(r["S1"]) for r in rows)


def test_noise_share_of_pure_noise_and_of_no_noise() -> None:
    rng = np.random.default_rng(1)
    reps = 4
    pure = rng.normal(size=(2000, reps))
    assert noise_share(pure) == pytest.approx(1.0, abs=0.1)
    signal = np.repeat(np.arange(2000.0)[:, None], reps, axis=1)
    assert noise_share(signal) == 0.0
    assert math.isnan(noise_share(signal[:, :1]))  # one replication: unknown


def test_noise_common_to_every_point_does_not_count() -> None:
    """Common random numbers: a replication's shift of every point cancels out."""
    rng = np.random.default_rng(2)
    signal = np.linspace(0.0, 1.0, 500)[:, None]
    common = rng.normal(0.0, 5.0, size=(1, 4))  # large, but the same for every point
    own = rng.normal(0.0, 0.1, size=(500, 4))
    share = noise_share(signal + common + own)
    expected = (0.1**2 / 4) / np.var(signal)
    assert share == pytest.approx(expected, rel=0.2)
    with_failure = signal + common + own
    with_failure[7, 2] = np.nan  # a failed run: its point is left out
    assert noise_share(with_failure) == pytest.approx(share, rel=0.05)
