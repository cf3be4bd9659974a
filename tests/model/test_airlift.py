"""The sortie cycle, and its deterministic limit against the planning equations."""

from __future__ import annotations

import math

import pytest
from model_helpers import drop_fleet, land_fleet, scenario

from sim.model.world import run_replication

DZ = {"dz": {"pocket": "city", "recovery": 1.0}}
STRIP = {"strip": {"pocket": "city", "slots": 1}}


@pytest.mark.parametrize(
    ("aircraft", "per_day", "payload"), [(1, 1, 20.0), (3, 2, 16.5), (4, 0.5, 7.0)]
)
def test_fleet_lift_equals_n_times_sorties_times_payload(aircraft, per_day, payload) -> None:
    """E5 of [S:plan-equations]: Q = N × s × P per day, exactly, with randomness off."""
    s = scenario(
        stochastic=False,
        drop_zones=DZ,
        fleets={
            "f": drop_fleet(
                aircraft=aircraft, sorties_per_day=per_day, payload_t=payload, flight_h=0.5
            )
        },
    )
    r = run_replication(s, 0)
    n_days = s.calendar.n_days
    assert r.series["delivered_t__f"].sum() == pytest.approx(
        aircraft * per_day * payload * n_days, rel=1e-12
    )
    assert r.series["sorties_flown__f"].sum() == aircraft * per_day * n_days
    assert r.series["sorties_aborted__f"].sum() == 0


@pytest.mark.parametrize(
    ("slots", "hours", "ground_h"), [(1, 8.0, 2.0), (2, 10.0, 2.5), (3, 6.0, 1.0)]
)
def test_airfield_bound_flow_equals_mog_times_hours_over_ground_time(
    slots, hours, ground_h
) -> None:
    """E8 of [S:plan-equations] without queueing loss: Q = MOG × H / t_g × P when slots bind."""
    s = scenario(
        stochastic=False,
        airfields={"strip": {"pocket": "city", "slots": slots, "opens_h": 20.0, "hours": hours}},
        fleets={
            "f": land_fleet(
                aircraft=40, payload_t=10.0, ground_h=ground_h, flight_h=1.0, depart_h=18.0
            )
        },
    )
    r = run_replication(s, 0)
    per_day = slots * hours / ground_h * 10.0
    daily = r.series["delivered_t__f"]
    # every full day after the first night delivers exactly the airfield's capacity
    assert daily[1:-1] == pytest.approx([per_day] * (len(daily) - 2))


def test_weekdays_and_active_window() -> None:
    s = scenario(
        stochastic=False,
        drop_zones=DZ,
        fleets={
            "f": drop_fleet(
                days=["mon", "wed", "fri"], active_from="2016-01-11", active_to="2016-01-24"
            )
        },
    )
    r = run_replication(s, 0)
    flown = r.series["sorties_flown__f"]
    # 2016-01-04 is a Monday; window days 7..20 → Mon/Wed/Fri of two weeks
    assert flown.sum() == 6
    assert [d for d in range(len(flown)) if flown[d]] == [7, 9, 11, 14, 16, 18]


def test_mission_capable_rate_in_the_deterministic_limit() -> None:
    s = scenario(stochastic=False, drop_zones=DZ, fleets={"f": drop_fleet(mission_capable=0.75)})
    r = run_replication(s, 0)
    assert r.series["sorties_flown__f"].sum() == 63  # 84 slots × 0.75
    assert r.counters["aborted_not_mc__f"] == 21


def test_stochastic_mission_capable_rate_is_close_to_its_expectation() -> None:
    s = scenario(drop_zones=DZ, fleets={"f": drop_fleet(aircraft=20, mission_capable=0.7)})
    r = run_replication(s, 0)
    share = r.series["sorties_flown__f"].sum() / (20 * 84)
    assert share == pytest.approx(0.7, abs=0.04)


def test_drop_recovery_is_binomial_over_pallets() -> None:
    s = scenario(
        drop_zones={"dz": {"pocket": "city", "recovery": 0.8, "pallet_t": 0.8}},
        fleets={"f": drop_fleet(aircraft=5)},
    )
    r = run_replication(s, 0)
    dropped = r.counters["pallets_dropped__f"]
    assert dropped == 5 * 84 * 25
    assert r.counters["pallets_recovered__f"] / dropped == pytest.approx(0.8, abs=0.02)
    assert r.series["dropped_t__f"].sum() == pytest.approx(5 * 84 * 20.0)
    assert r.series["delivered_t__f"].sum() == pytest.approx(
        r.counters["pallets_recovered__f"] * 0.8
    )


