"""What one replication leaves behind: daily series, counters and the mass balance.

The model writes daily values into preallocated arrays (one float64 value per day
and series; day 0 is ``calendar.start``) and scalar counters into a dict.
:class:`RunResult` is the plain-data hand-over to the analysis and output layers;
nothing in it refers back to SimPy. Every series name is made by :func:`series_name`
(``__`` separates the parts; every name is snake_case).

In the deterministic limit (``stochastic = false``) counts are expectations and may
be fractional (sorties × the weight of the opportunity, see :mod:`sim.model.airlift`).

============================================  =================================================
``stock_t__<pocket>__<commodity>``             stock at the end of the day, t
``days_of_supply__<pocket>__<commodity>``      end-of-day stock ÷ full daily demand, days (NaN
                                               if the pocket has no demand for it)
``consumed_t__<pocket>__<commodity>``          consumed during the day, t
``shortfall_t__<pocket>__<commodity>``         demand at the day's ration level left unmet, t
``ration_level__<pocket>``                     ration level in force (× full)
``civilian_ration__<pocket>``                  what civilians actually ate ÷ their full demand,
                                               lowest over rationed commodities (NaN if none)
``garrison_ration__<pocket>``                  the same for the garrison
``civilians__<pocket>``, ``garrison__<pocket>``  head counts that day
``received_t__<pocket>``                       air deliveries from outside the enclave, t
``transferred_in_t__<pocket>``                 received from other pockets (shuttles, convoys,
                                               shuttle loads flown back to their origin), t
``delivered_t__<fleet>``                       tonnes the fleet brought from outside the
                                               enclave (recovered, for drops); 0 for a shuttle
``transferred_t__<fleet>``                     tonnes a shuttle (a fleet with an ``origin``)
                                               carried from one pocket to another; only for
                                               fleets that are shuttles at some time
``dropped_t__<fleet>``                         tonnes released over drop zones (recovered or
                                               not); airdrop fleets only
``pallets_dropped__<fleet>``                   pallets (or platforms) released over drop zones,
                                               each load on ⌈load ÷ the zone's ``pallet_t``⌉;
                                               airdrop fleets only (the counter of the same
                                               name is its sum)
``sorties_flown__<fleet>``                     sorties that took off
``sorties_aborted__<fleet>``                   opportunities not flown, and sorties flown back
                                               with their load (all reasons)
``sorties_aborted__<fleet>__<reason>``         the same for one reason (:data:`ABORT_REASONS`)
``deliveries__<fleet>``                        sorties that reached a target and delivered
``diversions__<fleet>``                        sorties that diverted to a next target
``aircraft_lost__<fleet>``                     aircraft lost (in flight or on the ground)
``<kind>__<fleet>__<pocket>``                  for ``<kind>`` = ``delivered_t``,
                                               ``transferred_t``, ``dropped_t``,
                                               ``pallets_dropped``,
                                               ``sorties_flown``, ``deliveries`` and
                                               ``aircraft_lost``: the part that went to the
                                               pocket, for each pocket the fleet has had a
                                               target in (an event may move a target to
                                               another pocket; a sortie counts for the
                                               pocket of the target booked at take-off, a
                                               loss for the pocket of the target it flew to
                                               or stood at, tonnage and deliveries for the
                                               pocket that got them); the pockets add up to
                                               the fleet's total
``aircraft_available__<fleet>``                aircraft serviceable and mission-capable at the
                                               end of the day
``flying_h__<fleet>``                          hours flown (out, holding, diversions, back)
``utilisation__<fleet>``                       flying hours ÷ aircraft available, h per aircraft
                                               per day (NaN when none is available)
``landings__<airfield or helipad>``            aircraft landed
``drops__<drop zone>``                         drop passes flown
``queue_h__<place>``                           hours aircraft waited there: in the air for a
                                               landing or a drop pass, on the ground for a
                                               base's loading place or window
``diversions__<airfield, helipad or drop zone>``  aircraft that could not land or drop within
                                               their holding time (or found it shut) and left
``turnarounds__<base>``                        aircraft turned round at a home base
``closed__<airfield or helipad>``              1 if shut (by event or shelling) that day
``flyable``, ``flyable__<zone>``               1 if the day was flyable in the default zone /
                                               a named weather zone, else 0 (deterministic
                                               limit: the month's flyable share)
``degraded``, ``degraded__<zone>``             1 if the day was degraded there, else 0
                                               (deterministic limit: the month's share)
``combat_sorties``                             realised combat air sorties
``targets_destroyed``                          besieger targets destroyed
``besieger_weapons``                           H at the end of the day (0 without a siege)
``threat``                                     θ = H / H_ref used during the day (1 without a
                                               siege)
``transfer_t__<route>``                        dispatched from a to b (negative: b to a), t
``in_transit_t__<route>``                      on the road at the end of the day, t
============================================  =================================================

Event-driven quantities (deliveries, sorties, landings) are attributed to the day on
which they happen (``int(now)``).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

import numpy as np

ABORT_REASONS: tuple[str, ...] = (
    "not_mc",
    "weather",
    "no_target",
    "no_cargo",
    "base_closed",
    "closed",
    "holding",
)
"""Why an aircraft did not fly when it was otherwise ready, or flew back with its load:
``not_mc`` broken down (once per breakdown); ``weather`` its base or every open target
unflyable that day; ``no_target`` no target open; ``no_cargo`` a shuttle's origin has
nothing above its reserve; ``base_closed`` its base closed; ``closed`` its target shut
or unflyable on arrival with no next target to divert to; ``holding`` no landing or
drop pass within its holding time and no next target to divert to."""


def series_name(kind: str, *parts: str) -> str:
    """The name of a daily series: ``kind`` and the names it is about, joined by ``__``.

    ``series_name("delivered_t", "wfp", "city")`` is ``"delivered_t__wfp__city"``.
    """
    return "__".join((kind, *parts))


BALANCE_TERMS: tuple[str, ...] = (
    "initial",
    "delivered",
    "transferred_in",
    "consumed",
    "transferred_out",
    "lost",
    "final",
)
"""Terms of the per-pocket, per-commodity mass balance, all in tonnes:
initial + delivered + transferred_in − consumed − transferred_out − lost = final."""


def zeros(n: int) -> array:
    """A daily record of ``n`` zeros that the model updates element by element.

    An ``array('d')`` rather than a numpy array: an element update from Python code
    costs about half as much, and :func:`to_numpy` turns it into float64 with one copy.
    """
    return array("d", bytes(8 * n))


def to_numpy(record: array) -> np.ndarray:
    """A float64 numpy copy of a daily record made by :func:`zeros`."""
    return np.frombuffer(record, dtype=np.float64).copy()


class PlaceRecord:
    """The daily record of a place aircraft come to (an airfield, a drop zone, a base).

    ``served``: the aircraft it served each day (landings, drop passes, turnarounds;
    weighted in the deterministic limit); ``queue_h``: the hours aircraft waited for
    it, counted on the day the wait began; ``diversions``: aircraft that left without
    being served.
    """

    __slots__ = ("diversions", "last_day", "queue_h", "served")

    def __init__(self, n_days: int) -> None:
        self.last_day = n_days - 1
        self.served = zeros(n_days)
        self.queue_h = zeros(n_days)
        self.diversions = zeros(n_days)

    def day(self, t: float) -> int:
        """The day of time ``t`` (robust to float sums; the last day at most)."""
        d = int(t + 1e-9)
        return d if d < self.last_day else self.last_day

    def serve(self, t: float, when: float, weight: float) -> None:
        """An aircraft that came at ``t`` is served at ``when`` (it waited in between)."""
        last = self.last_day  # day(), inlined: the hot path of every landing and turnaround
        d = int(when + 1e-9)
        self.served[d if d < last else last] += weight
        if when > t:
            d = int(t + 1e-9)
            self.queue_h[d if d < last else last] += weight * (when - t) * 24.0

    def wait(self, t: float, hours: float, weight: float) -> None:
        """``hours`` an aircraft waited for the place, ending at ``t`` (at home)."""
        d = int(t + 1e-9)  # day(), inlined
        self.queue_h[d if d < self.last_day else self.last_day] += weight * hours

    def divert(self, t: float, weight: float) -> None:
        """An aircraft left at ``t`` without being served."""
        self.diversions[self.day(t)] += weight

    def series(self, served: str, name: str, diversions: bool = True) -> dict[str, np.ndarray]:
        """The place's daily series: ``<served>__<name>``, ``queue_h__<name>`` and,
        unless ``diversions`` is false, ``diversions__<name>``."""
        out = {
            series_name(served, name): to_numpy(self.served),
            series_name("queue_h", name): to_numpy(self.queue_h),
        }
        if diversions:
            out[series_name("diversions", name)] = to_numpy(self.diversions)
        return out


class MassBalanceError(RuntimeError):
    """A pocket's stock does not add up: the model has created or destroyed mass."""


