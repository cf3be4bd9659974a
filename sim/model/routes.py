"""Ground supply lines between pockets.

While a route is open, at the start of each day it dispatches convoys that move
stock towards equal days of supply at both ends, commodity by commodity: for a
commodity with stocks S_a, S_b (plus what is already on the road towards each
end) and full daily demands D_a, D_b, the equalising transfer a → b is
``x = (S_a D_b − S_b D_a) / (D_a + D_b)`` (negative: b → a). The transfers of all
commodities are scaled down together to fit ``capacity_t_day``.

A share ``interdiction`` × the threat's interdiction multiplier of each convoy is
destroyed on departure (booked as ``lost`` by the sending pocket); the rest
leaves the sender (``transferred_out``), travels for ``transit_days`` and arrives
at the start of the first day at least that long after dispatch
(``transferred_in``). Convoys on the road when a route is cut still arrive. Every
tonne moves through the ledger's road account (:mod:`sim.model.ledger`).
"""

from __future__ import annotations

import math

from sim.model.ledger import Ledger
from sim.model.pocket import Pocket
from sim.model.record import zeros
from sim.scenario.schema import Route as RouteConfig


class Route:
    """One ground route, its convoys on the road and its daily record."""

    def __init__(
        self, name: str, cfg: RouteConfig, a: Pocket, b: Pocket, ledger: Ledger, n_days: int
    ) -> None:
        self.name = name
        self.ledger = ledger
        self.a = a
        self.b = b
        # Convoys on the road: (arrival day, receiving pocket, tonnes per commodity).
        self.road: list[tuple[int, Pocket, list[float]]] = []
        self.to_a = [0.0] * a.n
        self.to_b = [0.0] * b.n
        self.transfer = zeros(n_days)  # t dispatched a → b per day
        self.interdicted = 0.0
        self.configure(cfg)

    def configure(self, cfg: RouteConfig) -> None:
        """Take the parameters in force."""
        self.is_open = cfg.open
        self.capacity = cfg.capacity_t_day
        self.transit = max(0, math.ceil(cfg.transit_days - 1e-9))
        self.interdiction = cfg.interdiction

    def arrivals(self, day: int) -> None:
        """Unload every convoy due by ``day``."""
        if not self.road:
            return
        due = [c for c in self.road if c[0] <= day]
        if not due:
            return
        self.road = [c for c in self.road if c[0] > day]
        for _, pocket, load in due:
            self._unload(pocket, load)

    def _unload(self, pocket: Pocket, load: list[float]) -> None:
        pending = self.to_a if pocket is self.a else self.to_b
        self.ledger.arrive(pocket, load)
        for i, x in enumerate(load):
            pending[i] -= x

    def dispatch(self, day: int, ammunition: float, interdiction_mult: float) -> float:
        """Send today's convoys; returns the net tonnes dispatched a → b."""
        if not self.is_open or self.capacity <= 0.0:
            return 0.0
        a, b = self.a, self.b
        stock_a, stock_b = a.stock, b.stock
        # the day's demands (already brought up to date today when the ammunition matches;
        # an idle pocket's are zeros whatever the ammunition, see Pocket.idle)
        if a.idle or a.demand_ammunition == ammunition:
            dem_a = a.total_demand
        else:
            dem_a = a.demands(ammunition)
        if b.idle or b.demand_ammunition == ammunition:
            dem_b = b.total_demand
        else:
            dem_b = b.demands(ammunition)
        to_a_pending, to_b_pending = self.to_a, self.to_b
        to_b_moves: list[tuple[int, float]] = []  # (commodity, t a → b), the non-zero ones
        to_a_moves: list[tuple[int, float]] = []
        total_b = total_a = 0.0
        for i in range(a.n):
            da = dem_a[i]
            db = dem_b[i]
            both = da + db
            if both <= 0.0:
                continue
            sa = stock_a[i] + to_a_pending[i]
            sb = stock_b[i] + to_b_pending[i]
            x = (sa * db - sb * da) / both
            # never send more than the sender holds now (min() and abs(), inlined)
            if x > 0.0:
                s = stock_a[i]
                if s < x:
                    x = s
                if x > 0.0:
                    to_b_moves.append((i, x))
                    total_b += x
            elif x < 0.0:
                s = stock_b[i]
                y = s if s < -x else -x
                if y > 0.0:
                    to_a_moves.append((i, y))
                    total_a += y
        total = total_a + total_b
        if total <= 0.0:
            return 0.0
        scale = self.capacity / total
        if scale > 1.0:
            scale = 1.0
        share_lost = self.interdiction * interdiction_mult
        if share_lost > 1.0:
            share_lost = 1.0
        ledger = self.ledger
        n = a.n
        before = ledger.interdicted
        net = (total_b - total_a) * scale
        if self.transit == 0 and not self.road:
            # Same-day delivery with nothing else on the road: unload at once, exactly
            # as arrivals(day) would unload the convoys just put on the road.
            if to_b_moves:
                ledger.convoy(a, to_b_moves, scale, share_lost, n, b)
            if to_a_moves:
                ledger.convoy(b, to_a_moves, scale, share_lost, n, a)
        else:
            arrive = day + self.transit
            for sender, pocket, pending, moved in (
                (a, b, to_b_pending, to_b_moves),
                (b, a, to_a_pending, to_a_moves),
            ):
                if moved:
                    load = ledger.convoy(sender, moved, scale, share_lost, n)
                    for i, x in enumerate(load):
                        pending[i] += x
                    self.road.append((arrive, pocket, load))
            if self.transit == 0:
                self.arrivals(day)
        self.interdicted += ledger.interdicted - before
        self.transfer[day] = net
        return net

    def on_road(self) -> float:
        """Tonnes on the road now."""
        return sum(sum(load) for _, _, load in self.road)
