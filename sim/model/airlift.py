"""Fleets and the aircraft cycle: the rate at which a fleet delivers emerges from its limits.

Each aircraft (:class:`~sim.model.aircraft.Aircraft`) flies a cycle, the generator
:meth:`Fleet.fly`, resumed by the driver (:mod:`sim.model.drive`) when its wait is
over; it repeats small steps, each step does its part and returns how long the
aircraft is busy, and the sortie under way (target, booking, weight, load) lives on
the aircraft:

1. :meth:`Fleet.ready` — **wait at home until allowed** (:meth:`Fleet.earliest`):
   inside the active window on a listed weekday (a day's first departure at the
   aircraft's own hour), turned round, not before its next tasked opportunity (the
   tasking ceiling, if any, below), within its flying-hour budget (``ute_h_day``),
   inside its base's window, and — when no target is open by its hours on arrival —
   until it must leave to arrive at the first opening. Then the opportunity is
   **judged** (:meth:`Fleet.choose`): mission-capable (breakdowns last days), base
   open, home flyable; and the aircraft takes the first target, in order of
   preference, that is open and flyable today and can take it within ``holding_h``
   of its arrival, and **books** its landing or pass (:mod:`sim.model.delivery`) —
   a congested first choice spills over to the next; if all are busy, it books the
   first free one and waits at home to leave in time for it. Nothing to fly to (or,
   for a shuttle, nothing to carry above its origin's reserve): the opportunity is
   lost (aborted).
2. :meth:`Fleet.take_off` with the load, **fly out**; :meth:`Fleet.arrive` — the
   aircraft may have been **lost** on the way (``loss_per_sortie`` × the threat's
   multiplier), its load with it.
3. Over the target: :meth:`Fleet.land` at the booked time and unload for ``ground_h``
   of open hours (:meth:`Fleet.unloaded`: the load reaches the pocket; a parked
   aircraft may be destroyed at an exposed field), or :meth:`Fleet.hold` for the
   booked pass and :meth:`Fleet.drop` (the pallets recovered reach the pocket). A
   target shut or unflyable since take-off: :meth:`Fleet.divert` to the next usable
   one that can take it within the holding time, or fly home with the load.
4. :meth:`Fleet.home` — **fly back**, be **turned round** (``base_h``, a loading
   place of the base, open hours only) and wait until allowed again.

No shared grid: every aircraft flies as soon as it is ready and allowed, and a
fleet's aircraft start spread over one cycle (aircraft ``i`` of ``N`` first leaves at
``depart_h`` + i/N of the time between two of its departures).

**Tasking ceiling** (``sorties_per_day``): each aircraft's opportunities are *due*
1 / rate apart, on a grid that starts at its first departure; an opportunity is
flown or lost, and the next is due 1 / rate after it was due — not after the
aircraft left — so waiting for a window or a busy target does not shift the grid.
An opportunity is judged when the aircraft would leave for it (at its due time, or
at the time to leave for the first opening of a target closed then): broken down,
its home unflyable or its base shut, no usable target, it is lost and counted, and
it is not made up later (a breakdown loses, in one go, every opportunity the
aircraft would have left for before its repair). One kept waiting is flown as soon
as the aircraft can (back to back, if need be, to catch up with the grid), but
opportunities due more than a day before the aircraft is ready again lapse (a day's
tasking is not carried over), and none is due while the aircraft is away (lost,
not yet replaced), on a day off, or before a new schedule (an event). Without a
ceiling a lost opportunity is tried again from the start of the next day.

**Deterministic limit** (``stochastic = false``): expectations multiply. Nothing is
drawn; each sortie carries a weight w = P(it is flown) = survival × mission_capable ×
the flyable shares of its base's and its target's zones (each distinct zone once).
Deliveries, sortie counts, losses, flying hours and the capacity the sortie holds
(runway interval, parking time, loading time at the base, drop pass interval) are
× w, so each limit alone gives its planning figure — aircraft-bound N × MC ×
min(24 ÷ cycle, UTE ÷ 2·flight, tasking) × flyable share × payload, runway-, MOG-,
drop-zone- and base-bound likewise — and several limits give about the smallest.
A loss takes w × p of the aircraft's survival, which comes back after
``replacement_days``.

**Events act at once**: :meth:`Fleet.configure` takes the new parameters and
interrupts every aircraft waiting at home, which re-reads them (a new ceiling, new
days, a new active window, a new base and its flight times). An event that sets
``aircraft`` — even to the same number — puts back every aircraft lost so far;
places beyond the new number are retired when next at home.

Times are in days inside the model (hours ÷ 24); tonnage moves only through the
ledger (:mod:`sim.model.ledger`). Every outcome is counted per day.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from sim.model.aircraft import Aircraft
from sim.model.bases import Base
from sim.model.delivery import Airfield, DropZone
from sim.model.drive import UNTIL_WOKEN, Cycle, Driver, Woken
from sim.model.geo import great_circle_km
from sim.model.hours import EPS
from sim.model.ledger import Account, Ledger
from sim.model.pocket import Pocket
from sim.model.record import ABORT_REASONS, series_name, to_numpy, zeros
from sim.model.siege import Siege
from sim.model.streams import Stream
from sim.model.weather import WeatherZone
from sim.scenario.schema import WEEKDAYS, Calendar
from sim.scenario.schema import Fleet as FleetConfig

Point = Airfield | DropZone

TASKING_LAPSE_DAYS = 1.0
"""Under a tasking ceiling, an opportunity not flown this long after it fell due lapses
(days): a day's tasking is not carried over, so a delay is flown but never banked."""


