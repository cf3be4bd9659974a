"""Calibration files: which parameters to fit, to which observations, with what budget.

The format is documented for users in ``scenarios/README.md`` ("Calibration files")::

    base = "baseline.toml"          # the scenario, relative to this file
    method = "abc-smc"              # required: the only method so far
    seed = 1                        # proposals and model runs (default: the base's)
    fit = ["wfp_2016"]              # observation ids (default: every calibration one)

    [parameters]                    # dotted path → prior
    "fleets.wfp.payload_t" = { low = 16.0, high = 35.0 }            # uniform
    "fleets.wfp.mission_capable" = { distribution = "normal", mean = 0.8, sd = 0.05,
                                     low = 0.5, high = 1.0 }
    "fleets.wfp.aircraft" = { low = 1, high = 4 }                   # whole numbers
    "events[2].date" = { low = 2017-01-10, high = 2017-02-10 }      # dates (uniform)

    [budget]
    particles = 50                  # population size
    generations = 5                 # most generations
    tolerance = 0.5                 # optional: stop once ε reaches it
    replications = 2                # runs per particle (replication r: root seed, index r)
    quantile = 0.5                  # ε_t = this quantile of generation t − 1's distances
    max_candidates = 1000           # most proposals per generation (default 20 × particles)
    predictive_draws = 50           # posterior draws of the predictive check (default particles)

This module reads it into a :class:`CalibrationSpec`. Every problem is a
:class:`~sim.scenario.errors.ScenarioError` naming the file and the dotted key:
an unknown path or key, an empty prior range, a prior that reaches values the field
refuses, sweeping ``seed`` or ``replications``, an observation id that does not
exist, a validation observation listed in ``fit`` (an observation has one role), an
observation whose tolerance is zero (its errors cannot be scaled). :func:`resolved_toml`
writes the calibration back with every default filled in and ``base =
"scenario.toml"``: the calibration folder's own ``calibration.toml``, which
``--resume`` reads.

Whole-number parameters are drawn on a continuous coordinate and rounded (a uniform
prior over ``low − 0.5 … high + 0.5``, so every whole number has the same chance);
dates likewise, on their day ordinals. Other values are rounded to 10 significant
digits, so the values written to the folder's tables are those the model ran with.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import tomli_w

from sim import __version__
from sim.analysis.abc import Target
from sim.analysis.priors import DISTRIBUTIONS, Prior
from sim.experiment.designs import round_sig
from sim.experiment.sweepfile import NOT_PARAMETERS, _field_is_int, _flatten, _is_number
from sim.scenario.errors import ScenarioError
from sim.scenario.limits import MAX_REPLICATIONS, MAX_RUNS, MAX_SAMPLES, too_large
from sim.scenario.load import load_scenario, with_values
from sim.scenario.paths import format_path
from sim.scenario.schema import Observation, Scenario
from sim.scenario.toml import read_toml

CALIBRATION_KEYS: tuple[str, ...] = (
    "base",
    "name",
    "title",
    "description",
    "method",
    "seed",
    "fit",
    "parameters",
    "budget",
)
"""Keys a calibration file may have."""

PRIOR_KEYS: tuple[str, ...] = ("distribution", "low", "high", "mean", "sd")
BUDGET_KEYS: tuple[str, ...] = (
    "particles",
    "generations",
    "tolerance",
    "replications",
    "quantile",
    "max_candidates",
    "predictive_draws",
)
METHODS: tuple[str, ...] = ("abc-smc",)

DEFAULT_PARTICLES = 50
DEFAULT_GENERATIONS = 5
DEFAULT_REPLICATIONS = 2
DEFAULT_QUANTILE = 0.5
CANDIDATES_PER_PARTICLE = 20
"""Default ``max_candidates``: this many proposals per particle in one generation."""

Kind = Literal["float", "int", "date"]


@dataclass(frozen=True)
class CalibParameter:
    """One fitted parameter: its path, its prior over a continuous coordinate, and how
    a coordinate becomes the scenario's value (``kind``; ``lo``/``hi`` the whole-number
    or day-ordinal bounds of ``int`` and ``date`` parameters)."""

    path: str
    prior: Prior
    kind: Kind = "float"
    lo: int | None = None
    hi: int | None = None

    def decode(self, x: float) -> Any:
        """The scenario value at coordinate ``x``."""
        if self.kind == "float":
            return round_sig(x)
        i = math.floor(x + 0.5)
        if self.lo is not None:
            i = max(i, self.lo)
        if self.hi is not None:
            i = min(i, self.hi)
        return dt.date.fromordinal(i) if self.kind == "date" else i

    def as_number(self, value: Any) -> float:
        """A decoded value as a number (a date as its day ordinal), for summaries."""
        return float(value.toordinal()) if isinstance(value, dt.date) else float(value)

    def from_number(self, v: float) -> Any:
        """A summary number (a mean, a quantile) as the parameter's kind of value."""
        if self.kind == "float":
            return round_sig(v)
        return self.decode(v)

    def spec(self) -> dict[str, Any]:
        """The prior as written in a calibration file (the parameter's own terms)."""
        p = self.prior
        out: dict[str, Any] = {"distribution": p.distribution}
        if self.kind != "float" and p.distribution == "uniform":
            lo, hi = self.lo, self.hi
            assert lo is not None and hi is not None
            out["low"] = dt.date.fromordinal(lo) if self.kind == "date" else lo
            out["high"] = dt.date.fromordinal(hi) if self.kind == "date" else hi
            return out
        for k in ("low", "high", "mean", "sd"):
            v = getattr(p, k)
            if v is not None:
                out[k] = int(v) if self.kind == "int" and k in ("low", "high") else v
        return out

    def describe(self) -> str:
        """The prior in words, in the parameter's own terms."""
        if self.kind != "float" and self.prior.distribution == "uniform":
            return f"uniform({self.decode(self.lo or 0)}, {self.decode(self.hi or 0)})"
        return self.prior.describe()


