"""Dotted key paths into a scenario: parsing, printing, and setting a value at a path.

A path names one key of the scenario format, the way ``--set``, sweeps and
timeline events address a parameter::

    fleets.wfp.payload_t                 a field of a dict entry
    pockets.city.rations.levels[0]       an array element (0-based)
    observations[1].from                 field aliases, as written in files
    events[2].set."routes.x.open"        a key that contains dots, in double quotes

Grammar: segments separated by ``.``; a segment is a bare word (letters, digits,
``_`` and ``-``) or a double-quoted string (JSON escapes); ``[N]`` after a segment
indexes an array.

A path must name a key that exists in the scenario format:

* a field of the pydantic model at that place (by its alias, e.g. ``from``); an
  optional field that is absent from the data still exists;
* an existing entry of a dict of models (``pockets``, ``fleets``, ``airfields``,
  ``helipads``, ``drop_zones``, ``routes``, ``commodities``): a path never creates
  a pocket, a fleet, ...;
* an existing element of an array (indices are not appended);
* in a dict of plain values (``stock_t``, ``cargo``, an event's ``set``) a new last
  key is accepted when the caller allows new entries (``--set``, sweeps), never for
  timeline events.

Unknown names are reported with the closest valid name (difflib).
"""

from __future__ import annotations

import difflib
import json
import re
import types
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

Segment = str | int
"""One step of a path: a key (str) or an array index (int)."""

_BARE = re.compile(r"[A-Za-z0-9_\-]+")
_INDEX = re.compile(r"\[\s*(-?\d+)\s*\]")


class PathError(ValueError):
    """A path that is malformed or does not name an existing key (message in ``args[0]``).

    ``key`` is the key of a table that held the bad path, where one did
    (:func:`flatten_table`).
    """

    key: str = ""


def parse_path(text: str) -> tuple[Segment, ...]:
    """Split a dotted path into segments: ``'a.b[2]."x.y"'`` → ``('a', 'b', 2, 'x.y')``."""
    segments: list[Segment] = []
    i, n = 0, len(text)
    if not text.strip():
        raise PathError("empty key path")
    expect_key = True
    while i < n:
        if expect_key:
            if text[i] == '"':
                try:
                    key, end = json.JSONDecoder().raw_decode(text, i)
                except json.JSONDecodeError:
                    raise PathError(
                        f"malformed key path {text!r}: unterminated quoted key"
                    ) from None
                segments.append(key)
                i = end
            else:
                m = _BARE.match(text, i)
                if not m:
                    raise PathError(
                        f"malformed key path {text!r}: expected a key at position {i + 1}"
                    )
                segments.append(m.group())
                i = m.end()
            expect_key = False
        elif text[i] == ".":
            i += 1
            expect_key = True
            if i == n:
                raise PathError(f"malformed key path {text!r}: ends with '.'")
        elif text[i] == "[":
            m = _INDEX.match(text, i)
            if not m:
                raise PathError(
                    f"malformed key path {text!r}: expected [index] at position {i + 1}"
                )
            index = int(m.group(1))
            if index < 0:
                raise PathError(f"malformed key path {text!r}: negative index {index}")
            segments.append(index)
            i = m.end()
        else:
            raise PathError(
                f"malformed key path {text!r}: unexpected {text[i]!r} at position {i + 1}"
            )
    return tuple(segments)


def format_path(segments: Sequence[Segment]) -> str:
    """The inverse of :func:`parse_path`: ``('a', 2, 'x.y')`` → ``'a[2]."x.y"'``."""
    out: list[str] = []
    for seg in segments:
        if isinstance(seg, int):
            out.append(f"[{seg}]")
            continue
        text = seg if _BARE.fullmatch(seg) else json.dumps(seg, ensure_ascii=False)
        out.append(f".{text}" if out else text)
    return "".join(out)


# --------------------------------------------------------------------------- types


