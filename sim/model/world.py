"""Build the world of one replication, run it day by day, collect the result.

Phases (as in desmod): **build** — one component per scenario entry, each with its
own named random streams, and the ledger that books every tonne; **run** — for each
day ``d``:

1. apply the timeline events dated ``d`` (components re-read their parameters;
   aircraft waiting at home are woken to re-read theirs);
2. the weather of the day in every zone, then the siege (threat θ from H at dawn,
   combat sorties, targets destroyed, reinforcement);
3. airfields and helipads shut or not (events, shelling closures that last days);
4. convoys arrive, routes dispatch new ones;
5. each pocket sets its ration level from its days of supply;
6. the driver (:mod:`sim.model.drive`) resumes every aircraft whose wait ends
   before ``d + 1``, in time order (what ``env.run(until=d + 1)`` would do with
   SimPy processes);
7. each pocket eats the day's rations; the day's values are appended to the record
   (one row per day, turned into the daily numpy series when the run ends);

— then **collect**: daily series, counters, and the mass balance checked by the
ledger (a violation raises :class:`~sim.model.record.MassBalanceError`). The
aircraft cycles still waiting are ended, so a finished world holds nothing on its
heap and is freed as soon as it is dropped.

There is no per-hour ticking: the daily loop touches each pocket and route once a
day, and each aircraft is resumed only when its wait ends.
"""

from __future__ import annotations

import math
import struct
from collections import defaultdict
from functools import partial
from itertools import chain

import numpy as np
import simpy

from sim.model.airlift import Fleet, FleetContext
from sim.model.bases import Base
from sim.model.delivery import Airfield, DropZone
from sim.model.drive import Driver
from sim.model.ledger import Ledger
from sim.model.pocket import Pocket
from sim.model.record import RunResult, series_name, to_numpy
from sim.model.routes import Route
from sim.model.siege import Siege
from sim.model.streams import Stream, make_stream
from sim.model.timeline import TimelineStep, timeline_steps
from sim.model.weather import WeatherZone, month_of_day
from sim.scenario.paths import parse_path
from sim.scenario.schema import Scenario


