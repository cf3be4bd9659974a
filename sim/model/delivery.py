"""Delivery points: airfields and helipads (landing) and drop zones (airdrop).

**Airfields** (a helipad is a small one) limit landings three ways:

* *runways*: each runway takes one landing per ``landing_interval_min`` (× the
  weather zone's landing factor on a degraded day);
* *parking* (MOG): a landed aircraft holds one of ``slots`` places while it unloads
  for its fleet's ``ground_h``;
* *hours*: landings happen only inside the daily window, and unloading and the
  runway interval count only open hours (:mod:`sim.model.hours`).

An aircraft is given the earliest landing these allow, first come, first served: a
runway, then a parking place. It books it when it takes off (a slot time, as air
traffic flow management gives) or, after a diversion, when it arrives. An aircraft
whose landing would come later than its fleet's ``holding_h`` after arriving is not
sent (it waits at home, recorded as queue hours here) or, if already in the air,
diverts to its next target or flies home (:mod:`sim.model.airlift`), and the field
records a diversion. All of it
is booked on the field's open clock, so capacity is exact and fractional: a field
lands at most ``runways × 60 ÷ landing_interval_min`` aircraft per open hour and
unloads at most ``slots × hours ÷ ground_h`` a day (AFPAM 10-1403 formula 9.0
without its queueing factor, E8 of [S:plan-equations] in ``docs/sources.md``;
queueing loss emerges from the arrivals).

In the deterministic limit an aircraft carries a weight w (the probability its
sortie is flown) and holds the runway and its parking place for w × the time, so
each capacity gives its planning figure exactly.

A field is **shut** on a day when an event has closed it (``open = false``) or while
a shelling closure lasts: a closure starts on an open day with probability
``airfield_closure_per_day × exposure × threat multiplier`` and lasts
``closure_mean_days`` on average (geometric; one uniform of the field's closure
stream per day, whatever happens). In the deterministic limit a closure of the mean
length starts whenever the accumulated start probability reaches 1. An aircraft
that has landed finishes unloading even if the field is shut meanwhile; parked
aircraft may be destroyed (``ground_loss_per_hour``, applied by the fleet).

**Drop zones** take one drop pass per 1 / ``passes_per_hour`` hours (no limit when
not given), with the same holding rule; each pallet is recovered with probability
``recovery`` (binomial, drawn from the dropping aircraft's recovery stream).

Nothing lands at or drops over a place on a day its weather zone is unflyable.
Time units are days (``1.0`` = one day).
"""

from __future__ import annotations

import math
from array import array
from heapq import heapreplace

from sim.model.hours import EPS, OpeningHours, reclock
from sim.model.places import Places
from sim.model.record import PlaceRecord, zeros
from sim.model.streams import Stream
from sim.model.weather import WeatherZone
from sim.scenario.schema import Airfield as AirfieldConfig
from sim.scenario.schema import DropZone as DropZoneConfig


