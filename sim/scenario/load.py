"""Loading a scenario: TOML file → ``extends`` → ``--set`` → validated, immutable Scenario.

Steps of :func:`load_scenario`:

1. **Read** the file (:func:`sim.scenario.toml.read_toml`: a regular UTF-8 file of
   at most 10 MiB; a syntax error is reported with its line and column).
2. **extends**: a top-level ``extends = "base.toml"`` names a parent scenario,
   relative to the extending file, itself possibly extending another one (at most
   :data:`~sim.scenario.limits.MAX_EXTENDS` files in a chain). The
   child is deep-merged over its parent: where both have a table, the child's keys
   override the parent's key by key; arrays (including ``[[events]]`` and
   ``[[observations]]``) and scalars replace the parent's value whole. A cycle or a
   missing parent is an error. ``extends`` is not part of the Scenario.
   A file's top-level ``set`` table (``"dotted.path" = value``, the same paths as
   ``--set``) is applied after that merge, so a child can change one value inside
   an inherited array: ``set = { "events[14].set.\"siege.combat_sorties_per_day\"" = 40 }``.
   ``set`` is not part of the Scenario either.
3. **--set** overrides, each ``dotted.path=VALUE``, applied in order to the merged
   data. VALUE is a TOML literal or a bare word
   (:func:`sim.scenario.toml.parse_literal`), never evaluated as code. Path rules:
   :mod:`sim.scenario.paths`.
4. **Validate** with pydantic, then :func:`~sim.scenario.schema.check_references`,
   then the **timeline** (:mod:`sim.scenario.timeline`): every event is applied,
   cumulatively and in date order, and each resulting version of the scenario must
   validate too. The timeline built then is kept for the scenario, so a run does not
   build it again.

Every problem raises a one-line :class:`~sim.scenario.errors.ScenarioError`
naming the file the offending value came from (with ``extends``, the parent file
when the value is inherited), the dotted key path and what is wrong.

Errors in a timeline event point at the event and its ``set`` key, quoted:
``events[2].set."routes.airbase_city.open": expected true or false, got 'no'``;
when the problem lies deeper than the key (a whole table was set) the message
starts with the full inner path. ``events[i]`` is the index in the file, not in
date order.

Dates and days: day 0 of a run is ``calendar.start``; a timeline step's ``day``
is ``calendar.day(event.date)``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import ValidationError

from sim import __version__
from sim.scenario.errors import ScenarioError, describe_validation_error
from sim.scenario.limits import MAX_EXTENDS
from sim.scenario.paths import (
    PathError,
    Segment,
    flatten_table,
    format_path,
    parse_path,
    set_path,
)
from sim.scenario.schema import Scenario, check_references
from sim.scenario.timeline import build_timeline, remember
from sim.scenario.toml import LiteralError, parse_literal, read_toml, split_top

__all__ = [
    "dump_toml",
    "load_scenario",
    "parse_override",
    "with_values",
]

# ------------------------------------------------------------------ provenance


@dataclass
class _Source:
    """Where the values of the data being validated came from, for error messages."""

    label: str
    origins: dict[tuple[Segment, ...], str] = field(default_factory=dict)
    overridden: set[tuple[Segment, ...]] = field(default_factory=set)

    def file_for(self, loc: Sequence[Segment]) -> tuple[str, str]:
        """(file, note) for the longest known prefix of ``loc``."""
        loc = tuple(loc)
        for n in range(len(loc), 0, -1):
            prefix = loc[:n]
            if prefix in self.overridden:
                return self.label, " (from --set)"
            if prefix in self.origins:
                return self.origins[prefix], ""
        return self.label, ""

    def error(self, loc: Sequence[Segment], message: str, path: str | None = None) -> ScenarioError:
        file, note = self.file_for(loc)
        return ScenarioError(file, format_path(loc) if path is None else path, message + note)


def _record(
    origins: dict[tuple[Segment, ...], str],
    data: Any,
    file: str,
    prefix: tuple[Segment, ...] = (),
) -> None:
    """Record ``file`` as the origin of every table and key in ``data``."""
    if isinstance(data, dict):
        for key, value in data.items():
            origins[(*prefix, key)] = file
            _record(origins, value, file, (*prefix, key))


def _forget_below(origins: dict[tuple[Segment, ...], str], prefix: tuple[Segment, ...]) -> None:
    n = len(prefix)
    for key in [k for k in origins if len(k) > n and k[:n] == prefix]:
        del origins[key]


def _merge(
    base: dict[str, Any],
    over: dict[str, Any],
    origins: dict[tuple[Segment, ...], str],
    prefix: tuple[Segment, ...] = (),
) -> dict[str, Any]:
    """Deep-merge ``over`` onto ``base``: tables merge key by key, anything else replaces."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value, origins, (*prefix, key))
        else:
            _forget_below(origins, (*prefix, key))
            out[key] = value
    return out


