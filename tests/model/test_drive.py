"""The driver resumes cycles in the order SimPy processes would run, with the same ids.

Each property runs the same scripted actors twice: as SimPy processes yielding
timeouts (``Event`` for an endless wait, ``Process.interrupt`` to wake), stepped as
the world stepped SimPy before the driver, and as cycles yielding delays to a
:class:`~sim.model.drive.Driver`. The logs of what each actor saw, and when, must be
the same, and so must the count of SimPy ids taken (``RunResult.sim_events``).
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.drive import UNTIL_WOKEN, Driver, Step, Woken

Log = list[tuple[float, int, str]]

# Few distinct delays (days), so that ties of time (ordered by priority and id) are common.
delays = st.sampled_from([0.0, 0.25, 0.5, 1.0, 1.75, 3.0, math.inf])


@dataclass
class Actor:
    """A scripted cycle: its delays in turn; ``waiting`` while it may be woken."""

    name: int
    script: list[float]
    waiting: bool = False
    handle: Any = None  # the SimPy process or the driver's step


@dataclass
class Plan:
    """Actors started on given days; wakes on given days (of the actors waiting then)."""

    scripts: list[tuple[int, list[float]]]  # (start day, delays)
    wakes: list[tuple[int, int]]  # (day, actor)
    days: int = 12
    log: Log = field(default_factory=list)


def simpy_cycle(env: simpy.Environment, a: Actor, log: Log) -> Generator[Any, Any, None]:
    for d in a.script:
        a.waiting = True
        try:
            yield env.timeout(d) if d != math.inf else simpy.Event(env)
            log.append((env.now, a.name, "done"))
        except simpy.Interrupt:
            log.append((env.now, a.name, "woken"))
        a.waiting = False
    log.append((env.now, a.name, "end"))


def driven_cycle(env: simpy.Environment, a: Actor, log: Log) -> Generator[float, None, None]:
    for d in a.script:
        a.waiting = True
        try:
            yield d if d != math.inf else UNTIL_WOKEN
            log.append((env.now, a.name, "done"))
        except Woken:
            log.append((env.now, a.name, "woken"))
        a.waiting = False
    log.append((env.now, a.name, "end"))


class Processes:
    """The old mechanism: each actor a SimPy process, the heap stepped as the world did."""

    def __init__(self) -> None:
        self.env = simpy.Environment()

    def start(self, a: Actor, log: Log) -> None:
        a.handle = self.env.process(simpy_cycle(self.env, a, log))

    def alive(self, a: Actor) -> bool:
        return bool(a.handle.is_alive)

    def wake(self, a: Actor) -> None:
        a.handle.interrupt("event")

    def until(self, end: float) -> None:
        env = self.env
        while env._queue and env._queue[0][0] < end:
            env.step()
        env._now = end


class Driven:
    """The driver: each actor a cycle yielding delays."""

    def __init__(self) -> None:
        self.env = simpy.Environment()
        self.driver = Driver(self.env)

    def start(self, a: Actor, log: Log) -> None:
        a.handle = self.driver.start(driven_cycle(self.env, a, log))

    def alive(self, a: Actor) -> bool:
        return bool(a.handle.alive)

    def wake(self, a: Actor) -> None:
        self.driver.wake(a.handle)

    def until(self, end: float) -> None:
        self.driver.run_until(end)


def run_plan(plan: Plan, mechanism: Processes | Driven) -> tuple[Log, int]:
    """Day by day: start the actors due, wake those named (if waiting), run the day;
    the log and the count of ids taken."""
    log: Log = []
    actors = [Actor(i, script) for i, (_, script) in enumerate(plan.scripts)]
    for d in range(plan.days):
        for i, (start, _) in enumerate(plan.scripts):
            if start == d:
                mechanism.start(actors[i], log)
        for day, i in plan.wakes:
            a = actors[i]
            if day == d and a.waiting and mechanism.alive(a):
                a.waiting = False
                mechanism.wake(a)
        mechanism.until(d + 1)
    return log, next(mechanism.env._eid)


def run_simpy(plan: Plan) -> tuple[Log, int]:
    return run_plan(plan, Processes())


def run_driven(plan: Plan) -> tuple[Log, int]:
    return run_plan(plan, Driven())


plans = st.integers(1, 5).flatmap(
    lambda n: st.builds(
        Plan,
        scripts=st.lists(
            st.tuples(st.integers(0, 4), st.lists(delays, max_size=8)), min_size=n, max_size=n
        ),
        wakes=st.lists(st.tuples(st.integers(0, 11), st.integers(0, n - 1)), max_size=10),
    )
)


@settings(max_examples=300)
@given(plan=plans)
def test_the_same_order_times_and_ids_as_simpy_processes(plan: Plan) -> None:
    assert run_driven(plan) == run_simpy(plan)


def test_a_wake_while_a_delay_runs_makes_that_delay_stale() -> None:
    """Woken at day 1 during a 2.5-day delay (a flight): the cycle is resumed at once,
    and the wake it was waiting for, still on the heap, does not resume it again."""
    plan = Plan(scripts=[(0, [2.5, 1.0])], wakes=[(1, 0)], days=5)
    log, ids = run_driven(plan)
    assert log == [(1, 0, "woken"), (2, 0, "done"), (2, 0, "end")]
    assert (log, ids) == run_simpy(plan)


def test_an_endless_wait_lasts_until_woken() -> None:
    plan = Plan(scripts=[(0, [UNTIL_WOKEN, 0.5])], wakes=[(3, 0)], days=5)
    log, ids = run_driven(plan)
    assert log == [(3, 0, "woken"), (3.5, 0, "done"), (3.5, 0, "end")]
    # start, the 0.5-day delay, the end; the endless wait and the wake's stale nothing
    assert ids == 4 and (log, ids) == run_simpy(plan)


def test_an_endless_wait_takes_no_entry_on_the_heap() -> None:
    env = simpy.Environment()
    driver = Driver(env)
    step = driver.start(iter_endless())
    driver.run_until(1.0)
    assert step.alive and step.pending == -1 and env._queue == []
    driver.stop(step)
    assert not step.alive


def iter_endless() -> Generator[float, None, None]:
    while True:
        yield UNTIL_WOKEN


def test_a_wake_comes_before_the_moments_normal_entries() -> None:
    """A cycle due at day 1 (a normal entry) runs after another woken at day 1 (urgent)."""
    plan = Plan(scripts=[(0, [1.0]), (0, [UNTIL_WOKEN])], wakes=[(1, 1)], days=3)
    log, _ = run_driven(plan)
    assert log[:2] == [(1, 1, "woken"), (1, 1, "end")]
    assert log[2:] == [(1, 0, "done"), (1, 0, "end")]


def test_waking_an_ended_cycle_is_an_error() -> None:
    env = simpy.Environment()
    driver = Driver(env)
    step = driver.start(ends_at_once())
    driver.run_until(1.0)
    assert not step.alive
    with pytest.raises(RuntimeError):
        driver.wake(step)


def ends_at_once() -> Generator[float, None, None]:
    yield from ()


def test_an_error_in_a_cycle_is_raised_by_run_until() -> None:
    def broken() -> Generator[float, None, None]:
        yield 0.5
        raise ZeroDivisionError("a bug")

    driver = Driver(simpy.Environment())
    driver.start(broken())
    with pytest.raises(ZeroDivisionError, match="a bug"):
        driver.run_until(1.0)


def test_a_negative_delay_is_an_error() -> None:
    def backwards() -> Generator[float, None, None]:
        yield -0.5

    driver = Driver(simpy.Environment())
    driver.start(backwards())
    with pytest.raises(ValueError, match="negative delay"):
        driver.run_until(1.0)


def test_a_cycle_that_schedules_a_wake_while_it_runs_is_refused() -> None:
    # the entry being run stays at the top of the heap while its cycle runs, and its
    # next wake replaces it there: a wake pushed meanwhile would break that
    driver = Driver(simpy.Environment())
    other = driver.start(iter_endless())

    def waker() -> Generator[float, None, None]:
        yield 0.25
        driver.wake(other)
        yield 0.25

    driver.start(waker())
    with pytest.raises(RuntimeError, match="scheduled a wake while it ran"):
        driver.run_until(1.0)


def test_each_wake_replaces_the_entry_it_ran_from() -> None:
    env = simpy.Environment()
    driver = Driver(env)

    def ticks() -> Generator[float, None, None]:
        while True:
            yield 0.1

    for _ in range(3):
        driver.start(ticks())
    driver.run_until(2.0)
    assert len(env._queue) == 3  # one pending wake per cycle, nothing left over


def test_the_clock_reads_each_wakes_time_then_the_end() -> None:
    env = simpy.Environment()
    driver = Driver(env)
    seen: list[float] = []

    def cycle() -> Generator[float, None, None]:
        for d in (0.25, 0.5):
            yield d
            seen.append(env.now)

    step: Step = driver.start(cycle())
    driver.run_until(2.0)
    assert seen == [0.25, 0.75] and env.now == 2.0 and not step.alive


def test_a_cycle_that_starts_another_while_it_runs_is_refused() -> None:
    driver = Driver(simpy.Environment())

    def starter() -> Generator[float, None, None]:
        yield 0.25
        driver.start(iter_endless())
        yield 0.25

    driver.start(starter())
    with pytest.raises(RuntimeError, match="scheduled a wake while it ran"):
        driver.run_until(1.0)
    assert not driver.running  # the refusal ended the run; the driver is usable again
    driver.start(iter_endless())