@dataclass(frozen=True)
class Budget:
    """How much work a calibration may do (see the module docstring)."""

    particles: int = DEFAULT_PARTICLES
    generations: int = DEFAULT_GENERATIONS
    replications: int = DEFAULT_REPLICATIONS
    tolerance: float | None = None
    quantile: float = DEFAULT_QUANTILE
    max_candidates: int = DEFAULT_PARTICLES * CANDIDATES_PER_PARTICLE
    predictive_draws: int = DEFAULT_PARTICLES


@dataclass(frozen=True)
class CalibrationSpec:
    """A validated calibration: base scenario, parameters and priors, fitted and held-out
    observation ids, budget, seed."""

    source: str
    base_path: str
    base: Scenario
    parameters: tuple[CalibParameter, ...]
    fit: tuple[str, ...]
    validation: tuple[str, ...]
    budget: Budget
    seed: int
    method: str = "abc-smc"
    name: str = "calibration"
    title: str = ""
    description: str = ""

    @property
    def paths(self) -> tuple[str, ...]:
        """The fitted dotted paths, in order."""
        return tuple(p.path for p in self.parameters)

    @property
    def priors(self) -> tuple[Prior, ...]:
        """The priors, in the order of :attr:`paths`."""
        return tuple(p.prior for p in self.parameters)

    def observation(self, oid: str) -> Observation:
        """The base scenario's observation ``oid``."""
        return next(o for o in self.base.observations if o.id == oid)

    def targets(self) -> list[Target]:
        """The fitted observations as distance targets (observed range and slack)."""
        return [target(self.observation(oid)) for oid in self.fit]

    def decode(self, x: Any) -> tuple[Any, ...]:
        """Scenario values of a coordinate vector."""
        return tuple(p.decode(float(v)) for p, v in zip(self.parameters, x, strict=True))


def slack(obs: Observation) -> float:
    """The slack of an observation: max(tolerance × |observed|, abs_tolerance)."""
    return max(obs.tolerance * abs(obs.observed), obs.abs_tolerance)


def target(obs: Observation) -> Target:
    """An observation as a distance target: its value or range, scaled by its slack."""
    lo, hi = obs.range if obs.range is not None else (obs.observed, obs.observed)
    return Target(float(lo), float(hi), slack(obs))


# ---- reading ---------------------------------------------------------------------------


def is_calibration_data(data: Mapping[str, Any]) -> bool:
    """Whether parsed TOML is a calibration file: it names a ``method`` and has no
    calendar of its own (a scenario always has one)."""
    return "method" in data and "calendar" not in data


