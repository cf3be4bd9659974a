"""ABC-SMC: the pieces of likelihood-free Bayesian calibration, as pure functions.

Approximate Bayesian computation replaces a likelihood, which a simulator like this
one does not have, by a *distance* between what the model gives and the record: a
parameter set is kept when its distance is at most a *tolerance* ε. Sequential Monte
Carlo (ABC-SMC, Beaumont et al. 2009, "Adaptive approximate Bayesian computation")
lowers ε generation by generation:

1. generation 0 draws ``N`` particles from the prior (ε = ∞, all kept, equal weights);
2. generation ``t`` picks a particle of generation ``t − 1`` by weight, moves it with
   a Gaussian kernel whose covariance is **twice the weighted covariance** of that
   generation (:func:`kernel_covariance`, :func:`perturb`), runs the model and keeps
   it if its distance is at most ε_t, until ``N`` are kept; ε_t is a quantile of the
   distances of generation ``t − 1`` (:func:`next_tolerance`);
3. a kept particle θ gets the importance weight
   ``prior(θ) / Σ_j w_j K(θ | θ_j)`` (:func:`importance_weights`), normalised to sum 1.

The distance (:func:`distance`) is the root mean square, over the fitted
observations, of each observation's *scaled error*: how far the model's value (the
mean over the particle's replications) lies from the observed value — or from the
observed range, 0 inside it — divided by the observation's slack
``max(tolerance × |observed|, abs_tolerance)``, the same slack that says whether a run
is "within tolerance". A distance of 1 means a typical fitted figure is off by its
own tolerance; it has no unit.

Posterior summaries: :func:`weighted_quantile`, :func:`effective_sample_size`
(``1 / Σ w²``: how many equally weighted particles the population is worth) and
:func:`resample` (draws by weight). Everything here is deterministic given its
inputs and the :class:`numpy.random.Generator` it is handed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.analysis.priors import Prior

Floats = Sequence[float] | np.ndarray
"""Numbers as a list or an array."""

MAX_TRIES = 1000
"""Kernel moves tried for one proposal before it is drawn from the prior instead
(a move outside every prior's support is retried)."""


@dataclass(frozen=True)
class Target:
    """One fitted observation: the observed ``low``–``high`` (equal for a single value)
    and the ``scale`` (slack) its errors are divided by, in the observation's unit."""

    low: float
    high: float
    scale: float


def scaled_error(model: float, target: Target) -> float:
    """How far ``model`` lies outside ``[low, high]``, in units of the target's scale."""
    if model < target.low:
        return (target.low - model) / target.scale
    if model > target.high:
        return (model - target.high) / target.scale
    return 0.0


def distance(values: Floats, targets: Sequence[Target]) -> float:
    """Root mean square of the scaled errors; NaN if any model value is undefined."""
    if len(values) != len(targets) or not targets:
        raise ValueError("one model value per target is needed")
    if not all(math.isfinite(v) for v in values):
        return math.nan
    return math.sqrt(
        sum(scaled_error(v, t) ** 2 for v, t in zip(values, targets, strict=True)) / len(targets)
    )


def next_tolerance(distances: Floats, quantile: float, floor: float = 0.0) -> float:
    """ε of the next generation: the ``quantile`` of the last generation's distances
    (linear interpolation), never below ``floor`` (the final tolerance, if any)."""
    d = np.asarray(distances, dtype=float)
    d = d[np.isfinite(d)]
    if d.size == 0:
        return math.inf
    return max(float(np.quantile(d, quantile)), floor)


def kernel_covariance(
    x: np.ndarray, weights: np.ndarray, floors: Sequence[float] = ()
) -> np.ndarray:
    """Twice the weighted covariance of the particles ``x`` (n × d).

    ``floors[i]`` is the least standard deviation of the kernel in dimension ``i``
    (a share of the prior's width), so that a population that has collapsed onto one
    value, or a singular covariance, still gives a kernel that can be factorised.
    """
    x = np.asarray(x, dtype=float)
    w = np.asarray(weights, dtype=float)
    w = w / w.sum()
    mean = w @ x
    dev = x - mean
    cov = 2.0 * (dev.T * w) @ dev
    cov = np.atleast_2d(cov)
    for i, f in enumerate(floors):
        cov[i, i] = max(cov[i, i], f * f)
    return cov


def perturb(
    rng: np.random.Generator,
    x: np.ndarray,
    weights: np.ndarray,
    chol: np.ndarray,
    priors: Sequence[Prior],
) -> tuple[np.ndarray, int]:
    """One proposal: a particle of ``x`` picked by weight, moved by ``chol @ z``.

    Moves that leave any prior's support are retried (at most :data:`MAX_TRIES`
    times; then the proposal is drawn from the prior, parent ``-1``). Returns the
    proposal and the index of its parent.
    """
    cum = np.cumsum(np.asarray(weights, dtype=float))
    cum /= cum[-1]
    d = x.shape[1]
    for _ in range(MAX_TRIES):
        j = min(int(np.searchsorted(cum, rng.random(), side="right")), len(cum) - 1)
        theta = x[j] + chol @ rng.standard_normal(d)
        if all(p.contains(float(v)) for p, v in zip(priors, theta, strict=True)):
            return theta, j
    return np.array([p.sample(float(rng.random())) for p in priors]), -1


def prior_density(theta: Sequence[float], priors: Sequence[Prior]) -> float:
    """The joint prior density (the parameters are independent a priori)."""
    out = 1.0
    for p, v in zip(priors, theta, strict=True):
        out *= p.pdf(float(v))
    return out


def importance_weights(
    new: np.ndarray,
    priors: Sequence[Prior],
    old: np.ndarray,
    old_weights: np.ndarray,
    cov: np.ndarray,
) -> np.ndarray:
    """Normalised weights ``prior(θ) / Σ_j w_j K(θ | θ_j)`` of the kept particles ``new``.

    ``K`` is the Gaussian kernel of covariance ``cov`` (its normalising constant, the
    same for every particle, cancels).
    """
    new = np.atleast_2d(np.asarray(new, dtype=float))
    old = np.atleast_2d(np.asarray(old, dtype=float))
    w_old = np.asarray(old_weights, dtype=float)
    w_old = w_old / w_old.sum()
    inv = np.linalg.inv(cov)
    out = np.empty(len(new))
    for i, theta in enumerate(new):
        dev = theta - old
        q = np.einsum("nd,de,ne->n", dev, inv, dev)
        mix = float(w_old @ np.exp(-0.5 * q))
        out[i] = prior_density(theta, priors) / mix if mix > 0 else 0.0
    total = float(out.sum())
    if not total > 0:
        return np.full(len(new), 1.0 / len(new))
    normalised: np.ndarray = out / total
    return normalised


def effective_sample_size(weights: Floats) -> float:
    """``1 / Σ w²`` of the normalised weights: equally weighted particles it is worth."""
    w = np.asarray(weights, dtype=float)
    w = w / w.sum()
    return float(1.0 / np.sum(w * w))


def weighted_quantile(values: Floats, weights: Floats, q: float) -> float:
    """The ``q`` quantile of weighted values: the least value whose cumulative weight
    reaches ``q`` (ties of value in their given order)."""
    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    order = np.argsort(v, kind="stable")
    cum = np.cumsum(w[order]) / w.sum()
    i = int(np.searchsorted(cum, q - 1e-12, side="left"))
    return float(v[order][min(i, len(v) - 1)])


def weighted_mean(values: Floats, weights: Floats) -> float:
    """The weighted mean."""
    w = np.asarray(weights, dtype=float)
    return float(np.asarray(values, dtype=float) @ w / w.sum())


def resample(rng: np.random.Generator, weights: Floats, n: int) -> list[int]:
    """``n`` particle indices drawn with replacement, each with its weight's chance."""
    cum = np.cumsum(np.asarray(weights, dtype=float))
    cum /= cum[-1]
    u = rng.random(n)
    return [int(min(i, len(cum) - 1)) for i in np.searchsorted(cum, u, side="right")]
