"""Sweep files and ``--param`` options: what to vary, how, how often, what to report.

The sweep-file format is documented for users in ``scenarios/README.md``, section
"Sweep files": a base scenario, the parameters to vary by dotted path (a list of
values or a ``{ low, high }`` range of numbers or dates), the design and its
``samples``, replications, seed, metrics, and optional ``name``, ``title``,
``description``, ``set`` and ``labels``. ``--param path=v1,v2`` and
``--param path=lo:hi`` are the same on the command line (values are TOML literals;
a bare word is a string).

This module reads both into a :class:`SweepSpec`. Keys under ``[parameters]`` are
dotted scenario paths (see :mod:`sim.scenario.paths`). Metric names are checked
against the metrics of one probe run of the base scenario before anything is
written. Every problem is a :class:`~sim.scenario.errors.ScenarioError` naming the
sweep file (or ``--param``) and the dotted key: ``tempo.toml: parameters."siege.x":
unknown key 'x' ...``. :func:`resolved_toml` writes the sweep back with every
default filled in and ``base = "scenario.toml"``: the sweep folder's own
``sweep.toml``, from which ``--resume`` rebuilds the identical design.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import tomli_w

from sim import __version__
from sim.experiment.designs import DEFAULT_SAMPLES, DESIGNS, Design, Parameter, n_points, sample
from sim.scenario.errors import ScenarioError
from sim.scenario.load import load_scenario, with_values
from sim.scenario.paths import PathError, flatten_table, format_path, parse_path, type_at, unwrap
from sim.scenario.schema import Scenario
from sim.scenario.toml import LiteralError, parse_literal, read_toml, split_top

SWEEP_KEYS: tuple[str, ...] = (
    "base",
    "name",
    "title",
    "description",
    "design",
    "samples",
    "replications",
    "seed",
    "metrics",
    "set",
    "labels",
    "parameters",
)
"""Keys a sweep file may have."""

NOT_PARAMETERS: tuple[str, ...] = ("seed", "replications")
"""Scenario keys a sweep may not vary (they are settings of the sweep itself)."""

DEFAULT_METRICS: tuple[str, ...] = ("delivered_t", "aircraft_lost", "person_days_below_half")
"""Reported when ``metrics`` is not given (with every ``stockout__*`` metric)."""


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep: the base scenario, the parameters and the design settings."""

    source: str
    base_path: str
    base: Scenario
    parameters: tuple[Parameter, ...]
    design: str
    samples: int
    replications: int
    seed: int
    metrics: tuple[str, ...]
    name: str = "sweep"
    title: str = ""
    description: str = ""
    overrides: tuple[str, ...] = field(default=())
    labels: tuple[tuple[str, str], ...] = field(default=())

    @property
    def paths(self) -> tuple[str, ...]:
        """The swept dotted paths, in order."""
        return tuple(p.path for p in self.parameters)

    def make_design(self) -> Design:
        """The design's points (deterministic in the spec)."""
        return sample(self.design, self.parameters, self.samples, self.seed)

    def n_points(self) -> int:
        """How many points :meth:`make_design` gives, counted without building them."""
        levels = (
            [len(p.levels(self.samples)) for p in self.parameters] if self.design == "grid" else []
        )
        return n_points(self.design, len(self.parameters), self.samples, levels)


# ---- reading ---------------------------------------------------------------------------


def is_sweep_data(data: Mapping[str, Any]) -> bool:
    """Whether parsed TOML is a sweep file: it names a ``base`` scenario or has
    ``parameters``, and has no calendar of its own (a scenario always has one)."""
    return ("base" in data or "parameters" in data) and "calendar" not in data


def _key(path: str) -> str:
    """``parameters."a.b"`` — the dotted key of a parameter inside the sweep file."""
    return format_path(("parameters", path))


def _flatten(
    table: Mapping[str, Any],
    source: str,
    section: str,
    is_leaf: Callable[[Any], bool] | None = None,
) -> list[tuple[str, Any]]:
    """A table of dotted paths → ``(canonical dotted path, value)``; nested tables are path
    steps (:func:`sim.scenario.paths.flatten_table`) unless ``is_leaf``."""
    try:
        leaves = flatten_table(table, is_leaf)
    except PathError as exc:
        raise ScenarioError(source, format_path((section, exc.key)), str(exc)) from None
    return [(format_path(full), value) for _, full, value in leaves]


