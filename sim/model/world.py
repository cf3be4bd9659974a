"""Build the SimPy world of one replication, run it day by day, collect the result.

Phases (as in desmod): **build** — one component per scenario entry, each with
its own named random stream; **run** — for each day ``d``:

1. apply the timeline events dated ``d`` (components re-read their parameters);
2. the weather of the day, then the siege (threat θ from H at dawn, combat
   sorties, targets destroyed, reinforcement);
3. airfields and helipads shut or not (events, shelling);
4. convoys arrive, routes dispatch new ones;
5. each pocket sets its ration level from its days of supply;
6. SimPy runs every aircraft event of the day (every event before ``d + 1``, the
   same ones ``env.run(until=d + 1)`` would process);
7. each pocket eats the day's rations; the day's values are appended to the record
   (one row per day, turned into the daily numpy series when the run ends);

— then **collect**: daily series, counters, the mass balance (checked; a
violation raises :class:`~sim.model.record.MassBalanceError`).

There is no per-hour ticking: the daily loop touches each pocket and route once a
day and aircraft are event-driven processes.
"""

from __future__ import annotations

import math
from collections import defaultdict
from itertools import chain

import numpy as np
import simpy

from sim.model.airlift import Fleet
from sim.model.delivery import Airfield, DropZone
from sim.model.pocket import Pocket
from sim.model.record import MassBalanceError, RunResult, check_mass_balance, to_numpy, zeros
from sim.model.routes import Route
from sim.model.siege import Siege
from sim.model.streams import Stream, make_stream
from sim.model.timeline import TimelineStep, timeline_steps
from sim.model.weather import Weather
from sim.scenario.paths import parse_path
from sim.scenario.schema import Scenario


