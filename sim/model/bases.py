"""Home bases: where a fleet's aircraft are turned round and take off.

A base lies outside the enclave. Turning an aircraft round after a sortie (its
fleet's ``base_h``: refuel, load) takes one of ``loading_slots`` places (unlimited
when not given) and counts only the base's open hours (:mod:`sim.model.hours`);
take-offs happen only inside the window, while the base is ``open`` and on days
its weather zone is flyable. Aircraft waiting for a loading place are served first
come, first served; the wait is recorded as queue hours.

Capacity is booked on the base's open clock, so that a base turns round at most
``loading_slots × hours ÷ base_h`` aircraft a day (fractional). In the deterministic
limit an aircraft holds its place for its weight × ``base_h`` (see
:mod:`sim.model.airlift`), so the base-bound lift is ``loading_slots × hours ÷ base_h
× payload``.

A fleet without a base has an unconstrained home: no slots, no hours, the default
weather zone. Times are in days.
"""

from __future__ import annotations

import math
from heapq import heapreplace

from sim.model.hours import OpeningHours, reclock
from sim.model.places import Places
from sim.model.record import PlaceRecord
from sim.model.weather import WeatherZone
from sim.scenario.schema import Base as BaseConfig


class Base:
    """A home base: loading slots, hours, open flag, weather zone, daily record."""

    __slots__ = (
        "free",
        "hours",
        "is_open",
        "lat",
        "lon",
        "name",
        "record",
        "simple",
        "zone",
    )

    hours: OpeningHours

    def __init__(self, name: str, cfg: BaseConfig, zone: WeatherZone, n_days: int) -> None:
        self.name = name
        self.record = PlaceRecord(n_days)  # turnarounds and queue hours
        self.free: Places | None = None  # the loading places (None: unlimited)
        self.configure(cfg, zone)

    def configure(self, cfg: BaseConfig, zone: WeatherZone) -> None:
        """Take the parameters in force (a new slot count applies to the next turnaround)."""
        hours = OpeningHours(cfg.opens_h, cfg.hours)
        if self.free is not None:  # new hours: bookings move to the new open clock
            self.free = Places(reclock(self.free.free_times(), self.hours, hours))
        self.hours = hours
        self.is_open = cfg.open
        self.zone = zone
        self.lat = cfg.lat
        self.lon = cfg.lon
        n = cfg.loading_slots
        if n is None:
            self.free = None
        elif self.free is None:
            self.free = Places([0.0] * n)
        else:  # fewer places keep the busiest ones (those still turning aircraft round)
            self.free = self.free.resized(n)
        self.simple = self.free is None  # no queue: a turnaround can be computed in advance

    def turn_round(self, t: float, base_days: float, weight: float) -> float:
        """An aircraft back at ``t`` is turned round for ``base_days``; returns when it is done.

        It waits for a loading place (first come, first served) and the window; the
        place is held for ``weight × base_days`` of open time.
        """
        hours = self.hours
        free = self.free
        heap = free.heap if free is not None else None  # the place free first on top
        first = heap[0] if heap is not None else -math.inf
        if hours.always:  # open time is time (OpeningHours.slot(), inlined)
            pos = begin = first if first > t else t
            done = pos + base_days if base_days > 0.0 else begin
        else:
            pos, begin, done = hours.slot(t, first, base_days)
        if heap is not None:  # (:mod:`sim.model.places`)
            heapreplace(heap, pos + weight * base_days)
        self.record.serve(t, begin, weight)
        return done
