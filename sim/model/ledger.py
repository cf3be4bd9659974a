"""The ledger: where every tonne is, and the mass-balance check.

Tonnage moves three ways, each an :class:`Account`:

* ``air`` — by air from outside the enclave: loaded at a home base, then delivered
  to a pocket (landed, or dropped and recovered), lost in flight with its aircraft,
  dropped and not recovered, or flown back home (returned);
* ``shuttle`` — by air between pockets (a fleet with an ``origin``): withdrawn from
  the origin pocket, then delivered to another pocket, lost in flight, not
  recovered, or returned to the origin;
* ``road`` — by convoy between pockets: dispatched (after interdiction, which
  destroys part of a convoy as it leaves), then on the road until it arrives.

Each account keeps ``sent = arrived + under way + lost in flight + not recovered +
returned``. ``diverted`` is the part of ``arrived`` delivered at a target other than
the one the aircraft first flew to (after a diversion).

The pockets keep the other side: per commodity, ``initial + delivered +
transferred_in − consumed − transferred_out − lost = final``
(:data:`~sim.model.record.BALANCE_TERMS`). Their ``delivered`` is what the air
account delivered plus stock raised by events; ``transferred_in`` what shuttles and
convoys brought (and shuttle loads flown back to their origin); ``transferred_out``
what shuttles and convoys took away; ``lost`` what interdiction destroyed plus stock
cut by events. :meth:`Ledger.check` verifies all of it at the end of a replication
(relative 1e-9) and raises :class:`~sim.model.record.MassBalanceError` on a leak.

Fleets and routes move tonnage only through the ledger's methods; pockets change
their stock only through :meth:`~sim.model.pocket.Pocket.receive`,
:meth:`~sim.model.pocket.Pocket.withdraw`, :meth:`~sim.model.pocket.Pocket.destroy`
and consumption. All quantities are tonnes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import overload

from sim.model.pocket import Pocket
from sim.model.record import MassBalanceError, check_mass_balance

ACCOUNT_TERMS: tuple[str, ...] = (
    "sent",
    "arrived",
    "under_way",
    "lost_in_flight",
    "not_recovered",
    "returned",
    "diverted",
)
"""Terms of an account, in tonnes (``diverted`` is part of ``arrived``)."""


class Account:
    """Tonnage that travels one way (``air``, ``shuttle`` or ``road``)."""

    __slots__ = (
        "arrived",
        "diverted",
        "lost_in_flight",
        "name",
        "not_recovered",
        "returned",
        "sent",
        "under_way",
    )

    def __init__(self, name: str) -> None:
        self.name = name
        self.sent = 0.0
        self.arrived = 0.0
        self.under_way = 0.0
        self.lost_in_flight = 0.0
        self.not_recovered = 0.0
        self.returned = 0.0
        self.diverted = 0.0

    def terms(self) -> dict[str, float]:
        """The account's terms (see :data:`ACCOUNT_TERMS`)."""
        return {t: getattr(self, t) for t in ACCOUNT_TERMS}

    def check(self) -> None:
        """Raise :class:`MassBalanceError` unless what was sent is accounted for."""
        rhs = self.arrived + self.under_way + self.lost_in_flight + self.not_recovered
        rhs += self.returned
        if abs(self.sent - rhs) > 1e-9 * max(1.0, self.sent, rhs):
            raise MassBalanceError(
                f"{self.name} tonnage does not add up: {self.sent:.12g} t sent but "
                f"{self.arrived:.12g} t arrived + {self.under_way:.12g} t under way + "
                f"{self.lost_in_flight:.12g} t lost in flight + {self.not_recovered:.12g} t "
                f"not recovered + {self.returned:.12g} t returned"
            )