class World:
    """Every component of one replication, wired to one SimPy environment."""

    def __init__(self, scenario: Scenario, replication: int, seed: int) -> None:
        self.scenario = scenario
        self.replication = replication
        self.seed = seed
        self.env = simpy.Environment()
        cal = scenario.calendar
        self.n_days = n = cal.n_days
        self.start_weekday = cal.start.weekday()
        self.commodities = list(scenario.commodities)
        self.commodity_index = {c: i for i, c in enumerate(self.commodities)}
        self.n_commodities = len(self.commodities)

        self.weather = Weather(scenario.weather, self.stream("weather"))
        self.siege = Siege(scenario.siege, self.stream("siege"))
        self.pockets = {
            name: Pocket(name, cfg, scenario.commodities) for name, cfg in scenario.pockets.items()
        }
        self.airfields: dict[str, Airfield] = {}
        for section in ("airfields", "helipads"):
            for name, cfg in getattr(scenario, section).items():
                self.airfields[name] = Airfield(
                    name, cfg, self.env, self.stream(f"{section}:{name}")
                )
        self.drop_zones = {
            name: DropZone(name, cfg, self.stream(f"drop_zones:{name}"))
            for name, cfg in scenario.drop_zones.items()
        }
        self.points: dict[str, Airfield | DropZone] = {**self.airfields, **self.drop_zones}
        self.routes = {
            name: Route(name, cfg, self.pockets[cfg.a], self.pockets[cfg.b], n)
            for name, cfg in scenario.routes.items()
        }
        self.received = {p: zeros(n) for p in self.pockets}  # t per day
        self.in_transit = 0.0  # shuttle cargo in the air, t
        self.transit_lost = 0.0  # shuttle cargo lost (aircraft lost, pallets not recovered), t
        self.fleets = {
            name: Fleet(name, cfg, self, self.stream(f"fleets:{name}"))
            for name, cfg in scenario.fleets.items()
        }
        self.steps: dict[int, list[TimelineStep]] = defaultdict(list)
        for step in timeline_steps(scenario):
            self.steps[step.day].append(step)
        self._alloc_series()

    def stream(self, name: str) -> Stream:
        """The named random stream of a component in this replication."""
        return make_stream(self.scenario.stochastic, self.seed, self.replication, name)

    def _alloc_series(self) -> None:
        """The day-by-day record, appended at the end of each day, read by :meth:`collect`.

        Flat Python lists of floats: ``list +=`` of a day's values costs far less
        than element writes into numpy arrays (or ``array.extend``), and
        :meth:`collect` converts each list once. Per pocket and day: ``r_consume``
        gets the consumed then the shortfall tonnes of each commodity; ``r_stock`` the
        stock then the full demand of each commodity; ``r_state`` the ration level,
        the lowest civilian and garrison ratios, civilians and garrison. ``r_world``
        gets per day combat sorties, targets destroyed, weapons, threat, flyable, then
        per airfield 1 if shut, then per route the tonnes on the road.
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
                self.siege.configure(new.siege)
                if seg[1:] in ((), ("weapons",)):
                    self.siege.set_weapons(new.siege.weapons)
            elif head == "weather":
                self.weather.configure(new.weather)
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
                            pocket.set_stock(c, stocks.get(c, 0.0))
            elif head in ("airfields", "helipads", "drop_zones", "fleets", "routes"):
                section = getattr(new, head)
                targets = {"fleets": self.fleets, "routes": self.routes}.get(head, self.points)
                for n in [name] if name else list(section):
                    targets[n].configure(section[n])

    # -- the run --------------------------------------------------------------

    def run(self) -> RunResult:
        """Simulate every day of the calendar and collect the result."""
        env = self.env
        # SimPy's event heap of (time, priority, id, event). Stepping it directly up to
        # the end of the day processes exactly the events ``env.run(until=d + 1)``
        # would (every event before d + 1; one at d + 1 waits for the next day), without
        # the two extra events and the StopSimulation exception ``run`` costs per call.
        queue = env._queue
        step = env.step
        pockets = list(self.pockets.values())
        routes = list(self.routes.values())
        fields = list(self.airfields.values())
        weather, siege = self.weather, self.siege
        steps = self.steps
        record = list(zip(pockets, self.r_consume, self.r_stock, self.r_state, strict=True))
        r_world = self.r_world
        for d in range(self.n_days):
            if d in steps:
                for ev in steps[d]:
                    self.apply(ev)
            flyable = weather.step(d)
            siege.start_day(flyable)
            amm = siege.ammunition
            closure = siege.closure
            for f in fields:
                f.start_day(closure)
            for r in routes:
                if r.road:  # (the tests here only skip calls that would do nothing)
                    r.arrivals(d)
            for r in routes:
                if r.is_open:
                    r.dispatch(d, amm, siege.interdiction)
            for pocket in pockets:
                if pocket.thresholds:
                    pocket.update_ration(amm)

            end = d + 1
            while queue and queue[0][0] < end:
                step()
            env._now = end

            for pocket, r_consume, r_stock, r_state in record:
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
                )
            r_world += (
                siege.sorties_today,
                siege.destroyed_today,
                siege.weapons,
                siege.theta,
                flyable,
            )
            r_world += [f.closed_today for f in fields]
            r_world += [r.on_road() if r.road else 0.0 for r in routes]
        result = self.collect()
        self.release()
        return result

    def release(self) -> None:
        """Drop what the finished run no longer needs, so that it is freed at once.

        Aircraft still waiting at the end hold their fleet, and through it the world,
        in a reference cycle with SimPy's pending events; left alone, each run's
        record would stay in memory until Python's cycle collector next runs a full
        pass, and a long sweep's workers would grow by several MB a run in between.
        Detaching the fleets (:meth:`~sim.model.airlift.Fleet.detach`) and emptying
        the event queue and the record breaks those cycles; the daily series already
        live in the result. The world cannot run again afterwards.
        """
        for fleet in self.fleets.values():
            fleet.detach()
        self.env._queue.clear()
        self._alloc_series()

    def cargo_lost(self, load: list[float]) -> None:
        """A shuttle aircraft was lost with cargo taken from a pocket: lost on the way."""
        total = sum(load)
        self.in_transit -= total
        self.transit_lost += total

    # -- collect --------------------------------------------------------------

    def collect(self) -> RunResult:
        """Series, counters and the checked mass balance of the finished run."""
        n, nc = self.n_days, self.n_commodities
        series: dict[str, np.ndarray] = {}

        def columns(rows: list[float], width: int) -> np.ndarray:
            """``n`` days of ``width`` values each, flat → one contiguous array per column."""
            data = np.fromiter(rows, dtype=np.float64, count=n * width)
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
                series[f"stock_t__{p}__{c}"] = stock[i]
                series[f"days_of_supply__{p}__{c}"] = dos[i]
                series[f"consumed_t__{p}__{c}"] = eaten_short[i]
                series[f"shortfall_t__{p}__{c}"] = eaten_short[nc + i]
            level, civ_r, gar_r, civilians, garrison = columns(self.r_state[k], 5)
            series[f"ration_level__{p}"] = level
            series[f"civilian_ration__{p}"] = civ_r
            series[f"garrison_ration__{p}"] = gar_r
            series[f"civilians__{p}"] = civilians
            series[f"garrison__{p}"] = garrison
            series[f"received_t__{p}"] = to_numpy(self.received[p])
        for fleet in self.fleets.values():
            series.update(fleet.series())
        nf = len(self.airfields)
        cols = columns(self.r_world, 5 + nf + len(self.routes))
        series["combat_sorties"] = cols[0]
        series["targets_destroyed"] = cols[1]
        series["besieger_weapons"] = cols[2]
        series["threat"] = cols[3]
        series["flyable"] = cols[4]
        for j, name in enumerate(self.airfields):
            series[f"closed__{name}"] = cols[5 + j]
        for j, (name, r) in enumerate(self.routes.items()):
            series[f"transfer_t__{name}"] = to_numpy(r.transfer)
            series[f"in_transit_t__{name}"] = cols[5 + nf + j]

        counters: dict[str, float] = {}
        for fleet in self.fleets.values():
            counters.update(fleet.counters())
        for name, r in self.routes.items():
            counters[f"interdicted_t__{name}"] = r.interdicted
        counters["shuttle_in_transit_t"] = self.in_transit
        counters["shuttle_lost_t"] = self.transit_lost

        balance: dict[tuple[str, str], dict[str, float]] = {}
        for pocket in self.pockets.values():
            balance.update(pocket.balance())
        check_mass_balance(balance)
        self._check_transfers(balance)

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
            sim_events=next(self.env._eid),  # events scheduled by SimPy
        )

    def _check_transfers(self, balance: dict[tuple[str, str], dict[str, float]]) -> None:
        """What left one pocket for another arrived, is on its way, or was lost on the way."""
        out = sum(t["transferred_out"] for t in balance.values())
        got = sum(t["transferred_in"] for t in balance.values())
        road = sum(r.on_road() for r in self.routes.values())
        lhs = got + road + self.in_transit + self.transit_lost
        if abs(out - lhs) > 1e-9 * max(1.0, out, lhs):
            raise MassBalanceError(
                f"transfers do not add up: {out:.12g} t sent between pockets but "
                f"{got:.12g} t received + {road:.12g} t on the road + {self.in_transit:.12g} t "
                f"in the air + {self.transit_lost:.12g} t lost on the way"
            )


def run_replication(scenario: Scenario, replication: int, seed: int | None = None) -> RunResult:
    """Run replication ``replication`` of ``scenario`` with root seed ``seed``.

    The seed defaults to ``scenario.seed``. The result depends only on
    (scenario, replication, seed).
    """
    world = World(scenario, replication, scenario.seed if seed is None else seed)
    return world.run()
