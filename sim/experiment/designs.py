"""Experimental designs: which parameter values a sweep runs.

A sweep varies a few scenario parameters, each named by its dotted path
(``siege.combat_sorties_per_day``) and given either as a list of values (discrete
choices) or as a ``{ low, high }`` range (both ends included). A range may hold
numbers or ISO dates; a range over an integer field (``fleets.wfp.aircraft``) yields
whole numbers.

Every design first draws points in a numeric *design space* (one column per
parameter) and then decodes each column into the values a scenario takes:

* a numeric range ``[low, high]`` is itself;
* an integer range is ``[low, high + 1)``, floored, so every whole number from
  ``low`` to ``high`` gets the same share;
* a date range is the day ordinals ``[low, high + 1)``, floored to a day;
* a list of ``k`` values is ``[0, k)``, floored to an index.

 Decoded floats are rounded to 10 significant digits, so the values
written to ``design.csv`` are exactly the values the model ran with.

=========  ====================================================================
``grid``   full factorial: every combination of the lists; a range contributes
           ``samples`` evenly spaced levels (default 5). First parameter slowest.
``lhs``    Latin hypercube of ``samples`` points (``scipy.stats.qmc``), seeded.
``sobol``  Saltelli/Sobol' sampling through SALib (first and total order, no
           second order): ``samples`` = N base points (a power of two), giving
           N × (D + 2) points for D parameters.
``morris``  Morris trajectories through SALib on a 4-level grid: ``samples`` = r
           trajectories, giving r × (D + 1) points.
=========  ====================================================================

All four are deterministic functions of (parameters, samples, seed). The matching
analysis of ``sobol`` and ``morris`` designs lives in :mod:`sim.analysis.sensitivity`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np

DesignName = Literal["grid", "lhs", "sobol", "morris"]
"""Design names accepted in sweep files and on the command line."""
DESIGNS: tuple[str, ...] = get_args(DesignName)

DEFAULT_SAMPLES: dict[str, int] = {"grid": 5, "lhs": 64, "sobol": 64, "morris": 10}
"""``samples`` when none is given: grid levels per range, LHS points, Sobol' base N,
Morris trajectories."""

MORRIS_LEVELS = 4
"""Levels of the Morris grid (SALib's default, p = 4)."""


def round_sig(x: float, digits: int = 10) -> float:
    """``x`` rounded to ``digits`` significant digits (what ``format(x, '.10g')`` shows)."""
    return float(format(float(x), f".{digits}g"))


@dataclass(frozen=True)
class Parameter:
    """One swept parameter: a list of ``values``, or a ``low``–``high`` range.

    ``integer`` makes a numeric range yield whole numbers (the field is an int);
    a date range always yields whole days.
    """

    path: str
    values: tuple[Any, ...] | None = None
    low: Any = None
    high: Any = None
    integer: bool = False

    @property
    def is_range(self) -> bool:
        """True for a ``{ low, high }`` range, False for a list of values."""
        return self.values is None

    @property
    def is_date(self) -> bool:
        """True for a range of dates."""
        return self.is_range and isinstance(self.low, dt.date)

    @property
    def is_discrete(self) -> bool:
        """True when the range yields whole numbers or days (floored in design space)."""
        return self.is_date or self.integer

    def bounds(self) -> tuple[float, float]:
        """The parameter's interval in design space."""
        if self.values is not None:
            return 0.0, float(len(self.values))
        lo, hi = _num(self.low), _num(self.high)
        return (lo, hi + 1.0) if self.is_discrete else (lo, hi)

    def decode(self, x: float) -> Any:
        """The scenario value at design-space coordinate ``x``."""
        if self.values is not None:
            k = len(self.values)
            return self.values[min(max(math.floor(x), 0), k - 1)]
        lo, hi = _num(self.low), _num(self.high)
        if self.is_discrete:
            i = int(min(max(math.floor(float(x)), lo), hi))
            return dt.date.fromordinal(i) if self.is_date else i
        return round_sig(min(max(float(x), lo), hi))

    def levels(self, n: int) -> list[Any]:
        """Grid levels: the listed values, or ``n`` evenly spaced values over the range
        (rounded to the nearest whole number or day where the range is discrete)."""
        if self.values is not None:
            return list(self.values)
        lo, hi = _num(self.low), _num(self.high)
        out: dict[Any, None] = {}  # ordered; whole numbers and dates collide on a narrow range
        for x in np.linspace(lo, hi, n) if n > 1 else [lo]:
            out[self.decode(math.floor(float(x) + 0.5) if self.is_discrete else float(x))] = None
        return list(out)

    def encode(self, value: Any) -> float:
        """Design-space coordinate of a value (the index of a listed value)."""
        if self.values is not None:
            return float(self.values.index(value))
        return _num(value)


def _num(v: Any) -> float:
    if isinstance(v, dt.date):
        return float(v.toordinal())
    return float(v)


@dataclass(frozen=True)
class Design:
    """Points of a design: ``x`` in design space (n × D) and the decoded ``points``."""

    name: str
    parameters: tuple[Parameter, ...]
    x: np.ndarray
    points: tuple[tuple[Any, ...], ...]

    def __len__(self) -> int:
        return len(self.points)

    def problem(self) -> dict[str, Any]:
        """The SALib problem dict of this design (names are the dotted paths)."""
        return salib_problem(self.parameters)


def salib_problem(parameters: tuple[Parameter, ...]) -> dict[str, Any]:
    """``{"num_vars", "names", "bounds"}`` for SALib, in design space."""
    return {
        "num_vars": len(parameters),
        "names": [p.path for p in parameters],
        "bounds": [list(p.bounds()) for p in parameters],
    }


def _decode_all(parameters: tuple[Parameter, ...], x: np.ndarray) -> tuple[tuple[Any, ...], ...]:
    return tuple(
        tuple(p.decode(float(v)) for p, v in zip(parameters, row, strict=True)) for row in x
    )


def grid(parameters: tuple[Parameter, ...], samples: int) -> Design:
    """Full factorial design; each range contributes ``samples`` levels."""
    levels = [p.levels(samples) for p in parameters]
    points = tuple(itertools.product(*levels))
    x = np.array(
        [[p.encode(v) for p, v in zip(parameters, pt, strict=True)] for pt in points], dtype=float
    ).reshape(len(points), len(parameters))
    return Design("grid", parameters, x, points)


def lhs(parameters: tuple[Parameter, ...], samples: int, seed: int) -> Design:
    """Latin hypercube of ``samples`` points, scrambled, seeded by ``seed``."""
    from scipy.stats import qmc

    d = len(parameters)
    sampler = qmc.LatinHypercube(d=d, rng=np.random.default_rng(seed))
    unit = sampler.random(samples)
    lo = np.array([p.bounds()[0] for p in parameters])
    hi = np.array([p.bounds()[1] for p in parameters])
    x = qmc.scale(unit, lo, hi) if d else unit
    return Design("lhs", parameters, x, _decode_all(parameters, x))


def sobol(parameters: tuple[Parameter, ...], samples: int, seed: int) -> Design:
    """Saltelli sampling for first- and total-order Sobol' indices (SALib)."""
    from SALib.sample import sobol as salib_sobol

    x = salib_sobol.sample(
        salib_problem(parameters), samples, calc_second_order=False, scramble=True, seed=seed
    )
    return Design("sobol", parameters, x, _decode_all(parameters, x))


def morris(parameters: tuple[Parameter, ...], samples: int, seed: int) -> Design:
    """``samples`` Morris trajectories on a :data:`MORRIS_LEVELS`-level grid (SALib)."""
    from SALib.sample import morris as salib_morris

    x = salib_morris.sample(salib_problem(parameters), samples, num_levels=MORRIS_LEVELS, seed=seed)
    return Design("morris", parameters, x, _decode_all(parameters, x))


def sample(design: str, parameters: tuple[Parameter, ...], samples: int, seed: int) -> Design:
    """Build the named design (see the module docstring for what ``samples`` means)."""
    if design == "grid":
        return grid(parameters, samples)
    if design == "lhs":
        return lhs(parameters, samples, seed)
    if design == "sobol":
        return sobol(parameters, samples, seed)
    if design == "morris":
        return morris(parameters, samples, seed)
    raise ValueError(f"unknown design {design!r} (known: {', '.join(DESIGNS)})")


def n_points(design: str, n_parameters: int, samples: int, grid_levels: list[int]) -> int:
    """How many points a design will have (``grid_levels``: levels per parameter)."""
    if design == "grid":
        return math.prod(grid_levels)
    if design == "lhs":
        return samples
    if design == "sobol":
        return samples * (n_parameters + 2)
    if design == "morris":
        return samples * (n_parameters + 1)
    raise ValueError(f"unknown design {design!r}")
