"""Global sensitivity indices of a sweep, with the replication noise beside them.

A Sobol' or Morris sweep runs R replications of every design point. The indices are
computed (through SALib) on the **replication means** ``Y[i] = mean_r y[i, r]``:
a stochastic model evaluated once per point would mix its own noise into the
indices. What noise is left in the means is reported beside the indices, two ways:

``noise_share``
    the expected share of the variance of ``Y`` that is replication noise the
    indices can see. Write ``y[i, r] = m + a[i] + b[r] + e[i, r]``: ``b[r]`` is
    what replication ``r``'s random numbers do to *every* point alike (common random
    numbers), a constant shift of ``Y`` that cancels out of every index; only the
    interaction ``e`` blurs them. With ``s²_e`` the residual variance of that
    two-way decomposition (points with a failed run left out) and R replications,
    ``noise_share = (s²_e / R) / var(Y)``. Near 0 the indices describe the
    parameters; near 1 they describe noise (run more replications).
``<index>_rep_se``
    a standard error of each index from the replications themselves: the index is
    computed on each replication's column ``y[:, r]`` alone (common random numbers
    make each column a coherent function of the parameters), and the spread of
    those R values ÷ √R is reported. NaN with fewer than two usable replications.

Sobol' (first order ``S1``, total order ``ST``, with SALib's bootstrap 95 %
confidence half-widths ``S1_conf``, ``ST_conf``) needs a Saltelli design without
second-order terms; Morris (``mu``, ``mu_star`` with ``mu_star_conf``, ``sigma``)
needs the design-space matrix ``x`` of its trajectories. Sobol' indices are
shares of variance (dimensionless). Morris indices are in the metric's unit: SALib
divides each elementary effect by the step Δ measured as a share of the parameter's
range, so μ* ≈ |∂y/∂x| × (high − low), the change of the metric across the whole
range of the parameter — parameters with different units compare directly.

A metric with an undefined mean at any point (every run failed, or a "never" time)
gets NaN indices. Bootstraps are seeded, so the same inputs give the same numbers.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

SOBOL_COLUMNS: tuple[str, ...] = (
    "metric",
    "parameter",
    "S1",
    "S1_conf",
    "ST",
    "ST_conf",
    "S1_rep_se",
    "ST_rep_se",
    "noise_share",
)
"""Columns of ``sensitivity.csv`` for a Sobol' sweep."""

MORRIS_COLUMNS: tuple[str, ...] = (
    "metric",
    "parameter",
    "mu",
    "mu_star",
    "mu_star_conf",
    "sigma",
    "mu_star_rep_se",
    "sigma_rep_se",
    "noise_share",
)
"""Columns of ``sensitivity.csv`` for a Morris sweep."""

NUM_RESAMPLES = 100
"""Bootstrap resamples for SALib's confidence intervals."""


def noise_share(y: np.ndarray) -> float:
    """Share of the variance of the point means that is replication noise not common to
    all points (see above). ``y`` is ``points × replications``; NaN marks a failed run.
    """
    y = np.asarray(y, dtype=float)
    if y.ndim != 2 or y.shape[1] < 2:
        return math.nan
    full = y[np.all(np.isfinite(y), axis=1)]
    n, reps = full.shape
    if n < 2:
        return math.nan
    resid = full - full.mean(axis=1, keepdims=True) - full.mean(axis=0, keepdims=True) + full.mean()
    s2e = float(np.sum(resid**2)) / ((n - 1) * (reps - 1))
    total = float(np.var(full.mean(axis=1), ddof=1))
    if total <= 0.0:
        return 0.0 if s2e == 0.0 else math.nan
    return float((s2e / reps) / total)


