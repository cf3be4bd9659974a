"""Delivery points: airfields and helipads (landing) and drop zones (airdrop).

An airfield (a helipad is a small one) has ``slots`` parking/unloading places —
its maximum on ground, MOG — as :class:`Slots` (a lean :class:`simpy.Resource`), and
a daily operating
window of ``hours`` starting at ``opens_h``. An aircraft holds a slot from the
moment it gets one until it has unloaded; it may start unloading only if it can
finish inside the window, so a slot handles at most ⌊hours / ground_h⌋ aircraft a
day and the field at most ``slots`` times that (the closed form
MOG × hours ÷ ground time, AFPAM 10-1403 formula 9.0 without queueing loss: E8 of
[S:plan-equations] in ``docs/sources.md``).

A field is shut on a day when an event has closed it (``open = false``) or when
shelling closes it: each day with probability
``airfield_closure_per_day × exposure × threat multiplier``.

A drop zone has a recovery share: each pallet of a drop is recovered by the
pocket with that probability (binomial); the rest is lost to no-man's land or the
enemy. Time units are days (``1.0`` = one day).
"""

from __future__ import annotations

import math
from collections import deque

import simpy
from simpy.events import Event, Timeout

from sim.model.streams import Stream
from sim.scenario.schema import Airfield as AirfieldConfig
from sim.scenario.schema import DropZone as DropZoneConfig


class Slots:
    """Parking slots: a :class:`simpy.Resource` without its generic machinery.

    The same simulation as with SimPy's resource, for a fraction of the cost. As in
    SimPy: a request is granted at once (an event scheduled now) when it is first in
    the queue and a slot is free; a release frees the slot at once and schedules an
    event that, when processed, grants the first waiting request if a slot is free;
    every request or release looks at the first waiting request only. ``capacity``
    may change (an event); it takes effect at the next request or release.

    Two of those events are left out when they cannot matter: when nothing else is
    scheduled for the current moment (``env.peek() > env.now``), a granted request's
    event would be the very next one processed, so :meth:`request` returns ``None``
    and the caller simply goes on; and a release with nobody waiting would be
    processed next with nobody to grant. Leaving them out changes nothing but the
    event ids (their order is kept) and the count of events.
    """

    __slots__ = ("capacity", "env", "queue", "users")

    def __init__(self, env: simpy.Environment, capacity: int) -> None:
        self.env = env
        self.capacity = capacity
        self.users = 0
        self.queue: deque[Event] = deque()

    def request(self) -> Event | None:
        """An event that fires when the caller holds a slot (it must :meth:`release` it).

        ``None``: the slot is the caller's now and no event is needed (see the class).
        """
        queue = self.queue
        env = self.env
        if not queue and self.users < self.capacity:
            self.users += 1
            if env.peek() > env.now:
                return None
            return Timeout(env, 0)  # granted now: an event scheduled at the current time
        ev = Event(env)
        queue.append(ev)
        self._grant_first(None)
        return ev

    def release(self) -> None:
        """Give a slot back; waiting requests are looked at when the release is processed."""
        self.users -= 1
        env = self.env
        if self.queue or env.peek() <= env.now:
            Timeout(env, 0).callbacks.append(self._grant_first)  # type: ignore[union-attr]

    def _grant_first(self, _event: Event | None) -> None:
        if self.queue and self.users < self.capacity:
            self.users += 1
            self.queue.popleft().succeed()


class Airfield:
    """A landing site with parking slots and an operating window."""

    __slots__ = (
        "always",
        "closed_today",
        "exposure",
        "hours",
        "is_open",
        "length",
        "name",
        "opens",
        "pocket",
        "slots",
        "stream",
        "usable",
    )

    def __init__(
        self, name: str, cfg: AirfieldConfig, env: simpy.Environment, stream: Stream
    ) -> None:
        self.name = name
        self.pocket = cfg.pocket
        self.slots = Slots(env, cfg.slots)
        self.stream = stream
        self.closed_today = False
        self.usable = True  # open and not shut by shelling today
        self.configure(cfg)

    def configure(self, cfg: AirfieldConfig) -> None:
        """Take the parameters in force (a new slot count applies to the next request)."""
        self.opens = cfg.opens_h / 24.0
        self.length = cfg.hours / 24.0
        self.always = cfg.hours >= 24.0
        self.is_open = cfg.open
        self.exposure = cfg.exposure
        self.slots.capacity = cfg.slots

    def start_day(self, closure_chance: float) -> None:
        """Decide whether the field is shut today (event or shelling)."""
        p = closure_chance * self.exposure
        self.closed_today = (not self.is_open) or (p > 0.0 and self.stream.bernoulli(p, "closure"))
        self.usable = not self.closed_today

    def unload_start(self, t: float, ground: float) -> float:
        """Earliest time ≥ ``t`` at which unloading for ``ground`` days fits the window.

        Returns ``inf`` if it never fits (ground time longer than the window).
        """
        if self.always:
            return t
        length = self.length
        if ground > length + 1e-12:
            return math.inf
        opens = self.opens
        d = math.floor(t) - 1
        while True:
            ws = d + opens
            latest = ws + length - ground
            start = t if t > ws else ws
            if start <= latest + 1e-12:
                return start
            d += 1


class DropZone:
    """A drop zone: where a pocket recovers a share of each drop's pallets."""

    __slots__ = ("is_open", "name", "pallet_t", "pocket", "recovery", "stream", "usable")

    def __init__(self, name: str, cfg: DropZoneConfig, stream: Stream) -> None:
        self.name = name
        self.pocket = cfg.pocket
        self.stream = stream
        self.configure(cfg)

    def configure(self, cfg: DropZoneConfig) -> None:
        """Take the parameters in force."""
        self.is_open = cfg.open
        self.usable = cfg.open  # drop zones are not shelled shut; events overrun them
        self.recovery = cfg.recovery
        self.pallet_t = cfg.pallet_t

    def recover(self, payload_t: float) -> tuple[float, float, float]:
        """Drop ``payload_t`` tonnes; returns (recovered t, pallets dropped, pallets recovered)."""
        n = math.ceil(payload_t / self.pallet_t - 1e-9)
        if n < 1:
            n = 1
        k = self.stream.binomial(n, self.recovery)
        return payload_t * k / n, float(n), k
