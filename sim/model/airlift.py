"""Fleets and the aircraft sortie cycle.

Each aircraft is a SimPy process. Its sortie slots fall every
``1 / sorties_per_day`` days from ``depart_h`` on day 0; a slot counts only on the
fleet's weekdays, inside its active window, and once the aircraft is back and
turned round. At each usable slot:

1. **mission-capable?** with probability ``mission_capable`` (else aborted);
2. **flyable?** the day's weather (else aborted);
3. **an open target?** the first usable target in order of preference (else
   aborted); a shuttle (``origin`` set) also needs cargo in its origin pocket above
   ``origin_reserve_days`` of full demand;
4. **fly out** ``flight_h``; the aircraft is **lost** with probability
   ``loss_per_sortie`` × the threat's loss multiplier (cargo lost with it);
5. **land**: queue for a parking slot, wait for the operating window, unload for
   ``ground_h`` — or **drop**: the drop zone recovers a binomial share of pallets;
   a target shut meanwhile sends the aircraft home with its cargo;
6. **fly back** ``flight_h`` and turn round for ``base_h``.

Times are in days inside the model (hours ÷ 24). Tonnage is booked into pockets
as it arrives; every sortie outcome is counted per day. Parameters are plain
attributes refreshed by :meth:`Fleet.configure` when a timeline event changes the
fleet; a higher ``aircraft`` spawns new aircraft, a lower one grounds the
surplus.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np
from simpy.events import Timeout

from sim.model.record import to_numpy, zeros
from sim.model.streams import Stream
from sim.scenario.schema import WEEKDAYS
from sim.scenario.schema import Fleet as FleetConfig

if TYPE_CHECKING:
    from sim.model.delivery import Airfield, DropZone
    from sim.model.world import World

ABORT_REASONS: tuple[str, ...] = ("not_mc", "weather", "no_target", "no_cargo", "closed")
"""Why a sortie slot was not flown (or flown back with its cargo, for ``closed``)."""


class Fleet:
    """One fleet's parameters, its aircraft processes and its daily counters."""

    def __init__(self, name: str, cfg: FleetConfig, world: World, stream: Stream) -> None:
        self.name = name
        self.world = world
        self.env = world.env
        self.last_day = world.n_days - 1
        self.stream = stream
        self.mode = cfg.mode
        self.airdrop = cfg.mode == "airdrop"
        self.alive: list[int] = []
        self.spawned = 0
        self.cycles: list[Generator[Any, Any, None]] = []  # every aircraft's sortie cycle
        self.lost = 0
        self.lost_before = 0  # losses before `aircraft` was last set (they don't count after)
        self.aircraft = -1
        n = world.n_days
        self.flown = zeros(n)
        self.aborted = zeros(n)
        self.deliveries = zeros(n)
        self.lost_daily = zeros(n)
        self.delivered = zeros(n)
        self.dropped = zeros(n)
        self.to_pocket: dict[str, array] = {}
        self.abort_counts = dict.fromkeys(ABORT_REASONS, 0.0)
        self.pallets_dropped = 0.0
        self.pallets_recovered = 0.0
        self.configure(cfg)

    def configure(self, cfg: FleetConfig) -> None:
        """Take the parameters in force; spawn aircraft if the fleet grew."""
        w = self.world
        if cfg.aircraft != self.aircraft:
            # A new aircraft count (at the start or from an event) is what the fleet has from
            # now on: earlier losses are already accounted for in it.
            self.aircraft = cfg.aircraft
            self.lost_before = self.lost
        self.payload = cfg.payload_t
        self.cargo = [(w.commodity_index[c], share) for c, share in cfg.cargo.items()]
        self.flight = cfg.flight_h / 24.0
        self.ground = cfg.ground_h / 24.0
        self.base = cfg.base_h / 24.0
        self.depart = cfg.depart_h / 24.0
        self.interval = 1.0 / cfg.sorties_per_day
        flown = set(cfg.days)
        self.weekday_ok = [WEEKDAYS[(w.start_weekday + d) % 7] in flown for d in range(7)]
        self.mission_capable = cfg.mission_capable
        self.not_mc = 1.0 - cfg.mission_capable
        cal = w.scenario.calendar
        self.first_day = cal.day(cfg.active_from) if cfg.active_from else 0
        last = cal.day(cfg.active_to) if cfg.active_to else w.n_days - 1
        self.end_time = float(min(last + 1, w.n_days))
        points: list[Airfield | DropZone] = [w.points[t] for t in cfg.targets]
        self.targets = points
        for p in points:
            if p.pocket not in self.to_pocket:
                self.to_pocket[p.pocket] = zeros(w.n_days)
        self.loss = cfg.loss_per_sortie
        self.origin = w.pockets[cfg.origin] if cfg.origin else None
        self.reserve_days = cfg.origin_reserve_days
        # The cargo of a sortie from outside, per commodity index (a new list whenever the
        # parameters change: aircraft in flight keep the one they took off with).
        load = [0.0] * w.n_commodities
        for i, share in self.cargo:
            load[i] += self.payload * share
        self.fixed_load = load
        want = self.flying()
        while len(self.alive) < want:
            ident = self.spawned
            self.spawned += 1
            self.alive.append(ident)
            cycle = self._aircraft(ident)
            self.cycles.append(cycle)
            self.env.process(cycle)

    def detach(self) -> None:
        """After the run: end the aircraft processes and drop the link to the world.

        Breaks the reference cycles (world → fleet → world, and the processes'
        frames) so a finished replication is freed as soon as it is dropped; the
        fleet's series and counters stay readable.
        """
        for cycle in self.cycles:
            cycle.close()
        self.cycles.clear()
        del self.world

    def day_of(self, t: float) -> int:
        """The day an event at time ``t`` counts for (robust to float sums like 20 h + 4 × 1 h)."""
        d = int(t + 1e-9)
        return d if d < self.last_day else self.last_day

    def flying(self) -> int:
        """Aircraft the fleet can fly now: the count last set, less losses since."""
        return self.aircraft - (self.lost - self.lost_before)

    def next_slot(self, ready: float) -> float:
        """The first usable sortie slot at or after time ``ready`` (inf if none is left)."""
        t0 = self.depart
        iv = self.interval
        k = math.ceil((ready - t0) / iv - 1e-9)
        if k < 0:
            k = 0
        t = t0 + k * iv
        end = self.end_time
        ok = self.weekday_ok
        while t < end:
            day = int(t + 1e-9)
            if day < self.first_day:
                k = math.ceil((self.first_day - t0) / iv - 1e-9)
            elif not ok[day % 7]:
                k = math.ceil((day + 1 - t0) / iv - 1e-9)
            else:
                return t
            t = t0 + k * iv
        return math.inf

    def _abort(self, day: int, reason: str) -> None:
        self.aborted[day] += 1.0
        self.abort_counts[reason] += 1.0

    def _aircraft(self, ident: int) -> Generator[Any, Any, None]:
        # The sortie cycle of the module docstring. Hot code: helpers are inlined, and
        # only the parameters an event may change are read from ``self`` at each step.
        env = self.env
        w = self.world
        weather = w.weather
        siege = w.siege
        stream = self.stream
        alive = self.alive
        aborted = self.aborted
        counts = self.abort_counts
        inf = math.inf
        ready = env.now
        while True:
            t = self.next_slot(ready)
            if t == inf:
                return
            now = env.now
            if t > now:
                yield Timeout(env, t - now)
            ready = t + 0.5 * self.interval  # past this slot, before the next
            day = int(t + 1e-9)  # day_of(t)
            if day > self.last_day:
                day = self.last_day
            flying = self.aircraft - (self.lost - self.lost_before)
            if len(alive) > flying and alive.index(ident) >= flying:
                continue  # grounded: the fleet was cut back by an event
            if stream.bernoulli(self.not_mc, "not_mc"):
                aborted[day] += 1.0
                counts["not_mc"] += 1.0
                continue
            if not weather.flyable:
                aborted[day] += 1.0
                counts["weather"] += 1.0
                continue
            target = None
            for p in self.targets:
                if p.usable:
                    target = p
                    break
            if target is None:
                aborted[day] += 1.0
                counts["no_target"] += 1.0
                continue
            load = self.fixed_load if self.origin is None else self._load()
            if load is None:
                aborted[day] += 1.0
                counts["no_cargo"] += 1.0
                continue
            self.flown[day] += 1.0
            yield Timeout(env, self.flight)
            if self.loss > 0.0 and stream.bernoulli(self.loss * siege.loss, "loss"):
                self.lost_daily[self.day_of(env.now)] += 1.0
                self.lost += 1
                alive.remove(ident)
                if self.origin is not None:
                    w.cargo_lost(load)
                return
            if self.airdrop:
                if target.usable:
                    total = sum(load)
                    got, n, k = target.recover(total)
                    self.pallets_dropped += n
                    self.pallets_recovered += k
                    d = self.day_of(env.now)
                    self.dropped[d] += total
                    self._deliver(d, target.pocket, load, got / total if total > 0 else 0.0)
                else:
                    self._return_cargo(day, load)
            else:
                ok = False
                if target.usable:
                    slots = target.slots
                    granted = slots.request()
                    if granted is not None:
                        yield granted
                    start = target.unload_start(env.now, self.ground)
                    if start != inf:
                        if start > env.now:
                            yield Timeout(env, start - env.now)
                        if target.usable:
                            yield Timeout(env, self.ground)
                            ok = True
                    slots.release()
                if ok:
                    self._deliver(self.day_of(env.now), target.pocket, load, 1.0)
                else:
                    self._return_cargo(day, load)
            yield Timeout(env, self.flight + self.base)
            ready = env.now

    def _load(self) -> list[float] | None:
        """Cargo per commodity index for one sortie; None if a shuttle finds nothing to carry."""
        w = self.world
        origin = self.origin
        if origin is None:
            return self.fixed_load
        load = [0.0] * w.n_commodities
        payload = self.payload
        stock = origin.stock
        reserve = self.reserve_days
        demand = origin.demands(w.siege.ammunition) if reserve > 0.0 else None
        total = 0.0
        for i, share in self.cargo:
            take = payload * share
            spare = stock[i] - reserve * demand[i] if demand is not None else stock[i]
            if take > spare:
                take = spare if spare > 0.0 else 0.0
            load[i] += take
            total += take
        if total <= 0.0:
            return None
        for i in range(len(load)):
            if load[i] > 0.0:
                stock[i] -= load[i]
                origin.transferred_out[i] += load[i]
        w.in_transit += total
        return load

    def _deliver(self, day: int, pocket_name: str, load: list[float], share: float) -> None:
        """Book ``share`` of ``load`` into the pocket; the rest of a drop is lost."""
        w = self.world
        pocket = w.pockets[pocket_name]
        got = 0.0
        from_outside = self.origin is None
        for i, x in enumerate(load):
            if x <= 0.0:
                continue
            y = x * share
            pocket.stock[i] += y
            got += y
            if from_outside:
                pocket.delivered[i] += y
            else:
                pocket.transferred_in[i] += y
        if not from_outside:
            total = sum(load)
            w.in_transit -= total
            w.transit_lost += total - got
        self.deliveries[day] += 1.0
        self.delivered[day] += got
        self.to_pocket[pocket_name][day] += got
        w.received[pocket_name][day] += got

    def _return_cargo(self, day: int, load: list[float]) -> None:
        """The destination was shut: the sortie counts as aborted and the cargo goes home."""
        self._abort(day, "closed")
        origin = self.origin
        if origin is None:
            return
        total = 0.0
        for i, x in enumerate(load):
            if x > 0.0:
                origin.stock[i] += x
                origin.transferred_in[i] += x
                total += x
        self.world.in_transit -= total

    def series(self) -> dict[str, np.ndarray]:
        """The fleet's daily series (see :mod:`sim.model.record`)."""
        n = self.name
        out = {
            f"delivered_t__{n}": to_numpy(self.delivered),
            f"sorties_flown__{n}": to_numpy(self.flown),
            f"sorties_aborted__{n}": to_numpy(self.aborted),
            f"deliveries__{n}": to_numpy(self.deliveries),
            f"aircraft_lost__{n}": to_numpy(self.lost_daily),
        }
        if self.airdrop:
            out[f"dropped_t__{n}"] = to_numpy(self.dropped)
        for p, arr in self.to_pocket.items():
            out[f"delivered_t__{n}__{p}"] = to_numpy(arr)
        return out

    def counters(self) -> dict[str, float]:
        """Run totals that are not daily series."""
        n = self.name
        out = {f"aborted_{r}__{n}": v for r, v in self.abort_counts.items()}
        if self.airdrop:
            out[f"pallets_dropped__{n}"] = self.pallets_dropped
            out[f"pallets_recovered__{n}"] = self.pallets_recovered
        return out
