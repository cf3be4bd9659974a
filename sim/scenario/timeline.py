"""The timeline: dated events turned into the parameter steps of a run, built once.

A scenario's ``[[events]]`` each set some parameters (dotted paths) from 00:00 of
their date. The timeline applies them cumulatively in date order (events on the same
date in file order) and gives one :class:`TimelineStep` per event: its day (0 =
``calendar.start``), its title, the paths it set and the **whole scenario in force
from that day on**, which the model's components re-read.

Every version of the scenario must be valid, so building the timeline is part of
validating a scenario. It costs time linear in the number of events: an event's
changes are applied only to the top-level sections it touches (``fleets``,
``siege``...), those sections alone are validated again, and the new version shares
every other section with the previous one (``model_copy(update=...)``). References
between sections are checked again on the version without its events and
observations, which no event may change, so a check does not grow with the length
of the timeline.

Rules for events (an event that breaks one is an input error at
``events[i].set."path"``, ``i`` its index in the file):

- the keys of :data:`EVENT_FIXED_KEYS` are fixed for the whole run;
- an event may not add or remove entries of a dict of components (a fleet, a
  pocket...), nor new keys of a plain table;
- an event may not change a fleet's ``mode`` (a fleet is a kind of aircraft);
- every version must pass the schema and :func:`~sim.scenario.schema.check_references`.

:func:`timeline_steps` returns the steps of a scenario object, building them only
if :func:`remember` was not told them (the loader tells it what it built while
validating; a worker process is told the steps shipped with the scenario).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, get_args, get_origin

from pydantic import TypeAdapter, ValidationError

from sim.scenario.errors import ScenarioError, describe_validation_error
from sim.scenario.paths import (
    PathError,
    Segment,
    format_path,
    is_model,
    parse_path,
    set_path,
    unwrap,
)
from sim.scenario.schema import Scenario, check_references

__all__ = [
    "EVENT_FIXED_KEYS",
    "Locate",
    "TimelineStep",
    "build_timeline",
    "remember",
    "timeline_steps",
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

Locate = Callable[[Sequence[Segment]], tuple[str, str]]
"""``locate(key path) -> (file, note)``: which file a value came from, for messages."""


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


# ---- the schema, section by section -----------------------------------------------------

_FIELDS: dict[str, str] = {
    (info.alias or name): name for name, info in Scenario.model_fields.items()
}
"""Top-level keys as written in files → Python attribute names."""


def _is_component_dict(tp: Any) -> bool:
    tp = unwrap(tp)[0]
    return get_origin(tp) is dict and is_model(unwrap(get_args(tp)[1])[0])


COMPONENT_SECTIONS: tuple[str, ...] = tuple(
    key
    for key, name in _FIELDS.items()
    if _is_component_dict(Scenario.model_fields[name].annotation)
)
"""Dicts of named components (pockets, fleets, ...): events may not add or remove entries."""


@cache
def _adapter(key: str) -> TypeAdapter[Any]:
    """A validator of the top-level section written ``key`` alone (its type and constraints)."""
    info = Scenario.model_fields[_FIELDS[key]]
    tp: Any = info.annotation
    if info.metadata:
        tp = Annotated[(tp, *info.metadata)]
    return TypeAdapter(tp)


def _plain(value: Any) -> Any:
    """Plain, mutable data: tuples → lists (the dump of a section, ready for set_path)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return _plain(value.tolist())
    return value


def _section_data(version: Scenario, key: str) -> Any:
    value = getattr(version, _FIELDS[key])
    return _plain(_adapter(key).dump_python(value, by_alias=True))


# ---- building ---------------------------------------------------------------------------


def _nowhere(loc: Sequence[Segment]) -> tuple[str, str]:
    return "<scenario>", ""