def _is_range(value: Any) -> bool:
    """A ``{ low, high }`` range is a parameter's spec, not a path step."""
    return bool({"low", "high"} & set(value))


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _field_is_int(path: str) -> bool | None:
    """Whether the scenario field at ``path`` is an int (None if the path is unknown)."""
    try:
        found = type_at(Scenario, parse_path(path))
    except PathError:
        return None
    if found is None:
        return None
    tp, _ = unwrap(found[0])
    return tp is int


def parse_parameter(path: str, spec: Any, source: str, base: Scenario) -> Parameter:
    """One parameter from its file or command-line spec, checked against the base scenario.

    ``seed`` and ``replications`` are settings of the sweep, not parameters: every
    point runs the same replications from the same seed (common random numbers).
    """
    key = path if source == "--param" else _key(path)
    if path in NOT_PARAMETERS:
        raise ScenarioError(
            source,
            key,
            f"{path} cannot be swept: every design point runs the same replications from "
            f"the same seed; set {path} = ... in the sweep file or --{path} N instead",
        )
    if isinstance(spec, list):
        if not spec:
            raise ScenarioError(source, key, "the list of values is empty")
        seen: list[Any] = []  # values may be unhashable (arrays, tables)
        seen_hashable: set[Any] = set()
        for v in spec:
            try:
                twice = v in seen_hashable
                seen_hashable.add(v)
            except TypeError:
                twice = v in seen
                seen.append(v)
            if twice:
                raise ScenarioError(source, key, f"lists the value {v!r} twice")
        param = Parameter(path, values=tuple(spec))
        checks = _spread(spec, MAX_CHECKED_VALUES)
    elif isinstance(spec, dict):
        extra = sorted(set(spec) - {"low", "high"})
        if extra or set(spec) != {"low", "high"}:
            what = f"unknown key {extra[0]!r}" if extra else "missing 'low' or 'high'"
            raise ScenarioError(source, key, f"a range is {{ low, high }}: {what}")
        low, high = spec["low"], spec["high"]
        both_dates = all(
            isinstance(v, dt.date) and not isinstance(v, dt.datetime) for v in (low, high)
        )
        if not both_dates and not (_is_number(low) and _is_number(high)):
            raise ScenarioError(
                source,
                key,
                f"low and high must both be numbers or both dates, got {low!r} and {high!r}",
            )
        if not both_dates and not all(math.isfinite(float(v)) for v in (low, high)):
            raise ScenarioError(source, key, "low and high must be finite")
        if not low < high:
            raise ScenarioError(source, key, f"low ({low}) must be below high ({high})")
        integer = False
        if not both_dates and _field_is_int(path):
            if not all(float(v).is_integer() for v in (low, high)):
                raise ScenarioError(
                    source,
                    key,
                    f"{path} is a whole number: low and high "
                    f"must be whole numbers, got {low!r} and {high!r}",
                )
            low, high, integer = int(low), int(high), True
        elif not both_dates:
            low, high = float(low), float(high)
        param = Parameter(path, low=low, high=high, integer=integer)
        checks = [low, high]
    else:
        raise ScenarioError(
            source,
            key,
            f"give a list of values or a range {{ low = ..., high = ... }}, got {spec!r}",
        )
    for v in checks:
        try:
            with_values(base, {path: v}, source=source)
        except ScenarioError as err:
            where = "" if err.path in (path, "") else f"{err.path}: "
            raise ScenarioError(source, key, f"{where}{err.message}") from None
    return param


MAX_CHECKED_VALUES = 512
"""Listed values of a parameter validated one by one (evenly spaced when more)."""


def _spread(values: Sequence[Any], limit: int) -> list[Any]:
    """All of ``values``, or ``limit`` of them evenly spaced (the first and last included)."""
    n = len(values)
    if n <= limit:
        return list(values)
    return [values[i] for i in sorted({round(k * (n - 1) / (limit - 1)) for k in range(limit)})]


def _positive_int(data: Mapping[str, Any], key: str, source: str, default: int) -> int:
    v = data.get(key, default)
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        raise ScenarioError(source, key, f"expected a whole number >= 1, got {v!r}")
    return v


def _check_samples(design: str, samples: int, source: str) -> None:
    key = "" if source == "--samples" else "samples"
    if design == "sobol" and samples & (samples - 1):
        lo = 1 << (samples.bit_length() - 1)
        raise ScenarioError(
            source, key, f"a Sobol' design needs a power of 2 (got {samples}; try {lo} or {lo * 2})"
        )
    if design in ("lhs", "morris") and samples < 2:
        raise ScenarioError(source, key, f"a {design} design needs at least 2, got {samples}")


