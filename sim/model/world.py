"""Build the SimPy world of one replication, run it day by day, collect the result.

Phases (as in desmod): **build** — one component per scenario entry, each with
its own named random stream; **run** — for each day ``d``:

1. apply the timeline events dated ``d`` (components re-read their parameters);
2. the weather of the day, then the siege (threat θ from H at dawn, combat
   sorties, targets destroyed, reinforcement);
3. airfields and helipads shut or not (events, shelling);
4. convoys arrive, routes dispatch new ones;
5. each pocket sets its ration level from its days of supply;
6. SimPy runs every aircraft event of the day (``env.run(until=d + 1)``);
7. each pocket eats the day's rations; the day's values are recorded;

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
from sim.model.record import MassBalanceError, RunResult, check_mass_balance
from sim.model.routes import Route
from sim.model.siege import Siege
from sim.model.streams import Stream, make_stream
from sim.model.timeline import TimelineStep, timeline_steps
from sim.model.weather import Weather
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
        self.received = {p: np.zeros(n) for p in self.pockets}
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
        n = self.n_days
        nc = self.n_commodities

        def grid() -> list[list[np.ndarray]]:
            return [[np.zeros(n) for _ in range(nc)] for _ in self.pockets]

        self.s_stock = grid()
        self.s_dos = grid()
        self.s_consumed = grid()
        self.s_shortfall = grid()
        self.s_level = [np.zeros(n) for _ in self.pockets]
        self.s_civ_ration = [np.zeros(n) for _ in self.pockets]
        self.s_gar_ration = [np.zeros(n) for _ in self.pockets]
        self.s_civilians = [np.zeros(n) for _ in self.pockets]
        self.s_garrison = [np.zeros(n) for _ in self.pockets]
        self.s_combat = np.zeros(n)
        self.s_destroyed = np.zeros(n)
        self.s_weapons = np.zeros(n)
        self.s_threat = np.zeros(n)
        self.s_flyable = np.zeros(n)
        self.s_closed = {name: np.zeros(n) for name in self.airfields}
        self.s_in_transit = {name: np.zeros(n) for name in self.routes}

    # -- events ---------------------------------------------------------------

    def apply(self, step: TimelineStep) -> None:
        """Make the components take the parameters in force from this event on."""
        new = step.scenario
        for path in step.paths:
            head, _, rest = path.partition(".")
            name = rest.split(".", 1)[0].split("[", 1)[0] if rest else ""
            if head == "siege":
                self.siege.configure(new.siege)
                if rest == "weapons" or not rest:
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
                    field = rest.split(".")[1] if rest.count(".") >= 1 else ""
                    if not name or field.startswith("stock_t"):
                        parts = rest.split(".")
                        stocks = new.pockets[p].stock_t
                        names = [parts[2]] if len(parts) >= 3 else list(stocks)
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
        pockets = list(self.pockets.values())
        routes = list(self.routes.values())
        fields = list(self.airfields.values())
        closed = [self.s_closed[f.name] for f in fields]
        in_transit = [self.s_in_transit[r.name] for r in routes]
        weather, siege = self.weather, self.siege
        steps = self.steps
        nc = self.n_commodities
        today: list[tuple[float, float, float, float]] = []
        for d in range(self.n_days):
            if d in steps:
                for step in steps[d]:
                    self.apply(step)
            flyable = weather.step(d)
            siege.start_day(flyable)
            amm = siege.ammunition
            for k, f in enumerate(fields):
                f.start_day(siege.closure)
                if f.closed_today:
                    closed[k][d] = 1.0
            for r in routes:
                r.arrivals(d)
            for r in routes:
                r.dispatch(d, amm, siege.interdiction)
            for pocket in pockets:
                pocket.update_ration(amm)

            env.run(until=d + 1)

            for k, pocket in enumerate(pockets):
                today.clear()
                pocket.consume(amm, today)
                civ_min = gar_min = math.inf
                for i in range(nc):
                    eaten, short, civ_r, gar_r = today[i]
                    self.s_consumed[k][i][d] = eaten
                    self.s_shortfall[k][i][d] = short
                    stock = pocket.stock[i]
                    self.s_stock[k][i][d] = stock
                    civ, gar = pocket.demand(i, amm)
                    self.s_dos[k][i][d] = stock / (civ + gar) if civ + gar > 0.0 else math.nan
                    if pocket.rationed[i]:
                        if civ_r < civ_min:  # NaN never compares below
                            civ_min = civ_r
                        if gar_r < gar_min:
                            gar_min = gar_r
                self.s_level[k][d] = pocket.level
                self.s_civ_ration[k][d] = civ_min if civ_min != math.inf else math.nan
                self.s_gar_ration[k][d] = gar_min if gar_min != math.inf else math.nan
                self.s_civilians[k][d] = pocket.civilians
                self.s_garrison[k][d] = pocket.garrison
            for k, r in enumerate(routes):
                if r.road:
                    in_transit[k][d] = r.on_road()
            self.s_combat[d] = siege.sorties_today
            self.s_destroyed[d] = siege.destroyed_today
            self.s_weapons[d] = siege.weapons
            self.s_threat[d] = siege.theta
            self.s_flyable[d] = 1.0 if flyable else 0.0
        return self.collect()

    def cargo_lost(self, load: list[float]) -> None:
        """A shuttle aircraft was lost with cargo taken from a pocket: lost on the way."""
        total = sum(load)
        self.in_transit -= total
        self.transit_lost += total

    # -- collect --------------------------------------------------------------

    def collect(self) -> RunResult:
        """Series, counters and the checked mass balance of the finished run."""
        series: dict[str, np.ndarray] = {}
        for k, p in enumerate(self.pockets):
            for i, c in enumerate(self.commodities):
                series[f"stock_t__{p}__{c}"] = self.s_stock[k][i]
                series[f"days_of_supply__{p}__{c}"] = self.s_dos[k][i]
                series[f"consumed_t__{p}__{c}"] = self.s_consumed[k][i]
                series[f"shortfall_t__{p}__{c}"] = self.s_shortfall[k][i]
            series[f"ration_level__{p}"] = self.s_level[k]
            series[f"civilian_ration__{p}"] = self.s_civ_ration[k]
            series[f"garrison_ration__{p}"] = self.s_gar_ration[k]
            series[f"civilians__{p}"] = self.s_civilians[k]
            series[f"garrison__{p}"] = self.s_garrison[k]
            series[f"received_t__{p}"] = self.received[p]
        for fleet in self.fleets.values():
            series.update(fleet.series())
        series["combat_sorties"] = self.s_combat
        series["targets_destroyed"] = self.s_destroyed
        series["besieger_weapons"] = self.s_weapons
        series["threat"] = self.s_threat
        series["flyable"] = self.s_flyable
        for name, arr in self.s_closed.items():
            series[f"closed__{name}"] = arr
        for name, r in self.routes.items():
            series[f"transfer_t__{name}"] = r.transfer
            series[f"in_transit_t__{name}"] = self.s_in_transit[name]

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
