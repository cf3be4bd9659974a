"""The Markov weather and the siege's threat."""

from __future__ import annotations

import numpy as np
import pytest
from model_helpers import scenario

from sim.model.siege import Siege
from sim.model.streams import ExpectedStream
from sim.model.weather import Weather
from sim.model.world import run_replication
from sim.scenario.schema import Siege as SiegeConfig
from sim.scenario.schema import Weather as WeatherConfig


def test_markov_weather_share_and_spell_length() -> None:
    cfg = WeatherConfig(unflyable_share=0.2, mean_spell_days=4.0)
    from sim.model.streams import Stream

    w = Weather(cfg, Stream(1, 0, "weather"))
    days = np.array([not w.step(d) for d in range(40_000)])
    assert days.mean() == pytest.approx(0.2, abs=0.02)
    starts = np.flatnonzero(np.diff(days.astype(int)) == 1)
    ends = np.flatnonzero(np.diff(days.astype(int)) == -1)
    spells = ends[ends > starts[0]][: len(starts) - 1] - starts[: len(starts) - 1]
    assert spells.mean() == pytest.approx(4.0, rel=0.1)


def test_deterministic_weather_keeps_the_share() -> None:
    w = Weather(WeatherConfig(unflyable_share=0.25, mean_spell_days=3), ExpectedStream(0, 0, "w"))
    assert sum(not w.step(d) for d in range(100)) == 25


def test_siege_deterministic_dynamics() -> None:
    cfg = SiegeConfig(
        weapons=100,
        reinforcement_per_day=2,
        reference_weapons=50,
        combat_sorties_per_day=60,
        targets_per_sortie=0.05,
        unflyable_sortie_share=0.5,
    )
    s = Siege(cfg, ExpectedStream(0, 0, "siege"))
    s.start_day(True)
    assert s.theta == 2.0
    assert s.sorties_today == 60 and s.destroyed_today == 3.0
    assert s.weapons == 99.0
    s.start_day(False)
    assert s.sorties_today == 30 and s.weapons == pytest.approx(99.5)


@pytest.mark.parametrize(
    ("theta", "e", "expected"), [(1.0, 3.0, 1.0), (2.0, 1.0, 2.0), (2.0, 0.0, 1.0), (0.0, 2.0, 0.0)]
)
def test_threat_multiplier(theta, e, expected) -> None:
    assert Siege.multiplier(theta, e) == expected


def test_no_combat_sorties_and_no_airlift_on_unflyable_days() -> None:
    s = scenario(
        drop_zones={"dz": {"pocket": "city", "recovery": 1.0}},
        fleets={
            "f": {
                "mode": "airdrop",
                "aircraft": 1,
                "payload_t": 1.0,
                "cargo": {"food": 1.0},
                "flight_h": 1.0,
                "targets": ["dz"],
            }
        },
        weather={"unflyable_share": 0.3, "mean_spell_days": 2},
        siege={"weapons": 10, "combat_sorties_per_day": 50, "targets_per_sortie": 0.0},
    )
    r = run_replication(s, 0)
    bad = r.series["flyable"] == 0
    assert bad.any()
    assert r.series["combat_sorties"][bad].sum() == 0
    assert r.series["sorties_flown__f"][bad].sum() == 0
    assert r.counters["aborted_weather__f"] == bad.sum()