class PocketTally:
    """What one fleet did for one pocket, day by day: the per-pocket part of its record.

    A sortie counts for the pocket of the target booked at take-off (``flown``), an
    aircraft lost for the pocket of the target it was flying to or parked at
    (``lost``), tonnage and deliveries for the pocket that received them.
    """

    __slots__ = ("delivered", "deliveries", "dropped", "flown", "lost", "pallets", "transferred")

    def __init__(self, n_days: int) -> None:
        self.flown = zeros(n_days)
        self.deliveries = zeros(n_days)
        self.lost = zeros(n_days)
        self.delivered = zeros(n_days)
        self.transferred = zeros(n_days)
        self.dropped = zeros(n_days)
        self.pallets = zeros(n_days)

    def series(
        self, fleet: str, pocket: str, *, dropped: bool, transferred: bool
    ) -> dict[str, np.ndarray]:
        """``<kind>__<fleet>__<pocket>`` for each kind (see :mod:`sim.model.record`)."""
        out = {
            series_name("delivered_t", fleet, pocket): to_numpy(self.delivered),
            series_name("sorties_flown", fleet, pocket): to_numpy(self.flown),
            series_name("deliveries", fleet, pocket): to_numpy(self.deliveries),
            series_name("aircraft_lost", fleet, pocket): to_numpy(self.lost),
        }
        if dropped:
            out[series_name("dropped_t", fleet, pocket)] = to_numpy(self.dropped)
            out[series_name("pallets_dropped", fleet, pocket)] = to_numpy(self.pallets)
        if transferred:
            out[series_name("transferred_t", fleet, pocket)] = to_numpy(self.transferred)
        return out


@dataclass(frozen=True, slots=True)
class FleetContext:
    """What a fleet may see of its world: a narrow view, not the whole World."""

    env: simpy.Environment
    driver: Driver
    calendar: Calendar
    n_days: int
    stochastic: bool
    ledger: Ledger
    pockets: dict[str, Pocket]
    points: dict[str, Point]
    bases: dict[str, Base]
    default_zone: WeatherZone
    siege: Siege
    commodity_index: dict[str, int]
    stream: Callable[[str], Stream]


