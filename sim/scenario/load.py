"""Loading a scenario: TOML file → ``extends`` → ``--set`` → validated, immutable Scenario.

Steps of :func:`load_scenario`:

1. **Read** the file as TOML (UTF-8, :mod:`tomllib`). A syntax error is reported
   with its line and column.
2. **extends**: a top-level ``extends = "base.toml"`` names a parent scenario,
   relative to the extending file, itself possibly extending another one. The
   child is deep-merged over its parent: where both have a table, the child's keys
   override the parent's key by key; arrays (including ``[[events]]`` and
   ``[[observations]]``) and scalars replace the parent's value whole. A cycle or a
   missing parent is an error. ``extends`` is not part of the Scenario.
   A file's top-level ``set`` table (``"dotted.path" = value``, the same paths as
   ``--set``) is applied after that merge, so a child can change one value inside
   an inherited array: ``set = { "events[14].set.\"siege.combat_sorties_per_day\"" = 40 }``.
   ``set`` is not part of the Scenario either.
3. **--set** overrides, each ``dotted.path=VALUE``, applied in order to the merged
   data. VALUE is a TOML literal, parsed by :mod:`tomllib` as ``v = VALUE``
   (``2``, ``0.8``, ``true``, ``2017-01-15``, ``"text"``, ``[1, 2]``,
   ``{ a = 1 }``). A *bare word* that is not valid TOML (no spaces, quotes,
   brackets, braces, ``=``, ``,`` or ``#``) is taken as a string, so
   ``--set name=foo`` works; anything else that does not parse is an error. Values
   are never evaluated as code. Path rules: :mod:`sim.scenario.paths`.
4. **Validate** with pydantic, then :func:`~sim.scenario.schema.check_references`,
   then the **timeline**: every event is applied, cumulatively and in date order,
   and each resulting version of the scenario must validate too.

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

import argparse
import json
import os
import re
import sys
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args, get_origin

import tomli_w
from pydantic import ValidationError

from sim import __version__
from sim.scenario.errors import ScenarioError, describe_validation_error
from sim.scenario.paths import (
    PathError,
    Segment,
    flatten_table,
    format_path,
    is_model,
    parse_path,
    set_path,
    unwrap,
)
from sim.scenario.schema import Scenario, check_references, json_schema

__all__ = [
    "EVENT_FIXED_KEYS",
    "SCHEMA_FILE",
    "TimelineStep",
    "dump_toml",
    "load_scenario",
    "parse_override",
    "schema_text",
    "timeline",
    "with_values",
    "write_schema_file",
]

EVENT_FIXED_KEYS: tuple[str, ...] = (
    "name",
    "seed",
    "replications",
    "stochastic",
    "calendar",
    "events",
    "observations",
)
"""Top-level keys a timeline event may not change (they are fixed for the whole run)."""

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "scenarios" / "schema.json"
"""The committed JSON Schema of the scenario format (for editors)."""


def _is_model_dict(tp: Any) -> bool:
    tp = unwrap(tp)[0]
    return get_origin(tp) is dict and is_model(unwrap(get_args(tp)[1])[0])


_SECTIONS: tuple[str, ...] = tuple(
    name for name, info in Scenario.model_fields.items() if _is_model_dict(info.annotation)
)
"""Dicts of named components (pockets, fleets, ...): events may not add or remove entries."""

_BARE_WORD = re.compile(r"[^\s\"'\[\]{}=,#]+")
_TOML_POS = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_END = re.compile(r"\s*\(at end of document\)\s*$")


@dataclass(frozen=True)
class TimelineStep:
    """One dated event of the timeline, applied.

    ``scenario`` is the full, validated scenario in force from ``day`` on (all
    earlier events included); ``paths`` are the dotted paths this event changed.
    """

    day: int
    title: str
    paths: tuple[str, ...]
    scenario: Scenario


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


def _record(origins: dict[tuple[Segment, ...], str], data: Any, file: str, prefix=()) -> None:
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


def _read_toml(path: Path, label: str) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(label, "", "file not found") from None
    except IsADirectoryError:
        raise ScenarioError(label, "", "is a directory, not a scenario file") from None
    except OSError as exc:
        raise ScenarioError(label, "", f"cannot read the file: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(label, "", f"not UTF-8 text (bad byte at offset {exc.start})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        if m := _TOML_POS.search(msg):
            where = f"at line {m.group(1)}, column {m.group(2)}"
            msg = msg[: m.start()]
        elif m := _TOML_END.search(msg):
            where = "at the end of the file"
            msg = msg[: m.start()]
        else:
            where = ""
        msg = msg[:1].lower() + msg[1:]
        raise ScenarioError(label, "", f"invalid TOML {where}: {msg}".replace("  ", " ")) from None


def _load_raw(
    path: Path, label: str, stack: tuple[tuple[Path, str], ...], origins: dict
) -> dict[str, Any]:
    """Read ``path`` and its ``extends`` chain, merged; fill ``origins``."""
    data = _read_toml(path, label)
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


def _split_at(text: str) -> int:
    """Index of the first ``=`` outside double quotes, or -1."""
    in_quotes = False
    for i, ch in enumerate(text):
        if ch == '"':
            in_quotes = not in_quotes
        elif ch == "=" and not in_quotes:
            return i
    return -1


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``path=VALUE`` and parse VALUE as a TOML literal (bare word → string).

    Raises ``ValueError`` with a plain message when the override is malformed.
    """
    i = _split_at(text)
    if i < 0:
        raise ValueError(
            f"malformed --set {text!r}: expected path=VALUE, e.g. fleets.wfp.aircraft=2"
        )
    path, raw = text[:i].strip(), text[i + 1 :].strip()
    if not path:
        raise ValueError(f"malformed --set {text!r}: the key path before '=' is missing")
    if not raw:
        raise ValueError(f"malformed --set {text!r}: the value after '=' is missing")
    if "\n" in raw or "\r" in raw:
        raise ValueError(f"malformed --set {path}=...: the value spans several lines")
    try:
        doc = tomllib.loads(f"v = {raw}")
    except tomllib.TOMLDecodeError as exc:
        if _BARE_WORD.fullmatch(raw):
            return path, raw
        reason = _TOML_END.sub("", _TOML_POS.sub("", str(exc)))
        raise ValueError(
            f"--set {path}=...: {raw!r} is not a TOML value ({reason[:1].lower()}{reason[1:]}); "
            'quote text as "..."'
        ) from None
    if list(doc) != ["v"]:
        raise ValueError(f"--set {path}=...: {raw!r} is not a single TOML value")
    return path, doc["v"]


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
    return _plain(scenario.model_dump(by_alias=True, exclude_none=exclude_none))