def _unknown(key: str, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" — did you mean {close[0]!r}?" if close else f" (valid keys: {', '.join(known)})"
    return f"unknown key {key!r}{hint}"


def _is_date(v: Any) -> bool:
    return isinstance(v, dt.date) and not isinstance(v, dt.datetime)


def parse_prior(path: str, spec: Any, source: str, base: Scenario) -> CalibParameter:
    """One parameter's prior from its table, checked against the base scenario."""
    key = format_path(("parameters", path))
    if path in NOT_PARAMETERS:
        raise ScenarioError(
            source,
            key,
            f"{path} cannot be fitted: it is a setting of the calibration "
            f"(give seed = ... or [budget] replications = ... instead)",
        )
    if not isinstance(spec, dict):
        raise ScenarioError(
            source, key, f"expected a prior {{ low = ..., high = ... }} (a table), got {spec!r}"
        )
    for k in spec:
        if k not in PRIOR_KEYS:
            raise ScenarioError(
                source, format_path(("parameters", path, k)), _unknown(k, PRIOR_KEYS)
            )
    dist = spec.get("distribution", "uniform")
    if dist not in DISTRIBUTIONS:
        raise ScenarioError(
            source,
            format_path(("parameters", path, "distribution")),
            f"unknown distribution {dist!r} (known: {', '.join(DISTRIBUTIONS)})",
        )
    low, high = spec.get("low"), spec.get("high")
    dates = [v for v in (low, high) if _is_date(v)]
    kind: Kind = "float"
    lo_i = hi_i = None
    if dates:
        if dist != "uniform" or not (_is_date(low) and _is_date(high)):
            raise ScenarioError(
                source, key, "a date parameter needs a uniform prior with low and high both dates"
            )
        assert isinstance(low, dt.date) and isinstance(high, dt.date)
        kind, lo_i, hi_i = "date", low.toordinal(), high.toordinal()
        if not lo_i < hi_i:
            raise ScenarioError(
                source, key, f"empty range: low ({low}) must be before high ({high})"
            )
        prior = Prior("uniform", lo_i - 0.5, hi_i + 0.5)
    else:
        for k in ("low", "high", "mean", "sd"):
            v = spec.get(k)
            if v is not None and not (_is_number(v) and math.isfinite(float(v))):
                raise ScenarioError(
                    source,
                    format_path(("parameters", path, k)),
                    f"expected a finite number, got {v!r}",
                )
        needed = ("mean", "sd") if dist == "normal" else ("low", "high")
        missing = [k for k in needed if k not in spec]
        if missing:
            raise ScenarioError(
                source, key, f"a {dist} prior needs {' and '.join(needed)} (missing {missing[0]})"
            )
        for k in [] if dist == "normal" else ("mean", "sd"):
            if k in spec:
                raise ScenarioError(
                    source, format_path(("parameters", path, k)), f"a {dist} prior has no {k}"
                )
        if low is not None and high is not None and not low < high:
            raise ScenarioError(
                source, key, f"empty prior range: low ({low}) must be below high ({high})"
            )
        if _field_is_int(path):
            if not all(float(v).is_integer() for v in (low, high) if v is not None):
                raise ScenarioError(
                    source, key, f"{path} is a whole number: low and high must be whole numbers"
                )
            kind = "int"
            lo_i = None if low is None else int(low)
            hi_i = None if high is None else int(high)
        f = {
            k: (None if spec.get(k) is None else float(spec[k]))
            for k in ("low", "high", "mean", "sd")
        }
        if kind == "int" and dist == "uniform":
            assert low is not None and high is not None
            f["low"], f["high"] = float(low) - 0.5, float(high) + 0.5
        try:
            prior = Prior(dist, f["low"], f["high"], f["mean"], f["sd"])
        except ValueError as err:
            raise ScenarioError(source, key, str(err)) from None
    param = CalibParameter(path, prior, kind, lo_i, hi_i)
    _check_values(param, source, base)
    return param


def _check_values(param: CalibParameter, source: str, base: Scenario) -> None:
    """The ends of the prior (or mean ± 6 sd of an uncut normal) must give valid scenarios."""
    key = format_path(("parameters", param.path))
    p = param.prior
    if p.distribution == "normal":
        assert p.mean is not None and p.sd is not None
        ends = [
            p.mean - 6 * p.sd if p.low is None else p.low,
            p.mean,
            p.mean + 6 * p.sd if p.high is None else p.high,
        ]
    else:
        assert p.low is not None and p.high is not None
        ends = [p.low, p.high]
    for x in ends:
        value = param.decode(x)
        try:
            with_values(base, {param.path: value}, source=source)
        except ScenarioError as err:
            where = "" if err.path in (param.path, "") else f"{err.path}: "
            reach = ""
            if p.distribution == "normal" and (p.low is None or p.high is None):
                reach = " (the prior reaches it: cut it with low and high)"
            raise ScenarioError(source, key, f"at {value}: {where}{err.message}{reach}") from None


def _fit(data: Mapping[str, Any], source: str, base: Scenario) -> tuple[str, ...]:
    by_id = {o.id: o for o in base.observations}
    if "fit" not in data:
        fit = [o.id for o in base.observations if o.role == "calibration"]
        if not fit:
            raise ScenarioError(
                source,
                "fit",
                "nothing to fit: the base scenario has no observation with role "
                '"calibration" (add one, or list ids in fit)',
            )
        return tuple(fit)
    given = data["fit"]
    if not isinstance(given, list) or not given or not all(isinstance(i, str) for i in given):
        raise ScenarioError(source, "fit", "expected a non-empty list of observation ids")
    for i, oid in enumerate(given):
        key = f"fit[{i}]"
        if oid in given[:i]:
            raise ScenarioError(source, key, f"lists {oid!r} twice")
        obs = by_id.get(oid)
        if obs is None:
            close = difflib.get_close_matches(oid, list(by_id), n=1)
            hint = (
                f"did you mean {close[0]!r}?" if close else f"known: {', '.join(by_id) or 'none'}"
            )
            raise ScenarioError(
                source, key, f"no observation {oid!r} in the base scenario ({hint})"
            )
        if obs.role == "validation":
            raise ScenarioError(
                source,
                key,
                f'{oid!r} has role "validation": a held-out observation is never fitted '
                '(an observation has one role; set role = "calibration" to fit it)',
            )
    for i, oid in enumerate(given):
        if not slack(by_id[oid]) > 0:
            raise ScenarioError(
                source,
                f"fit[{i}]",
                f"{oid!r} has no slack to scale its error by (observed 0 with tolerance, "
                "and abs_tolerance 0): give it an abs_tolerance",
            )
    return tuple(given)


def _whole(table: Mapping[str, Any], key: str, source: str, default: int, least: int = 1) -> int:
    v = table.get(key, default)
    if not isinstance(v, int) or isinstance(v, bool) or v < least:
        raise ScenarioError(
            source, f"budget.{key}", f"expected a whole number >= {least}, got {v!r}"
        )
    return v


def _budget(data: Mapping[str, Any], source: str) -> Budget:
    table = data.get("budget", {})
    if not isinstance(table, dict):
        raise ScenarioError(source, "budget", "expected a table (particles, generations, ...)")
    for k in table:
        if k not in BUDGET_KEYS:
            raise ScenarioError(source, f"budget.{k}", _unknown(k, BUDGET_KEYS))
    particles = _whole(table, "particles", source, DEFAULT_PARTICLES, least=2)
    generations = _whole(table, "generations", source, DEFAULT_GENERATIONS)
    replications = _whole(table, "replications", source, DEFAULT_REPLICATIONS)
    max_candidates = _whole(
        table, "max_candidates", source, particles * CANDIDATES_PER_PARTICLE, least=particles
    )
    draws = _whole(table, "predictive_draws", source, particles)
    quantile = table.get("quantile", DEFAULT_QUANTILE)
    if not _is_number(quantile) or not 0 < quantile < 1:
        raise ScenarioError(
            source, "budget.quantile", f"expected a number between 0 and 1, got {quantile!r}"
        )
    tolerance = table.get("tolerance")
    if tolerance is not None and (not _is_number(tolerance) or not 0 < tolerance < math.inf):
        raise ScenarioError(source, "budget.tolerance", f"expected a number > 0, got {tolerance!r}")
    return Budget(
        particles=particles,
        generations=generations,
        replications=replications,
        tolerance=None if tolerance is None else float(tolerance),
        quantile=float(quantile),
        max_candidates=max_candidates,
        predictive_draws=draws,
    )


def build_calibration(
    data: Mapping[str, Any], *, source: str, base: Scenario, base_path: str, name: str
) -> CalibrationSpec:
    """Validate the settings of a calibration file (``data``) against its base scenario."""
    for k in data:
        if k not in CALIBRATION_KEYS:
            raise ScenarioError(source, k, _unknown(k, CALIBRATION_KEYS))
    method = data.get("method")
    if method not in METHODS:
        raise ScenarioError(
            source, "method", f"unknown method {method!r} (known: {', '.join(METHODS)})"
        )
    table = data.get("parameters", {})
    if not isinstance(table, dict):
        raise ScenarioError(source, "parameters", "expected a table of path = { prior }")
    parameters = [
        parse_prior(path, spec, source, base)
        for path, spec in _flatten(
            table, source, "parameters", lambda v: bool(set(v) & set(PRIOR_KEYS))
        )
    ]
    if not parameters:
        raise ScenarioError(
            source, "parameters", "nothing to fit: give at least one parameter and its prior"
        )
    fit = _fit(data, source, base)
    seed = data.get("seed", base.seed)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ScenarioError(source, "seed", f"expected a whole number >= 0, got {seed!r}")
    for k in ("title", "description"):
        if not isinstance(data.get(k, ""), str):
            raise ScenarioError(source, k, "expected a string")
    name = data.get("name", name)
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_\-]+", name):
        raise ScenarioError(
            source, "name", f"expected a word of letters, digits, _ or -, got {name!r}"
        )
    return CalibrationSpec(
        source=source,
        base_path=base_path,
        base=base,
        parameters=tuple(parameters),
        fit=fit,
        validation=tuple(o.id for o in base.observations if o.role == "validation"),
        budget=_budget(data, source),
        seed=seed,
        method=method,
        name=name,
        title=data.get("title", ""),
        description=data.get("description", ""),
    )