class Fleet:
    """One fleet's parameters, its aircraft and their daily record."""

    __slots__ = (
        "aborted",
        "aborted_by",
        "airdrop",
        "base",
        "base_days",
        "cargo",
        "check_mc",
        "ctx",
        "delivered",
        "deliveries",
        "depart",
        "diversions",
        "driver",
        "dropped",
        "env",
        "first_day",
        "fixed_load",
        "fixed_total",
        "flight_default",
        "flown",
        "flying_h",
        "gap",
        "ground",
        "holding",
        "home_zone",
        "last_active",
        "last_day",
        "ledger",
        "loss",
        "lost_daily",
        "mc",
        "mc_weight",
        "n",
        "name",
        "origin",
        "out",
        "pallets",
        "pallets_dropped",
        "pallets_recovered",
        "payload",
        "places",
        "plain",
        "pockets",
        "repair_days",
        "replacement",
        "reserve_days",
        "schedule",
        "shuttle",
        "sortie_h",
        "spacing",
        "speed",
        "start_weekday",
        "stochastic",
        "targets",
        "threat",
        "transferred",
        "ute",
        "weekday_ok",
        "windows",
    )

    schedule: tuple[float, list[bool], int, int]  # ceiling gap, weekdays, active window

    def __init__(self, name: str, cfg: FleetConfig, ctx: FleetContext) -> None:
        self.name = name
        self.ctx = ctx
        self.env = ctx.env
        self.driver = ctx.driver
        self.ledger = ctx.ledger
        self.threat = ctx.siege
        self.stochastic = ctx.stochastic
        n = ctx.n_days
        self.last_day = n - 1
        self.start_weekday = ctx.calendar.start.weekday()
        self.airdrop = cfg.mode == "airdrop"
        self.places: list[Aircraft] = []
        self.n = 0  # places in service (the `aircraft` in force)
        self.flown = zeros(n)
        self.aborted = zeros(n)
        self.aborted_by = {r: zeros(n) for r in ABORT_REASONS}
        self.deliveries = zeros(n)
        self.diversions = zeros(n)
        self.lost_daily = zeros(n)
        self.delivered = zeros(n)
        self.dropped = zeros(n)
        self.transferred = zeros(n)
        self.shuttle = False  # carried between pockets at some time (a shuttle, ``origin``)
        self.flying_h = zeros(n)
        self.pockets: dict[str, PocketTally] = {}
        self.pallets = zeros(n)
        self.pallets_dropped = 0.0
        self.pallets_recovered = 0.0
        self.configure(cfg, aircraft_set=True)

    # -- parameters -------------------------------------------------------------

    def configure(self, cfg: FleetConfig, aircraft_set: bool = False) -> None:
        """Take the parameters in force; wake every aircraft waiting at home.

        ``aircraft_set``: the event names ``aircraft`` (then lost aircraft are put back).
        """
        ctx = self.ctx
        cal = ctx.calendar
        now = self.env.now
        self.payload = cfg.payload_t
        self.cargo = [(ctx.commodity_index[c], share) for c, share in cfg.cargo.items()]
        load = [0.0] * len(ctx.commodity_index)
        for i, share in self.cargo:
            load[i] += self.payload * share
        self.fixed_load = load  # a new list: aircraft in flight keep the one they took
        self.fixed_total = sum(load)
        self.base = ctx.bases[cfg.base] if cfg.base is not None else None
        self.home_zone = self.base.zone if self.base is not None else ctx.default_zone
        self.targets: list[Point] = [ctx.points[t] for t in cfg.targets]
        self.out = [self._flight_days(cfg, p) for p in self.targets]
        # landing sites and their flight times, to wait at home for their opening hours
        pairs = zip(self.targets, self.out, strict=True)
        self.windows = [(p, out) for p, out in pairs if isinstance(p, Airfield)]
        self.speed = cfg.block_speed_kmh
        self.flight_default = cfg.flight_h / 24.0 if cfg.flight_h is not None else None
        self.track_pockets()
        self.ground = 0.0 if self.airdrop else cfg.ground_h / 24.0
        self.base_days = cfg.base_h / 24.0
        self.depart = cfg.depart_h / 24.0
        self.gap = 1.0 / cfg.sorties_per_day if cfg.sorties_per_day else 0.0
        self.holding = cfg.holding_h / 24.0
        flown = set(cfg.days)
        self.weekday_ok = [WEEKDAYS[(self.start_weekday + d) % 7] in flown for d in range(7)]
        self.first_day = cal.day(cfg.active_from) if cfg.active_from else 0
        self.last_active = cal.day(cfg.active_to) if cfg.active_to else ctx.n_days - 1
        schedule = (self.gap, self.weekday_ok, self.first_day, self.last_active)
        if self.places and schedule != self.schedule:  # a new schedule counts from now
            for ac in self.places:
                self._reanchor(ac, now)
        self.schedule = schedule
        self.mc = cfg.mission_capable
        self.mc_weight = 1.0 if self.stochastic else cfg.mission_capable
        self.repair_days = cfg.repair_days
        self.loss = cfg.loss_per_sortie
        self.replacement = cfg.replacement_days
        self.origin = ctx.pockets[cfg.origin] if cfg.origin else None
        self.shuttle = self.shuttle or self.origin is not None
        self.reserve_days = cfg.origin_reserve_days
        self.ute = cfg.ute_h_day
        self.sortie_h = 48.0 * self.out[0]  # nominal flying hours of a sortie (first target)
        cycle = 2.0 * self.out[0] + self.ground + self.base_days
        ute_gap = self.sortie_h / self.ute if self.ute else 0.0
        self.spacing = max(cycle, self.gap, ute_gap)  # days between an aircraft's departures
        self.check_mc = self.stochastic and self.mc < 1.0
        # earliest() takes its fast path for a home open around the clock. It depends on
        # the base's hours: an event that changes them reconfigures every fleet
        # (World.apply), which recomputes this.
        self.plain = self.base is None or self.base.hours.always
        for ac in self.places:
            ac.maintenance.configure(self.mc, self.repair_days, now)
            ac.flying_hours.configure(self.ute, self.sortie_h)
        if aircraft_set:
            self._set_aircraft(cfg.aircraft)
        self._wake()

    def track_pockets(self) -> None:
        """Keep a per-pocket record for the pocket of every target (from now on).

        Called by :meth:`configure` and whenever an event changes a target: an event
        may move an airfield or a drop zone to another pocket.
        """
        for p in self.targets:
            if p.pocket not in self.pockets:
                self.pockets[p.pocket] = PocketTally(self.ctx.n_days)

    def _flight_days(self, cfg: FleetConfig, p: Point) -> float:
        """One-way flight time to ``p``, days: ``flight_h``, or distance ÷ block speed."""
        if cfg.flight_h is not None:
            return cfg.flight_h / 24.0
        base = self.base
        assert base is not None and base.lat is not None and base.lon is not None
        assert cfg.block_speed_kmh is not None and p.lat is not None and p.lon is not None
        km = great_circle_km(base.lat, base.lon, p.lat, p.lon)
        return km / cfg.block_speed_kmh / 24.0

    def hop_days(self, a: Point, b: Point) -> float:
        """Flight time of a diversion from ``a`` to ``b``, days.

        The great-circle distance ÷ the block speed when both have coordinates and the
        fleet a speed; otherwise the fleet's ``flight_h`` (one more leg).
        """
        if (
            self.speed is not None
            and a.lat is not None
            and a.lon is not None
            and b.lat is not None
            and b.lon is not None
        ):
            return great_circle_km(a.lat, a.lon, b.lat, b.lon) / self.speed / 24.0
        assert self.flight_default is not None
        return self.flight_default

    def _set_aircraft(self, n: int) -> None:
        """``n`` aircraft in service from now: lost ones put back, new places spawned."""
        ctx = self.ctx
        env = self.env
        now = env.now
        self._retire_beyond(n, now)
        self.n = n
        day = int(now + EPS)
        for i in range(n):
            if i == len(self.places):
                streams = tuple(
                    ctx.stream(f"fleets:{self.name}:{i}:{purpose}")
                    for purpose in ("maintenance", "loss", "recovery", "replacement")
                )
                ac = Aircraft(i, streams)  # type: ignore[arg-type]
                ac.maintenance.configure(self.mc, self.repair_days, now)
                ac.flying_hours.configure(self.ute, self.sortie_h)
                self.places.append(ac)
            ac = self.places[i]
            if ac.back_at > now:
                ac.back_at = now  # lost: put back now
                self._reanchor(ac, now)
            ac.away = False
            ac.survival = 1.0
            ac.returns.clear()
            if not ac.service or ac.service[-1][1] != 1.0:
                ac.service.append((now, 1.0))
            if ac.step is None or not ac.step.alive:
                offset = self.depart + i * self.spacing / n
                ac.hour = offset % 1.0
                ac.first_offset = offset
                ac.ready_at = max(ac.ready_at, day + offset, now)
                self._reanchor(ac, ac.ready_at)
                ac.step = self.driver.start(self.fly(ac))

    def _reanchor(self, ac: Aircraft, t: float) -> None:
        """Under a tasking ceiling, no opportunity of ``ac`` is due before ``t``.

        For an aircraft back in service (replaced, restarted) and for a new ceiling:
        opportunities of the time it was away, or of the old ceiling, are not flown.
        """
        gap = self.gap
        if gap > 0.0 and ac.tasked != -math.inf and ac.tasked + gap < t:
            ac.tasked = t - gap

    def _retire_beyond(self, n: int, now: float) -> None:
        """Places ``n`` and above leave service (their aircraft retire when next at home)."""
        for ac in self.places[n:]:
            if ac.service and ac.service[-1][1] != 0.0:
                ac.service.append((now, 0.0))

    def _wake(self) -> None:
        """Interrupt every aircraft waiting at home so that it re-reads the parameters."""
        for ac in self.places:
            if ac.waiting and ac.step is not None and ac.step.alive:
                ac.waiting = False
                ac.opens_at = 0.0  # the targets' hours are looked at again
                self.driver.wake(ac.step)

    def stop(self) -> None:
        """End the aircraft cycles (after the run: nothing is left waiting on them)."""
        for ac in self.places:
            if ac.step is not None:
                self.driver.stop(ac.step)
                ac.step = None

    # -- the cycle --------------------------------------------------------------
    # Hot code: every step reads plain attributes resolved by configure(), and the
    # checks that do nothing for this fleet (no base, no budget, every weekday, ...)
    # are skipped by flags rather than called.

    def day_of(self, t: float) -> int:
        """The day an event at time ``t`` counts for (robust to float sums like 20 h + 4 × 1 h)."""
        d = int(t + EPS)
        return d if d < self.last_day else self.last_day

    def fly(self, ac: Aircraft) -> Cycle:
        """The life of one aircraft: the steps of its cycle, again and again.

        Each step does its part and returns how long the aircraft is busy with it; the
        aircraft waits that long here. The sortie under way (target, booking, weight,
        load) is kept on the aircraft.
        """
        while True:
            if not (self._go(ac) or (yield from self.ready(ac))):
                return  # retired: the fleet was cut back
            yield self.take_off(ac)  # load, take off, fly out
            if ac.q_air > 0.0 and not self.arrive(ac):
                continue  # lost on the way, with its load
            if ac.target.ok or (yield from self.divert(ac)):  # (else home with the load)
                if self.airdrop:
                    hold = self.hold(ac)  # until the booked pass
                    if hold > 0.0:
                        yield hold
                    self.drop(ac)
                else:
                    yield self.land(ac)  # hold for the booked landing, unload
                    if not self.unloaded(ac):
                        continue  # destroyed on the ground
            base = self.base
            if base is not None and not base.simple:
                yield from self.home_queued(ac)  # queue for a loading place on arrival
                continue
            try:
                yield self.home(ac)  # fly back, be turned round, wait until allowed
            except Woken:  # an event changed the fleet on the way
                ac.allowed_at = -1.0
                ac.waiting = False
                done = ac.ready_at  # finish the flight and the turnaround, then reconsider
                if self.env._now < done:
                    yield done - self.env._now
                continue
            ac.waiting = False

    def _go(self, ac: Aircraft) -> bool:
        """The usual start of :meth:`ready`, without its generator: woken at the take-off
        time computed on the way home (in service, not lost, nothing booked ahead),
        the aircraft chooses its target at once. False: :meth:`ready` decides."""
        allowed = ac.allowed_at
        now = self.env._now
        if (
            allowed >= 0.0
            and -EPS <= allowed - now <= EPS
            and ac.plan is None
            and not ac.away
            and ac.index < self.n
        ):
            ac.allowed_at = -1.0
            return self.choose(ac, now)
        return False

    def ready(self, ac: Aircraft) -> Generator[float, None, bool]:
        """Wait at home until the aircraft may take off with a target booked (False: retired).

        ``allowed_at`` is the take-off time computed before the aircraft went to sleep
        (here, or on its way home): woken then, and not by an event, it need not
        compute it again.
        """
        env = self.env
        while True:
            if ac.index >= self.n:
                return False
            now = env._now
            if ac.away and ac.back_at <= now + EPS:  # its replacement has arrived
                ac.away = False
                ac.service.append((ac.back_at, 1.0))
                self._reanchor(ac, ac.back_at)
                ac.allowed_at = -1.0  # its next opportunity is due from now on
            allowed = ac.allowed_at
            if allowed >= 0.0 and -EPS <= allowed - now <= EPS:
                ac.allowed_at = -1.0
            else:
                t = self.earliest(ac, now)
                if t > now + EPS:  # sleep until t (inf: until an event wakes it)
                    ac.allowed_at = t
                    ac.waiting = True
                    try:
                        yield t - now if t != math.inf else UNTIL_WOKEN
                    except Woken:
                        ac.allowed_at = -1.0
                    ac.waiting = False
                    continue
            plan = ac.plan
            if plan is not None:  # a landing or pass booked ahead: go now, if still allowed
                ac.plan = None
                if ac.ready_at > now - EPS and self._home_allows(ac, now):
                    ac.target, ac.booking, ac.weight, ac.j = plan
                    self._waited(ac, ac.target, now, ac.weight)
                    return True
            if self.choose(ac, now):
                return True

    def earliest(self, ac: Aircraft, now: float) -> float:
        """The first moment from ``now`` the aircraft's own limits allow a take-off.

        Turned round (or the time set to leave for a busy target or for a target's
        opening hours), replaced if lost, inside the active window on a weekday
        flown, within its flying-hour budget and its base's window. Under a tasking
        ceiling, not before its next opportunity is due, which is set here
        (``ac.due``): 1 / rate after the one last flown or lost, but not more than a
        day before ``now`` (older ones lapse: a day's tasking is not carried over),
        and on a day flown (else at the start of the next one, the aircraft's own
        hour). Whether it is fit to fly is judged when it would leave (:meth:`choose`).
        """
        t = now
        if ac.ready_at > t:
            t = ac.ready_at
        if ac.opens_at > t:
            t = ac.opens_at  # waiting for a target's opening hours
        if ac.back_at > t:
            t = ac.back_at  # lost, not replaced yet (inf: until an event)
        gap = self.gap
        due = t
        if gap > 0.0:
            if ac.tasked != -math.inf:
                due = ac.tasked + gap
            else:  # the first opportunity: due when the aircraft is first there
                due = ac.ready_at if ac.ready_at > ac.back_at else ac.back_at
            if due < now - TASKING_LAPSE_DAYS:
                due = now - TASKING_LAPSE_DAYS
            day = int(due + EPS)
            if not (self.first_day <= day <= self.last_active and self.weekday_ok[day % 7]):
                due = self.active(ac, due)  # not due on a day off: at the next day flown
            if due > t:
                t = due
        ac.due = due
        if t == math.inf:
            return t
        first_day, last_active, ok = self.first_day, self.last_active, self.weekday_ok
        windows = self.windows if ac.plan is None else None  # (a plan has its booking)
        budget = ac.flying_hours if self.ute is not None else None
        sortie_h = self.sortie_h
        rounds = 64
        # The fast path, for a home open around the clock: the first round of the loop
        # below, inlined, when it leaves t where it is (an active day, a weekday flown,
        # the budget holds the sortie, a target open on arrival) or only a target's
        # opening hours move it.
        if (
            self.plain
            and first_day <= (day := int(t + EPS)) <= last_active
            and ok[day % 7]
            and (
                budget is None
                or not (
                    (level := budget.level + (t - budget.at) * budget.rate) < sortie_h - 1e-9
                    and level < budget.cap - 1e-9
                )
            )
        ):
            if not windows:
                return t
            field, field_out = windows[0]  # the first target open on arrival? (inlined)
            hours = field.hours
            if field.is_open and (
                hours.always or (t + field_out - hours.opens) % 1.0 < hours.length
            ):
                return t
            opens = self.opening(t, False)
            if opens <= t + EPS:
                return t
            # Only the opening moved t (wait at home for it): the loop goes on from there.
            if ac.held_since < 0.0:
                ac.held_since = t
            t = opens
            rounds = 63
        # Each limit moves t to its first moment at or after t; repeat until none moves
        # it. The common outcomes are tested inline (an active day, a budget that
        # holds the sortie, a base always open), the calls made only when t moves.
        base_hours = self.base.hours if self.base is not None else None
        if base_hours is not None and base_hours.always:
            base_hours = None
        for _ in range(rounds):
            t0 = t
            day = int(t + EPS)
            if not (first_day <= day <= last_active and ok[day % 7]):
                t = self.active(ac, t)
                if t == math.inf:
                    return t
                if t > t0:  # a new active day: the opportunity is due at its start
                    ac.due = t
            if budget is not None:  # FlyingHours.affordable(), its test inlined
                level = budget.level + (t - budget.at) * budget.rate
                if level < sortie_h - 1e-9 and level < budget.cap - 1e-9:
                    t = budget.affordable(t, sortie_h)
                    if t == math.inf:  # never: its budget is paused for good
                        return t
            if base_hours is not None:
                t = base_hours.next_open(t)
            if windows:  # no target open by its hours: wait at home for the first opening
                field, field_out = windows[0]  # the first target open on arrival? (inlined)
                hours = field.hours
                if not (
                    field.is_open
                    and (hours.always or (t + field_out - hours.opens) % 1.0 < hours.length)
                ):
                    opens = self.opening(t, False)
                    if opens > t + EPS:
                        if ac.held_since < 0.0:
                            ac.held_since = t
                        t = opens
            if t <= t0 + EPS:
                return t
        return t

    def active(self, ac: Aircraft, t: float) -> float:
        """The first moment from ``t`` inside the active window on a weekday flown.

        A later day starts at the aircraft's own hour; inf when none is left.
        """
        day = int(t + EPS)
        if day < self.first_day:
            day = self.first_day
            t = day + (ac.first_offset if ac.tasked == -math.inf else ac.hour)
            if t >= day + 1.0:  # spread over several days: start on that day
                day = int(t + EPS)
        ok = self.weekday_ok
        for _ in range(8):
            if day > self.last_active:
                return math.inf
            if ok[day % 7]:
                return t
            day += 1
            t = day + ac.hour
        return math.inf

    def _home_allows(self, ac: Aircraft, now: float) -> bool:
        """Base open, home flyable, cargo for a shuttle; else the opportunity is aborted."""
        base = self.base
        if base is not None and not base.is_open:
            self._not_today(ac, now, "base_closed")
            return False
        if self.home_zone.flyable <= 0.0:
            self._not_today(ac, now, "weather")
            return False
        if self.origin is not None and not self.has_cargo():
            self._not_today(ac, now, "no_cargo")
            return False
        return True

    def _waited(self, ac: Aircraft, target: Point, now: float, w: float) -> None:
        """Record the hours the aircraft waited at home for ``target`` to take it."""
        if ac.held_since >= 0.0:
            target.record.wait(now, 24.0 * (now - ac.held_since), w)
            ac.held_since = -1.0

    def choose(self, ac: Aircraft, now: float) -> bool:
        """Choose the target to fly to now, book its landing or pass, weigh the sortie.

        The first target in order of preference that is open and flyable today and
        can take the aircraft within ``holding_h`` of its arrival (its hours and the
        landings or passes already booked) — a congested first choice spills over to
        the next. When every usable target is busy, the aircraft books the one that
        can take it first and waits at home to leave in time for it (a slot time).
        False when the opportunity is aborted or the aircraft waits.

        The opportunity is judged when the aircraft would leave for it: when no
        target it could use is open by its hours on arrival, the aircraft first waits
        at home until it must leave to arrive at the first opening (:meth:`opening`),
        and only then is it seen whether it is fit to fly, its home flyable and its
        targets usable that day.
        """
        windows = self.windows
        if windows:
            field, field_out = windows[0]  # the first target usable and open on arrival?
            hours = field.hours
            if not (
                field.ok
                and field.is_open
                and (hours.always or (now + field_out - hours.opens) % 1.0 < hours.length)
            ):
                leave = self.opening(now)
                if leave > now + EPS:
                    ac.opens_at = leave
                    if ac.held_since < 0.0:
                        ac.held_since = now
                    return False
        if self.check_mc:
            m = ac.maintenance  # up now? (inside the up period found last: no search)
            if not (m.up_from <= now < m.up_to or m.up_now(now)):
                up = m.next_up(now)
                if up > now + EPS:  # (repaired within EPS: the same moment)
                    self._broken(ac, now, up)
                    return False
        home = self.home_zone
        base = self.base
        shut = base is not None and not base.is_open
        if (shut or home.flyable <= 0.0 or self.origin is not None) and (
            not self._home_allows(ac, now)
        ):
            return False
        if ac.returns:
            ac.restore(now)
        w_home = ac.survival * self.mc_weight * home.flyable
        holding = self.holding
        out = self.out
        airdrop = self.airdrop
        best: tuple[float, int, Point, float] | None = None
        for j, p in enumerate(self.targets):
            if not p.ok:
                continue
            w = w_home if p.zone is home else w_home * p.zone.flyable
            arrive = now + out[j]
            if airdrop:
                booking: Any = p.book(arrive, w, holding)  # type: ignore[call-arg]
            else:
                booking = p.book(arrive, w, self.ground, holding)  # type: ignore[call-arg]
            if booking is not None:
                if ac.held_since >= 0.0:
                    self._waited(ac, p, now, w)
                ac.target = p
                ac.booking = booking
                ac.weight = w
                ac.j = j
                return True
            free = p.pass_time(arrive) if airdrop else p.landing_time(arrive)  # type: ignore[union-attr]
            leave = free - holding - out[j]
            if best is None or leave < best[0]:
                best = (leave, j, p, w)
        if best is not None:
            leave, j, p, w = best
            if leave < now + EPS:
                leave = now + EPS
            booking = self._book(p, leave + out[j], w, holding + 2.0 * EPS)
            if booking is not None:
                ac.plan = (p, booking, w, j)
                ac.ready_at = leave
                if ac.held_since < 0.0:
                    ac.held_since = now
                return False
        weather = any(p.zone.flyable <= 0.0 and p.is_open for p in self.targets)
        self._not_today(ac, now, "weather" if weather else "no_target")
        return False

    def _book(self, p: Point, arrive: float, w: float, holding: float) -> Any:
        """Book a landing (airfields) or a pass (drop zones) for an arrival at ``arrive``."""
        if self.airdrop:
            return p.book(arrive, w, holding)  # type: ignore[call-arg]
        return p.book(arrive, w, self.ground, holding)  # type: ignore[call-arg]

    def opening(self, now: float, today: bool = True) -> float:
        """When to leave for the first target that can take the aircraft, by opening hours.

        ``now`` if a target usable today is open on arrival (or no target opens
        later); otherwise the time to leave so as to arrive at the first opening of
        a target now closed (usable or not today: the aircraft is judged on leaving).
        A target shut by an event does not count. ``today`` False: by the hours
        alone (for a moment ahead, whose day is not decided yet).
        """
        first = math.inf
        for p, out in self.windows:
            if not p.is_open:
                continue
            hours = p.hours
            arrive = now + out
            if hours.is_open(arrive):
                if p.ok or not today:
                    return now
                continue
            leave = hours.next_opening(arrive) - out  # to arrive at the next opening
            if leave < first:
                first = leave
        return first if first != math.inf else now

    def _broken(self, ac: Aircraft, now: float, up: float) -> None:
        """The aircraft is broken down when it would leave; it is repaired at ``up``.

        Under a tasking ceiling the opportunity is lost, and so is every later one
        the aircraft would have left for before ``up`` (:meth:`leave_for`), each
        counted; the next is due 1 / rate after the last lost. Without a ceiling the
        aircraft waits until repaired (a breakdown counted once). No flying hours
        accrue until ``up``.
        """
        ac.held_since = -1.0
        ac.plan = None
        if self.ute is not None:
            ac.flying_hours.pause(now, up)
        gap = self.gap
        if gap <= 0.0:
            if up != ac.downtime_seen:
                ac.downtime_seen = up
                self.abort(self.day_of(now), "not_mc", 1.0)
            ac.ready_at = up
            return
        self.abort(self.day_of(now), "not_mc", 1.0)
        g = ac.tasked = ac.due
        end = self.last_day + 1.0
        while True:  # the next opportunities, judged while it is still broken down
            g += gap
            leave = self.leave_for(ac, g)
            if leave >= up or leave >= end:
                return
            self.abort(self.day_of(leave if leave > now else now), "not_mc", 1.0)
            ac.tasked = g

    def leave_for(self, ac: Aircraft, due: float) -> float:
        """When the aircraft, at home and ready, would leave for an opportunity due at ``due``.

        At ``due`` or later, in its base's window and when a target is open on
        arrival by its hours (the days ahead are not decided yet). inf when that
        would not be on a day flown (the opportunity moves, see :meth:`earliest`).
        """
        base = self.base
        windows = self.windows
        first, last, ok = self.first_day, self.last_active, self.weekday_ok
        t = due
        for _ in range(8):
            day = int(t + EPS)
            if not (first <= day <= last and ok[day % 7]):
                return math.inf
            t0 = t
            if base is not None:
                t = base.hours.next_open(t)
            if windows:
                t = self.opening(t, False)
            if t <= t0 + EPS:
                return t
        return math.inf

    def has_cargo(self) -> bool:
        """Whether a shuttle's origin holds anything to carry above its reserve."""
        origin = self.origin
        assert origin is not None
        stock = origin.stock
        reserve = self.reserve_days
        demand = origin.demands(self.ctx.siege.ammunition) if reserve > 0.0 else None
        for i, _ in self.cargo:
            spare = stock[i] - reserve * demand[i] if demand is not None else stock[i]
            if spare > 0.0:
                return True
        return False

    def _not_today(self, ac: Aircraft, now: float, reason: str) -> None:
        """Abort the opportunity: it is lost.

        Under a tasking ceiling the next opportunity is due 1 / rate after the lost
        one was due (so the grid of tasked times stays where it was, and what is lost
        is not made up). Without a ceiling the aircraft tries again from the start of
        the next day (the day's weather and closures are decided then). No flying
        hours accrue meanwhile.
        """
        self.abort(self.day_of(now), reason, ac.survival * self.mc_weight)
        ac.held_since = -1.0
        ac.plan = None
        if self.gap > 0.0:
            ac.tasked = ac.due
            until = ac.due + self.gap
        else:
            until = ac.ready_at = int(now + EPS) + 1.0
        if self.ute is not None:
            ac.flying_hours.pause(now, until)

    def abort(self, day: int, reason: str, weight: float) -> None:
        """Count an aborted opportunity (or a sortie flown back with its load)."""
        self.aborted[day] += weight
        self.aborted_by[reason][day] += weight

    def load(self, weight: float) -> tuple[list[float], Account]:
        """The cargo of a sortie of weight ``weight`` (t per commodity) and its account."""
        ledger = self.ctx.ledger
        origin = self.origin
        if origin is None:
            fixed = self.fixed_load
            load = fixed if weight == 1.0 else [x * weight for x in fixed]
            ledger.load_outside(load)
            return load, ledger.air
        want = [0.0] * len(self.fixed_load)
        stock = origin.stock
        reserve = self.reserve_days
        demand = origin.demands(self.ctx.siege.ammunition) if reserve > 0.0 else None
        for i, share in self.cargo:
            take = self.payload * share * weight
            spare = stock[i] - reserve * demand[i] if demand is not None else stock[i]
            want[i] += take if take < spare else (spare if spare > 0.0 else 0.0)
        taken = ledger.load_shuttle(origin, want)
        return (taken if taken is not None else [0.0] * len(want)), ledger.shuttle

    def take_off(self, ac: Aircraft) -> float:
        """Load and take off for the booked target; the flight time out (days).

        The sortie's two loss draws are taken now, whatever happens next.
        """
        now = self.env._now
        w = ac.weight
        day = int(now + EPS)
        if day > self.last_day:
            day = self.last_day
        if not self.stochastic:  # the expected opportunities lost to breakdowns and weather
            s = ac.survival
            self.abort(day, "not_mc", s * (1.0 - self.mc))
            self.abort(day, "weather", s * self.mc - w)
        if self.origin is None:  # from outside (load(), inlined)
            fixed = self.fixed_load
            ac.load = fixed if w == 1.0 else [x * w for x in fixed]
            account = ac.account = self.ledger.air
            total = self.fixed_total * w
            account.sent += total
            account.under_way += total
        else:
            ac.load, ac.account = self.load(w)
        out = self.out[ac.j]
        ac.out = out
        ac.diverted = False
        ac.tasked = ac.due if self.gap > 0.0 else now
        hours = 48.0 * out
        if self.ute is not None:
            ac.flying_hours.spend(now, hours)
        self.flying_h[day] += w * hours
        self.flown[day] += w
        self.pockets[ac.target.pocket].flown[day] += w
        ac.q_air, ac.ground_u = ac.loss.loss_draws(self.loss * self.threat.loss)
        return out

    def arrive(self, ac: Aircraft) -> bool:
        """Over the target: the aircraft was perhaps lost on the way (False), its load too."""
        q = ac.q_air
        if q > 0.0:
            assert ac.load is not None
            ac.load = self.ledger.lose(ac.account, ac.load, q)
            if self._lost(ac, ac.weight * q):
                return False
            ac.weight -= ac.weight * q
        return True

    def divert(self, ac: Aircraft) -> Generator[float, None, bool]:
        """Leave the target: fly on to the next usable one that can take the aircraft.

        True with that target and its landing or pass booked on arrival; False after
        the load is booked as flown home (``closed``: no next target open;
        ``holding``: none could take it within the holding time).
        """
        env = self.env
        w = ac.weight
        target = ac.target
        target.record.divert(env._now, w)
        reason = "closed"
        while True:
            nxt = self._next_target(target)
            if nxt is None:
                self.abort(self.day_of(env._now), reason, w)
                assert ac.load is not None
                self.ledger.return_home(ac.account, ac.load, self.origin)
                ac.load = None
                return False
            hop = self.hop_days(target, nxt)
            day = self.day_of(env._now)
            if self.ute is not None:
                ac.flying_hours.spend(env._now, 24.0 * hop)
            self.flying_h[day] += w * 24.0 * hop
            self.diversions[day] += w
            yield hop
            ac.target = target = nxt
            ac.diverted = True
            booking = self._book(target, env._now, w, self.holding)
            if booking is not None:
                ac.booking = booking
                return True
            target.record.divert(env._now, w)
            reason = "holding"

    def _next_target(self, after: Point) -> Point | None:
        """The next usable target after ``after`` in the order of preference, if any."""
        targets = self.targets
        start = targets.index(after) + 1 if after in targets else len(targets)
        for p in targets[start:]:
            if p.ok:
                return p
        return None

    def _hold(self, ac: Aircraft, until: float) -> None:
        """Hold in the air from now until ``until``: the hours come out of the budget."""
        now = self.env._now
        held = 24.0 * (until - now)
        if held > 0.0:
            if self.ute is not None:
                ac.flying_hours.spend(now, held)
            self.flying_h[self.day_of(now)] += ac.weight * held

    def land(self, ac: Aircraft) -> float:
        """Hold for the booked landing, land, unload: the time until unloading is done."""
        landed, done = ac.booking
        now = self.env._now
        ac.target.record.serve(now, landed, ac.weight)
        if landed > now:
            self._hold(ac, landed)
        return done - now if done > now else 0.0

    def unloaded(self, ac: Aircraft) -> bool:
        """Unloading is done: the load reaches the pocket; a parked aircraft may be
        destroyed (False)."""
        self._deliver(ac, 1.0)
        field: Airfield = ac.target  # (a landing sortie's target is an airfield)
        if field.ground_loss > 0.0:
            landed, done = ac.booking
            p_hour = field.ground_loss * self.threat.loss
            p = 1.0 - (1.0 - min(p_hour, 1.0)) ** (24.0 * (done - landed))
            q = (1.0 if ac.ground_u < p else 0.0) if self.stochastic else p
            if q > 0.0 and self._lost(ac, ac.weight * q):
                return False
        return True

    def hold(self, ac: Aircraft) -> float:
        """Hold for the booked drop pass: the time until it."""
        now = self.env._now
        when: float = ac.booking
        ac.target.record.serve(now, when, ac.weight)
        if when > now:
            self._hold(ac, when)
            return when - now
        return 0.0

    def drop(self, ac: Aircraft) -> None:
        """Drop the load over the zone; the pallets recovered reach the pocket."""
        zone: DropZone = ac.target  # (an airdrop sortie's target is a drop zone)
        assert ac.load is not None
        total = sum(ac.load)
        n = zone.pallets(total)
        k = ac.recovery.binomial(n, zone.recovery)
        self.pallets_dropped += n
        self.pallets_recovered += k
        day = int(self.env._now + EPS)  # day_of(), inlined
        if day > self.last_day:
            day = self.last_day
        self.dropped[day] += total
        self.pallets[day] += n
        tally = self.pockets[zone.pocket]
        tally.dropped[day] += total
        tally.pallets[day] += n
        self._deliver(ac, k / n)

    def _deliver(self, ac: Aircraft, share: float) -> None:
        """Book ``share`` of the load into the target's pocket."""
        pocket = ac.target.pocket
        load = ac.load
        assert load is not None
        account = ac.account
        ledger = self.ledger
        got = ledger.deliver(account, self.ctx.pockets[pocket], load, share, ac.diverted)
        ac.load = None
        day = int(self.env._now + EPS)
        if day > self.last_day:
            day = self.last_day
        tally = self.pockets[pocket]
        w = ac.weight
        self.deliveries[day] += w
        tally.deliveries[day] += w
        if account is ledger.shuttle:  # between pockets: a transfer, not a delivery
            self.transferred[day] += got
            tally.transferred[day] += got
        else:
            self.delivered[day] += got
            tally.delivered[day] += got

    def _lost(self, ac: Aircraft, lost_weight: float) -> bool:
        """An aircraft (or in the deterministic limit, ``lost_weight`` of one) is lost.

        Returns True when the whole aircraft is gone (a stochastic loss).
        """
        now = self.env._now
        day = self.day_of(now)
        self.lost_daily[day] += lost_weight
        self.pockets[ac.target.pocket].lost[day] += lost_weight
        if self.stochastic:
            ac.load = None
            ac.away = True
            ac.back_at = (
                now + ac.replacement.exponential(self.replacement)
                if self.replacement is not None
                else math.inf
            )
            ac.service.append((now, 0.0))
            return True
        if ac.returns:
            ac.restore(now)
        s = ac.survival - lost_weight
        ac.survival = s if s > 0.0 else 0.0
        ac.service.append((now, ac.survival))
        if self.replacement is not None:
            ac.returns.append((now + self.replacement, lost_weight))
        return False

    def _back(self, ac: Aircraft, now: float) -> float:
        """The flight time home from the target (days); after a diversion, the hours
        beyond the planned flight back are flown now, out of the budget."""
        back = ac.out
        if ac.diverted:  # flown back from another target than planned
            target = ac.target
            back = self.out[self.targets.index(target)] if target in self.targets else back
            extra = 24.0 * (back - ac.out)
            if self.ute is not None:
                ac.flying_hours.spend(now, extra)
            self.flying_h[self.day_of(now)] += ac.weight * extra
        return back

    def home(self, ac: Aircraft) -> float:
        """Fly back and be turned round at a base without loading slots (or no base):
        the time from now until the aircraft is allowed to leave again.

        Without a queue at the base, the turnaround and the wait after it are known
        on leaving the target, so the aircraft sleeps once (:meth:`fly` yields this
        delay): it is woken on the way if an event changes the fleet, then finishes
        its flight and turnaround (``ready_at``, set here) and reconsiders. Otherwise
        it is woken at the take-off time it computed (``allowed_at``), and
        :meth:`_go` sends it off. A plain function, not a generator, as the step of
        every sortie; a base with loading slots takes :meth:`home_queued`.
        """
        now = self.env._now
        back = ac.out if not ac.diverted else self._back(ac, now)
        base = self.base
        if base is None:
            done = now + back + self.base_days
        else:
            done = base.turn_round(now + back, self.base_days, ac.weight)
        ac.ready_at = done
        t = self.earliest(ac, done)
        ac.allowed_at = t  # sleep until t, as in ready()
        ac.waiting = True
        return t - now if t != math.inf else UNTIL_WOKEN

    def home_queued(self, ac: Aircraft) -> Cycle:
        """Fly back to a base with loading slots, queue there on arrival and be turned
        round, then sleep until allowed to leave (woken at ``allowed_at``, as
        :meth:`home`)."""
        env = self.env
        base = self.base  # the base it flies back to (an event may move the fleet meanwhile)
        assert base is not None
        yield self._back(ac, env._now)
        done = base.turn_round(env._now, self.base_days, ac.weight)
        if done > env._now:
            yield done - env._now
        now = ac.ready_at = env._now
        if ac.index >= self.n:
            return  # retired (ready() says so)
        t = self.earliest(ac, now)
        ac.allowed_at = t  # sleep until t, as in ready() (within EPS: leave now)
        if t > now + EPS:
            ac.waiting = True
            try:
                yield t - now if t != math.inf else UNTIL_WOKEN
            except Woken:  # an event changed the fleet: ready() reconsiders
                ac.allowed_at = -1.0
            ac.waiting = False

    # -- the record -------------------------------------------------------------

    def available(self) -> np.ndarray:
        """Aircraft available at the end of each day: in service, not lost, and up.

        Computed once, after the run, from each aircraft's service log and breakdowns
        (in the deterministic limit: its survival × mission_capable).
        """
        n = self.last_day + 1
        day_ends = np.arange(1.0, n + 1.0)
        total = np.zeros(n)
        for ac in self.places:
            in_service = ac.in_service(day_ends)
            if self.stochastic:
                total += in_service * ac.maintenance.up_at(day_ends)
            else:
                total += in_service * self.mc
        return total

    def aboard(self, account: Account) -> float:
        """Tonnes of ``account`` aboard the fleet's aircraft now."""
        return sum(
            sum(ac.load) for ac in self.places if ac.load is not None and ac.account is account
        )

    def series(self) -> dict[str, np.ndarray]:
        """The fleet's daily series (see :mod:`sim.model.record`)."""
        n = self.name
        flying = to_numpy(self.flying_h)
        available = self.available()
        utilisation = np.full(len(flying), math.nan)
        np.divide(flying, available, out=utilisation, where=available > 0.0)
        out = {
            series_name("delivered_t", n): to_numpy(self.delivered),
            series_name("sorties_flown", n): to_numpy(self.flown),
            series_name("sorties_aborted", n): to_numpy(self.aborted),
            series_name("deliveries", n): to_numpy(self.deliveries),
            series_name("diversions", n): to_numpy(self.diversions),
            series_name("aircraft_lost", n): to_numpy(self.lost_daily),
            series_name("aircraft_available", n): available,
            series_name("flying_h", n): flying,
            series_name("utilisation", n): utilisation,
        }
        for reason, arr in self.aborted_by.items():
            out[series_name("sorties_aborted", n, reason)] = to_numpy(arr)
        if self.airdrop:
            out[series_name("dropped_t", n)] = to_numpy(self.dropped)
            out[series_name("pallets_dropped", n)] = to_numpy(self.pallets)
        if self.shuttle:
            out[series_name("transferred_t", n)] = to_numpy(self.transferred)
        for p, tally in self.pockets.items():
            out.update(tally.series(n, p, dropped=self.airdrop, transferred=self.shuttle))
        return out

    def counters(self) -> dict[str, float]:
        """Run totals that are not daily series."""
        n = self.name
        out = {
            series_name(f"aborted_{r}", n): float(sum(arr)) for r, arr in self.aborted_by.items()
        }
        if self.airdrop:
            out[series_name("pallets_dropped", n)] = self.pallets_dropped
            out[series_name("pallets_recovered", n)] = self.pallets_recovered
        return out
