"""Priors: what is believed about an uncertain parameter before it is fitted.

A calibration gives each parameter it fits a prior distribution over the parameter's
own unit (tonnes for ``payload_t``, a share for ``mission_capable``, sorties for a
tasking rate...):

``uniform``
    every value in ``[low, high]`` equally likely;
``loguniform``
    every order of magnitude in ``[low, high]`` equally likely (``low > 0``): the
    density is ``1 / (x · ln(high / low))``;
``normal``
    ``mean`` ± ``sd``, optionally cut to ``[low, high]`` (either end may be open); the
    density is renormalised to the cut.

A prior draws from uniforms by its inverse distribution function
(:meth:`Prior.sample`), so one uniform per parameter gives one draw and the draws
are a deterministic function of the random stream that supplies the uniforms. Its
density (:meth:`Prior.pdf`) is zero outside its support; ABC-SMC uses it in the
importance weights (:mod:`sim.analysis.abc`). Whole-number and date parameters are
drawn on a continuous coordinate and rounded by the calibration file's reader
(:mod:`sim.experiment.calibfile`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal, get_args

Distribution = Literal["uniform", "loguniform", "normal"]
"""The prior families a calibration file may name."""
DISTRIBUTIONS: tuple[str, ...] = get_args(Distribution)


@dataclass(frozen=True)
class Prior:
    """A prior over one parameter (see the module docstring).

    ``low``/``high`` bound the support (required for ``uniform`` and ``loguniform``,
    optional cuts for ``normal``); ``mean``/``sd`` are the normal's.
    """

    distribution: Distribution
    low: float | None = None
    high: float | None = None
    mean: float | None = None
    sd: float | None = None

    def __post_init__(self) -> None:
        lo = -math.inf if self.low is None else self.low
        hi = math.inf if self.high is None else self.high
        if self.distribution == "normal":
            if self.mean is None or self.sd is None or not self.sd > 0:
                raise ValueError("a normal prior needs a mean and an sd > 0")
        elif self.low is None or self.high is None:
            raise ValueError(f"a {self.distribution} prior needs low and high")
        if not lo < hi:
            raise ValueError(f"empty range: low ({lo:g}) must be below high ({hi:g})")
        if self.distribution == "loguniform" and not lo > 0:
            raise ValueError(f"a loguniform prior needs low > 0, got {lo:g}")

    # -- the normal's cut -----------------------------------------------------------

    def _normal(self) -> NormalDist:
        assert self.mean is not None and self.sd is not None
        return NormalDist(self.mean, self.sd)

    def _cdf_bounds(self) -> tuple[float, float]:
        n = self._normal()
        a = 0.0 if self.low is None else n.cdf(self.low)
        b = 1.0 if self.high is None else n.cdf(self.high)
        return a, b

    # -- the distribution -----------------------------------------------------------

    def contains(self, x: float) -> bool:
        """Whether ``x`` lies in the support (a finite value inside the bounds)."""
        if not math.isfinite(x):
            return False
        return (self.low is None or x >= self.low) and (self.high is None or x <= self.high)

    def sample(self, u: float) -> float:
        """The draw at uniform ``u`` in ``[0, 1)``: the inverse distribution function."""
        if self.distribution == "uniform":
            assert self.low is not None and self.high is not None
            return self.low + u * (self.high - self.low)
        if self.distribution == "loguniform":
            assert self.low is not None and self.high is not None
            return math.exp(math.log(self.low) + u * math.log(self.high / self.low))
        a, b = self._cdf_bounds()
        p = min(max(a + u * (b - a), 1e-15), 1.0 - 1e-15)
        x = self._normal().inv_cdf(p)
        lo = -math.inf if self.low is None else self.low
        hi = math.inf if self.high is None else self.high
        return min(max(x, lo), hi)

    def pdf(self, x: float) -> float:
        """The density at ``x`` (per unit of the parameter); 0 outside the support."""
        if not self.contains(x):
            return 0.0
        if self.distribution == "uniform":
            assert self.low is not None and self.high is not None
            return 1.0 / (self.high - self.low)
        if self.distribution == "loguniform":
            assert self.low is not None and self.high is not None
            return 1.0 / (x * math.log(self.high / self.low))
        a, b = self._cdf_bounds()
        return self._normal().pdf(x) / (b - a)

    def scale(self) -> float:
        """A typical width of the prior (its range, or 4 sd): floors the kernel's spread."""
        if self.distribution == "normal":
            assert self.sd is not None
            width = 4.0 * self.sd
            if self.low is not None and self.high is not None:
                width = min(width, self.high - self.low)
            return width
        assert self.low is not None and self.high is not None
        return self.high - self.low

    def describe(self) -> str:
        """The prior in words, for tables: ``uniform(0.5, 0.9)``, ``normal(20, 2) in [16, 35]``."""
        if self.distribution != "normal":
            return f"{self.distribution}({self.low:.10g}, {self.high:.10g})"
        text = f"normal({self.mean:.10g}, {self.sd:.10g})"
        if self.low is not None or self.high is not None:
            lo = "-inf" if self.low is None else f"{self.low:.10g}"
            hi = "inf" if self.high is None else f"{self.high:.10g}"
            text += f" in [{lo}, {hi}]"
        return text