def test_closed_target_aborts_and_falls_back_to_next_preference() -> None:
    s = scenario(
        stochastic=False,
        drop_zones={
            "dz": {"pocket": "city", "recovery": 1.0, "open": False},
            "dz2": {"pocket": "city", "recovery": 0.5},
        },
        fleets={"f": drop_fleet(targets=["dz", "dz2"])},
        events=[
            {"date": "2016-02-01", "title": "dz2 overrun", "set": {"drop_zones.dz2.open": False}}
        ],
    )
    r = run_replication(s, 0)
    assert r.series["delivered_t__f"][:28].sum() == pytest.approx(28 * 10.0)
    assert r.series["delivered_t__f"][28:].sum() == 0
    assert r.counters["aborted_no_target__f"] == 84 - 28


def test_losses_scale_with_threat_and_remove_aircraft() -> None:
    s = scenario(
        stochastic=False,
        drop_zones=DZ,
        fleets={"f": drop_fleet(aircraft=2, loss_per_sortie=0.05)},
        siege={"weapons": 200.0, "reference_weapons": 100.0},  # θ = 2 → loss × 2 (e = 1)
    )
    r = run_replication(s, 0)
    lost = r.series["aircraft_lost__f"]
    assert lost.sum() == 2
    # 0.1 per sortie, error diffusion per fleet: the 10th and 20th sorties are lost
    assert r.series["sorties_flown__f"].sum() == 20
    assert r.series["deliveries__f"].sum() == 18


def test_an_event_adds_aircraft_and_a_later_event_grounds_them() -> None:
    s = scenario(
        stochastic=False,
        drop_zones=DZ,
        fleets={"f": drop_fleet(aircraft=1)},
        events=[
            {"date": "2016-01-14", "title": "two more", "set": {"fleets.f.aircraft": 3}},
            {"date": "2016-01-24", "title": "back to one", "set": {"fleets.f.aircraft": 1}},
        ],
    )
    r = run_replication(s, 0)
    flown = r.series["sorties_flown__f"]
    assert flown[:10].tolist() == [1] * 10
    assert flown[10:20].tolist() == [3] * 10
    assert flown[20:].tolist() == [1] * 64


def test_shuttle_moves_stock_between_pockets() -> None:
    s = scenario(
        stochastic=False,
        pockets={
            "city": {"civilians": 0, "stock_t": {"food": 100.0}},
            "base": {"civilians": 0, "stock_t": {"food": 0.0}},
        },
        helipads={"pad": {"pocket": "base"}},
        fleets={
            "heli": {
                "mode": "helicopter",
                "aircraft": 1,
                "payload_t": 3.0,
                "cargo": {"food": 1.0},
                "flight_h": 0.5,
                "ground_h": 0.5,
                "targets": ["pad"],
                "origin": "city",
            }
        },
    )
    r = run_replication(s, 0)
    # 33 full loads of 3 t, then the last 1 t, then nothing left to carry
    assert r.series["stock_t__base__food"][-1] == pytest.approx(100.0)
    assert r.series["deliveries__heli"].sum() == 34
    assert r.counters["aborted_no_cargo__heli"] == 84 - 34
    assert r.balance[("city", "food")]["transferred_out"] == pytest.approx(100.0)
    assert r.balance[("base", "food")]["transferred_in"] == pytest.approx(100.0)


def test_shuttle_leaves_its_reserve_in_the_origin() -> None:
    s = scenario(
        stochastic=False,
        pockets={
            "city": {"civilians": 1000, "stock_t": {"food": 100.0}},  # 0.5 t/day
            "base": {"civilians": 0, "stock_t": {"food": 0.0}},
        },
        helipads={"pad": {"pocket": "base"}},
        fleets={
            "heli": {
                "mode": "helicopter",
                "aircraft": 1,
                "payload_t": 3.0,
                "cargo": {"food": 1.0},
                "flight_h": 0.5,
                "ground_h": 0.5,
                "targets": ["pad"],
                "origin": "city",
                "origin_reserve_days": 20,
            }
        },
    )
    r = run_replication(s, 0)
    city = r.series["stock_t__city__food"]
    # the shuttle stops once the city is down to 20 days of its 0.5 t/day
    assert r.balance[("city", "food")]["transferred_out"] > 0
    carried_days = [d for d in range(len(city)) if r.series["deliveries__heli"][d]]
    assert all(city[d] >= 20 * 0.5 - 0.5 - 1e-9 for d in carried_days)
    assert r.counters["aborted_no_cargo__heli"] > 0


def test_next_slot_skips_whole_days_without_waking() -> None:
    s = scenario(
        stochastic=False, drop_zones=DZ, fleets={"f": drop_fleet(days=["sun"], sorties_per_day=4)}
    )
    r = run_replication(s, 0)
    assert r.series["sorties_flown__f"].sum() == 12 * 4
    # 12 Sundays × 4 slots × (slot, out, back) ≈ 150 events, not one per slot of the week
    assert r.sim_events < 400
    assert math.isfinite(r.series["delivered_t__f"].sum())
