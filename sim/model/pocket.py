"""A pocket: people, stocks, daily consumption, the ration policy and shortfall.

Demand of commodity c on a day, in tonnes:
``civilians × civilian_kg_day / 1000 + garrison × soldier_kg_day / 1000``, the
garrison's part multiplied by the threat's ammunition multiplier when the
commodity is ``threat_scaled``. Days of supply = stock ÷ that full daily demand.

The ration level is decided at the start of each day from the lowest days of
supply over the *rationed* commodities (see
:class:`sim.scenario.schema.RationPolicy`: cut immediately below a threshold,
lifted only above threshold × ``recover_factor``). At the end of the day each
rationed commodity is consumed at demand × level, the others at full demand, while
stock lasts. When stock is short and ``garrison_priority`` is set, the garrison is
served first; otherwise both groups get the same share. What could not be served
at the day's level is the shortfall.

Every tonne in or out is booked in the pocket's mass balance (:mod:`sim.model.record`)
by one of four methods, called by the ledger (:mod:`sim.model.ledger`): air
deliveries from outside as ``delivered`` and shuttles and convoys from other pockets
as ``transferred_in`` (:meth:`Pocket.receive`), what shuttles and convoys take away
as ``transferred_out`` (:meth:`Pocket.withdraw`), convoy tonnage destroyed as it
leaves as ``lost`` (:meth:`Pocket.destroy`), a stock level set by an event as
``delivered`` (increase) or ``lost`` (decrease) (:meth:`Pocket.set_stock`).
"""

from __future__ import annotations

import math

from sim.scenario.schema import Commodity
from sim.scenario.schema import Pocket as PocketConfig


