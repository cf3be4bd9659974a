"""Paired differences between two scenarios run on common random numbers.

When scenarios A (the reference) and B are run with the same root seed, replication
``r`` of each draws from the same named random streams wherever the two share
components (:mod:`sim.model.streams`), so the two runs of a pair see the same weather,
the same mission-capable draws, the same losses... The difference ``d_r = B_r − A_r``
then carries only what the change itself does, and the noise common to both cancels.

For one metric, :func:`paired_difference` gives, over the pairs where both values
are defined:

``mean``, ``ci_low``, ``ci_high``
    the mean difference and its Student-t 95 % interval (``t(0.975, n − 1) × s_d / √n``,
    ``s_d`` the standard deviation of the differences);
``share_higher``, ``share_lower``
    the share of pairs in which B is higher (lower) than A; with the metric's direction
    (:mod:`sim.analysis.metric_registry`) these are the shares of replications in which
    B is better or worse;
``variance_reduction``
    ``(s_A² + s_B²) / s_d²``: how many times more replications two *independent* runs
    would need for an interval as narrow as the paired one. Above 1, common random
    numbers helped; infinite when every pair differs by the same amount; undefined
    (NaN) when nothing varies at all;
``unpaired_low``, ``unpaired_high``
    for contrast, Welch's 95 % interval of the same difference treating the two
    samples as independent.

**Times that may never happen** (``first_stockout_day__*``, NaN = never): a pair
counts as higher when B runs out later than A or never while A does; the mean and its
intervals are given only when neither scenario has a "never" (otherwise they are NaN,
as in :mod:`sim.analysis.summary`). Other NaN values (a metric undefined in a
replication) drop the pair.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.analysis import metric_registry
from sim.analysis.intervals import t_quantile

LEVEL = 0.95
"""Two-sided level of the intervals."""


@dataclass(frozen=True)
class PairedDifference:
    """The paired difference B − A of one metric (see the module docstring)."""

    n: int
    reference_mean: float
    option_mean: float
    mean: float
    ci_low: float
    ci_high: float
    share_higher: float
    share_lower: float
    variance_reduction: float
    unpaired_low: float
    unpaired_high: float

    @property
    def half_width(self) -> float:
        """Half the width of the paired interval."""
        return 0.5 * (self.ci_high - self.ci_low)

    @property
    def unpaired_half_width(self) -> float:
        """Half the width of the unpaired (Welch) interval."""
        return 0.5 * (self.unpaired_high - self.unpaired_low)


NAN = math.nan


def _t_interval(d: np.ndarray) -> tuple[float, float, float]:
    n = d.size
    mean = float(np.mean(d))
    if n < 2:
        return mean, NAN, NAN
    sd = float(np.std(d, ddof=1))
    half = t_quantile(0.5 + LEVEL / 2, n - 1) * sd / math.sqrt(n)
    return mean, mean - half, mean + half


def welch_interval(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Welch's interval of mean(b) − mean(a) for independent samples."""
    na, nb = a.size, b.size
    if na < 2 or nb < 2:
        return NAN, NAN
    va, vb = float(np.var(a, ddof=1)) / na, float(np.var(b, ddof=1)) / nb
    diff = float(np.mean(b) - np.mean(a))
    se2 = va + vb
    if se2 == 0.0:
        return diff, diff
    wa, wb = va / se2, vb / se2  # shares of the variance (no under- or overflow)
    dof = 1.0 / (wa * wa / (na - 1) + wb * wb / (nb - 1))
    half = t_quantile(0.5 + LEVEL / 2, dof) * math.sqrt(se2)
    return diff - half, diff + half


def _ratio(num: float, den: float) -> float:
    if den > 0.0:
        return num / den
    return math.inf if num > 0.0 else NAN


def paired_difference(
    reference: Sequence[float], option: Sequence[float], *, never: bool = False
) -> PairedDifference:
    """Statistics of ``option[r] − reference[r]`` over replications ``r``.

    ``never``: NaN means "never happened" (+∞), see the module docstring.
    """
    a = np.asarray(reference, dtype=float)
    b = np.asarray(option, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"{a.size} reference values but {b.size} option values")
    if never:
        fa = np.where(np.isnan(a), np.inf, a)
        fb = np.where(np.isnan(b), np.inf, b)
        n = int(a.size)
        higher = float(np.mean(fb > fa)) if n else NAN
        lower = float(np.mean(fb < fa)) if n else NAN
        if np.isnan(a).any() or np.isnan(b).any():
            return PairedDifference(n, NAN, NAN, NAN, NAN, NAN, higher, lower, NAN, NAN, NAN)
    else:
        keep = ~(np.isnan(a) | np.isnan(b))
        a, b = a[keep], b[keep]
        n = int(a.size)
        higher = float(np.mean(b > a)) if n else NAN
        lower = float(np.mean(b < a)) if n else NAN
    if n == 0:
        return PairedDifference(0, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN)
    d = b - a
    mean, lo, hi = _t_interval(d)
    if n >= 2:
        unpaired = float(np.var(a, ddof=1) + np.var(b, ddof=1))
        reduction = _ratio(unpaired, float(np.var(d, ddof=1)))
    else:
        reduction = NAN
    ulo, uhi = welch_interval(a, b)
    return PairedDifference(
        n=n,
        reference_mean=float(np.mean(a)),
        option_mean=float(np.mean(b)),
        mean=mean,
        ci_low=lo,
        ci_high=hi,
        share_higher=higher,
        share_lower=lower,
        variance_reduction=reduction,
        unpaired_low=ulo,
        unpaired_high=uhi,
    )


def share_better(name: str, diff: PairedDifference) -> tuple[float, float]:
    """``(share of replications better, share worse)`` for metric ``name``; NaN for a
    metric with no better direction."""
    direction = metric_registry.better(name)
    if direction == "higher":
        return diff.share_higher, diff.share_lower
    if direction == "lower":
        return diff.share_lower, diff.share_higher
    return NAN, NAN


def verdict(name: str, diff: PairedDifference) -> str:
    """In words: ``better``, ``worse``, ``higher``/``lower`` (metrics with no better
    direction) when the interval excludes 0; ``identical`` when every pair is equal;
    ``no clear difference`` otherwise; ``""`` when nothing could be compared."""
    if diff.n == 0:
        return ""
    if diff.share_higher == 0.0 and diff.share_lower == 0.0:
        return "identical"
    lo, hi = diff.ci_low, diff.ci_high
    if math.isnan(lo) or math.isnan(hi):
        # "never" times or a single pair: judge by the shares alone only when unanimous
        if diff.share_higher == 1.0:
            sign = 1
        elif diff.share_lower == 1.0:
            sign = -1
        else:
            return "no clear difference"
    elif lo > 0.0:
        sign = 1
    elif hi < 0.0:
        sign = -1
    else:
        return "no clear difference"
    direction = metric_registry.better(name)
    if direction == "neither":
        return "higher" if sign > 0 else "lower"
    good = (sign > 0) == (direction == "higher")
    return "better" if good else "worse"


def is_decisive(verdict_text: str) -> bool:
    """Whether a verdict says the scenarios differ (the interval excludes zero)."""
    return verdict_text in ("better", "worse", "higher", "lower")
