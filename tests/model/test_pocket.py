"""Daily consumption, the ration policy with hysteresis, garrison priority, shortfall."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.pocket import Pocket
from sim.scenario.schema import Commodity
from sim.scenario.schema import Pocket as PocketConfig

FOOD = {"food": Commodity(civilian_kg_day=0.5, soldier_kg_day=1.0)}


def make(stock: float, civilians: int = 1000, garrison: int = 0, **rations) -> Pocket:
    cfg = PocketConfig(
        civilians=civilians, garrison=garrison, stock_t={"food": stock}, rations=rations or {}
    )
    return Pocket("city", cfg, FOOD)


def test_demand_and_days_of_supply() -> None:
    p = make(10.0, civilians=1000, garrison=100)
    assert p.demand(0, 1.0) == pytest.approx((0.5, 0.1))
    assert p.days_of_supply(0, 1.0) == pytest.approx(10.0 / 0.6)


def test_full_ration_consumed_while_stock_lasts_then_shortfall() -> None:
    p = make(1.2)
    out: list = []
    p.consume(1.0, out)
    p.consume(1.0, out)
    p.consume(1.0, out)
    assert [round(o[0], 9) for o in out] == [0.5, 0.5, 0.2]
    assert out[2][1] == pytest.approx(0.3)
    assert out[2][2] == pytest.approx(0.4)  # civilians got 40% of a full ration
    assert p.stock[0] == 0.0
    assert p.consumed[0] == pytest.approx(1.2)


def test_ration_cut_below_threshold_and_lifted_only_above_recover_factor() -> None:
    p = make(10.0, thresholds_days=[30.0, 10.0], levels=[0.5, 0.25], recover_factor=1.5)
    assert p.update_ration(1.0) == 0.5  # 10 t ÷ 0.5 t/day = 20 days: below 30, not below 10
    p.stock[0] = 4.0  # 8 days
    assert p.update_ration(1.0) == 0.25
    p.stock[0] = 6.0  # 12 days: above 10 but below 10 × 1.5 → stays cut
    assert p.update_ration(1.0) == 0.25
    p.stock[0] = 8.0  # 16 days ≥ 15 → back to 0.5
    assert p.update_ration(1.0) == 0.5
    p.stock[0] = 40.0  # 80 days ≥ 45 → full
    assert p.update_ration(1.0) == 1.0


def test_rationed_consumption_follows_the_level() -> None:
    p = make(5.0, thresholds_days=[30.0], levels=[0.5])
    p.update_ration(1.0)
    out: list = []
    p.consume(1.0, out)
    assert out[0][0] == pytest.approx(0.25)
    assert out[0][1] == 0.0  # no shortfall at the chosen level
    assert out[0][2] == pytest.approx(0.5)


@pytest.mark.parametrize("priority", [True, False])
def test_garrison_priority(priority: bool) -> None:
    p = make(0.3, civilians=1000, garrison=100, garrison_priority=priority)
    out: list = []
    p.consume(1.0, out)
    eaten, short, civ, gar = out[0]
    assert eaten == pytest.approx(0.3)
    assert short == pytest.approx(0.3)
    if priority:
        assert gar == pytest.approx(1.0)
        assert civ == pytest.approx(0.4)
    else:
        assert gar == pytest.approx(0.5)
        assert civ == pytest.approx(0.5)


def test_threat_scaled_commodity_scales_garrison_demand_only() -> None:
    comms = {
        "ammo": Commodity(
            civilian_kg_day=0.0, soldier_kg_day=2.0, rationed=False, threat_scaled=True
        )
    }
    p = Pocket("base", PocketConfig(civilians=500, garrison=100, stock_t={"ammo": 1.0}), comms)
    assert p.demand(0, 2.5) == pytest.approx((0.0, 0.5))
    assert math.isclose(p.days_of_supply(0, 2.5), 2.0)


def test_set_stock_is_booked() -> None:
    p = make(10.0)
    assert p.set_stock(0, 15.0) == 5.0
    assert p.set_stock(0, 3.0) == -12.0
    b = p.balance()[("city", "food")]
    assert b["delivered"] == 5.0
    assert b["lost"] == 12.0
    assert b["initial"] + b["delivered"] - b["lost"] == b["final"]


def test_receive_withdraw_destroy_book_every_tonne() -> None:
    p = make(10.0)
    p.receive(0, 4.0, True)  # from outside
    p.receive(0, 1.0, False)  # from another pocket
    assert p.withdraw(0, 2.0) == 2.0
    assert p.destroy(0, 1.5) == 1.5
    assert p.withdraw(0, 100.0) == pytest.approx(10.0 + 4 + 1 - 2 - 1.5)  # at most the stock
    assert p.destroy(0, 1.0) == 0.0
    assert p.receive_load([2.0], 0.5, True) == 1.0
    b = p.balance()[("city", "food")]
    assert (b["delivered"], b["transferred_in"], b["lost"]) == (5.0, 1.0, 1.5)
    assert b["transferred_out"] == pytest.approx(13.5)
    assert b["final"] == 1.0
    assert (p.received_today, p.transferred_today) == (5.0, 1.0)


def test_a_pocket_left_empty_by_an_event_eats_nothing_from_then_on() -> None:
    """An idle pocket writes its zeros once; an event that empties it must clear the
    day eaten before."""
    p = make(100.0, civilians=1000)
    p.consume(1.0)
    assert p.eaten_today == [pytest.approx(0.5)]
    p.configure(PocketConfig(civilians=0, garrison=0, stock_t={"food": 100.0}), FOOD)
    for _ in range(2):
        p.consume(1.0)
        assert p.eaten_today == [0.0] and p.short_today == [0.0]
        assert math.isnan(p.civ_ration)
    p.configure(PocketConfig(civilians=2000, stock_t={"food": 100.0}), FOOD)
    p.consume(1.0)
    assert p.eaten_today == [pytest.approx(1.0)]


def test_the_ration_level_reads_only_rationed_commodities_as_configured() -> None:
    both = {
        "food": Commodity(civilian_kg_day=1.0, soldier_kg_day=0.0),
        "water": Commodity(civilian_kg_day=1.0, soldier_kg_day=0.0, rationed=False),
    }
    rations = {"thresholds_days": [10.0], "levels": [0.5]}
    cfg = PocketConfig(civilians=1000, stock_t={"food": 100.0, "water": 5.0}, rations=rations)
    p = Pocket("city", cfg, both)
    assert p.update_ration(1.0) == 1.0  # water (5 days) is not rationed
    both["water"] = Commodity(civilian_kg_day=1.0, soldier_kg_day=0.0, rationed=True)
    p.configure(cfg, both)
    assert p.update_ration(1.0) == 0.5


@settings(max_examples=60, deadline=None)
@given(
    stocks=st.lists(st.floats(0.0, 50.0), min_size=3, max_size=3),
    garrison=st.integers(0, 500),
    level=st.integers(0, 2),
    priority=st.booleans(),
)
def test_consume_is_the_same_whether_or_not_rows_are_asked_for(
    stocks: list[float], garrison: int, level: int, priority: bool
) -> None:
    """consume() skips the ratios of unrationed commodities when no rows are asked for."""
    goods = {
        "food": Commodity(civilian_kg_day=0.5, soldier_kg_day=1.0),
        "water": Commodity(civilian_kg_day=2.0, soldier_kg_day=3.0, rationed=False),
        "ammunition": Commodity(
            civilian_kg_day=0.0, soldier_kg_day=0.3, rationed=False, threat_scaled=True
        ),
    }
    cfg = PocketConfig(
        civilians=1000,
        garrison=garrison,
        stock_t=dict(zip(goods, stocks, strict=True)),
        rations={
            "thresholds_days": [90.0, 30.0],
            "levels": [0.75, 0.5],
            "garrison_priority": priority,
        },
    )
    a, b = Pocket("p", cfg, goods), Pocket("p", cfg, goods)
    for p in (a, b):
        p.level = p.levels[level]
    rows: list[tuple[float, float, float, float]] = []
    a.consume(1.5)
    b.consume(1.5, rows)
    assert (a.stock, a.eaten_today, a.short_today) == (b.stock, b.eaten_today, b.short_today)
    assert [a.civ_ration, a.gar_ration] == pytest.approx(
        [b.civ_ration, b.gar_ration], nan_ok=True, rel=0, abs=0
    )
    assert [r[:2] for r in rows] == list(zip(b.eaten_today, b.short_today, strict=True))


@given(ammunition=st.floats(min_value=0.0, max_value=1e6))
def test_an_idle_pockets_demands_are_its_zeros_at_any_ammunition(ammunition: float) -> None:
    # Routes read an idle pocket's total_demand without demands() (see Pocket.idle).
    comms = {
        "food": Commodity(civilian_kg_day=0.5, soldier_kg_day=1.0),
        "ammunition": Commodity(
            civilian_kg_day=0.0, soldier_kg_day=2.0, threat_scaled=True, rationed=False
        ),
    }
    cfg = PocketConfig(civilians=0, garrison=0, stock_t={"food": 5.0, "ammunition": 1.0})
    p = Pocket("smuggling", cfg, comms)
    assert p.idle
    before = list(p.total_demand)
    after = p.demands(ammunition)
    assert after == before == [0.0, 0.0]
    assert all(math.copysign(1.0, x) == 1.0 for x in after)  # +0.0, the same bytes