def build_spec(
    data: Mapping[str, Any],
    *,
    source: str,
    base: Scenario,
    base_path: str,
    name: str,
    params: Sequence[tuple[str, Any]] = (),
    overrides: Sequence[str] = (),
    design: str | None = None,
    samples: int | None = None,
    replications: int | None = None,
    seed: int | None = None,
    probe: Callable[[Scenario], Mapping[str, float] | None] | None = None,
    param_source: str = "--param",
) -> SweepSpec:
    """Validate sweep settings (file ``data`` + command-line values, which win)."""
    for k in data:
        if k not in SWEEP_KEYS:
            close = difflib.get_close_matches(k, SWEEP_KEYS, n=1)
            hint = (
                f" — did you mean {close[0]!r}?"
                if close
                else f" (valid keys: {', '.join(SWEEP_KEYS)})"
            )
            raise ScenarioError(source, k, f"unknown key {k!r}{hint}")
    design = design or data.get("design", "grid")
    if design not in DESIGNS:
        raise ScenarioError(
            source, "design", f"unknown design {design!r} (known: {', '.join(DESIGNS)})"
        )
    table = data.get("parameters", {})
    if not isinstance(table, dict):
        raise ScenarioError(source, "parameters", "expected a table of path = values")
    parameters: dict[str, Parameter] = {}
    for path, spec in _flatten(table, source, "parameters", _is_range):
        parameters[path] = parse_parameter(path, spec, source, base)
    for path, spec in params:
        parameters[path] = parse_parameter(path, spec, param_source, base)
    if not parameters:
        raise ScenarioError(
            source,
            "parameters",
            "nothing to sweep: give at least one "
            "parameter (in [parameters] or with --param path=v1,v2)",
        )
    plist = tuple(parameters.values())
    if samples is None:
        samples = _positive_int(data, "samples", source, DEFAULT_SAMPLES[design])
    _check_samples(design, samples, source if "samples" in data else "--samples")
    if replications is None:
        replications = _positive_int(data, "replications", source, base.replications)
    if seed is None:
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
    labels = _labels(data, source, parameters)
    probed = probe(base) if probe is not None else None
    metrics = _metrics(data, source, probed)
    return SweepSpec(
        source=source,
        base_path=base_path,
        base=base,
        parameters=plist,
        design=design,
        samples=samples,
        replications=replications,
        seed=seed,
        metrics=metrics,
        name=name,
        title=data.get("title", ""),
        description=data.get("description", ""),
        overrides=tuple(overrides),
        labels=labels,
    )


def _labels(
    data: Mapping[str, Any], source: str, parameters: Mapping[str, Parameter]
) -> tuple[tuple[str, str], ...]:
    table = data.get("labels", {})
    if not isinstance(table, dict):
        raise ScenarioError(source, "labels", 'expected a table of path = "axis label"')
    out: list[tuple[str, str]] = []
    for path, text in _flatten(table, source, "labels"):
        key = format_path(("labels", path))
        if path not in parameters:
            raise ScenarioError(
                source, key, f"{path} is not a swept parameter (swept: {', '.join(parameters)})"
            )
        if not isinstance(text, str) or not text.strip():
            raise ScenarioError(source, key, "expected a non-empty string")
        out.append((path, text))
    return tuple(out)


def _metrics(
    data: Mapping[str, Any], source: str, probed: Mapping[str, float] | None
) -> tuple[str, ...]:
    if "metrics" not in data:
        if probed is None:
            return DEFAULT_METRICS
        return tuple(m for m in probed if m in DEFAULT_METRICS or m.startswith("stockout__"))
    names = data["metrics"]
    if not isinstance(names, list) or not names or not all(isinstance(m, str) for m in names):
        raise ScenarioError(source, "metrics", "expected a non-empty list of metric names")
    for i, m in enumerate(names):
        if m in names[:i]:
            raise ScenarioError(source, f"metrics[{i}]", f"lists {m!r} twice")
        if probed is not None and m not in probed:
            close = difflib.get_close_matches(m, list(probed), n=3)
            hint = (
                f"did you mean {', '.join(map(repr, close))}?"
                if close
                else f"known: {', '.join(list(probed)[:12])}..."
            )
            raise ScenarioError(source, f"metrics[{i}]", f"unknown metric {m!r} ({hint})")
    return tuple(names)