def load_calibration(path: str | Path) -> CalibrationSpec:
    """Read and validate a calibration file (its ``base`` relative to it)."""
    label = str(path)
    p = Path(path)
    data = read_toml(p, label)
    base_rel = data.get("base")
    if not isinstance(base_rel, str) or not base_rel.strip():
        raise ScenarioError(
            label,
            "base",
            "expected the path of the base scenario (a string, relative to this file)",
        )
    base_file = p.parent / base_rel
    if not base_file.is_file():
        raise ScenarioError(label, "base", f"file not found: {base_rel!r} (looked for {base_file})")
    base = load_scenario(base_file)
    return build_calibration(data, source=label, base=base, base_path=str(base_file), name=p.stem)


def check_size(spec: CalibrationSpec, allow_large: bool = False) -> None:
    """Refuse a budget too large to be meant (unless ``allow_large``): more particles or
    predictive draws than :data:`~sim.scenario.limits.MAX_SAMPLES`, more replications
    than :data:`~sim.scenario.limits.MAX_REPLICATIONS`, or a worst case (every
    generation at ``max_candidates``) of more than :data:`~sim.scenario.limits.MAX_RUNS`."""
    if allow_large:
        return
    b = spec.budget
    for message in (
        too_large("particles", b.particles, MAX_SAMPLES),
        too_large("predictive draws", b.predictive_draws, MAX_SAMPLES),
        too_large("replications", b.replications, MAX_REPLICATIONS),
        too_large(
            "runs at most (generations × max_candidates × replications)",
            b.generations * b.max_candidates * b.replications,
            MAX_RUNS,
        ),
    ):
        if message:
            raise ScenarioError(spec.source, "budget", message)


