"""Errors in scenario input, reported as one line: ``FILE: dotted.key.path: what is wrong``.

Every problem found while reading, merging, overriding or validating a scenario is
raised as a :class:`ScenarioError`. It names the file the offending value came from
(or the source of the values, e.g. ``<values>`` for a sweep), the dotted key path of
the offending key in the scenario format (``fleets.wfp.payload_t``,
``events[3].date``, ``events[2].set."routes.airbase_city.open"``; empty for
problems with the file as a whole) and a plain-words message. The command line
prints ``error: `` followed by ``str(err)`` and exits with status 2.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from sim.conventions import InputError, one_line
from sim.scenario.paths import Segment, bounds, is_model, model_keys, type_at, unknown_key_message


class ScenarioError(InputError):
    """Bad scenario input: which file, which dotted key path, what is wrong.

    ``str(err)`` is ``"{file}: {path}: {message}"``, or ``"{file}: {message}"`` when
    ``path`` is empty, always on a single line. The error pickles (it can cross a
    process boundary in a parallel sweep).
    """

    file: str
    path: str
    message: str

    def __init__(self, file: str, path: str, message: str) -> None:
        self.file = one_line(file)
        self.path = one_line(path)
        self.message = one_line(message)
        super().__init__(self.file, self.path, self.message)

    def __str__(self) -> str:
        if self.path:
            return f"{self.file}: {self.path}: {self.message}"
        return f"{self.file}: {self.message}"

    def __repr__(self) -> str:
        return f"ScenarioError({self.file!r}, {self.path!r}, {self.message!r})"


# ------------------------------------------------------- pydantic errors → one line

_NAME_RULE = "names are snake_case: lowercase letters and digits, words joined by single '_'"
_NAME_PATTERN = r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$"


def _num(x: Any) -> str:
    """A number as a user would write it: ``0`` not ``0.0``, ``1.4``, ``-3``."""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


def show_value(v: Any) -> str:
    """A short, single-line rendering of an input value for a message."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return _num(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dict):
        return "a table"
    if isinstance(v, list | tuple):
        return "an array"
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _bounds_text(b: dict[str, Any]) -> str:
    lo = ("ge", ">=") if "ge" in b else ("gt", ">") if "gt" in b else None
    hi = ("le", "<=") if "le" in b else ("lt", "<") if "lt" in b else None
    if lo and hi:
        if lo[0] == "ge" and hi[0] == "le":
            return f"must be between {_num(b['ge'])} and {_num(b['le'])}"
        return f"must be {lo[1]} {_num(b[lo[0]])} and {hi[1]} {_num(b[hi[0]])}"
    if lo:
        return f"must be {lo[1]} {_num(b[lo[0]])}"
    if hi:
        return f"must be {hi[1]} {_num(b[hi[0]])}"
    return "is out of range"


def describe_pydantic_error(
    err: Mapping[str, Any], root: type[BaseModel]
) -> tuple[tuple[Segment, ...], str]:
    """One pydantic error (from ``ValidationError.errors()``) → (key path, plain message).

    The location becomes the path (dict key errors, ``[key]``, point at the entry);
    the message is rewritten into plain words with the offending value.
    """
    loc = tuple(err.get("loc", ()))
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    value = err.get("input")
    got = f", got {show_value(value)}"
    is_key = bool(loc) and loc[-1] == "[key]"
    path = tuple(s for s in loc if s != "[key]")

    if kind == "missing":
        return path, "missing required key"
    if kind == "extra_forbidden":
        parent = type_at(root, path[:-1])
        choices = list(model_keys(parent[0])) if parent and is_model(parent[0]) else []
        return path, unknown_key_message(str(path[-1]), choices)
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        found = type_at(root, path)
        b = bounds(found[1]) if found else {}
        if not b:
            b = {k: v for k, v in ctx.items() if k in ("gt", "ge", "lt", "le")}
        return path, _bounds_text(b) + got
    if kind in ("float_type", "float_parsing", "finite_number"):
        return path, "expected a number" + got
    if kind in ("int_type", "int_parsing", "int_from_float", "int_parsing_size"):
        return path, "expected a whole number" + got
    if kind in ("bool_type", "bool_parsing"):
        return path, "expected true or false" + got
    if kind in ("string_type",):
        return path, "expected a string" + got
    if kind.startswith("date") or kind.startswith("datetime"):
        return path, "expected a date (YYYY-MM-DD)" + got
    if kind == "literal_error":
        return path, f"must be one of {ctx.get('expected', '?')}" + got
    if kind == "string_pattern_mismatch":
        what = "name" if ctx.get("pattern") == _NAME_PATTERN else "value"
        rule = _NAME_RULE if what == "name" else f"must match {ctx.get('pattern')}"
        prefix = "invalid entry name" if is_key else f"invalid {what}"
        return path, f"{prefix} {show_value(value)}: {rule}"
    if kind == "string_too_short":
        return path, "must not be empty"
    if kind in ("dict_type", "model_type", "model_attributes_type", "mapping_type"):
        return path, "expected a table" + got
    if kind in ("list_type", "tuple_type", "iterable_type"):
        return path, "expected an array" + got
    if kind == "too_short":
        n = ctx.get("min_length")
        return path, f"must have at least {n} entr{'y' if n == 1 else 'ies'}" + (
            f", got {ctx['actual_length']}" if "actual_length" in ctx else ""
        )
    if kind == "too_long":
        n = ctx.get("max_length")
        return path, f"must have at most {n} entr{'y' if n == 1 else 'ies'}" + (
            f", got {ctx['actual_length']}" if ctx.get("actual_length") is not None else ""
        )
    if kind in ("value_error", "assertion_error"):
        inner = ctx.get("error")
        text = str(inner) if inner is not None else str(err.get("msg", ""))
        for prefix in ("Value error, ", "Assertion failed, "):
            text = text.removeprefix(prefix)
        return path, text
    return path, str(err.get("msg", "invalid value")) + (got if value is not None else "")


def describe_validation_error(
    exc: ValidationError, root: type[BaseModel], prefix: tuple[Segment, ...] = ()
) -> tuple[tuple[Segment, ...], str]:
    """The first error of a ``ValidationError`` as (key path, message), plus ``(and N more)``.

    ``prefix`` is the path, inside ``root``, of what was validated (a section alone).
    """
    errors = exc.errors(include_url=False)
    if not errors:
        return prefix, str(exc)
    # An unknown key is usually the cause of the other errors (a typo also leaves a
    # required key missing), so it is reported first.
    first = next((e for e in errors if e.get("type") == "extra_forbidden"), errors[0])
    if prefix:
        first = {**first, "loc": (*prefix, *first.get("loc", ()))}
    path, message = describe_pydantic_error(first, root)
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more)"
    return path, message