def load_sweep(
    path: str | Path,
    *,
    params: Sequence[tuple[str, Any]] = (),
    overrides: Sequence[str] = (),
    design: str | None = None,
    samples: int | None = None,
    replications: int | None = None,
    seed: int | None = None,
    probe: Callable[[Scenario], Mapping[str, float] | None] | None = None,
) -> SweepSpec:
    """Read and validate a sweep file (its ``base`` relative to it); options override it."""
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
    base = load_scenario(base_file, overrides=tuple(overrides))
    fixed = data.get("set", {})
    if not isinstance(fixed, dict):
        raise ScenarioError(label, "set", "expected a table of path = value")
    if fixed:
        base = with_values(base, dict(_flatten(fixed, label, "set")), source=label)
    return build_spec(
        data,
        source=label,
        base=base,
        base_path=str(base_file),
        name=p.stem,
        params=params,
        overrides=overrides,
        design=design,
        samples=samples,
        replications=replications,
        seed=seed,
        probe=probe,
    )


def spec_from_scenario(
    path: str | Path,
    *,
    params: Sequence[tuple[str, Any]],
    overrides: Sequence[str] = (),
    design: str | None = None,
    samples: int | None = None,
    replications: int | None = None,
    seed: int | None = None,
    probe: Callable[[Scenario], Mapping[str, float] | None] | None = None,
) -> SweepSpec:
    """A sweep of a scenario file given on the command line with ``--param`` options."""
    base = load_scenario(path, overrides=tuple(overrides))
    return build_spec(
        {},
        source="--param",
        base=base,
        base_path=str(path),
        name="sweep",
        params=params,
        overrides=overrides,
        design=design,
        samples=samples,
        replications=replications,
        seed=seed,
        probe=probe,
    )


# ---- --param path=v1,v2 | path=lo:hi ---------------------------------------------------


def _literal(raw: str, option: str) -> Any:
    try:
        return parse_literal(raw)
    except LiteralError as exc:
        raise ScenarioError("--param", option, str(exc)) from None


def parse_param_option(text: str) -> tuple[str, Any]:
    """``path=v1,v2`` → ``(path, [v1, v2])``; ``path=lo:hi`` → ``(path, {low, high})``."""
    parts = split_top(text, "=")
    if len(parts) < 2 or not parts[0].strip():
        raise ScenarioError(
            "--param", "", f"malformed {text!r}: expected path=v1,v2 or path=low:high"
        )
    path_text, raw = parts[0].strip(), "=".join(parts[1:]).strip()
    try:
        path = format_path(parse_path(path_text))
    except PathError as exc:
        raise ScenarioError("--param", path_text, str(exc)) from None
    if not raw:
        raise ScenarioError("--param", path, "no values after '='")
    items = split_top(raw, ",")
    if len(items) == 1:
        bounds = split_top(raw, ":")
        if len(bounds) == 2:
            return path, {"low": _literal(bounds[0], path), "high": _literal(bounds[1], path)}
        if len(bounds) > 2:
            raise ScenarioError("--param", path, f"malformed range {raw!r}: expected low:high")
    return path, [_literal(item, path) for item in items]


# ---- the resolved sweep.toml -----------------------------------------------------------


def resolved_data(spec: SweepSpec, base: str = "scenario.toml") -> dict[str, Any]:
    """The sweep as plain data with every default filled in (for ``sweep.toml``)."""
    params: dict[str, Any] = {}
    for p in spec.parameters:
        if p.is_range:
            params[p.path] = {"low": p.low, "high": p.high}
        else:
            params[p.path] = list(p.values or ())
    data: dict[str, Any] = {"base": base, "name": spec.name}
    if spec.title:
        data["title"] = spec.title
    if spec.description:
        data["description"] = spec.description
    if spec.labels:
        data["labels"] = dict(spec.labels)
    data.update(
        {
            "design": spec.design,
            "samples": spec.samples,
            "replications": spec.replications,
            "seed": spec.seed,
            "metrics": list(spec.metrics),
            "parameters": params,
        }
    )
    return data


def resolved_toml(spec: SweepSpec, base: str = "scenario.toml") -> str:
    """``sweep.toml``: the resolved sweep, its base the folder's own ``scenario.toml``."""
    header = (
        f"# Generated by siege-sim {__version__}: the resolved sweep "
        f"{spec.name!r} (defaults written out).\n"
        "# Resume an interrupted sweep with: siege sweep --resume <this folder>\n\n"
    )
    return header + tomli_w.dumps(resolved_data(spec, base))


def with_name(spec: SweepSpec, name: str) -> SweepSpec:
    """The same spec under another name."""
    return replace(spec, name=name)
