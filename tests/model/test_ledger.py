"""The ledger: every tonne in an account or a pocket, and the check that finds leaks."""

from __future__ import annotations

import pytest

from sim.model.ledger import Ledger
from sim.model.pocket import Pocket
from sim.model.record import MassBalanceError
from sim.scenario.schema import Commodity
from sim.scenario.schema import Pocket as PocketConfig

COMMODITIES = {
    "food": Commodity(civilian_kg_day=0.5, soldier_kg_day=1.0),
    "ammo": Commodity(civilian_kg_day=0.0, soldier_kg_day=1.0, rationed=False),
}


def pockets() -> tuple[Pocket, Pocket, Ledger]:
    a = Pocket("a", PocketConfig(civilians=0, stock_t={"food": 100.0, "ammo": 10.0}), COMMODITIES)
    b = Pocket("b", PocketConfig(civilians=0), COMMODITIES)
    return a, b, Ledger([a, b])


def test_air_cargo_from_outside_is_accounted_for() -> None:
    _, b, led = pockets()
    for _ in range(4):
        led.load_outside([6.0, 2.0])
    led.deliver(led.air, b, [6.0, 2.0], 1.0, diverted=True)  # landed after a diversion
    led.deliver(led.air, b, [6.0, 2.0], 0.75, diverted=False)  # a drop, 3/4 recovered
    left = led.lose(led.air, [6.0, 2.0], 0.25)  # deterministic limit: a quarter lost
    assert left == [4.5, 1.5]
    led.return_home(led.air, [6.0, 2.0], None)  # flown home
    air = led.air
    assert (air.sent, air.arrived, air.diverted) == (32.0, 14.0, 8.0)
    assert (air.not_recovered, air.lost_in_flight, air.returned) == (2.0, 2.0, 8.0)
    assert air.under_way == pytest.approx(6.0)  # the 3/4 of a load still aboard
    led.check(air_aboard=6.0, shuttle_aboard=0.0, road_under_way=0.0)
    assert b.balance()[("b", "food")]["delivered"] == pytest.approx(6.0 + 4.5)


def test_shuttles_and_convoys_move_tonnage_between_pockets() -> None:
    a, b, led = pockets()
    load = led.load_shuttle(a, [5.0, 20.0])  # more ammunition than there is
    assert load == [5.0, 10.0]
    assert led.load_shuttle(b, [1.0, 1.0]) is None  # nothing to carry
    led.return_home(led.shuttle, [0.0, 4.0], a)
    led.deliver(led.shuttle, b, [5.0, 6.0], 1.0, diverted=False)
    on_road = led.convoy(a, [(0, 20.0)], 0.5, 0.2, 2)  # 2 t interdicted as it leaves
    assert on_road == [8.0, 0.0]
    assert led.convoy(a, [(0, 1.0)], 1.0, 0.0, 2, receiver=b) is None  # same day: not on the road
    assert a.balance()[("a", "food")]["lost"] == 2.0
    led.check(air_aboard=0.0, shuttle_aboard=0.0, road_under_way=8.0)
    led.arrive(b, on_road)
    balance = led.check(air_aboard=0.0, shuttle_aboard=0.0, road_under_way=0.0)
    assert balance[("b", "food")]["transferred_in"] == 5.0 + 8.0 + 1.0
    assert balance[("a", "ammo")]["transferred_in"] == 4.0  # the shuttle load flown back
    counters = led.counters()
    assert counters["road_interdicted_t"] == 2.0
    assert counters["shuttle_sent_t"] == 15.0 and counters["shuttle_lost_t"] == 0.0


def test_events_setting_stock_are_booked_both_sides() -> None:
    a, _, led = pockets()
    led.set_stock(a, 0, 150.0)
    led.set_stock(a, 1, 0.0)
    led.check(0.0, 0.0, 0.0)
    assert (led.set_in, led.set_out) == (50.0, 10.0)


@pytest.mark.parametrize(
    ("leak", "words"),
    [
        (lambda a, b, led: a.receive(0, 1.0, True), "tonnes delivered"),
        (lambda a, b, led: setattr(led.air, "arrived", 1.0), "air tonnage does not add up"),
        (lambda a, b, led: led.load_outside([1.0, 0.0]), "aboard aircraft from outside"),
        (lambda a, b, led: a.stock.__setitem__(0, 99.0), "mass balance broken for a/food"),
    ],
)
def test_a_leak_is_found(leak, words) -> None:
    a, b, led = pockets()
    leak(a, b, led)
    with pytest.raises(MassBalanceError, match=words):
        led.check(air_aboard=0.0, shuttle_aboard=0.0, road_under_way=0.0)
