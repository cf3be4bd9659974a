"""Ground routes: equalising days of supply, capacity, transit, interdiction."""

from __future__ import annotations

import pytest
from model_helpers import scenario

from sim.model.world import run_replication

TWO = {
    "a": {"civilians": 1000, "stock_t": {"food": 100.0}},
    "b": {"civilians": 1000, "stock_t": {"food": 0.0}},
}


def test_route_equalises_days_of_supply_within_capacity() -> None:
    s = scenario(pockets=TWO, routes={"r": {"a": "a", "b": "b", "capacity_t_day": 10.0}})
    r = run_replication(s, 0)
    a = r.series["stock_t__a__food"]
    b = r.series["stock_t__b__food"]
    assert r.series["transfer_t__r"][0] == pytest.approx(10.0)  # capacity binds
    # equal days of supply (same demand) after the first few days
    assert a[10] == pytest.approx(b[10])


def test_transit_time_and_in_transit_stock() -> None:
    s = scenario(
        pockets=TWO, routes={"r": {"a": "a", "b": "b", "capacity_t_day": 10.0, "transit_days": 3}}
    )
    r = run_replication(s, 0)
    b = r.series["stock_t__b__food"]
    assert b[0] == 0.0 and b[1] == 0.0 and b[2] == 0.0
    assert b[3] > 0.0
    assert r.series["in_transit_t__r"][0] == pytest.approx(10.0)


def test_closed_route_moves_nothing_and_an_event_cuts_it() -> None:
    s = scenario(
        pockets=TWO,
        routes={"r": {"a": "a", "b": "b", "capacity_t_day": 1.0}},
        events=[{"date": "2016-01-09", "title": "cut", "set": {"routes.r.open": False}}],
    )
    r = run_replication(s, 0)
    t = r.series["transfer_t__r"]
    assert t[:5] == pytest.approx([1.0] * 5)
    assert t[5:].sum() == 0.0


def test_interdiction_destroys_a_threat_scaled_share() -> None:
    s = scenario(
        stochastic=False,
        pockets=TWO,
        routes={"r": {"a": "a", "b": "b", "capacity_t_day": 10.0, "interdiction": 0.1}},
        siege={
            "weapons": 300.0,
            "reference_weapons": 100.0,
            "effects": {"interdiction": 0.5},
        },  # multiplier 1 + 0.5 × 2 = 2
    )
    r = run_replication(s, 0)
    assert r.balance[("a", "food")]["lost"] == pytest.approx(r.counters["interdicted_t__r"])
    first_day_received = r.series["stock_t__b__food"][0] + r.series["consumed_t__b__food"][0]
    assert first_day_received == pytest.approx(8.0)  # 20 % of 10 t destroyed
