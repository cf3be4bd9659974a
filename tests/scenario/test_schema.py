"""The v2 keys of the scenario format: bases, weather zones, capacities, optional siege."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from sim.scenario.errors import ScenarioError
from sim.scenario.load import load_scenario
from sim.scenario.schema import month_values

V2 = """\
[bases.amman]
lat = 31.97
lon = 35.99
loading_slots = 2
opens_h = 5.0
hours = 16.0
weather_zone = "jordan"

[weather_zones.jordan]
unflyable_share = [0.1, 0.1, 0.05, 0, 0, 0, 0, 0, 0, 0, 0.05, 0.1]
mean_spell_days = 2.0
degraded_share = 0.1
degraded_landing_factor = 1.5
"""


def error_of(path: Path) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value


@pytest.fixture
def v2_text(tiny_text: str) -> str:
    """TINY with a base, a weather zone, coordinates and a fleet whose flight time is computed."""
    text = tiny_text.replace(
        '[drop_zones.dz]\npocket = "city"\n',
        '[drop_zones.dz]\npocket = "city"\nlat = 35.3\nlon = 40.1\npasses_per_hour = 4\n',
    )
    text = text.replace(
        'flight_h = 1.5\ntargets = ["dz"]',
        'base = "amman"\nblock_speed_kmh = 600\ntargets = ["dz"]',
    )
    return text + V2


def test_v2_keys_load(write: Callable[[str, str], Path], v2_text: str) -> None:
    s = load_scenario(write("s.toml", v2_text))
    assert s.bases["amman"].loading_slots == 2
    assert s.fleets["il76"].flight_h is None and s.fleets["il76"].block_speed_kmh == 600
    assert s.drop_zones["dz"].passes_per_hour == 4
    zone = s.weather_zones["jordan"]
    assert month_values(zone.unflyable_share)[0] == 0.1
    assert month_values(zone.degraded_share) == [0.1] * 12
    assert s.siege is None  # TINY has no [siege]; its events create one from 15 Jan


def test_a_scenario_without_siege_has_none(tiny_text: str, write) -> None:
    text = tiny_text.replace(', "siege.combat_sorties_per_day" = 10', "")
    s = load_scenario(write("s.toml", text))
    assert s.siege is None


@pytest.mark.parametrize(
    ("old", "new", "path", "words"),
    [
        (
            "mean_spell_days = 2.0",
            "mean_spell_days = [2, 2]",
            "weather_zones.jordan.mean_spell_days",
            "a monthly array needs 12 values (January to December), got 2",
        ),
        (
            "degraded_share = 0.1",
            "degraded_share = 0.95",
            "weather_zones.jordan",
            "unflyable_share + degraded_share is 1.05 in jan",
        ),
        (
            "unflyable_share = [0.1,",
            "unflyable_share = [1.0,",
            "weather_zones.jordan.unflyable_share",
            "jan value 1.0: each value must be a share >= 0 and < 1",
        ),
        (
            "degraded_landing_factor = 1.5",
            "degraded_landing_factor = 0.5",
            "weather_zones.jordan.degraded_landing_factor",
            "must be >= 1",
        ),
        ("lon = 35.99\n", "", "bases.amman", "give both lat and lon (degrees), or neither"),
        (
            'weather_zone = "jordan"',
            'weather_zone = "syria"',
            "bases.amman.weather_zone",
            "unknown weather zone 'syria' (known: jordan)",
        ),
        ('base = "amman"', 'base = "marka"', "fleets.il76.base", "unknown base 'marka'"),
        (
            "lat = 35.3\nlon = 40.1\n",
            "",
            "fleets.il76.flight_h",
            "(target 'dz' has no lat/lon)",
        ),
        ("loading_slots = 2", "loading_slots = 0", "bases.amman.loading_slots", "must be > 0"),
    ],
)
def test_bad_v2_values_are_one_line_errors(
    write: Callable[[str, str], Path], v2_text: str, old: str, new: str, path: str, words: str
) -> None:
    assert old in v2_text
    err = error_of(write("s.toml", v2_text.replace(old, new, 1)))
    assert err.path == path
    assert words in err.message


def test_an_event_cannot_change_a_fleet_mode(write: Callable[[str, str], Path], tiny_text) -> None:
    text = tiny_text + (
        '\n[[events]]\ndate = 2016-03-01\ntitle = "x"\nset = { "fleets.il76.mode" = "land", '
        '"fleets.il76.targets" = ["base"] }\n'
    )
    err = error_of(write("s.toml", text))
    assert err.path == 'events[2].set."fleets.il76.mode"'
    assert "an event cannot change a fleet's mode (fleets.il76.mode is 'airdrop')" in err.message


def test_an_event_can_move_a_fleet_to_another_base(write, v2_text: str) -> None:
    text = v2_text + (
        "\n[bases.hmeimim]\nlat = 35.4\nlon = 35.95\n"
        '\n[[events]]\ndate = 2016-03-01\ntitle = "move"\n'
        'set = { "fleets.il76.base" = "hmeimim" }\n'
    )
    s = load_scenario(write("s.toml", text))
    assert s.events[-1].set["fleets.il76.base"] == "hmeimim"
    bad = text.replace('"fleets.il76.base" = "hmeimim"', '"fleets.il76.base" = "nowhere"')
    err = error_of(write("t.toml", bad))
    assert err.path == 'events[2].set."fleets.il76.base"'
    assert "unknown base 'nowhere'" in err.message


def test_an_event_can_set_a_siege_key_when_there_is_no_siege(tiny: Path) -> None:
    s = load_scenario(tiny, ['events[1].set."siege.weapons"=10'])
    assert s.siege is None