class Airfield:
    """A landing site: runways, parking places, hours, closures, daily record."""

    __slots__ = (
        "acc",
        "closed",
        "closed_today",
        "exposure",
        "ground_loss",
        "hours",
        "interval",
        "is_open",
        "lat",
        "left",
        "lon",
        "name",
        "ok",
        "parking",
        "pocket",
        "record",
        "runway",
        "shelled",
        "stochastic",
        "stream",
        "zone",
    )

    hours: OpeningHours

    def __init__(
        self,
        name: str,
        cfg: AirfieldConfig,
        zone: WeatherZone,
        stream: Stream,
        stochastic: bool,
        n_days: int,
    ) -> None:
        self.name = name
        self.stream = stream
        self.stochastic = stochastic
        self.record = PlaceRecord(n_days)  # landings, queue hours, diversions
        self.closed: array = zeros(n_days)  # 1 on days shut (event or shelling)
        self.runway: Places | None = None  # the runways (None: no runway limit)
        self.parking = Places([])  # the parking places
        self.shelled = False  # a shelling closure is on
        self.acc = 0.0  # deterministic limit: accumulated closure start probability
        self.left = 0.0  # deterministic limit: days left of the current closure
        self.closed_today = False
        self.ok = True  # usable today: open, not shut, flyable (set each day by start_day)
        self.configure(cfg, zone)

    def configure(self, cfg: AirfieldConfig, zone: WeatherZone) -> None:
        """Take the parameters in force (new capacities apply to the next landing)."""
        self.pocket = cfg.pocket
        hours = OpeningHours(cfg.opens_h, cfg.hours)
        runways = self.runway.free_times() if self.runway is not None else []
        parking = self.parking.free_times()
        if parking:  # new hours: bookings move to the new open clock
            parking = reclock(parking, self.hours, hours)
            runways = reclock(runways, self.hours, hours)
        self.hours = hours
        self.is_open = cfg.open
        self.exposure = cfg.exposure
        self.ground_loss = cfg.ground_loss_per_hour * cfg.exposure
        self.interval = cfg.landing_interval_min / 1440.0
        self.zone = zone
        self.lat = cfg.lat
        self.lon = cfg.lon
        n_runways = cfg.runways if self.interval > 0.0 else 0
        self.runway = Places(_resize(runways, n_runways)) if n_runways else None
        self.parking = Places(_resize(parking, cfg.slots))

    def start_day(self, day: int, closure_chance: float, mean_days: float) -> None:
        """Decide whether the field is shut on ``day`` (event or shelling)."""
        p = closure_chance * self.exposure
        if self.stochastic:
            u = self.stream.uniform()
            if self.shelled:
                self.shelled = u >= 1.0 / mean_days
            else:
                self.shelled = u < p
        else:
            if self.left <= 1e-9:
                self.acc += p
                if self.acc >= 1.0 - 1e-12:
                    self.acc -= 1.0
                    self.left += mean_days
            self.shelled = self.left > 1e-9
            if self.shelled:
                self.left -= 1.0
        closed = self.closed_today = (not self.is_open) or self.shelled
        if closed:
            self.closed[day] = 1.0
        self.ok = not closed and self.zone.flyable > 0.0

    def _earliest(self, t: float) -> float:
        """Earliest open-clock time of a landing for an aircraft over the field at ``t``:
        a runway and a parking place free (the first free of each, :mod:`sim.model.places`)."""
        hours = self.hours
        pos = t if hours.always else hours.clock(t)
        runway = self.runway
        if runway is not None:
            free = runway.heap[0]
            if free > pos:
                pos = free
        free = self.parking.heap[0]
        return free if free > pos else pos

    def landing_time(self, t: float) -> float:
        """When an aircraft over the field at ``t`` could land, given the landings booked."""
        return self.hours.start(self._earliest(t))

    def book(
        self, t: float, weight: float, ground: float, holding: float
    ) -> tuple[float, float] | None:
        """Book the earliest landing for an aircraft over the field at ``t``.

        Returns (landing time, time unloading ends), or None when the landing would
        come later than ``holding`` after ``t`` (nothing is booked). ``ground`` is the
        unloading time (days of open time); the aircraft holds its runway for
        ``weight`` × the interval and its place for ``weight × ground``. The landing
        is recorded (``record.serve``) when it happens.
        """
        hours = self.hours
        parking = self.parking.heap  # the place free first on top (:mod:`sim.model.places`)
        free = parking[0]
        runway = self.runway
        if runway is not None:
            runways = runway.heap
            if runways[0] > free:
                free = runways[0]
        if hours.always:  # open time is time (OpeningHours.slot(), inlined)
            pos = land = free if free > t else t
            done = pos + ground if ground > 0.0 else land
        else:
            pos, land, done = hours.slot(t, free, ground)
        if land - t > holding + EPS:
            return None
        if runway is not None:  # Places.take(), inlined
            heapreplace(runways, pos + weight * self.interval * self.zone.landing_factor)
        heapreplace(parking, pos + weight * ground)
        return land, done


class DropZone:
    """A drop zone: a pass capacity, a recovery share and a daily record."""

    __slots__ = (
        "free",
        "gap",
        "is_open",
        "lat",
        "lon",
        "name",
        "ok",
        "pallet_t",
        "pocket",
        "record",
        "recovery",
        "zone",
    )

    def __init__(self, name: str, cfg: DropZoneConfig, zone: WeatherZone, n_days: int) -> None:
        self.name = name
        self.record = PlaceRecord(n_days)  # drop passes, queue hours, diversions
        self.free = 0.0  # time the next pass may be flown
        self.ok = True  # usable today: open and flyable (set each day by start_day)
        self.configure(cfg, zone)

    def configure(self, cfg: DropZoneConfig, zone: WeatherZone) -> None:
        """Take the parameters in force."""
        self.pocket = cfg.pocket
        self.is_open = cfg.open
        self.recovery = cfg.recovery
        self.pallet_t = cfg.pallet_t
        self.gap = 1.0 / (24.0 * cfg.passes_per_hour) if cfg.passes_per_hour else 0.0
        self.zone = zone
        self.lat = cfg.lat
        self.lon = cfg.lon

    def start_day(self) -> None:
        """Usable today: open and flyable (drop zones are not shelled shut; events overrun them)."""
        self.ok = self.is_open and self.zone.flyable > 0.0

    def pass_time(self, t: float) -> float:
        """When an aircraft over the zone at ``t`` could drop, given the passes booked."""
        return self.free if self.gap > 0.0 and self.free > t else t

    def book(self, t: float, weight: float, holding: float) -> float | None:
        """Book the earliest drop pass for an aircraft over the zone at ``t``.

        Returns the time of the pass, or None when it would come later than
        ``holding`` after ``t`` (nothing is booked). The pass is recorded
        (``record.serve``) when it is flown.
        """
        gap = self.gap
        when = t
        if gap > 0.0:
            if self.free > when:
                when = self.free
                if when - t > holding + EPS:
                    return None
            self.free = when + weight * gap
        return when

    def pallets(self, payload_t: float) -> int:
        """Pallets a load of ``payload_t`` tonnes is dropped on (at least one)."""
        n = math.ceil(payload_t / self.pallet_t - 1e-9)
        return n if n >= 1 else 1


def _resize(free: list[float], n: int) -> list[float]:
    """``n`` places: new ones free at once; fewer keep the busiest (still in use)."""
    if n == len(free):
        return free
    return (sorted(free, reverse=True) + [0.0] * n)[:n]