# ---------------------------------------------------------------------- reading


def _load_raw(
    path: Path, label: str, stack: tuple[tuple[Path, str], ...], origins: dict
) -> dict[str, Any]:
    """Read ``path`` and its ``extends`` chain, merged; fill ``origins``."""
    data = read_toml(path, label)
    ext = data.pop("extends", None)
    sets = data.pop("set", None)
    if ext is None:
        _record(origins, data, label)
        _apply_file_sets(data, sets, label, origins)
        return data
    if not isinstance(ext, str) or not ext.strip():
        raise ScenarioError(
            label, "extends", f"expected the path of a scenario file (a string), got {ext!r}"
        )
    parent = path.parent / ext
    parent_label = os.path.normpath(os.path.join(os.path.dirname(label), ext))
    if not parent.exists():
        raise ScenarioError(
            label, "extends", f"file not found: {ext!r} (looked for {parent_label})"
        )
    key = parent.resolve()
    if any(key == p for p, _ in stack):
        chain = " → ".join([*(lbl for _, lbl in stack), parent_label])
        raise ScenarioError(label, "extends", f"extends cycle: {chain}")
    if len(stack) >= MAX_EXTENDS:
        raise ScenarioError(
            label, "extends", f"the chain of extends is longer than {MAX_EXTENDS} files"
        )
    base = _load_raw(parent, parent_label, (*stack, (key, parent_label)), origins)
    merged = _merge(base, data, origins)
    _record(origins, data, label)
    _apply_file_sets(merged, sets, label, origins)
    return merged


def _apply_file_sets(
    data: dict[str, Any], sets: Any, label: str, origins: dict[tuple[Segment, ...], str]
) -> None:
    """Apply a file's top-level ``set`` table (dotted path → value) after its merge.

    This is how a file that ``extends`` another changes one value inside an array,
    e.g. ``set = { "events[14].date" = 2017-06-01 }``, without restating the array.
    A table value merges into the table at its path key by key
    (:func:`~sim.scenario.paths.flatten_table`), as ``extends`` merges tables.
    """
    if sets is None:
        return
    if not isinstance(sets, dict):
        raise ScenarioError(
            label, "set", f'expected a table of "dotted.path" = value, got {sets!r}'
        )
    try:
        leaves = flatten_table(sets)
    except PathError as exc:
        raise ScenarioError(label, format_path(("set", exc.key)), str(exc)) from None
    for top, segments, value in leaves:
        try:
            if segments[0] == "extends":
                raise PathError("extends cannot be set")
            set_path(data, segments, value, Scenario, new_entries=True)
        except PathError as exc:
            raise ScenarioError(label, format_path(("set", top)), str(exc)) from None
        _forget_below(origins, segments)
        origins[segments] = label