def _validate(data: dict[str, Any], src: _Source) -> Scenario:
    """pydantic → check_references → timeline; raise ScenarioError on the first problem."""
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
            loc: tuple[Segment, ...] = parse_path(path)
        except PathError:
            loc = ()
        raise src.error(loc, message, path)
    _build_timeline(scenario, src)
    return scenario


def _event_error(
    src: _Source, i: int, key: str, message: str, inner: tuple[Segment, ...] | None = None
) -> ScenarioError:
    """An error at ``events[i].set."key"``; ``inner`` is the deeper path the problem is at."""
    try:
        key_segments = parse_path(key)
    except PathError:
        key_segments = None
    if inner and key_segments is not None and tuple(inner) != key_segments:
        message = f"{format_path(inner)}: {message}"
    file, note = src.file_for(("events", i, "set", key))
    return ScenarioError(file, format_path(("events", i, "set", key)), message + note)


def _build_timeline(scenario: Scenario, src: _Source) -> list[TimelineStep]:
    """Apply the events cumulatively in date order; validate every version."""
    order = sorted(range(len(scenario.events)), key=lambda i: scenario.events[i].date)
    data = _dump(scenario)
    sections = {s: list(getattr(scenario, s)) for s in _SECTIONS}
    modes = {f: fleet.mode for f, fleet in scenario.fleets.items()}
    cal = scenario.calendar
    steps: list[TimelineStep] = []
    for i in order:
        event = scenario.events[i]
        changed: list[tuple[Segment, ...]] = []
        for key, value in event.set.items():
            try:
                segments = parse_path(key)
            except PathError as exc:
                raise _event_error(src, i, key, str(exc)) from None
            if segments[0] in EVENT_FIXED_KEYS:
                raise _event_error(
                    src,
                    i,
                    key,
                    f"an event cannot change {segments[0]!r}: "
                    f"{', '.join(EVENT_FIXED_KEYS)} are fixed for the whole run",
                )
            try:
                set_path(data, segments, _plain(value), Scenario, new_entries=False)
            except PathError as exc:
                raise _event_error(src, i, key, str(exc)) from None
            changed.append(segments)
        try:
            version = Scenario.model_validate(data)
        except ValidationError as exc:
            loc, message = describe_validation_error(exc, Scenario)
            key = _closest_key(event.set, changed, loc)
            value = event.set[key]
            if isinstance(value, dict) and value and "." not in key:
                message += f" (to set one value, quote the dotted key: {_leaf_hint(key, value)})"
            raise _event_error(src, i, key, message, loc) from None
        for s in _SECTIONS:
            now = list(getattr(version, s))
            if set(now) != set(sections[s]):
                added = sorted(set(now) - set(sections[s]))
                removed = sorted(set(sections[s]) - set(now))
                what = f"adds {added}" if added else f"removes {removed}"
                key = _closest_key(event.set, changed, (s,))
                raise _event_error(
                    src, i, key, f"an event cannot add or remove {s} entries ({what})"
                )
        for f, fleet in version.fleets.items():
            before = modes[f]
            if fleet.mode != before:
                key = _closest_key(event.set, changed, ("fleets", f, "mode"))
                raise _event_error(
                    src,
                    i,
                    key,
                    f"an event cannot change a fleet's mode (fleets.{f}.mode is {before!r}); "
                    "define another fleet and switch between them with aircraft or "
                    "active_from/active_to",
                    ("fleets", f, "mode"),
                )
        problems = check_references(version)
        if problems:
            path, message = problems[0]
            try:
                loc: tuple[Segment, ...] = parse_path(path)
            except PathError:
                loc = ()
            key = _closest_key(event.set, changed, loc)
            raise _event_error(src, i, key, message, loc)
        steps.append(
            TimelineStep(
                day=cal.day(event.date),
                title=event.title,
                paths=tuple(format_path(p) for p in changed),
                scenario=version,
            )
        )
    return steps