# ---- the resolved calibration.toml -----------------------------------------------------


def resolved_data(spec: CalibrationSpec, base: str = "scenario.toml") -> dict[str, Any]:
    """The calibration as plain data with every default filled in."""
    data: dict[str, Any] = {"base": base, "name": spec.name}
    if spec.title:
        data["title"] = spec.title
    if spec.description:
        data["description"] = spec.description
    b = spec.budget
    budget: dict[str, Any] = {
        "particles": b.particles,
        "generations": b.generations,
        "replications": b.replications,
        "quantile": b.quantile,
        "max_candidates": b.max_candidates,
        "predictive_draws": b.predictive_draws,
    }
    if b.tolerance is not None:
        budget["tolerance"] = b.tolerance
    data.update(
        {
            "method": spec.method,
            "seed": spec.seed,
            "fit": list(spec.fit),
            "parameters": {p.path: p.spec() for p in spec.parameters},
            "budget": budget,
        }
    )
    return data


def resolved_toml(spec: CalibrationSpec, base: str = "scenario.toml") -> str:
    """``calibration.toml``: the resolved calibration, its base the folder's ``scenario.toml``."""
    header = (
        f"# Generated by siege-sim {__version__}: the resolved calibration "
        f"{spec.name!r} (defaults written out).\n"
        "# Resume an interrupted calibration with: siege calibrate --resume <this folder>\n\n"
    )
    return header + tomli_w.dumps(resolved_data(spec, base))
