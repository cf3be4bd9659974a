"""Drive the aircraft cycles on SimPy's event heap, without SimPy processes.

An aircraft's cycle (:meth:`sim.model.airlift.Fleet.fly`) is a generator of small
steps; each ``yield`` hands over how long the aircraft is now busy, in days, or
:data:`UNTIL_WOKEN` (an infinite delay) to wait until an event of the timeline wakes
it. A :class:`Driver` resumes each cycle when its time comes: it keeps one pending
*wake* per cycle on the environment's heap of ``(time, priority, id, item)`` entries
and, when :meth:`Driver.run_until` pops it, sends the cycle on to its next yield.
:meth:`Driver.wake` throws :class:`Woken` into a waiting cycle at once (the pending
wake goes stale: it is popped at its time and ignored).

This is what a SimPy process yielding timeouts does, minus what the model never uses
(an event object per wait, its callbacks list, its value and failure checks). The
driver takes SimPy's entries and ids exactly as a process would, so the order of
every wake, and ``next(env._eid)`` (the events scheduled: ``RunResult.sim_events``),
are the same as with SimPy processes:

- a cycle started (:meth:`Driver.start`) is first resumed by an *urgent* entry at
  the current time (SimPy's ``Initialize``);
- a delay is a *normal* entry at now + delay, its id taken when the cycle yields it
  (SimPy's ``Timeout``, created just before the ``yield``); waiting until woken
  takes no entry (a bare ``Event``);
- a wake is an *urgent* entry at the current time (SimPy's ``Interruption``), and
  entries of equal time and priority run in the order of their ids;
- a cycle that returns takes one id (a process schedules itself as an event when it
  ends); nothing waits for it, so no entry is pushed for it.

An error raised in a cycle ends the run at once, from :meth:`Driver.run_until`, and
so does a negative delay (a ``ValueError``, as from SimPy's ``Timeout``). Cycles are
started and woken from outside (the timeline's events, between days), never by a
cycle while it runs: the entry being run stays at the top of the heap and its next
wake replaces it there (one sift instead of a pop and a push), so a start or a wake
asked for while :meth:`Driver.run_until` runs is refused (a ``RuntimeError`` raised
where it is asked for, which ends the run). The heap is the driver's alone: nothing
else schedules SimPy events on the environment (its clock and ids are shared).
Times are in days.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from heapq import heappop, heappush, heapreplace
from itertools import count
from typing import Any

import simpy

URGENT = 0
"""Priority of a start or a wake: before every normal entry of the same time (SimPy's)."""
NORMAL = 1
"""Priority of the end of a delay (SimPy's ``Timeout``)."""
UNTIL_WOKEN = math.inf
"""The delay a cycle yields to wait until :meth:`Driver.wake` wakes it (no entry)."""

REFUSED = "a cycle scheduled a wake while it ran"
"""Why a start or a wake asked for while :meth:`Driver.run_until` runs is refused."""

Cycle = Generator[float, None, None]
"""A cycle: yields delays in days (:data:`UNTIL_WOKEN`: until woken); returns when done."""


class Woken(BaseException):
    """Thrown into a waiting cycle by :meth:`Driver.wake` (an event changed its world).

    A signal, not an error (as ``GeneratorExit``): no ``except Exception`` catches it.
    """


class Step:
    """One driven cycle: its generator and its one pending wake.

    ``pending`` is the id of the heap entry that will resume the cycle (-1: none, it
    waits until woken or has ended); an entry with another id is stale. ``resume``
    is what that entry calls: the generator's ``send``, or, after :meth:`Driver.wake`,
    a throw of :class:`Woken`.
    """

    __slots__ = ("alive", "cycle", "pending", "resume")

    def __init__(self, cycle: Cycle) -> None:
        self.cycle = cycle
        self.resume = cycle.send
        self.pending = -1
        self.alive = True  # until the generator returns

    def woken(self, _: None) -> float:
        """Resume by throwing :class:`Woken` into the cycle (once: then ``send`` again)."""
        self.resume = self.cycle.send
        return self.cycle.throw(Woken())


class Driver:
    """Resumes the cycles it started when their wakes come off the environment's heap.

    It shares the heap, the clock and the id counter of ``env`` (a
    :class:`simpy.Environment` used as the calendar of wakes; nothing else is put
    on it).
    """

    __slots__ = ("env", "ids", "queue", "running")

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        # (time, priority, id, Step) entries; SimPy types its items as its own events
        self.queue: list[Any] = env._queue
        self.ids: count[int] = env._eid
        self.running = False  # inside run_until: no start or wake (see the module's notes)

    def start(self, cycle: Cycle) -> Step:
        """Drive ``cycle`` from now on: it first runs after this moment's urgent entries."""
        if self.running:
            raise RuntimeError(REFUSED)
        step = Step(cycle)
        eid = step.pending = next(self.ids)
        heappush(self.queue, (self.env._now, URGENT, eid, step))
        return step

    def wake(self, step: Step) -> None:
        """Throw :class:`Woken` into a waiting cycle now (before the moment's normal entries).

        The wake it was waiting for, if any, goes stale. A cycle woken twice before it
        runs is woken once (SimPy would interrupt a process twice); the fleets wake
        only an aircraft marked waiting, and unmark it.
        """
        if not step.alive:
            raise RuntimeError("a cycle that has ended cannot be woken")
        if self.running:
            raise RuntimeError(REFUSED)
        step.resume = step.woken
        eid = step.pending = next(self.ids)
        heappush(self.queue, (self.env._now, URGENT, eid, step))

    def stop(self, step: Step) -> None:
        """End a cycle where it waits (after the run: nothing holds on to it)."""
        step.alive = False
        step.pending = -1
        step.cycle.close()

    def run_until(self, end: float) -> None:
        """Resume every cycle whose wake comes before ``end``, in heap order; the clock is
        then at ``end``. (What ``env.run(until=end)`` would do with SimPy processes.)
        """
        env = self.env
        queue = self.queue
        ids = self.ids
        normal, until_woken = NORMAL, UNTIL_WOKEN
        # The entry being run stays at the top of the heap while its cycle runs (a
        # cycle pushes nothing: starts and wakes asked for meanwhile are refused, see
        # start() and wake()), so its next wake replaces it there: one sift instead of
        # a pop and a push.
        self.running = True
        try:
            while queue:
                entry = queue[0]
                now, _, eid, step = entry
                if not now < end:  # (every wake before end; the top of the heap read once)
                    break
                if step.pending != eid:
                    heappop(queue)
                    continue  # stale: the cycle was woken before this wake came
                env._now = now
                try:
                    delay = step.resume(None)
                except StopIteration:
                    heappop(queue)
                    step.alive = False
                    step.pending = -1
                    next(ids)  # the id an ending SimPy process takes
                    continue
                if delay < until_woken:
                    if delay < 0.0:  # (as SimPy's Timeout: time never runs backwards)
                        raise ValueError(f"a cycle yielded a negative delay: {delay} days")
                    eid = step.pending = next(ids)
                    heapreplace(queue, (now + delay, normal, eid, step))
                else:
                    heappop(queue)
                    step.pending = -1
        finally:
            self.running = False
        env._now = end