def _quiet(fn: Any, *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def _sobol_point(
    problem: dict[str, Any], y: np.ndarray, seed: int, resamples: int
) -> dict[str, np.ndarray]:
    from SALib.analyze import sobol as salib_sobol

    d = problem["num_vars"]
    if not np.all(np.isfinite(y)) or float(np.var(y)) == 0.0:
        nan = np.full(d, np.nan)
        return {"S1": nan, "S1_conf": nan, "ST": nan, "ST_conf": nan}
    res = _quiet(
        salib_sobol.analyze,
        problem,
        y,
        calc_second_order=False,
        num_resamples=resamples,
        conf_level=0.95,
        print_to_console=False,
        seed=seed,
    )
    return {k: np.asarray(res[k], dtype=float) for k in ("S1", "S1_conf", "ST", "ST_conf")}


def _morris_point(
    problem: dict[str, Any],
    x: np.ndarray,
    y: np.ndarray,
    seed: int,
    resamples: int,
    num_levels: int,
) -> dict[str, np.ndarray]:
    from SALib.analyze import morris as salib_morris

    d = problem["num_vars"]
    if not np.all(np.isfinite(y)):
        nan = np.full(d, np.nan)
        return {"mu": nan, "mu_star": nan, "mu_star_conf": nan, "sigma": nan}
    res = _quiet(
        salib_morris.analyze,
        problem,
        x,
        y,
        num_resamples=resamples,
        conf_level=0.95,
        print_to_console=False,
        num_levels=num_levels,
        seed=seed,
    )
    return {k: np.asarray(res[k], dtype=float) for k in ("mu", "mu_star", "mu_star_conf", "sigma")}


def _rep_se(values: list[np.ndarray], d: int) -> np.ndarray:
    """Standard error over replications of per-replication index vectors (NaN if < 2)."""
    good = [v for v in values if np.all(np.isfinite(v))]
    if len(good) < 2:
        return np.full(d, np.nan)
    stack = np.vstack(good)
    se: np.ndarray = np.std(stack, axis=0, ddof=1) / math.sqrt(len(good))
    return se


def sobol_table(
    problem: dict[str, Any],
    metrics: Sequence[str],
    means: dict[str, np.ndarray],
    runs: dict[str, np.ndarray],
    seed: int,
    resamples: int = NUM_RESAMPLES,
) -> list[dict[str, Any]]:
    """Rows of ``sensitivity.csv`` (:data:`SOBOL_COLUMNS`) for a Saltelli design.

    ``means[m]`` is the vector of replication means per point; ``runs[m]`` the
    ``points × replications`` matrix (NaN = failed run).
    """
    names = problem["names"]
    d = problem["num_vars"]
    rows: list[dict[str, Any]] = []
    for m in metrics:
        main = _sobol_point(problem, means[m], seed, resamples)
        y = runs[m]
        per_rep = [_sobol_point(problem, y[:, r], seed, 2) for r in range(y.shape[1])]
        se = {k: _rep_se([p[k] for p in per_rep], d) for k in ("S1", "ST")}
        share = noise_share(y)
        for j, name in enumerate(names):
            rows.append(
                {
                    "metric": m,
                    "parameter": name,
                    "S1": main["S1"][j],
                    "S1_conf": main["S1_conf"][j],
                    "ST": main["ST"][j],
                    "ST_conf": main["ST_conf"][j],
                    "S1_rep_se": se["S1"][j],
                    "ST_rep_se": se["ST"][j],
                    "noise_share": share,
                }
            )
    return rows


def morris_table(
    problem: dict[str, Any],
    x: np.ndarray,
    metrics: Sequence[str],
    means: dict[str, np.ndarray],
    runs: dict[str, np.ndarray],
    seed: int,
    num_levels: int = 4,
    resamples: int = NUM_RESAMPLES,
) -> list[dict[str, Any]]:
    """Rows of ``sensitivity.csv`` (:data:`MORRIS_COLUMNS`) for Morris trajectories ``x``."""
    names = problem["names"]
    d = problem["num_vars"]
    rows: list[dict[str, Any]] = []
    for m in metrics:
        main = _morris_point(problem, x, means[m], seed, resamples, num_levels)
        y = runs[m]
        per_rep = [
            _morris_point(problem, x, y[:, r], seed, 2, num_levels) for r in range(y.shape[1])
        ]
        se = {k: _rep_se([p[k] for p in per_rep], d) for k in ("mu_star", "sigma")}
        share = noise_share(y)
        for j, name in enumerate(names):
            rows.append(
                {
                    "metric": m,
                    "parameter": name,
                    "mu": main["mu"][j],
                    "mu_star": main["mu_star"][j],
                    "mu_star_conf": main["mu_star_conf"][j],
                    "sigma": main["sigma"][j],
                    "mu_star_rep_se": se["mu_star"][j],
                    "sigma_rep_se": se["sigma"][j],
                    "noise_share": share,
                }
            )
    return rows