class Ledger:
    """Every tonne of one replication: the three accounts and the pockets' books."""

    __slots__ = ("air", "interdicted", "pockets", "road", "set_in", "set_out", "shuttle")

    def __init__(self, pockets: Sequence[Pocket]) -> None:
        self.pockets = list(pockets)
        self.air = Account("air")
        self.shuttle = Account("shuttle")
        self.road = Account("road")
        self.interdicted = 0.0  # destroyed as convoys left (booked as the sender's `lost`)
        self.set_in = 0.0  # stock raised by events (booked as `delivered`)
        self.set_out = 0.0  # stock cut by events (booked as `lost`)

    # -- air --------------------------------------------------------------------

    def load_outside(self, load: list[float]) -> None:
        """An aircraft takes off with ``load`` (t per commodity) from outside the enclave."""
        total = sum(load)
        self.air.sent += total
        self.air.under_way += total

    def load_shuttle(self, origin: Pocket, want: list[float]) -> list[float] | None:
        """A shuttle takes ``want`` (t per commodity, at most the stock) from its origin.

        Returns the load taken, or None when there was nothing to take.
        """
        total = 0.0
        load = [0.0] * len(want)
        for i, x in enumerate(want):
            if x > 0.0:
                y = origin.withdraw(i, x)
                load[i] = y
                total += y
        if total <= 0.0:
            return None
        self.shuttle.sent += total
        self.shuttle.under_way += total
        return load

    def deliver(
        self, account: Account, pocket: Pocket, load: list[float], share: float, diverted: bool
    ) -> float:
        """``share`` of ``load`` reaches ``pocket``; the rest of a drop is not recovered.

        Returns the tonnes the pocket received.

        A whole load (``share`` 1, every landing) is not summed again: what the pocket
        received is then ``sum(load)`` to the bit, the same non-negative terms added
        in the same order (a zero term, which the pocket skips, adds nothing).
        """
        got = pocket.receive_load(load, share, account is self.air)
        account.arrived += got
        if share == 1.0:
            account.under_way -= got
        else:
            total = sum(load)
            account.under_way -= total
            account.not_recovered += total - got
        if diverted:
            account.diverted += got
        return got

    def lose(self, account: Account, load: list[float], share: float) -> list[float]:
        """``share`` of ``load`` is lost in flight with its aircraft; returns what is left."""
        if share <= 0.0:
            return load
        total = sum(load) * share
        account.under_way -= total
        account.lost_in_flight += total
        if share >= 1.0:
            return [0.0] * len(load)
        keep = 1.0 - share
        return [x * keep for x in load]

    def return_home(self, account: Account, load: list[float], origin: Pocket | None) -> None:
        """An aircraft flies ``load`` back: to base (from outside) or to its origin pocket."""
        total = sum(load)
        if origin is not None:
            origin.receive_load(load, 1.0, False)
        account.under_way -= total
        account.returned += total

    # -- road -------------------------------------------------------------------

    @overload
    def convoy(
        self,
        sender: Pocket,
        amounts: list[tuple[int, float]],
        scale: float,
        share_lost: float,
        n: int,
        receiver: None = None,
    ) -> list[float]: ...

    @overload
    def convoy(
        self,
        sender: Pocket,
        amounts: list[tuple[int, float]],
        scale: float,
        share_lost: float,
        n: int,
        receiver: Pocket,
    ) -> None: ...

    def convoy(
        self,
        sender: Pocket,
        amounts: list[tuple[int, float]],
        scale: float,
        share_lost: float,
        n: int,
        receiver: Pocket | None = None,
    ) -> list[float] | None:
        """A convoy takes ``amounts`` × ``scale`` ((commodity, t) pairs) from ``sender``.

        A share ``share_lost`` of each is destroyed as it leaves (the sender's
        ``lost``); the rest (at most the stock) sets off: returned as t per commodity
        (``n`` commodities). With a ``receiver`` the convoy also arrives at once (a
        same-day route), as :meth:`arrive` would book it, and nothing is returned
        (no load is built: nothing goes on the road).
        """
        stock, out, lost = sender.stock, sender.transferred_out, sender.lost
        if receiver is not None:
            r_stock, r_in = receiver.stock, receiver.transferred_in
        else:
            load = [0.0] * n
        sent = destroyed_all = 0.0
        for i, amount in amounts:
            amount *= scale
            have = stock[i]
            if amount > have:  # rounding only
                amount = have
            if amount <= 0.0:
                continue
            destroyed = amount * share_lost
            x = amount - destroyed
            stock[i] = have - amount
            out[i] += x
            lost[i] += destroyed
            sent += x
            destroyed_all += destroyed
            if receiver is not None:
                r_stock[i] += x
                r_in[i] += x
            else:
                load[i] = x
        self.interdicted += destroyed_all
        road = self.road
        road.sent += sent
        if receiver is not None:
            receiver.transferred_today += sent
            road.arrived += sent
            return None
        road.under_way += sent
        return load

    def arrive(self, receiver: Pocket, load: list[float]) -> None:
        """A convoy unloads ``load`` (t per commodity) at ``receiver``."""
        got = receiver.receive_load(load, 1.0, False)
        self.road.under_way -= got
        self.road.arrived += got

    # -- events -----------------------------------------------------------------

    def set_stock(self, pocket: Pocket, i: int, value: float) -> None:
        """An event sets a stock level: the change is booked as delivered or lost."""
        change = pocket.set_stock(i, value)
        if change >= 0.0:
            self.set_in += change
        else:
            self.set_out -= change

    # -- the check --------------------------------------------------------------

    def balance(self) -> dict[tuple[str, str], dict[str, float]]:
        """The pockets' mass-balance terms per (pocket, commodity)."""
        out: dict[tuple[str, str], dict[str, float]] = {}
        for pocket in self.pockets:
            out.update(pocket.balance())
        return out

    def check(
        self, air_aboard: float, shuttle_aboard: float, road_under_way: float
    ) -> dict[tuple[str, str], dict[str, float]]:
        """Check every pocket, every account and the links between them; return the pockets' terms.

        The last three arguments are counted apart, from the things themselves: the
        tonnes aboard aircraft from outside and aboard shuttles, and the tonnes the
        routes hold on the road now.
        """
        balance = self.balance()
        check_mass_balance(balance)
        for account in (self.air, self.shuttle, self.road):
            account.check()

        def total(term: str) -> float:
            return sum(t[term] for t in balance.values())

        links = (
            ("delivered", total("delivered"), self.air.arrived + self.set_in),
            (
                "transferred_in",
                total("transferred_in"),
                self.shuttle.arrived + self.shuttle.returned + self.road.arrived,
            ),
            ("transferred_out", total("transferred_out"), self.shuttle.sent + self.road.sent),
            ("lost", total("lost"), self.interdicted + self.set_out),
            ("aboard aircraft from outside", air_aboard, self.air.under_way),
            ("aboard shuttles", shuttle_aboard, self.shuttle.under_way),
            ("on the road", road_under_way, self.road.under_way),
        )
        for what, pockets_side, ledger_side in links:
            if abs(pockets_side - ledger_side) > 1e-9 * max(1.0, pockets_side, ledger_side):
                raise MassBalanceError(
                    f"tonnes {what}: the pockets' books say {pockets_side:.12g} t but the "
                    f"ledger says {ledger_side:.12g} t"
                )
        return balance

    def counters(self) -> dict[str, float]:
        """The accounts' terms as run counters ``<account>_<term>_t``.

        Also the v1 names ``shuttle_in_transit_t`` (shuttle tonnes in the air at the
        end) and ``shuttle_lost_t`` (lost in flight or not recovered).
        """
        out: dict[str, float] = {}
        for account in (self.air, self.shuttle, self.road):
            for term, value in account.terms().items():
                out[f"{account.name}_{term}_t"] = value
        out["road_interdicted_t"] = self.interdicted
        out["shuttle_in_transit_t"] = self.shuttle.under_way
        out["shuttle_lost_t"] = self.shuttle.lost_in_flight + self.shuttle.not_recovered
        return out
