"""Dated events that change parameters during a run: built by :mod:`sim.scenario.timeline`.

The world applies each :class:`TimelineStep` at the start of its day by letting every
component named by one of its paths re-read its parameters from the step's scenario
(:meth:`sim.model.world.World.apply`). The steps are built once per scenario, while
it is validated, and shipped with it to worker processes.
"""

from sim.scenario.timeline import TimelineStep, timeline_steps

__all__ = ["TimelineStep", "timeline_steps"]
