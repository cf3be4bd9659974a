"""One run of a sweep: a design point, a replication, the metrics it gives.

This is what executes in a worker. The parent ships a :class:`SweepContext` once
(the resolved base scenario, the root seed, the swept paths, the metric names, and
the function that evaluates one run) and then a stream of :class:`RunTask` (point
index, replication index, parameter values). The worker builds the point's scenario
with :func:`sim.scenario.load.with_values` (cached while consecutive tasks share a
point), runs replication ``r`` with the root seed — so replication ``r`` of every
point draws from the same named streams (common random numbers) — and reduces it to
the requested metrics.

A run that raises gives a :class:`RunRow` with the error text (``Type: message``,
one line) instead of metrics; the sweep records it and goes on. So does a run whose
worker process kept dying (:func:`lost_row`, ``WorkerLostError: ...``). Interrupts
(``KeyboardInterrupt``, ``SystemExit``) are not caught.

The evaluation function ``evaluate(scenario, replication, seed) -> {metric: float}``
defaults to :func:`default_evaluate` (the model and :mod:`sim.analysis.metrics`);
tests pass their own, which must be a module-level function so that it pickles.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sim.analysis.metrics import replication_metrics
from sim.conventions import one_line
from sim.experiment.executors import WorkerLostError, lost_reason
from sim.experiment.packed import PackedResults, pack
from sim.experiment.slots import SharedSlots
from sim.model.world import run_replication
from sim.scenario.load import with_values
from sim.scenario.schema import Scenario
from sim.scenario.timeline import TimelineStep, remember

Evaluate = Callable[[Scenario, int, int], Mapping[str, float]]
"""``evaluate(scenario, replication, seed) -> {metric name: value}`` for one run."""


def default_evaluate(scenario: Scenario, replication: int, seed: int) -> dict[str, float]:
    """Run the model once and compute :func:`sim.analysis.metrics.replication_metrics`."""
    return replication_metrics(scenario, run_replication(scenario, replication, seed))


@dataclass(frozen=True)
class SweepContext:
    """What every run of a sweep shares (shipped to each worker once).

    ``timeline`` is the base scenario's timeline when no path is swept (every run is
    the base itself); a swept point builds its own while it is validated.
    """

    base: Scenario
    seed: int
    paths: tuple[str, ...]
    metrics: tuple[str, ...]
    evaluate: Evaluate | None = None
    source: str = "<sweep>"
    timeline: tuple[TimelineStep, ...] = ()


@dataclass(frozen=True)
class RunTask:
    """One run: design point ``point`` (its parameter ``values``), replication ``replication``."""

    point: int
    replication: int
    values: tuple[Any, ...]


@dataclass(frozen=True)
class RunRow:
    """The outcome of one run: the metrics (in the context's order) or an error text."""

    point: int
    replication: int
    metrics: tuple[float, ...] | None
    error: str = ""


def describe(err: BaseException) -> str:
    """``Type: message`` on one line."""
    msg = one_line(str(err))
    return f"{type(err).__name__}: {msg}" if msg else type(err).__name__


_LAST: tuple[Any, tuple[Any, ...], Scenario] | None = None
"""Worker-local: ``(context, values, scenario)`` of the last point built (consecutive
tasks share points). Replaced as one tuple, so threads sharing it (Dask threads) never
see one point's values with another point's scenario; holding the context keeps its
identity from being reused by another sweep."""


def point_scenario(context: SweepContext, values: tuple[Any, ...]) -> Scenario:
    """The base scenario with the swept paths set to ``values``."""
    if not context.paths:
        remember(context.base, list(context.timeline))
        return context.base
    global _LAST
    last = _LAST
    if last is not None and last[0] is context and last[1] == values:
        return last[2]
    scenario = with_values(
        context.base, dict(zip(context.paths, values, strict=True)), source=context.source
    )
    _LAST = (context, values, scenario)
    return scenario


def pick_metrics(names: tuple[str, ...], values: Mapping[str, float]) -> tuple[float, ...]:
    """The requested metrics in order; a name the run does not give is an error."""
    out: list[float] = []
    for name in names:
        if name not in values:
            known = ", ".join(values) or "none"
            raise KeyError(f"the run gives no metric {name!r} (it gives: {known})")
        v = values[name]
        out.append(math.nan if v is None else float(v))
    return tuple(out)


def lost_row(task: RunTask, crashes: int) -> RunRow:
    """The row of a run whose worker process kept dying (the executors' ``lost``): a
    failed run, so that the sweep goes on."""
    error = WorkerLostError(lost_reason(crashes))
    return RunRow(task.point, task.replication, None, describe(error))


def execute(context: SweepContext, task: RunTask) -> RunRow:
    """Run one task; exceptions become the row's ``error``."""
    try:
        scenario = point_scenario(context, task.values)
        evaluate = context.evaluate or default_evaluate
        values = evaluate(scenario, task.replication, context.seed)
        return RunRow(task.point, task.replication, pick_metrics(context.metrics, values))
    except Exception as err:
        return RunRow(task.point, task.replication, None, describe(err))


@dataclass(frozen=True)
class ReplicationContext:
    """What every replication of a ``siege run`` shares: the scenario with its timeline
    (built once, in the parent, and shipped with it), the root seed, the run function,
    and the slots of shared memory the results' series come back in (workers forked
    from the parent only; see :mod:`sim.experiment.slots`)."""

    scenario: Scenario
    seed: int
    run_fn: Callable[[Scenario, int, int], Any] | None = None
    timeline: tuple[TimelineStep, ...] = ()
    slots: SharedSlots | None = None


def replicate(context: ReplicationContext, replication: int) -> Any:
    """One replication's full :class:`~sim.model.record.RunResult` (errors propagate)."""
    remember(context.scenario, list(context.timeline))
    if context.run_fn is not None:
        return context.run_fn(context.scenario, replication, context.seed)
    return run_replication(context.scenario, replication, context.seed)


def replicate_chunk(context: ReplicationContext, chunk: range) -> PackedResults:
    """Consecutive replications in one task, in order (fewer round trips to the pool),
    their series packed for the trip back (:mod:`sim.experiment.packed`)."""
    return pack([replicate(context, r) for r in chunk])


def replicate_into(context: ReplicationContext, task: tuple[range, int]) -> PackedResults:
    """:func:`replicate_chunk` of ``task = (chunk, slot)``, the series written into that
    slot of the context's shared memory (:meth:`SharedSlots.pack`)."""
    chunk, slot = task
    results = [replicate(context, r) for r in chunk]
    return pack(results) if context.slots is None else context.slots.pack(slot, results)