def _leaf_hint(key: str, value: dict[str, Any]) -> str:
    """``"a.b.c" = ...`` for the first leaf of a nested table (unquoted dotted keys)."""
    parts = [key]
    node: Any = value
    while isinstance(node, dict) and node:
        k, node = next(iter(node.items()))
        parts.append(k)
    return f'"{".".join(parts)}" = ...'


def _closest_key(
    event_set: Mapping[str, Any], changed: list[tuple[Segment, ...]], loc: Sequence[Segment]
) -> str:
    """The event key whose path shares the longest prefix with ``loc``."""
    keys = list(event_set)

    def common(p: tuple[Segment, ...]) -> int:
        n = 0
        for a, b in zip(p, loc, strict=False):
            if a != b:
                break
            n += 1
        return n

    best = max(range(len(changed)), key=lambda j: common(changed[j]), default=0)
    return keys[best]


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
            set_path(data, parse_path(path), _plain(value), Scenario, new_entries=True)
        except PathError as exc:
            raise ScenarioError(source, path, str(exc)) from None
    return _validate(data, src)


def timeline(scenario: Scenario) -> list[TimelineStep]:
    """The scenario's events in date order (stable), each applied on top of the previous.

    Step ``k`` carries the full scenario in force from its ``day`` on. The start
    (day 0, before any event) is ``scenario`` itself and is not a step. A scenario
    returned by :func:`load_scenario` or :func:`with_values` always has a valid
    timeline; for another one this raises :class:`ScenarioError` (file
    ``<scenario>``).
    """
    return _build_timeline(scenario, _Source("<scenario>"))


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


# ----------------------------------------------------------------- JSON Schema


def schema_text() -> str:
    """The JSON Schema of the scenario format, as committed in ``scenarios/schema.json``."""
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


def write_schema_file(path: str | Path | None = None) -> Path:
    """Write :func:`schema_text` to ``path`` (default: ``scenarios/schema.json``)."""
    target = Path(path) if path is not None else SCHEMA_FILE
    target.write_text(schema_text(), encoding="utf-8")
    return target


def _main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sim.scenario.load",
        description="Check a scenario file, print it resolved, or regenerate schema.json.",
    )
    parser.add_argument("scenario", nargs="?", help="scenario file to load and print resolved")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a value (TOML literal)",
    )
    parser.add_argument(
        "--write-schema",
        nargs="?",
        const=str(SCHEMA_FILE),
        metavar="FILE",
        help="write the JSON Schema (default: scenarios/schema.json)",
    )
    args = parser.parse_args(argv)
    if args.write_schema:
        print(f"wrote {write_schema_file(args.write_schema)}")
    if args.scenario:
        try:
            sys.stdout.write(dump_toml(load_scenario(args.scenario, args.overrides)))
        except ScenarioError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    elif not args.write_schema:
        parser.print_usage(sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
