"""Weather zones: Markov unflyable spells, degraded days, monthly climate, expectations."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from model_helpers import drop_fleet, scenario

from sim.model.streams import ExpectedStream, Stream
from sim.model.weather import WeatherZone, month_of_day
from sim.model.world import run_replication
from sim.scenario.schema import Weather as WeatherConfig
from sim.scenario.schema import month_values

START = dt.date(2016, 1, 1)


def months(n: int) -> list[int]:
    return [(START + dt.timedelta(days=d)).month - 1 for d in range(n)]


@given(
    start=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)),
    n=st.integers(0, 1200),
)
def test_month_of_day_is_each_days_month(start: dt.date, n: int) -> None:
    assert month_of_day(start, n) == [(start + dt.timedelta(days=d)).month - 1 for d in range(n)]


def simulate(cfg: WeatherConfig, n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    z = WeatherZone("z", cfg, Stream(seed, 0, "weather:z"), months(n), True)
    fly, deg = [], []
    for d in range(n):
        z.step(d)
        fly.append(z.flyable)
        deg.append(z.degraded)
    return np.array(fly), np.array(deg)


def test_markov_share_and_spell_length() -> None:
    fly, _ = simulate(WeatherConfig(unflyable_share=0.2, mean_spell_days=4.0), 40_000)
    bad = (fly == 0).astype(int)
    assert bad.mean() == pytest.approx(0.2, abs=0.02)
    starts = np.flatnonzero(np.diff(bad) == 1)
    ends = np.flatnonzero(np.diff(bad) == -1)
    spells = ends[ends > starts[0]][: len(starts) - 1] - starts[: len(starts) - 1]
    assert spells.mean() == pytest.approx(4.0, rel=0.1)


def test_degraded_days_are_their_share_of_all_days_and_slow_landings() -> None:
    cfg = WeatherConfig(
        unflyable_share=0.1, degraded_share=0.3, degraded_landing_factor=2.0, mean_spell_days=2
    )
    z = WeatherZone("z", cfg, Stream(2, 0, "weather:z"), months(30_000), True)
    deg, factor = [], []
    for d in range(30_000):
        z.step(d)
        deg.append(z.degraded)
        factor.append(z.landing_factor)
        assert not (z.degraded and z.flyable == 0.0)
    assert np.mean(deg) == pytest.approx(0.3, abs=0.02)
    assert set(factor) == {1.0, 2.0}
    assert all((f == 2.0) == (g == 1.0) for f, g in zip(factor, deg, strict=True))


def test_monthly_climate_applies_month_by_month() -> None:
    u = [0.5] * 3 + [0.0] * 9  # a wet first quarter, dry otherwise
    fly, _ = simulate(WeatherConfig(unflyable_share=u, mean_spell_days=2), 366 * 40)
    days = np.array(months(366 * 40))
    assert (fly[days >= 3] == 1.0).all()
    assert 1 - fly[days < 3].mean() == pytest.approx(0.5, abs=0.04)


def test_every_day_takes_two_draws_whatever_happens() -> None:
    """CRN: a zero and a tiny unflyable share give the same degraded days."""
    a = WeatherConfig(unflyable_share=0.0, degraded_share=0.2)
    b = WeatherConfig(unflyable_share=1e-12, degraded_share=0.2)
    np.testing.assert_array_equal(simulate(a, 500)[1], simulate(b, 500)[1])


def test_deterministic_zone_gives_the_months_expected_values() -> None:
    u = [0.25] + [0.0] * 11
    cfg = WeatherConfig(unflyable_share=u, degraded_share=0.3, degraded_landing_factor=3.0)
    z = WeatherZone("z", cfg, ExpectedStream(0, 0, "w"), months(40), False)
    z.step(0)  # January
    assert z.flyable == 0.75 and z.degraded == 0.3
    assert z.landing_factor == pytest.approx(1.0 + 0.3 / 0.75 * 2.0)
    z.step(35)  # February
    assert z.flyable == 1.0 and z.landing_factor == pytest.approx(1.6)


def test_nothing_departs_on_unflyable_days_of_the_default_zone() -> None:
    s = scenario(
        drop_zones={"dz": {"pocket": "city", "recovery": 1.0}},
        fleets={"f": drop_fleet(sorties_per_day=1.0)},
        weather={"unflyable_share": 0.3, "mean_spell_days": 2},
    )
    r = run_replication(s, 0)
    bad = r.series["flyable"] == 0
    assert bad.any()
    assert r.series["sorties_flown__f"][bad].sum() == 0
    assert r.counters["aborted_weather__f"] == bad.sum()


def test_a_zone_of_its_own_grounds_only_what_lies_in_it() -> None:
    s = scenario(
        weather_zones={"north": {"unflyable_share": 0.4, "mean_spell_days": 3}},
        drop_zones={
            "dz": {"pocket": "city", "recovery": 1.0, "weather_zone": "north"},
            "dz2": {"pocket": "city", "recovery": 1.0},
        },
        fleets={
            "a": drop_fleet(sorties_per_day=1.0, targets=["dz"]),
            "b": drop_fleet(sorties_per_day=1.0, targets=["dz2"]),
        },
    )
    r = run_replication(s, 0)
    bad = r.series["flyable__north"] == 0
    assert bad.any() and (r.series["flyable"] == 1).all()
    assert r.series["sorties_flown__a"][bad].sum() == 0
    assert r.series["sorties_flown__b"].sum() == s.calendar.n_days


def decide_day_by_day(
    configs: dict[int, WeatherConfig], n: int, seed: int
) -> tuple[list[float], list[float], list[float]]:
    """The rule of the module docstring, one day at a time from two draws of the zone's
    stream, with the climate of ``configs`` in force from each key day on (a reference
    for the days the zone decides ahead)."""
    stream, month = Stream(seed, 0, "weather:z"), months(n)
    fly, deg, factor = [], [], []
    unflyable, cfg = False, configs[0]
    for d in range(n):
        cfg = configs.get(d, cfg)
        u = month_values(cfg.unflyable_share)[month[d]]
        spell = month_values(cfg.mean_spell_days)[month[d]]
        g = month_values(cfg.degraded_share)[month[d]]
        x, y = stream.uniform(), stream.uniform()
        if d == 0:
            unflyable = x < u
        elif unflyable:
            unflyable = u > 0.0 and x >= 1.0 / spell
        else:
            unflyable = x < min(1.0, u / (1.0 - u) / spell)
        degraded = not unflyable and g > 0.0 and y < g / (1.0 - u)
        fly.append(0.0 if unflyable else 1.0)
        deg.append(1.0 if degraded else 0.0)
        factor.append(cfg.degraded_landing_factor if degraded else 1.0)
    return fly, deg, factor


climates = st.builds(
    WeatherConfig,
    unflyable_share=st.sampled_from([0.0, 1e-12, 0.05, 0.3, 0.6]),
    mean_spell_days=st.sampled_from([1.0, 1.5, 3.0, 10.0]),
    degraded_share=st.sampled_from([0.0, 0.1, 0.3]),
    degraded_landing_factor=st.sampled_from([1.0, 2.5]),
)


@given(
    first=climates,
    changes=st.dictionaries(st.integers(0, 199), climates, max_size=3),
    seed=st.integers(0, 2**32 - 1),
)
def test_days_decided_ahead_are_decided_again_when_an_event_changes_the_climate(
    first: WeatherConfig, changes: dict[int, WeatherConfig], seed: int
) -> None:
    """The zone draws and judges every day when it is built; an event's new climate
    must re-judge the days from the event on (a stale plan keeps the old climate)."""
    n = 200
    z = WeatherZone("z", first, Stream(seed, 0, "weather:z"), months(n), True)
    fly, deg, factor = [], [], []
    for d in range(n):
        if d in changes:  # as World.apply does before the day is stepped
            z.configure(changes[d])
        z.step(d)
        fly.append(z.flyable)
        deg.append(z.degraded)
        factor.append(z.landing_factor)
    want = decide_day_by_day({0: first, **changes}, n, seed)
    assert (fly, deg, factor) == want
    assert (list(z.flyable_days), list(z.degraded_days)) == want[:2]


def test_a_wetter_climate_from_an_event_grounds_the_days_after_it() -> None:
    dry, wet = (
        WeatherConfig(unflyable_share=0.0),
        WeatherConfig(unflyable_share=0.9, mean_spell_days=10),
    )
    z = WeatherZone("z", dry, Stream(3, 0, "weather:z"), months(300), True)
    for d in range(300):
        if d == 100:
            z.configure(wet)
        z.step(d)
    fly = np.array(z.flyable_days)
    assert (fly[:100] == 1.0).all() and fly[100:].mean() < 0.3
