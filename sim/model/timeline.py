"""Dated events that change parameters during a run.

The scenario layer turns ``[[events]]`` into a list of
:class:`~sim.scenario.load.TimelineStep`: for each event, its day, its title, the
dotted paths it sets and the whole validated scenario in force from that day on.
The world applies a step at the start of its day by letting every component named
by a path re-read its parameters (:meth:`sim.model.world.World.apply`).

Building the steps validates one scenario per event, so they are computed once per
scenario object and shared by all its replications in a process.
"""

from __future__ import annotations

from sim.scenario.load import TimelineStep, timeline
from sim.scenario.schema import Scenario

__all__ = ["TimelineStep", "timeline_steps"]

_CACHE: dict[int, tuple[Scenario, list[TimelineStep]]] = {}
_CACHE_SIZE = 16


def timeline_steps(scenario: Scenario) -> list[TimelineStep]:
    """The scenario's timeline steps in date order (cached per scenario object)."""
    hit = _CACHE.get(id(scenario))
    if hit is not None and hit[0] is scenario:
        return hit[1]
    steps = timeline(scenario) if scenario.events else []
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[id(scenario)] = (scenario, steps)
    return steps
