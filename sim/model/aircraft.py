"""One aircraft of a fleet: its place in the fleet, breakdowns, flying-hour budget, state.

A fleet of ``aircraft = N`` has places 0 … N − 1; each place is one aircraft with its
own random streams (``fleets:<f>:<i>:maintenance``, ``…:loss``, ``…:recovery``,
``…:replacement``, see :mod:`sim.model.streams`), kept when the aircraft is lost and
replaced, so that place ``i`` draws the same numbers in every scenario that has it.

**Breakdowns** (:class:`Maintenance`): an aircraft alternates between up periods
(fit to fly) and down periods (broken down), both exponential, with mean down time
``repair_days`` and mean up time ``repair_days × MC / (1 − MC)``, so that the
long-run share of time up is ``mission_capable`` (MC). The periods are drawn from
the aircraft's own stream in calendar time, as far as they are needed, so they do
not depend on what the aircraft did: a breakdown that starts during a sortie shows
when the aircraft is next ready to take off, and a down aircraft waits until it is
repaired. Day 0 starts up with probability MC. In the deterministic limit nothing
breaks down; the aircraft's weight carries the factor MC instead.

**Flying-hour budget** (:class:`FlyingHours`): a token bucket of flying hours filled at
``ute_h_day`` hours per day, holding at most one sortie's worth; an aircraft takes
off only when the bucket holds the sortie's nominal flying time (out and back), and
every hour flown (out, holding, diversions, back) is taken from it. Nothing accrues
while the aircraft is kept on the ground by a breakdown, the weather or a closure,
so that long-run flying hours are at most ``ute_h_day`` per day fit to fly and the
budget multiplies with the other limits instead of making up for them.

Times are in days, flying hours in hours.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from typing import Any

import numpy as np

from sim.model.drive import Step
from sim.model.hours import EPS
from sim.model.streams import Stream


class Maintenance:
    """Up and down periods of one aircraft in calendar time (drawn as far as needed)."""

    __slots__ = ("bounds", "down_mean", "mc", "stream", "up0", "up_from", "up_mean", "up_to")

    mc: float
    down_mean: float

    def __init__(self, stream: Stream, mission_capable: float, repair_days: float) -> None:
        self.stream = stream
        self.bounds: list[float] = []  # ends of the periods drawn so far (ascending)
        self.up0 = True  # state of the first period
        # The up period :meth:`up_now` found last, [up_from, up_to): inside it the
        # aircraft is up without a search (the fleet asks before every sortie)
        self.up_from = self.up_to = 0.0
        self.configure(mission_capable, repair_days)

    def configure(self, mission_capable: float, repair_days: float, now: float = 0.0) -> None:
        """New rates from ``now``: the period under way runs on, the next ones use these.

        Unchanged rates change nothing (the periods already drawn stand).
        """
        if self.bounds and mission_capable == self.mc and repair_days == self.down_mean:
            return
        self.mc = mission_capable
        self.down_mean = repair_days
        if 0.0 < mission_capable < 1.0:
            self.up_mean = repair_days * mission_capable / (1.0 - mission_capable)
        else:
            self.up_mean = math.inf
        bounds = self.bounds
        if bounds:
            del bounds[bisect_right(bounds, now) + 1 :]
        self.up_from = self.up_to = 0.0  # periods may have gone: forget the one last found

    def next_up(self, t: float) -> float:
        """The first moment at or after ``t`` the aircraft is up (inf if never)."""
        mc = self.mc
        if mc >= 1.0:
            return t
        if mc <= 0.0:
            return math.inf
        bounds = self.bounds
        stream = self.stream
        if not bounds:  # day 0: the stationary state, a memoryless remainder
            self.up0 = stream.uniform() < mc
            bounds.append(stream.exponential(self.up_mean if self.up0 else self.down_mean))
        while bounds[-1] <= t:
            up = (len(bounds) % 2 == 0) == self.up0  # the state of the period being drawn
            bounds.append(bounds[-1] + stream.exponential(self.up_mean if up else self.down_mean))
        i = bisect_right(bounds, t)
        up = (i % 2 == 0) == self.up0
        return t if up else bounds[i]

    def up_now(self, t: float) -> bool:
        """Whether the aircraft is up at ``t``, as the fleet judges it before a sortie.

        Within the periods already drawn, the period holding ``t`` decides (a period
        under way when the rates changed runs on); beyond them, :meth:`next_up`. An up
        period found among those drawn is remembered (``up_from``, ``up_to``): until
        :meth:`configure` cuts the periods drawn, the drawn ones never change, so a
        later ``t`` inside it is up too, and the caller may test that first.
        """
        bounds = self.bounds
        if bounds and bounds[-1] > t:
            i = bisect_right(bounds, t)
            if (i % 2 == 0) == self.up0:
                self.up_from = bounds[i - 1] if i else -math.inf
                self.up_to = bounds[i]
                return True
            return False
        return self.next_up(t) <= t

    def is_up(self, t: float) -> bool:
        """Whether the aircraft is up at ``t``."""
        return self.next_up(t) <= t

    def up_at(self, times: np.ndarray) -> np.ndarray:
        """1.0 where the aircraft is up just before ``times`` (ascending), else 0.0."""
        if self.mc >= 1.0 or len(times) == 0:
            return np.ones(len(times))
        if self.mc <= 0.0:
            return np.zeros(len(times))
        self.next_up(float(times[-1]))  # draw the periods as far as needed
        i = np.searchsorted(np.array(self.bounds), times - EPS, side="right")
        up: np.ndarray = ((i % 2 == 0) == self.up0).astype(float)
        return up


class FlyingHours:
    """A flying-hour budget: ``ute_h_day`` hours a day, at most one sortie saved up."""

    __slots__ = ("at", "cap", "level", "rate")

    def __init__(self) -> None:
        self.rate = math.inf  # hours per day (inf: no budget)
        self.cap = 0.0
        self.level = 0.0
        self.at = 0.0

    def configure(self, ute_h_day: float | None, sortie_h: float) -> None:
        """The budget in force (none: unlimited) and the nominal flying hours of a sortie."""
        if ute_h_day is None:
            self.rate = math.inf
            return
        now_full = self.rate == math.inf
        self.rate = ute_h_day
        self.cap = sortie_h
        if now_full:
            self.level = sortie_h

    def affordable(self, t: float, hours: float) -> float:
        """The first moment at or after ``t`` the budget holds ``hours``."""
        rate = self.rate
        if rate == math.inf:
            return t
        level = self.level + (t - self.at) * rate
        if level >= hours - 1e-9 or level >= self.cap - 1e-9:
            return t
        need = (hours if hours < self.cap else self.cap) - level
        return t + need / rate

    def pause(self, t: float, until: float) -> None:
        """No budget accrues from ``t`` to ``until`` (the aircraft is kept on the ground)."""
        rate = self.rate
        if rate == math.inf or until <= t:
            return
        level = self.level + (t - self.at) * rate
        self.level = level if level < self.cap else self.cap
        self.at = until

    def spend(self, t: float, hours: float) -> None:
        """Take ``hours`` flown at ``t`` from the budget."""
        rate = self.rate
        if rate == math.inf:
            return
        level = self.level + (t - self.at) * rate
        if level > self.cap:
            level = self.cap
        self.level = level - hours
        self.at = t


class Aircraft:
    """One place of a fleet: streams, state, and the driven cycle that flies it.

    ``ready_at`` is when the aircraft may next take off as far as its own state goes
    (turned round, first departure, the next try after an aborted opportunity, the
    time to leave for a target it waits for); ``back_at`` when a lost aircraft is
    replaced (inf: not yet; 0: it is there). ``survival`` is the deterministic
    limit's probability that the aircraft is still there (1 in a stochastic run,
    where a lost aircraft is simply away until replaced). ``hour`` is its own time of
    day (days) for a day's first departure. Under a tasking ceiling, ``tasked`` and
    ``due`` are the times opportunities were *due*, which may be earlier than when
    the aircraft left for them (see :mod:`sim.model.airlift`).
    """

    __slots__ = (
        "account",
        "allowed_at",
        "away",
        "back_at",
        "booking",
        "diverted",
        "downtime_seen",
        "due",
        "first_offset",
        "flying_hours",
        "ground_u",
        "held_since",
        "hour",
        "index",
        "j",
        "load",
        "loss",
        "maintenance",
        "opens_at",
        "out",
        "plan",
        "q_air",
        "ready_at",
        "recovery",
        "replacement",
        "returns",
        "service",
        "step",
        "survival",
        "target",
        "tasked",
        "waiting",
        "weight",
    )

    def __init__(self, index: int, streams: tuple[Stream, Stream, Stream, Stream]) -> None:
        self.index = index
        maint, self.loss, self.recovery, self.replacement = streams
        self.maintenance = Maintenance(maint, 1.0, 1.0)
        self.flying_hours = FlyingHours()
        self.ready_at = 0.0
        self.allowed_at = -1.0  # the take-off time computed on the way home (-1: none)
        self.opens_at = 0.0  # waiting at home to leave for a target's opening hours then
        self.back_at = 0.0
        # Tasking ceiling: the time an opportunity is due (tasked), not when it leaves.
        self.tasked = -math.inf  # due time of the last opportunity flown or lost
        self.due = 0.0  # due time of the opportunity the aircraft is now waiting for
        self.hour = 0.0
        self.first_offset = 0.0  # days from a day's start to its first departure ever
        self.survival = 1.0
        self.returns: list[tuple[float, float]] = []  # deterministic: (time, weight) coming back
        self.away = False  # lost, its replacement not yet arrived
        # (time, weight in service from then on): 1/0 in or out of the fleet (lost,
        # retired), or the deterministic limit's survival; in time order
        self.service: list[tuple[float, float]] = []
        self.load: list[float] | None = None  # cargo aboard now (t per commodity)
        self.account: Any = None  # the ledger account of that cargo
        # the sortie under way: target, its booked landing (landing, unloading done)
        # or pass time, the index of the target in the fleet's list, the weight of
        # the sortie (deterministic limit), the flight time out, a diversion made,
        # the share lost in flight drawn at take-off
        self.target: Any = None
        self.booking: Any = None
        self.j = 0
        self.weight = 1.0
        self.out = 0.0
        self.diverted = False
        self.q_air = 0.0
        self.ground_u = 0.0  # this sortie's uniform for a loss on the ground
        self.downtime_seen = -1.0  # end of the last breakdown counted as an abort
        self.waiting = False  # at home, in an interruptible wait
        self.held_since = -1.0  # waiting at home for a target to take it since (-1: not)
        self.plan: Any = None  # a landing or pass booked ahead, to leave at ready_at for it
        self.step: Step | None = None  # its cycle, driven (sim.model.drive)

    def alive(self, t: float) -> bool:
        """Whether the aircraft is with its fleet at ``t`` (not lost and awaiting replacement)."""
        return self.back_at <= t + EPS

    def restore(self, t: float) -> None:
        """Deterministic limit: take back the weight of lost aircraft replaced by ``t``."""
        returns = self.returns
        while returns and returns[0][0] <= t + EPS:
            when, weight = returns.pop(0)
            s = self.survival + weight
            self.survival = s if s < 1.0 else 1.0
            self.service.append((when, self.survival))

    def in_service(self, day_ends: np.ndarray) -> np.ndarray:
        """The weight in service just before each of ``day_ends`` (from :attr:`service`).

        A change at midnight (an event) counts for the day it starts, not the day before.
        """
        if not self.service:
            return np.zeros(len(day_ends))
        times = np.array([t for t, _ in self.service])
        values = np.array([v for _, v in self.service] + [0.0])  # [-1]: before the first entry
        idx = np.searchsorted(times, day_ends - EPS, side="right") - 1
        return values[idx]