class World:
    """Every component of one replication; the aircraft on one heap of wakes (a SimPy
    environment's, see :mod:`sim.model.drive`)."""

    def __init__(self, scenario: Scenario, replication: int, seed: int) -> None:
        self.scenario = scenario
        self.replication = replication
        self.seed = seed
        self.stochastic = scenario.stochastic
        self.env = simpy.Environment()
        self.driver = Driver(self.env)
        cal = scenario.calendar
        self.n_days = n = cal.n_days
        self.commodities = list(scenario.commodities)
        self.commodity_index = {c: i for i, c in enumerate(self.commodities)}
        self.n_commodities = len(self.commodities)
        months = month_of_day(cal.start, n)

        self.default_zone = WeatherZone(
            "", scenario.weather, self.stream("weather"), months, self.stochastic
        )
        self.zones = {
            name: WeatherZone(name, cfg, self.stream(f"weather:{name}"), months, self.stochastic)
            for name, cfg in scenario.weather_zones.items()
        }
        self.siege = Siege(scenario.siege, self.stream("siege"))
        self.pockets = {
            name: Pocket(name, cfg, scenario.commodities) for name, cfg in scenario.pockets.items()
        }
        self.ledger = Ledger(list(self.pockets.values()))
        self.bases = {
            name: Base(name, cfg, self.zone(cfg.weather_zone), n)
            for name, cfg in scenario.bases.items()
        }
        self.airfields: dict[str, Airfield] = {}
        for section in ("airfields", "helipads"):
            for name, cfg in getattr(scenario, section).items():
                self.airfields[name] = Airfield(
                    name,
                    cfg,
                    self.zone(cfg.weather_zone),
                    self.stream(f"{section}:{name}:closure"),
                    self.stochastic,
                    n,
                )
        self.drop_zones = {
            name: DropZone(name, cfg, self.zone(cfg.weather_zone), n)
            for name, cfg in scenario.drop_zones.items()
        }
        self.points: dict[str, Airfield | DropZone] = {**self.airfields, **self.drop_zones}
        self.routes = {
            name: Route(name, cfg, self.pockets[cfg.a], self.pockets[cfg.b], self.ledger, n)
            for name, cfg in scenario.routes.items()
        }
        context = FleetContext(
            env=self.env,
            driver=self.driver,
            calendar=cal,
            n_days=n,
            stochastic=self.stochastic,
            ledger=self.ledger,
            pockets=self.pockets,
            points=self.points,
            bases=self.bases,
            default_zone=self.default_zone,
            siege=self.siege,
            commodity_index=self.commodity_index,
            # a factory that does not hold the world (no reference cycle through it)
            stream=partial(make_stream, self.stochastic, self.seed, self.replication),
        )
        self.fleets = {name: Fleet(name, cfg, context) for name, cfg in scenario.fleets.items()}
        self.steps: dict[int, list[TimelineStep]] = defaultdict(list)
        for step in timeline_steps(scenario):
            self.steps[step.day].append(step)
        self._alloc_series()

    def stream(self, name: str) -> Stream:
        """The named random stream of a component in this replication."""
        return make_stream(self.stochastic, self.seed, self.replication, name)

    def zone(self, name: str | None) -> WeatherZone:
        """The weather zone of that name; the default zone for None."""
        return self.default_zone if name is None else self.zones[name]

    def _alloc_series(self) -> None:
        """The day-by-day record, appended at the end of each day, read by :meth:`collect`.

        Flat Python lists of floats: ``list +=`` of a day's values costs far less
        than element writes into numpy arrays (or ``array.extend``), and
        :meth:`collect` converts each list once. Per pocket and day: ``r_consume``
        gets the consumed then the shortfall tonnes of each commodity; ``r_stock`` the
        stock then the full demand of each commodity; ``r_state`` the ration level,
        the lowest civilian and garrison ratios, civilians, garrison, then the tonnes
        received from outside and from other pockets. ``r_world`` gets per day combat
        sorties, targets destroyed, weapons, threat, then per route the tonnes on the
        road. Weather zones and airfields keep their own daily arrays.
        """
        self.r_consume: list[list[float]] = [[] for _ in self.pockets]
        self.r_stock: list[list[float]] = [[] for _ in self.pockets]
        self.r_state: list[list[float]] = [[] for _ in self.pockets]
        self.r_world: list[float] = []

    # -- events ---------------------------------------------------------------

    def apply(self, step: TimelineStep) -> None:
        """Make the components take the parameters in force from this event on."""
        new = step.scenario
        for path in step.paths:
            seg = parse_path(path)
            head = seg[0]
            name = str(seg[1]) if len(seg) > 1 else ""
            if head == "siege":
                appears = not self.siege.exists
                self.siege.configure(new.siege)
                if new.siege is not None and (appears or seg[1:] in ((), ("weapons",))):
                    self.siege.set_weapons(new.siege.weapons)
            elif head == "weather":
                self.default_zone.configure(new.weather)
            elif head == "weather_zones":
                for z in [name] if name else list(self.zones):
                    self.zones[z].configure(new.weather_zones[z])
            elif head == "commodities":
                for p, pocket in self.pockets.items():
                    pocket.configure(new.pockets[p], new.commodities)
            elif head == "pockets":
                for p in [name] if name else list(self.pockets):
                    pocket = self.pockets[p]
                    pocket.configure(new.pockets[p], new.commodities)
                    # A stock level is state: it moves only when the event names it.
                    if not name or (len(seg) > 2 and seg[2] == "stock_t"):
                        stocks = new.pockets[p].stock_t
                        names = [str(seg[3])] if len(seg) > 3 else list(stocks)
                        for c in names:
                            i = self.commodity_index[c]
                            self.ledger.set_stock(pocket, i, stocks.get(c, 0.0))
            elif head == "bases":
                for b in [name] if name else list(self.bases):
                    cfg = new.bases[b]
                    self.bases[b].configure(cfg, self.zone(cfg.weather_zone))
                self._reconfigure_fleets(new)  # flight times and waiting aircraft
            elif head in ("airfields", "helipads", "drop_zones"):
                section = getattr(new, head)
                for n in [name] if name else list(section):
                    self.points[n].configure(section[n], self.zone(section[n].weather_zone))
                for fleet in self.fleets.values():  # (a target moved to another pocket)
                    fleet.track_pockets()
            elif head == "fleets":
                for f in [name] if name else list(self.fleets):
                    aircraft_set = len(seg) <= 2 or seg[2] == "aircraft"
                    self.fleets[f].configure(new.fleets[f], aircraft_set)
            elif head == "routes":
                for r in [name] if name else list(self.routes):
                    self.routes[r].configure(new.routes[r])

    def _reconfigure_fleets(self, new: Scenario) -> None:
        for f, fleet in self.fleets.items():
            fleet.configure(new.fleets[f])

    # -- the run --------------------------------------------------------------

    def run(self) -> RunResult:
        """Simulate every day of the calendar and collect the result."""
        driver = self.driver
        pockets = list(self.pockets.values())
        routes = list(self.routes.values())
        fields = list(self.airfields.values())
        drop_zones = list(self.drop_zones.values())
        fleets = list(self.fleets.values())
        zones = [self.default_zone, *self.zones.values()]
        siege = self.siege
        steps = self.steps
        record = list(zip(pockets, self.r_consume, self.r_stock, self.r_state, strict=True))
        r_world = self.r_world
        for d in range(self.n_days):
            if d in steps:
                for ev in steps[d]:
                    self.apply(ev)
            for z in zones:
                z.step(d)
            siege.start_day(self.default_zone.flyable)
            amm = siege.ammunition
            closure = siege.closure
            mean_days = siege.closure_mean_days
            for f in fields:
                f.start_day(d, closure, mean_days)
            for dz in drop_zones:
                dz.start_day()
            for r in routes:
                if r.road:  # (the tests here only skip calls that would do nothing)
                    r.arrivals(d)
            for r in routes:
                if r.is_open:
                    r.dispatch(d, amm, siege.interdiction)
            for pocket in pockets:
                if pocket.thresholds:
                    pocket.update_ration(amm)

            # every aircraft wake before d + 1 (one at d + 1 waits for the next day)
            driver.run_until(d + 1)

            for pocket, r_consume, r_stock, r_state in record:
                if not pocket.idle:  # (an idle pocket's day is all zeros, see Pocket.idle)
                    pocket.consume(amm, None)
                r_consume += pocket.eaten_today
                r_consume += pocket.short_today
                r_stock += pocket.stock
                r_stock += pocket.total_demand  # brought up to date by consume()
                r_state += (
                    pocket.level,
                    pocket.civ_ration,
                    pocket.gar_ration,
                    pocket.civilians,
                    pocket.garrison,
                    pocket.received_today,
                    pocket.transferred_today,
                )
                pocket.received_today = pocket.transferred_today = 0.0
            r_world += (
                siege.sorties_today,
                siege.destroyed_today,
                siege.weapons,
                siege.theta,
            )
            for r in routes:  # (a loop, not a list comprehension: no frame a day)
                r_world.append(r.on_road() if r.road else 0.0)
        result = self.collect()
        for fleet in fleets:
            fleet.stop()
        self.env._queue.clear()  # the run is over: nothing left waiting
        return result

    # -- collect --------------------------------------------------------------

    def collect(self) -> RunResult:
        """Series, counters and the checked mass balance of the finished run."""
        n, nc = self.n_days, self.n_commodities
        series: dict[str, np.ndarray] = {}

        def columns(rows: list[float], width: int) -> np.ndarray:
            """``n`` days of ``width`` values each, flat → one contiguous array per column.

            ``struct.pack`` turns a list of floats into packed doubles (the same bytes)
            about twice as fast as ``np.fromiter`` does.
            """
            data = np.frombuffer(struct.pack(f"{n * width}d", *rows), dtype=np.float64)
            return data.reshape(n, width).T.copy()

        for k, p in enumerate(self.pockets):
            eaten_short = columns(self.r_consume[k], 2 * nc)
            stock_demand = columns(self.r_stock[k], 2 * nc)
            stock = stock_demand[:nc]
            demand = stock_demand[nc:]
            dos = np.full((nc, n), math.nan)
            with np.errstate(over="ignore"):  # a vanishing demand gives inf days, rightly
                np.divide(stock, demand, out=dos, where=demand > 0.0)
            for i, c in enumerate(self.commodities):
                series[series_name("stock_t", p, c)] = stock[i]
                series[series_name("days_of_supply", p, c)] = dos[i]
                series[series_name("consumed_t", p, c)] = eaten_short[i]
                series[series_name("shortfall_t", p, c)] = eaten_short[nc + i]
            level, civ_r, gar_r, civilians, garrison, received, transferred = columns(
                self.r_state[k], 7
            )
            series[series_name("ration_level", p)] = level
            series[series_name("civilian_ration", p)] = civ_r
            series[series_name("garrison_ration", p)] = gar_r
            series[series_name("civilians", p)] = civilians
            series[series_name("garrison", p)] = garrison
            series[series_name("received_t", p)] = received
            series[series_name("transferred_in_t", p)] = transferred
        for fleet in self.fleets.values():
            series.update(fleet.series())
        for name, base in self.bases.items():
            series.update(base.record.series("turnarounds", name, diversions=False))
        for name, field in self.airfields.items():
            series.update(field.record.series("landings", name))
        for name, zone in self.drop_zones.items():
            series.update(zone.record.series("drops", name))
        cols = columns(self.r_world, 4 + len(self.routes))
        series["combat_sorties"] = cols[0]
        series["targets_destroyed"] = cols[1]
        series["besieger_weapons"] = cols[2]
        series["threat"] = cols[3]
        series["flyable"] = to_numpy(self.default_zone.flyable_days)
        series["degraded"] = to_numpy(self.default_zone.degraded_days)
        for name, wz in self.zones.items():
            series[series_name("flyable", name)] = to_numpy(wz.flyable_days)
            series[series_name("degraded", name)] = to_numpy(wz.degraded_days)
        for name, field in self.airfields.items():
            series[series_name("closed", name)] = to_numpy(field.closed)
        for j, (name, r) in enumerate(self.routes.items()):
            series[series_name("transfer_t", name)] = to_numpy(r.transfer)
            series[series_name("in_transit_t", name)] = cols[4 + j]

        counters: dict[str, float] = {}
        for fleet in self.fleets.values():
            counters.update(fleet.counters())
        for name, r in self.routes.items():
            counters[series_name("interdicted_t", name)] = r.interdicted
        counters.update(self.ledger.counters())

        ledger = self.ledger
        air_aboard = sum(f.aboard(ledger.air) for f in self.fleets.values())
        shuttle_aboard = sum(f.aboard(ledger.shuttle) for f in self.fleets.values())
        road = sum(r.on_road() for r in self.routes.values())
        balance = self.ledger.check(air_aboard, shuttle_aboard, road)

        events = [
            (step.day, step.title)
            for step in sorted(chain.from_iterable(self.steps.values()), key=lambda s: s.day)
        ]
        return RunResult(
            replication=self.replication,
            seed=self.seed,
            n_days=self.n_days,
            series=series,
            counters=counters,
            balance=balance,
            events=events,
            sim_events=next(self.env._eid),  # as many as SimPy processes would schedule
        )


def run_replication(scenario: Scenario, replication: int, seed: int | None = None) -> RunResult:
    """Run replication ``replication`` of ``scenario`` with root seed ``seed``.

    The seed defaults to ``scenario.seed``. The result depends only on
    (scenario, replication, seed).
    """
    world = World(scenario, replication, scenario.seed if seed is None else seed)
    return world.run()