def build_timeline(scenario: Scenario, locate: Locate | None = None) -> list[TimelineStep]:
    """Apply the events cumulatively in date order; validate every version (see above).

    Raises :class:`ScenarioError` at the offending event key; ``locate`` names the
    file the event came from (default ``<scenario>``).
    """
    where = locate or _nowhere
    events = scenario.events
    order = sorted(range(len(events)), key=lambda i: events[i].date)
    entries = {key: set(getattr(scenario, _FIELDS[key])) for key in COMPONENT_SECTIONS}
    light: dict[str, Any] = {"events": [], "observations": []}
    cal = scenario.calendar
    current = scenario
    steps: list[TimelineStep] = []
    for i in order:
        event = events[i]
        keys = list(event.set)
        changed: list[tuple[Segment, ...]] = []
        data: dict[str, Any] = {}
        touched: list[str] = []
        for key, value in event.set.items():
            try:
                segments = parse_path(key)
            except PathError as exc:
                raise _event_error(where, i, key, str(exc)) from None
            top = segments[0]
            if top in EVENT_FIXED_KEYS:
                raise _event_error(
                    where,
                    i,
                    key,
                    f"an event cannot change {top!r}: "
                    f"{', '.join(EVENT_FIXED_KEYS)} are fixed for the whole run",
                )
            if isinstance(top, str) and top in _FIELDS and top not in touched:
                touched.append(top)
                section = _section_data(current, top)
                if section is not None:
                    data[top] = section
            try:
                set_path(data, segments, _plain(value), Scenario, new_entries=False)
            except PathError as exc:
                raise _event_error(where, i, key, str(exc)) from None
            changed.append(segments)
        update: dict[str, Any] = {}
        for top in touched:
            try:
                update[_FIELDS[top]] = _adapter(top).validate_python(data.get(top))
            except ValidationError as exc:
                loc, message = describe_validation_error(exc, Scenario, prefix=(top,))
                key = _closest_key(keys, changed, loc)
                value = event.set[key]
                if isinstance(value, dict) and value and "." not in key:
                    message += (
                        f" (to set one value, quote the dotted key: {_leaf_hint(key, value)})"
                    )
                raise _event_error(where, i, key, message, loc) from None
            if top in entries:
                now = set(update[_FIELDS[top]])
                if now != entries[top]:
                    added, removed = sorted(now - entries[top]), sorted(entries[top] - now)
                    what = f"adds {added}" if added else f"removes {removed}"
                    key = _closest_key(keys, changed, (top,))
                    raise _event_error(
                        where, i, key, f"an event cannot add or remove {top} entries ({what})"
                    )
        for f, fleet in update.get("fleets", {}).items():
            before = scenario.fleets[f].mode
            if fleet.mode != before:
                key = _closest_key(keys, changed, ("fleets", f, "mode"))
                raise _event_error(
                    where,
                    i,
                    key,
                    f"an event cannot change a fleet's mode (fleets.{f}.mode is {before!r}); "
                    "define another fleet and switch between them with aircraft or "
                    "active_from/active_to",
                    ("fleets", f, "mode"),
                )
        version = current.model_copy(update=update)
        problems = check_references(version.model_copy(update=light))
        if problems:
            path, message = problems[0]
            try:
                at: tuple[Segment, ...] = parse_path(path)
            except PathError:
                at = ()
            key = _closest_key(keys, changed, at)
            raise _event_error(where, i, key, message, at)
        steps.append(
            TimelineStep(
                day=cal.day(event.date),
                title=event.title,
                paths=tuple(format_path(p) for p in changed),
                scenario=version,
            )
        )
        current = version
    return steps


def _event_error(
    locate: Locate, i: int, key: str, message: str, inner: Sequence[Segment] | None = None
) -> ScenarioError:
    """An error at ``events[i].set."key"``; ``inner`` is the deeper path the problem is at."""
    try:
        key_segments: tuple[Segment, ...] | None = parse_path(key)
    except PathError:
        key_segments = None
    if inner and key_segments is not None and tuple(inner) != key_segments:
        message = f"{format_path(inner)}: {message}"
    at = ("events", i, "set", key)
    file, note = locate(at)
    return ScenarioError(file, format_path(at), message + note)


def _leaf_hint(key: str, value: Mapping[str, Any]) -> str:
    """``"a.b.c" = ...`` for the first leaf of a nested table (unquoted dotted keys)."""
    parts = [key]
    node: Any = value
    while isinstance(node, dict) and node:
        k, node = next(iter(node.items()))
        parts.append(k)
    return f'"{".".join(parts)}" = ...'


def _closest_key(
    keys: Sequence[str], changed: Sequence[tuple[Segment, ...]], loc: Sequence[Segment]
) -> str:
    """The event key whose path shares the longest prefix with ``loc``."""

    def common(p: tuple[Segment, ...]) -> int:
        n = 0
        for a, b in zip(p, loc, strict=False):
            if a != b:
                break
            n += 1
        return n

    best = max(range(len(changed)), key=lambda j: common(changed[j]), default=0)
    return keys[best]


# ---- built once -------------------------------------------------------------------------

_BUILT: dict[int, tuple[weakref.ref[Scenario], list[TimelineStep]]] = {}
"""``id(scenario)`` → (a weak reference to it, its steps), while the scenario lives."""


def remember(scenario: Scenario, steps: list[TimelineStep]) -> None:
    """Record ``steps`` as the timeline of this scenario object (for :func:`timeline_steps`)."""
    key = id(scenario)

    def forget(ref: weakref.ref[Scenario]) -> None:
        entry = _BUILT.get(key)
        if entry is not None and entry[0] is ref:
            del _BUILT[key]

    _BUILT[key] = (weakref.ref(scenario, forget), steps)


def timeline_steps(scenario: Scenario) -> list[TimelineStep]:
    """The scenario's timeline steps in date order, built at most once per scenario object.

    The start (day 0, before any event) is ``scenario`` itself and is not a step. A
    scenario from :func:`~sim.scenario.load.load_scenario` or
    :func:`~sim.scenario.load.with_values` always has a valid timeline; for another one
    this raises :class:`ScenarioError` (file ``<scenario>``).
    """
    entry = _BUILT.get(id(scenario))
    if entry is not None and entry[0]() is scenario:
        return entry[1]
    steps = build_timeline(scenario) if scenario.events else []
    remember(scenario, steps)
    return steps
