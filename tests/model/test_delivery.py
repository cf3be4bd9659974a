"""Delivery points: runways, parking (MOG), hours, holding, closures, drop passes."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.delivery import Airfield, DropZone
from sim.model.streams import ExpectedStream, Stream
from sim.model.weather import WeatherZone
from sim.scenario.schema import Airfield as AirfieldConfig
from sim.scenario.schema import DropZone as DropZoneConfig
from sim.scenario.schema import Weather

H = 1.0 / 24.0
MIN = H / 60.0


def zone(**weather: float) -> WeatherZone:
    z = WeatherZone("", Weather(**weather), ExpectedStream(0, 0, "w"), [0] * 400, False)
    z.step(0)
    return z


def field(stochastic: bool = False, **cfg: object) -> Airfield:
    c = AirfieldConfig(pocket="city", **cfg)  # type: ignore[arg-type]
    stream = Stream(4, 0, "airfields:x:closure") if stochastic else ExpectedStream(0, 0, "c")
    return Airfield("x", c, zone(), stream, stochastic, 400)


def test_a_runway_lands_one_aircraft_per_interval() -> None:
    f = field(runways=1, landing_interval_min=10.0, slots=10)
    lands = [f.book(0.0, 1.0, 0.0, holding=1.0)[0] for _ in range(4)]  # type: ignore[index]
    assert lands == pytest.approx([0.0, 10 * MIN, 20 * MIN, 30 * MIN])
    f2 = field(runways=2, landing_interval_min=10.0, slots=10)
    lands = [f2.book(0.0, 1.0, 0.0, holding=1.0)[0] for _ in range(4)]  # type: ignore[index]
    assert lands == pytest.approx([0.0, 0.0, 10 * MIN, 10 * MIN])


def test_degraded_weather_stretches_the_landing_interval() -> None:
    f = field(landing_interval_min=10.0, slots=10)
    f.zone = zone(degraded_share=0.5, degraded_landing_factor=3.0)  # expected factor 2
    f.book(0.0, 1.0, 0.0, holding=1.0)
    assert f.book(0.0, 1.0, 0.0, holding=1.0)[0] == pytest.approx(20 * MIN)  # type: ignore[index]


def test_parking_is_fractional_and_unloading_counts_open_hours_only() -> None:
    f = field(slots=1, opens_h=20.0, hours=8.0)
    done = []
    for _ in range(6):
        slot = f.book(19 * H, 1.0, 3 * H, holding=30.0)
        assert slot is not None
        f.record.serve(19 * H, slot[0], 1.0)
        done.append(slot[1])
    # 8 open hours a night at 3 h each: 2 2/3 aircraft a night; the third lands at 02:00,
    # unloads 2 h until closing and 1 h the next night
    assert done == pytest.approx([23 * H, 1 + 2 * H, 1 + 21 * H, 2 + 0 * H, 2 + 3 * H, 2 + 22 * H])
    assert f.record.served[:3].tolist() == [2.0, 2.0, 2.0]


def test_an_aircraft_that_cannot_land_within_its_holding_time_is_not_booked() -> None:
    f = field(slots=1)
    assert f.book(0.0, 1.0, 2 * H, holding=H) is not None
    assert f.book(0.0, 1.0, 2 * H, holding=H) is None  # the place is taken for 2 h
    assert f.landing_time(0.0) == pytest.approx(2 * H)
    f.record.divert(0.0, 1.0)
    assert f.record.diversions[0] == 1


def test_a_weighted_landing_holds_the_runway_and_the_place_for_its_weight() -> None:
    f = field(slots=1, landing_interval_min=60.0, runways=1)
    f.book(0.0, 0.5, 2 * H, holding=10.0)
    land, _ = f.book(0.0, 0.5, 2 * H, holding=10.0)  # type: ignore[misc]
    assert land == pytest.approx(1 * H)  # half of the 2 h of parking, half of the hour of runway


def test_stochastic_closures_start_and_last_as_configured() -> None:
    f = field(stochastic=True)
    shut = []
    for _ in range(60_000):
        f.start_day(0, 0.05, 4.0)
        shut.append(f.closed_today)
    x = np.array(shut, dtype=int)
    starts = np.flatnonzero(np.diff(x) == 1)
    trials = len(x) - x.sum() + len(starts)  # days not shut the day before
    assert len(starts) / trials == pytest.approx(0.05, rel=0.08)
    assert x.sum() / len(starts) == pytest.approx(4.0, rel=0.08)


def test_deterministic_closures_are_spells_of_the_mean_length() -> None:
    f = field()
    shut = []
    for _ in range(40):
        f.start_day(0, 0.25, 2.5)
        shut.append(int(f.closed_today))
    # a closure starts when the chance adds up to 1 (the 4th day not shut); 2.5 days long
    # on average, so shut a share 2.5 / (2.5 + (1 − p) / p) of the days, as when drawn
    assert shut[:16] == [0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1]
    assert sum(shut) == pytest.approx(40 * 2.5 / (2.5 + 3.0), abs=1.0)


def test_an_event_closed_field_is_shut_and_not_usable() -> None:
    f = field(open=False)
    f.start_day(0, 0.0, 1.0)
    assert f.closed_today and not f.ok


def test_a_drop_zone_takes_one_pass_per_interval() -> None:
    z = DropZone("dz", DropZoneConfig(pocket="city", recovery=1.0, passes_per_hour=4.0), zone(), 10)
    passes = [z.book(0.0, 1.0, holding=0.6 * H) for _ in range(4)]
    assert passes[:3] == pytest.approx([0.0, 15 * MIN, 30 * MIN])
    assert passes[3] is None  # 45 min later is beyond 36 min of holding
    assert z.pass_time(0.0) == pytest.approx(45 * MIN)
    for when in passes[:3]:
        z.record.serve(0.0, when, 1.0)  # type: ignore[arg-type]
    assert z.record.served[0] == 3 and z.record.queue_h[0] == pytest.approx(0.25 + 0.5)
    assert z.pallets(20.0) == 26 and z.pallets(0.77 * 3) == 3


def test_new_hours_keep_the_places_taken() -> None:
    """An event that changes a field's hours moves the bookings to the new open clock."""
    f = field(slots=1, opens_h=6.0, hours=12.0)
    _, done = f.book(7 * H, 1.0, 2 * H, holding=1.0)  # type: ignore[misc]
    assert done == pytest.approx(9 * H)
    f.configure(AirfieldConfig(pocket="city", slots=1, opens_h=0.0, hours=24.0), f.zone)
    assert f.landing_time(8 * H) == pytest.approx(9 * H)  # still taken until 09:00
    assert f.landing_time(10 * H) == pytest.approx(10 * H)