class Pocket:
    """One pocket's people, stock per commodity and bookkeeping."""

    __slots__ = (
        "_gar_base",
        "_rationed_idx",
        "_scaled",
        "civ_demand",
        "civ_kg",
        "civ_ration",
        "civilians",
        "commodities",
        "consumed",
        "delivered",
        "demand_ammunition",
        "eaten_today",
        "gar_demand",
        "gar_kg",
        "gar_ration",
        "garrison",
        "garrison_priority",
        "idle",
        "initial",
        "level",
        "level_index",
        "levels",
        "lost",
        "n",
        "name",
        "rationed",
        "received_today",
        "recover_factor",
        "short_today",
        "stock",
        "threat_scaled",
        "thresholds",
        "total_demand",
        "transferred_in",
        "transferred_out",
        "transferred_today",
    )

    def __init__(self, name: str, cfg: PocketConfig, commodities: dict[str, Commodity]) -> None:
        self.name = name
        self.commodities = list(commodities)
        n = self.n = len(self.commodities)
        self.stock = [float(cfg.stock_t.get(c, 0.0)) for c in self.commodities]
        self.initial = list(self.stock)
        self.delivered = [0.0] * n
        self.transferred_in = [0.0] * n
        self.transferred_out = [0.0] * n
        self.consumed = [0.0] * n
        self.lost = [0.0] * n
        self.level_index = 0
        self.level = 1.0
        self.civ_ration = self.gar_ration = float("nan")
        self.received_today = 0.0  # t received from outside since the day's record
        self.transferred_today = 0.0  # t received from other pockets since the day's record
        self.eaten_today = [0.0] * n  # the last consume(), per commodity, t
        self.short_today = [0.0] * n
        self.configure(cfg, commodities)

    def configure(self, cfg: PocketConfig, commodities: dict[str, Commodity]) -> None:
        """Take the parameters in force: head counts, demand rates, ration policy."""
        self.civilians = cfg.civilians
        self.garrison = cfg.garrison
        comms = [commodities[c] for c in self.commodities]
        self.civ_kg = [c.civilian_kg_day for c in comms]
        self.gar_kg = [c.soldier_kg_day for c in comms]
        self.rationed = [c.rationed for c in comms]
        self._rationed_idx = [i for i, r in enumerate(self.rationed) if r]
        self.threat_scaled = [c.threat_scaled for c in comms]
        r = cfg.rations
        self.thresholds = list(r.thresholds_days)
        self.levels = [1.0, *r.levels]
        self.recover_factor = r.recover_factor
        self.garrison_priority = r.garrison_priority
        if self.level_index >= len(self.levels):
            self.level_index = len(self.levels) - 1
        self.level = self.levels[self.level_index]
        # The day's full demand, t: the parts that do not depend on the threat are
        # fixed until the next event; the garrison's threat-scaled parts are redone
        # by demands() when the ammunition multiplier changes (once a day).
        self.civ_demand = [self.civilians * kg * 0.001 for kg in self.civ_kg]
        self._gar_base = [self.garrison * kg * 0.001 for kg in self.gar_kg]
        self._scaled = [i for i, t in enumerate(self.threat_scaled) if t]
        self.gar_demand = list(self._gar_base)
        self.total_demand = [c + g for c, g in zip(self.civ_demand, self.gar_demand, strict=True)]
        # The ammunition multiplier total_demand was computed for: NaN, never equal, so
        # the first demands() call fills the scaled parts.
        self.demand_ammunition = math.nan
        # Nobody to feed (every demand zero, whatever the threat): consume() has nothing
        # to do, and what it would write for the day is written here, once: nothing
        # eaten, nothing short, no ratios. Its total_demand is zeros at any ammunition
        # multiplier (0 × a finite multiplier ≥ 0), so a caller may read it without
        # demands(). Only configure() changes it.
        self.idle = not any(self.civ_demand) and not any(self._gar_base)
        if self.idle:
            self.eaten_today[:] = self.short_today[:] = [0.0] * self.n
            self.civ_ration = self.gar_ration = math.nan

    def receive(self, i: int, tonnes: float, from_outside: bool) -> None:
        """Tonnes of commodity ``i`` arrive: from outside (``delivered``) or a pocket."""
        self.stock[i] += tonnes
        if from_outside:
            self.delivered[i] += tonnes
            self.received_today += tonnes
        else:
            self.transferred_in[i] += tonnes
            self.transferred_today += tonnes

    def receive_load(self, load: list[float], share: float, from_outside: bool) -> float:
        """``share`` of a load (t per commodity) arrives, as :meth:`receive`; returns the tonnes."""
        stock = self.stock
        book = self.delivered if from_outside else self.transferred_in
        got = 0.0
        for i, x in enumerate(load):
            if x > 0.0:
                y = x * share
                stock[i] += y
                book[i] += y
                got += y
        if from_outside:
            self.received_today += got
        else:
            self.transferred_today += got
        return got

    def withdraw(self, i: int, tonnes: float) -> float:
        """Up to ``tonnes`` of commodity ``i`` leave for another pocket; returns what left."""
        have = self.stock[i]
        take = tonnes if tonnes < have else have
        if take <= 0.0:
            return 0.0
        self.stock[i] = have - take
        self.transferred_out[i] += take
        return take

    def destroy(self, i: int, tonnes: float) -> float:
        """Up to ``tonnes`` of commodity ``i`` are destroyed (``lost``); returns how much."""
        have = self.stock[i]
        gone = tonnes if tonnes < have else have
        if gone <= 0.0:
            return 0.0
        self.stock[i] = have - gone
        self.lost[i] += gone
        return gone

    def set_stock(self, i: int, value: float) -> float:
        """An event sets the stock of commodity ``i``: booked as delivered or lost.

        Returns the change (t, negative for a cut).
        """
        change = float(value) - self.stock[i]
        if change >= 0.0:
            self.delivered[i] += change
        else:
            self.lost[i] -= change
        self.stock[i] = float(value)
        return change

    def demand(self, i: int, ammunition: float) -> tuple[float, float]:
        """Full daily demand of commodity ``i`` in tonnes: (civilians, garrison)."""
        civ = self.civilians * self.civ_kg[i] * 0.001
        gar = self.garrison * self.gar_kg[i] * 0.001
        if self.threat_scaled[i]:
            gar *= ammunition
        return civ, gar

    def demands(self, ammunition: float) -> list[float]:
        """Full daily demand of every commodity at this ammunition multiplier, t.

        The same values as :meth:`demand` (civilians + garrison), kept up to date in
        ``total_demand`` with its parts ``civ_demand`` and ``gar_demand``; only the
        threat-scaled parts are recomputed, and only when ``ammunition`` changes
        (``demand_ammunition`` is the multiplier they were computed for: a caller that
        sees it equal may read ``total_demand`` without the call).
        """
        if ammunition != self.demand_ammunition:
            self.demand_ammunition = ammunition
            civ, gar, base, total = (
                self.civ_demand,
                self.gar_demand,
                self._gar_base,
                self.total_demand,
            )
            for i in self._scaled:
                g = base[i] * ammunition
                gar[i] = g
                total[i] = civ[i] + g
        return self.total_demand

    def days_of_supply(self, i: int, ammunition: float) -> float:
        """Stock ÷ full daily demand of commodity ``i``, days (inf without demand)."""
        total = self.demands(ammunition)[i]
        return self.stock[i] / total if total > 0.0 else float("inf")

    def update_ration(self, ammunition: float) -> float:
        """Set the day's ration level from the lowest days of supply of rationed commodities."""
        if not self.thresholds:
            return self.level
        dos = math.inf
        up_to_date = ammunition == self.demand_ammunition
        total = self.total_demand if up_to_date else self.demands(ammunition)
        stock = self.stock
        for i in self._rationed_idx:
            if total[i] > 0.0:
                d = stock[i] / total[i]
                if d < dos:
                    dos = d
        th = self.thresholds
        target = 0
        for t in th:
            if dos < t:
                target += 1
        idx = self.level_index
        if target > idx:
            idx = target
        else:
            rf = self.recover_factor
            while idx > target and dos >= th[idx - 1] * rf:
                idx -= 1
        self.level_index = idx
        self.level = self.levels[idx]
        return self.level

    def consume(
        self, ammunition: float, out: list[tuple[float, float, float, float]] | None = None
    ) -> None:
        """Eat one day's rations.

        Per commodity, what was consumed and the shortfall go to ``eaten_today`` and
        ``short_today`` (and, if ``out`` is given, a (consumed, shortfall, civ ratio,
        gar ratio) tuple is appended to it). The ratios are what each group actually
        got ÷ its full demand (NaN without demand); the lowest over rationed
        commodities are kept in ``civ_ration`` and ``gar_ration`` (NaN if there is none).
        """
        if self.idle:  # nobody to feed: configure() wrote the day's zeros and NaN ratios
            if out is not None:
                out.extend([(0.0, 0.0, math.nan, math.nan)] * self.n)
            return
        if ammunition != self.demand_ammunition:
            self.demands(ammunition)
        eaten_today = self.eaten_today
        short_today = self.short_today
        level = self.level
        priority = self.garrison_priority
        stock = self.stock
        consumed = self.consumed
        rationed = self.rationed
        nan = math.nan
        inf = math.inf
        civ_min = gar_min = inf
        civ_demand = self.civ_demand
        gar_demand = self.gar_demand
        for i in range(self.n):
            civ_full = civ_demand[i]
            gar_full = gar_demand[i]
            is_rationed = rationed[i]
            if is_rationed:
                want_civ = civ_full * level
                want_gar = gar_full * level
            else:  # at full demand (x × 1.0 is x)
                want_civ = civ_full
                want_gar = gar_full
            want = want_civ + want_gar
            avail = stock[i]
            if want <= avail:  # the usual day: everyone gets the day's level
                civ, gar = want_civ, want_gar
                eaten = want
                stock[i] = avail - want
            else:
                if priority:
                    gar = want_gar if want_gar <= avail else avail
                    civ = avail - gar
                else:
                    f = avail / want
                    civ, gar = want_civ * f, want_gar * f
                eaten = avail
                stock[i] = avail - eaten  # 0 (NaN stays NaN, for the mass balance to see)
            consumed[i] += eaten
            eaten_today[i] = eaten
            short_today[i] = want - eaten
            if not is_rationed and out is None:
                continue  # its ratios would be neither kept nor handed out
            civ_r = civ / civ_full if civ_full > 0.0 else nan
            gar_r = gar / gar_full if gar_full > 0.0 else nan
            if out is not None:
                out.append((eaten, want - eaten, civ_r, gar_r))
            if is_rationed:
                if civ_r < civ_min:  # NaN never compares below
                    civ_min = civ_r
                if gar_r < gar_min:
                    gar_min = gar_r
        self.civ_ration = civ_min if civ_min != inf else nan
        self.gar_ration = gar_min if gar_min != inf else nan

    def balance(self) -> dict[tuple[str, str], dict[str, float]]:
        """The mass-balance terms per commodity."""
        return {
            (self.name, c): {
                "initial": self.initial[i],
                "delivered": self.delivered[i],
                "transferred_in": self.transferred_in[i],
                "consumed": self.consumed[i],
                "transferred_out": self.transferred_out[i],
                "lost": self.lost[i],
                "final": self.stock[i],
            }
            for i, c in enumerate(self.commodities)
        }
