"""Home bases: loading slots, hours, first come first served."""

from __future__ import annotations

import datetime as dt

import pytest
from model_helpers import drop_fleet, scenario

from sim.model.bases import Base
from sim.model.streams import ExpectedStream
from sim.model.weather import WeatherZone
from sim.model.world import run_replication
from sim.scenario.schema import Base as BaseConfig
from sim.scenario.schema import Weather

H = 1.0 / 24.0
ZONE = WeatherZone("", Weather(), ExpectedStream(0, 0, "w"), [0] * 10, False)


def test_loading_slots_serve_in_order_of_arrival_and_only_in_open_hours() -> None:
    b = Base("home", BaseConfig(loading_slots=1, opens_h=6.0, hours=12.0), ZONE, 10)
    assert not b.simple
    # back at 05:00: waits for 06:00, turned round by 08:00
    assert b.turn_round(5 * H, 2 * H, 1.0) == pytest.approx(8 * H)
    # the next one, back at 07:00, waits for the slot until 08:00
    assert b.turn_round(7 * H, 2 * H, 1.0) == pytest.approx(10 * H)
    # one back at 17:00 gets the slot at 17:00, works 1 h, finishes at 07:00 next morning
    assert b.turn_round(17 * H, 2 * H, 1.0) == pytest.approx(1 + 7 * H)
    assert b.record.served[0] == 3
    assert b.record.queue_h[0] == pytest.approx(1.0 + 1.0)


def test_a_weighted_turnaround_holds_its_slot_for_weight_times_the_time() -> None:
    b = Base("home", BaseConfig(loading_slots=1), ZONE, 10)
    assert b.turn_round(0.0, 4 * H, 0.25) == pytest.approx(4 * H)  # the aircraft's own time
    assert b.turn_round(0.0, 4 * H, 0.25) == pytest.approx(5 * H)  # the slot was free after 1 h


def test_an_unlimited_base_has_no_queue() -> None:
    b = Base("home", BaseConfig(opens_h=6.0, hours=12.0), ZONE, 10)
    assert b.simple
    assert b.turn_round(7 * H, 2 * H, 1.0) == pytest.approx(9 * H)
    assert b.turn_round(7 * H, 2 * H, 1.0) == pytest.approx(9 * H)


def test_nothing_takes_off_from_a_closed_base_and_an_event_moves_the_fleet() -> None:
    s = scenario(
        stochastic=False,
        bases={
            "near": {"lat": 35.0, "lon": 40.0},
            "far": {"lat": 35.0, "lon": 36.0, "open": False},
        },
        drop_zones={"dz": {"pocket": "city", "recovery": 1.0, "lat": 35.3, "lon": 40.1}},
        fleets={
            "f": drop_fleet(flight_h=None, base="far", block_speed_kmh=500.0, sorties_per_day=1.0)
        },
        events=[
            {"date": dt.date(2016, 1, 14), "title": "move", "set": {"fleets.f.base": "near"}},
        ],
    )
    r = run_replication(s, 0)
    flown = r.series["sorties_flown__f"]
    assert flown[:10].sum() == 0
    assert r.series["sorties_aborted__f__base_closed"][:10].tolist() == [1.0] * 10
    assert flown[10:].tolist() == [1.0] * (len(flown) - 10)
    # 34 km at 500 km/h each way: about 8 minutes of flying a sortie
    hours = r.series["flying_h__f"][11]
    assert hours == pytest.approx(2 * 34.0 / 500.0, rel=0.05)