def flatten_table(
    table: Mapping[str, Any], is_leaf: Callable[[Any], bool] | None = None
) -> list[tuple[str, tuple[Segment, ...], Any]]:
    """A table of dotted paths → ``(top-level key, full path, value)`` leaves.

    Keys at the top may be dotted paths (``"fleets.wfp.aircraft"``,
    ``"events[3].date"``); a nested table is one more path step per key, so
    ``{ fleets = { wfp = { aircraft = 2 } } }`` and ``{ "fleets.wfp.aircraft" = 2 }``
    mean the same, and setting a table merges into the one there key by key (as
    ``extends`` does). ``is_leaf(value)`` stops the descent at tables that are values
    themselves (a sweep range ``{ low, high }``). A top-level key that is not a
    path raises :class:`PathError` with that key in its ``key`` attribute.
    """
    out: list[tuple[str, tuple[Segment, ...], Any]] = []

    def walk(top: str, prefix: tuple[Segment, ...], value: Any) -> None:
        if isinstance(value, Mapping) and value and not (is_leaf and is_leaf(value)):
            for k, v in value.items():
                walk(top, (*prefix, k), v)
        else:
            out.append((top, prefix, value))

    for key, value in table.items():
        try:
            segments = parse_path(key)
        except PathError as exc:
            exc.key = key
            raise
        walk(key, segments, value)
    return out


def unwrap(tp: Any) -> tuple[Any, list[Any]]:
    """Strip ``Annotated`` and ``X | None`` from a type; return it and the collected metadata."""
    meta: list[Any] = []
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp, *extra = get_args(tp)
            meta.extend(extra)
            continue
        if origin in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) == 1:
                tp = args[0]
                continue
        return tp, meta


def is_model(tp: Any) -> bool:
    """True if ``tp`` is a pydantic model class."""
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def model_keys(model: type[BaseModel]) -> dict[str, str]:
    """Keys of a model as written in files (alias or name) → Python attribute name."""
    return {(info.alias or name): name for name, info in model.model_fields.items()}


def _field(model: type[BaseModel], key: str) -> tuple[Any, list[Any]] | None:
    """Type and metadata of the field written ``key`` (alias, or name as a fallback)."""
    name = model_keys(model).get(key, key)
    info = model.model_fields.get(name)
    if info is None:
        return None
    tp, meta = unwrap(info.annotation)
    return tp, list(info.metadata) + meta


def child_type(tp: Any, seg: Segment) -> tuple[Any, list[Any]] | None:
    """Type (unwrapped) and metadata one step below ``tp``; None if there is no such child."""
    tp, _ = unwrap(tp)
    if is_model(tp):
        return _field(tp, seg) if isinstance(seg, str) else None
    origin, args = get_origin(tp), get_args(tp)
    if origin is dict and isinstance(seg, str):
        return unwrap(args[1]) if args else (Any, [])
    if origin is list and isinstance(seg, int):
        return unwrap(args[0]) if args else (Any, [])
    if origin is tuple and isinstance(seg, int):
        if len(args) == 2 and args[1] is Ellipsis:
            return unwrap(args[0])
        return unwrap(args[seg]) if seg < len(args) else None
    if tp is Any:
        return Any, []
    return None


def type_at(root: Any, loc: Sequence[Segment]) -> tuple[Any, list[Any]] | None:
    """Type and metadata at a pydantic error location (``'[key]'`` steps are skipped)."""
    tp: Any = root
    meta: list[Any] = []
    for seg in loc:
        if seg == "[key]":
            continue
        found = child_type(tp, seg)
        if found is None:
            return None
        tp, meta = found
    return tp, meta