@dataclass(frozen=True)
class RunResult:
    """One replication's output, as plain data.

    ``series`` maps a series name (see the module docstring) to a float64 array of
    length ``n_days``. ``counters`` holds run totals that are not daily series
    (``interdicted_t__<route>``, ``pallets_dropped__<fleet>``,
    ``pallets_recovered__<fleet>``, ``aborted_<reason>__<fleet>`` for each of
    :data:`ABORT_REASONS`, and the ledger's ``<account>_<term>_t``, see
    :meth:`sim.model.ledger.Ledger.counters`). ``balance`` maps
    ``(pocket, commodity)`` to the terms of :data:`BALANCE_TERMS`. ``events`` lists
    the timeline as ``(day, title)``. ``sim_events`` counts the events scheduled
    (the aircraft's waits, starts, wakes and ends, as SimPy processes would count them).
    """

    replication: int
    seed: int
    n_days: int
    series: dict[str, np.ndarray]
    counters: dict[str, float] = field(default_factory=dict)
    balance: dict[tuple[str, str], dict[str, float]] = field(default_factory=dict)
    events: list[tuple[int, str]] = field(default_factory=list)
    sim_events: int = 0


def check_mass_balance(
    balance: dict[tuple[str, str], dict[str, float]], rel_tol: float = 1e-9
) -> None:
    """Raise :class:`MassBalanceError` unless every pocket and commodity adds up.

    The residual is compared with ``rel_tol`` × the largest term (at least 1 t·1e-9),
    so rounding in long sums does not trip it but any real leak does.
    """
    for (pocket, commodity), t in balance.items():
        lhs = (
            t["initial"]
            + t["delivered"]
            + t["transferred_in"]
            - t["consumed"]
            - t["transferred_out"]
            - t["lost"]
        )
        scale = max(1.0, *(abs(v) for v in t.values()))
        if abs(lhs - t["final"]) > rel_tol * scale:
            raise MassBalanceError(
                f"mass balance broken for {pocket}/{commodity}: initial + delivered + in − "
                f"consumed − out − lost = {lhs:.12g} t but final stock is {t['final']:.12g} t"
            )
