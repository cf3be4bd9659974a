"""Two-sided 95 % intervals for the mean of a metric across replications.

A replication's metric is one draw; the interval says where the *expected* value
(the mean over infinitely many replications) lies. One method does not fit every
metric, so each registry entry (:mod:`sim.analysis.metric_registry`) names its
method, and :func:`mean_interval` applies it:

``clopper_pearson``
    shares (0 or 1 per replication, ``stockout__*``): the exact binomial interval,
    Beta(α/2; k, n − k + 1) to Beta(1 − α/2; k + 1, n − k). A stock-out in 0 of 100
    replications gives [0, 0.036], not [0, 0]: never seen is not impossible.
``poisson``
    counts of rare events (``aircraft_lost*``): the exact (Garwood) interval of a
    Poisson mean from the total count k over n replications, χ²(α/2; 2k) / 2n to
    χ²(1 − α/2; 2k + 2) / 2n. One loss in 100 gives [0.00025, 0.056]; none gives
    [0, 0.037]. Losses are many independent small chances (one per sortie), whose sum
    is close to Poisson. Values that are not whole numbers (the deterministic limit)
    fall back to the bootstrap.
``bootstrap``
    skewed or zero-heavy metrics (shortfall, person-days below a ration, lowest days
    of supply, first stock-out days): the percentile bootstrap of the mean,
    :data:`BOOTSTRAP_RESAMPLES` resamples drawn from the named stream
    ``bootstrap:<metric>`` of the run's root seed (:mod:`sim.model.streams`), so the
    same seed gives the same interval whatever the number of workers. Its bounds are
    means of resamples, so they never leave the range of the values. When every
    replication gives the same value the interval is that value: the sample shows no
    spread to resample (the chance that something happens at all is the matching
    share, e.g. ``stockout__*``).
``t``
    other means (tonnes, sorties, tempo): Student's t, mean ± t(0.975, n − 1) · s / √n.
    A t-interval that leaves the metric's range (a negative lower bound for a count,
    say) is not reported: the bootstrap is used instead, and the method says so.

Every interval is finally kept inside the metric's range ``[low, high]``; with fewer
than two replications (or no finite value) there is no interval (None).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np

from sim.model.streams import seed_sequence

Method = Literal["clopper_pearson", "poisson", "bootstrap", "t"]
"""How an interval is computed (see the module docstring)."""

METHODS: tuple[Method, ...] = ("clopper_pearson", "poisson", "bootstrap", "t")

LEVEL = 0.95
"""Two-sided confidence level of every interval in ``summary.json``."""

BOOTSTRAP_RESAMPLES = 2000
"""Resamples of a bootstrap interval (Monte Carlo error of its bounds ≈ 1 % of the
interval's width)."""

Interval = tuple[float, float]


def t_quantile(q: float, dof: float) -> float:
    """The ``q`` quantile of Student's t with ``dof`` degrees of freedom (any positive
    real): what ``scipy.stats.t.ppf(q, dof)`` gives, bit for bit, from the function it
    calls, without importing scipy.stats (0.4–0.9 s); scipy.special is imported on
    first use, so start-up need not wait for it."""
    from scipy.special import stdtrit

    return float(stdtrit(dof, q))


def beta_quantile(q: float, a: float, b: float) -> float:
    """The ``q`` quantile of the Beta(``a``, ``b``) distribution, the inverse of the
    regularized incomplete beta function: what ``scipy.stats.beta.ppf(q, a, b)`` gives,
    bit for bit (see :func:`t_quantile`)."""
    from scipy.special import betaincinv

    return float(betaincinv(a, b, q))


def clopper_pearson(k: int, n: int, level: float = LEVEL) -> Interval:
    """Exact binomial interval of a probability, ``k`` successes in ``n`` trials."""
    a = 1.0 - level
    lo = 0.0 if k <= 0 else beta_quantile(a / 2.0, k, n - k + 1)
    hi = 1.0 if k >= n else beta_quantile(1.0 - a / 2.0, k + 1, n - k)
    return lo, hi


def poisson_mean(total: float, n: int, level: float = LEVEL) -> Interval:
    """Exact (Garwood) interval of a Poisson mean per replication: ``total`` events
    counted over ``n`` replications."""
    # χ²(q; ν) = 2 · P⁻¹(ν/2, q), P the regularized lower incomplete gamma function:
    # what scipy.stats.chi2.ppf computes (bit for bit); see t_quantile
    from scipy.special import gammaincinv

    a = 1.0 - level
    k = round(total)
    lo = 0.0 if k <= 0 else float(2 * gammaincinv((2 * k) / 2, a / 2.0)) / (2.0 * n)
    hi = float(2 * gammaincinv((2 * k + 2) / 2, 1.0 - a / 2.0)) / (2.0 * n)
    return lo, hi


def student_t(values: np.ndarray, level: float = LEVEL) -> Interval:
    """mean ± t(1 − α/2, n − 1) · s / √n (at least two values)."""
    n = values.size
    mean = float(np.mean(values))
    sd = float(np.std(values, ddof=1))
    half = t_quantile(1.0 - (1.0 - level) / 2.0, n - 1) * sd / math.sqrt(n)
    return mean - half, mean + half


def bootstrap(values: np.ndarray, seed: int, metric: str, level: float = LEVEL) -> Interval:
    """Percentile bootstrap interval of the mean, drawn from stream ``bootstrap:<metric>``."""
    lo_v, hi_v = float(np.min(values)), float(np.max(values))
    if lo_v == hi_v:
        return lo_v, hi_v
    rng = np.random.Generator(np.random.PCG64(seed_sequence(seed, 0, f"bootstrap:{metric}")))
    n = values.size
    means = np.empty(BOOTSTRAP_RESAMPLES)
    step = max(1, 2_000_000 // max(n, 1))  # resamples per block: bounded memory
    for i in range(0, BOOTSTRAP_RESAMPLES, step):
        k = min(step, BOOTSTRAP_RESAMPLES - i)
        idx = rng.integers(0, n, size=(k, n))
        means[i : i + k] = values[idx].mean(axis=1)
    a = 1.0 - level
    lo, hi = np.quantile(means, [a / 2.0, 1.0 - a / 2.0])
    return float(lo), float(hi)


def _whole(values: np.ndarray) -> bool:
    return bool(np.all(values >= 0.0) and np.all(np.abs(values - np.round(values)) < 1e-9))


def mean_interval(
    metric: str,
    values: Sequence[float] | np.ndarray,
    method: Method,
    *,
    seed: int = 0,
    low: float = -math.inf,
    high: float = math.inf,
    level: float = LEVEL,
) -> tuple[float | None, float | None, Method | None]:
    """``(low, high, method used)`` of the mean of the finite ``values``.

    ``method`` is the registry's; the method used differs when it does not apply (a
    t-interval outside ``[low, high]``, a Poisson interval of values that are not
    counts: both give the bootstrap). None, None, None for fewer than two values.
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    n = int(v.size)
    if n < 2:
        return None, None, None
    used: Method = method
    if method == "clopper_pearson":
        lo, hi = clopper_pearson(int(np.sum(v >= 0.5)), n, level)
    elif method == "poisson" and _whole(v):
        lo, hi = poisson_mean(float(np.sum(v)), n, level)
    elif method == "t":
        lo, hi = student_t(v, level)
        if lo < low or hi > high:
            used = "bootstrap"
            lo, hi = bootstrap(v, seed, metric, level)
    else:
        used = "bootstrap"
        lo, hi = bootstrap(v, seed, metric, level)
    return max(lo, low), min(hi, high), used


def half_width(lo: float | None, hi: float | None) -> float | None:
    """Half the width of an interval (None without one)."""
    if lo is None or hi is None:
        return None
    return (hi - lo) / 2.0