# -------------------------------------------------------------------- overrides


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``path=VALUE`` and parse VALUE as a TOML literal (bare word → string).

    Raises ``ValueError`` with a plain message when the override is malformed.
    """
    parts = split_top(text, "=", maxsplit=1)
    if len(parts) < 2:
        raise ValueError(
            f"malformed --set {text!r}: expected path=VALUE, e.g. fleets.wfp.aircraft=2"
        )
    path, raw = parts[0].strip(), parts[1].strip()
    if not path:
        raise ValueError(f"malformed --set {text!r}: the key path before '=' is missing")
    if not raw:
        raise ValueError(f"malformed --set {text!r}: the value after '=' is missing")
    try:
        return path, parse_literal(raw)
    except LiteralError as exc:
        raise ValueError(f"--set {path}=...: {exc}") from None


def _apply_overrides(data: dict[str, Any], overrides: Sequence[str], src: _Source) -> None:
    for text in overrides:
        try:
            path, value = parse_override(text)
        except ValueError as exc:
            raise ScenarioError(src.label, "", str(exc)) from None
        if path.strip() == "extends":
            raise ScenarioError(
                src.label, "extends", "cannot be set with --set; write a file that extends this one"
            )
        try:
            segments = parse_path(path)
            set_path(data, segments, value, Scenario, new_entries=True)
        except PathError as exc:
            raise ScenarioError(src.label, path, f"{exc} (from --set)") from None
        _forget_below(src.origins, segments)
        src.overridden = {k for k in src.overridden if k[: len(segments)] != segments}
        src.overridden.add(segments)


# ------------------------------------------------------------------- validation


def _plain(value: Any) -> Any:
    """Plain, mutable Python data: tuples → lists, numpy scalars/arrays → Python values."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return _plain(value.tolist())
    return value


def _dump(scenario: Scenario, exclude_none: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = _plain(scenario.model_dump(by_alias=True, exclude_none=exclude_none))
    return data


def _validate(data: dict[str, Any], src: _Source) -> Scenario:
    """pydantic → check_references → timeline; raise ScenarioError on the first problem.

    The timeline built here is kept for the scenario (:mod:`sim.scenario.timeline`).
    """
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        loc, message = describe_validation_error(exc, Scenario)
        raise src.error(loc, message) from None
    problems = check_references(scenario)
    if problems:
        path, message = problems[0]
        if len(problems) > 1:
            message += f" (and {len(problems) - 1} more)"
        try:
            at: tuple[Segment, ...] = parse_path(path)
        except PathError:
            at = ()
        raise src.error(at, message, path)
    remember(scenario, build_timeline(scenario, src.file_for))
    return scenario


# ------------------------------------------------------------------- public API


def load_scenario(path: str | Path, overrides: Sequence[str] = ()) -> Scenario:
    """Read, resolve, override and validate a scenario file.

    ``overrides`` are ``--set`` strings ``dotted.path=VALUE`` (see the module
    docstring). Raises :class:`ScenarioError` for every problem in the input.
    """
    if isinstance(overrides, str):
        overrides = (overrides,)
    label = str(path)
    p = Path(path)
    src = _Source(label)
    data = _load_raw(p, label, ((p.resolve(), label),), src.origins)
    _apply_overrides(data, overrides, src)
    return _validate(data, src)


def with_values(
    scenario: Scenario, values: Mapping[str, Any], source: str = "<values>"
) -> Scenario:
    """A new validated Scenario with each dotted path of ``values`` set to its Python value.

    Used by sweeps. Values are plain Python (numpy scalars are accepted); dates may
    be ``datetime.date`` or ISO strings. Same path rules and errors as ``--set``;
    errors name ``source`` as the file.
    """
    data = _dump(scenario)
    src = _Source(source)
    for path, value in values.items():
        try:
            segments = parse_path(path)
            set_path(data, segments, _plain(value), Scenario)
        except PathError as exc:
            raise ScenarioError(source, path, str(exc)) from None
    return _validate(data, src)


def dump_toml(scenario: Scenario) -> str:
    """The fully resolved scenario as TOML; loading it gives an equal Scenario.

    Keys are written by their file names (``from``), ``None`` values are left out,
    defaults are written out, and the key order is the schema's (dict entries keep
    their order), so the same scenario always gives the same text.
    """
    data = _dump(scenario, exclude_none=True)
    header = (
        f"# Generated by siege-sim {__version__}: the fully resolved scenario\n"
        "# (extends and --set applied, defaults written out). Run it again with\n"
        "#   siege run <this file>\n\n"
    )
    return header + tomli_w.dumps(data)