def bounds(meta: Sequence[Any]) -> dict[str, Any]:
    """Numeric constraints (``gt``, ``ge``, ``lt``, ``le``) found in a field's metadata."""
    out: dict[str, Any] = {}
    for m in meta:
        items = m.metadata if isinstance(m, FieldInfo) else [m]
        for item in items:
            for name in ("gt", "ge", "lt", "le"):
                value = getattr(item, name, None)
                if value is not None:
                    out[name] = value
    return out


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """``" — did you mean 'x'?"`` for the closest choice, or ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" — did you mean {close[0]!r}?" if close else ""


def unknown_key_message(key: str, choices: Sequence[str]) -> str:
    """``unknown key 'payload' — did you mean 'payload_t'?`` (or the list of valid keys)."""
    hint = did_you_mean(key, choices)
    if not hint:
        hint = f" (valid keys: {', '.join(choices)})" if choices else ""
    return f"unknown key {key!r}{hint}"


def _kind_name(node: Any) -> str:
    if isinstance(node, dict):
        return "a table"
    if isinstance(node, list | tuple):
        return "an array"
    if isinstance(node, bool):
        return "a boolean"
    if isinstance(node, str):
        return "a string"
    if isinstance(node, int | float):
        return "a number"
    return f"a {type(node).__name__}"


# ----------------------------------------------------------------------- setting


def set_path(
    data: dict[str, Any],
    segments: Sequence[Segment],
    value: Any,
    root: type[BaseModel],
    *,
    new_entries: bool = True,
) -> None:
    """Set ``value`` at ``segments`` in the plain data ``data`` of a ``root`` model, in place.

    ``data`` is the dict form of the model (as read from TOML, or from
    ``model_dump(by_alias=True)`` with tuples turned into lists). Missing tables of
    optional model fields are created on the way down. Raises :class:`PathError`
    when the path does not name an existing key (see the module docstring); nothing
    is validated here beyond the shape of the path.
    """
    if not segments:
        raise PathError("empty key path")
    tp: Any = root
    node: Any = data
    for depth, seg in enumerate(segments):
        last = depth == len(segments) - 1
        here = format_path(segments[:depth]) or "the scenario"
        tp, _ = unwrap(tp)
        origin = get_origin(tp)
        if is_model(tp) or origin is dict or (tp is Any and isinstance(node, dict)):
            if not isinstance(seg, str):
                raise PathError(f"{here} is a table, not an array: use .key, not [{seg}]")
            if not isinstance(node, dict):
                raise PathError(f"{here} is {_kind_name(node)}, not a table")
            if is_model(tp):
                keys = model_keys(tp)
                if seg not in keys:
                    raise PathError(unknown_key_message(seg, list(keys)))
            elif seg not in node:
                value_tp = unwrap(get_args(tp)[1])[0] if origin is dict else Any
                if is_model(value_tp) or not new_entries or not last:
                    known = ", ".join(node) or "none"
                    raise PathError(
                        f"no entry {seg!r} in {here}{did_you_mean(seg, list(node))} "
                        f"(known: {known})"
                    )
        elif origin in (list, tuple) or (tp is Any and isinstance(node, list | tuple)):
            if not isinstance(seg, int):
                raise PathError(f"{here} is an array: use [index], not .{seg}")
            if not isinstance(node, list):
                raise PathError(f"{here} is {_kind_name(node)}, not an array")
            if seg >= len(node):
                raise PathError(
                    f"index [{seg}] is out of range: {here} has {len(node)} "
                    f"entr{'y' if len(node) == 1 else 'ies'}"
                )
        else:
            raise PathError(f"{here} is a single value, it has no key {format_path([seg])!r}")

        if last:
            node[seg] = value
            return
        found = child_type(tp, seg)
        child_tp = found[0] if found else Any
        child = node.get(seg) if isinstance(node, dict) else node[seg]
        if child is None:
            if isinstance(node, dict):  # absent, or an optional table left out (None)
                if is_model(child_tp) or get_origin(child_tp) is dict:
                    child = node[seg] = {}
                elif get_origin(child_tp) in (list, tuple):
                    where = format_path(segments[: depth + 1])
                    raise PathError(
                        f"{where} is not given, so it has no elements to set; "
                        f"set the whole array instead ({where}=[...])"
                    )
            if child is None:
                raise PathError(f"{format_path(segments[: depth + 1])} is not set")
        tp, node = child_tp, child
