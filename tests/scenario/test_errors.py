"""Every class of bad input gives one clear ScenarioError line: file, dotted path, message."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from sim.scenario.errors import ScenarioError
from sim.scenario.load import load_scenario, with_values


def error_of(path: Path | str, overrides: tuple[str, ...] = ()) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides)
    err = info.value
    assert "\n" not in str(err)
    return err


# ---------------------------------------------------------------- the error type


def test_str_is_file_path_message() -> None:
    err = ScenarioError("a.toml", "fleets.wfp.payload_t", "must be > 0, got -3")
    assert str(err) == "a.toml: fleets.wfp.payload_t: must be > 0, got -3"
    assert (err.file, err.path, err.message) == ("a.toml", "fleets.wfp.payload_t", err.message)


def test_str_without_path_drops_the_path_part() -> None:
    assert str(ScenarioError("a.toml", "", "file not found")) == "a.toml: file not found"


def test_message_is_forced_onto_one_line() -> None:
    assert str(ScenarioError("a", "b", "two\nlines")) == "a: b: two lines"


def test_error_pickles() -> None:
    err = ScenarioError("a.toml", "x.y", "bad")
    back = pickle.loads(pickle.dumps(err))
    assert isinstance(back, ScenarioError)
    assert str(back) == str(err)


# -------------------------------------------------------- one test per bad input


def test_malformed_toml_reports_line_and_column(write, tiny_text) -> None:
    path = write("bad.toml", tiny_text.replace("seed = 1", "seed = = 1"))
    err = error_of(path)
    assert err.file == str(path)
    assert err.path == ""
    assert err.message.startswith("invalid TOML at line 2, column ")


def test_unknown_key_suggests_the_closest(write, tiny_text) -> None:
    path = write("s.toml", tiny_text.replace("payload_t = 20", "payload = 20"))
    err = error_of(path)
    assert err.path == "fleets.il76.payload"
    assert err.message.startswith("unknown key 'payload' — did you mean 'payload_t'?")


def test_unknown_top_level_key_without_close_match_lists_valid_keys(write, tiny_text) -> None:
    path = write("s.toml", "zzzzzz = 1\n" + tiny_text)
    err = error_of(path)
    assert err.path == "zzzzzz"
    assert "valid keys: name, title" in err.message


def test_wrong_type(write, tiny_text) -> None:
    path = write("s.toml", tiny_text.replace("flight_h = 1.5", 'flight_h = "long"'))
    err = error_of(path)
    assert err.path == "fleets.il76.flight_h"
    assert err.message == "expected a number, got 'long'"


def test_wrong_type_whole_number(write, tiny_text) -> None:
    path = write("s.toml", tiny_text.replace("civilians = 1000", "civilians = 1000.5"))
    assert error_of(path).message == "expected a whole number, got 1000.5"


def test_zero_where_positive_is_required(write, tiny_text) -> None:
    path = write("s.toml", tiny_text.replace("payload_t = 20", "payload_t = 0"))
    err = error_of(path)
    assert err.path == "fleets.il76.payload_t"
    assert err.message == "must be > 0, got 0"


def test_negative_where_non_negative_is_required(write, tiny_text) -> None:
    path = write("s.toml", tiny_text.replace("garrison = 100", "garrison = -3"))
    err = error_of(path)
    assert (err.path, err.message) == ("pockets.city.garrison", "must be >= 0, got -3")


def test_share_outside_0_1(write, tiny_text) -> None:
    path = write("s.toml", tiny_text.replace("recovery = 0.9", "recovery = 1.4"))
    err = error_of(path)
    assert (err.path, err.message) == ("drop_zones.dz.recovery", "must be between 0 and 1, got 1.4")


def test_share_in_a_dict_of_shares(write, tiny_text) -> None:
    text = tiny_text.replace("cargo = { food = 1.0 }", "cargo = { food = -0.5 }")
    err = error_of(write("s.toml", text))
    assert err.path == "fleets.il76.cargo.food"
    assert err.message.startswith("must be between 0 and 1, got -0.5")


def test_unknown_pocket_reference(write, tiny_text) -> None:
    path = write("s.toml", tiny_text.replace('pocket = "city"', 'pocket = "town"'))
    err = error_of(path)
    assert err.path == "drop_zones.dz.pocket"
    assert "unknown pocket 'town'" in err.message


def test_unknown_drop_zone_reference(write, tiny_text) -> None:
    path = write("s.toml", tiny_text.replace('targets = ["dz"]', 'targets = ["dz2"]'))
    err = error_of(path)
    assert err.path == "fleets.il76.targets[0]"
    assert "unknown drop zone 'dz2'" in err.message


def test_unknown_airfield_reference(write, tiny_text) -> None:
    path = write("s.toml", tiny_text.replace('targets = ["base"]', 'targets = ["nowhere"]'))
    err = error_of(path)
    assert err.path == "fleets.heli.targets[0]"
    assert "unknown airfield or helipad 'nowhere'" in err.message


def test_unknown_fleet_reference(write, tiny_text) -> None:
    path = write("s.toml", tiny_text.replace('fleets = ["il76"]', 'fleets = ["an26"]'))
    err = error_of(path)
    assert err.path == "observations[0].selector.fleets[0]"
    assert "unknown fleet 'an26'" in err.message


def test_several_problems_are_counted(write, tiny_text) -> None:
    text = tiny_text.replace("payload_t = 20", "payload_t = 0").replace(
        "recovery = 0.9", "recovery = 2"
    )
    assert error_of(write("s.toml", text)).message.endswith("(and 1 more)")


def test_event_outside_the_calendar(write, tiny_text) -> None:
    path = write("s.toml", tiny_text.replace("date = 2016-02-01", "date = 2016-05-01"))
    err = error_of(path)
    assert err.path == "events[0].date"
    assert "outside the calendar" in err.message


def test_observation_outside_the_calendar(write, tiny_text) -> None:
    path = write("s.toml", tiny_text.replace("from = 2016-01-01", "from = 2015-12-01"))
    err = error_of(path)
    assert err.path == "observations[0].from"
    assert "2015-12-01 is outside the calendar" in err.message


def test_end_before_start(write, tiny_text) -> None:
    path = write("s.toml", tiny_text.replace("end = 2016-03-31", "end = 2015-03-31"))
    err = error_of(path)
    assert err.path == "calendar.end"
    assert "is before start" in err.message


def test_missing_required_key(write, tiny_text) -> None:
    path = write("s.toml", tiny_text.replace("payload_t = 20\n", ""))
    err = error_of(path)
    assert (err.path, err.message) == ("fleets.il76.payload_t", "missing required key")


def test_no_flight_time_names_both_ways_to_give_one(write, tiny_text) -> None:
    path = write("s.toml", tiny_text.replace("flight_h = 1.5\n", ""))
    err = error_of(path)
    assert err.path == "fleets.il76.flight_h"
    assert "give flight_h, or block_speed_kmh with a base" in err.message
    assert "(block_speed_kmh is not set)" in err.message


def test_bad_name(write, tiny_text) -> None:
    path = write("s.toml", tiny_text.replace("[pockets.city]", "[pockets.City]"))
    err = error_of(path)
    assert err.path == "pockets.City"
    assert err.message.startswith("invalid entry name 'City': names are snake_case")


def test_bad_literal(write, tiny_text) -> None:
    path = write("s.toml", tiny_text.replace('mode = "airdrop"', 'mode = "parachute"'))
    err = error_of(path)
    assert err.path == "fleets.il76.mode"
    assert "must be one of 'land', 'airdrop' or 'helicopter', got 'parachute'" in err.message


def test_extends_cycle(write, tiny_text) -> None:
    write("a.toml", 'extends = "b.toml"\n')
    write("b.toml", 'extends = "a.toml"\n')
    err = error_of(write("a.toml", 'extends = "b.toml"\n'))
    assert err.path == "extends"
    assert "extends cycle" in err.message
    assert err.message.count("a.toml") == 2


def test_extends_itself(write) -> None:
    err = error_of(write("self.toml", 'extends = "self.toml"\nname = "x"\n'))
    assert err.path == "extends"
    assert "cycle" in err.message


def test_missing_extends_file(write) -> None:
    path = write("child.toml", 'extends = "nope/base.toml"\nname = "x"\n')
    err = error_of(path)
    assert (err.file, err.path) == (str(path), "extends")
    assert "file not found: 'nope/base.toml'" in err.message


def test_extends_not_a_string(write) -> None:
    err = error_of(write("child.toml", "extends = 3\n"))
    assert err.path == "extends"
    assert "expected the path of a scenario file" in err.message


def test_missing_scenario_file(tmp_path) -> None:
    path = tmp_path / "nothing.toml"
    err = error_of(path)
    assert str(err) == f"{path}: file not found"


def test_directory_instead_of_file(tmp_path) -> None:
    assert "is a directory" in error_of(tmp_path).message


def test_not_utf8(tmp_path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('title = "caf\xe9"\n'.encode("latin-1"))
    assert "not UTF-8" in error_of(path).message


def test_set_path_that_does_not_exist(tiny) -> None:
    err = error_of(tiny, ("fleets.il76.payload=3",))
    assert (err.file, err.path) == (str(tiny), "fleets.il76.payload")
    assert err.message.startswith("unknown key 'payload' — did you mean 'payload_t'?")


def test_set_unknown_entry(tiny) -> None:
    err = error_of(tiny, ("fleets.il67.aircraft=3",))
    assert err.path == "fleets.il67.aircraft"
    assert "no entry 'il67' in fleets — did you mean 'il76'?" in err.message


def test_set_index_out_of_range(tiny) -> None:
    err = error_of(tiny, ("events[5].date=2016-02-02",))
    assert err.path == "events[5].date"
    assert "out of range: events has 2 entries" in err.message


def test_malformed_set_without_equals(tiny) -> None:
    err = error_of(tiny, ("fleets.il76.aircraft",))
    assert err.path == ""
    assert "malformed --set 'fleets.il76.aircraft': expected path=VALUE" in err.message


def test_malformed_set_value(tiny) -> None:
    err = error_of(tiny, ("fleets.il76.targets=[dz",))
    assert "is not a TOML value" in err.message


def test_malformed_set_path(tiny) -> None:
    err = error_of(tiny, ("fleets..aircraft=2",))
    assert err.path == "fleets..aircraft"
    assert "malformed key path" in err.message


def test_set_value_of_wrong_type_says_it_came_from_set(tiny) -> None:
    err = error_of(tiny, ("fleets.il76.payload_t=abc",))
    assert err.path == "fleets.il76.payload_t"
    assert err.message == "expected a number, got 'abc' (from --set)"


def test_with_values_errors_name_the_source(tiny) -> None:
    s = load_scenario(tiny)
    with pytest.raises(ScenarioError) as info:
        with_values(s, {"fleets.il76.aircraft": -1}, source="sweep.toml")
    assert (
        str(info.value) == "sweep.toml: fleets.il76.aircraft: must be between 0 and 10000, got -1"
    )
    with pytest.raises(ScenarioError) as info:
        with_values(s, {"fleets.il76.payloadt": 1}, source="sweep.toml")
    assert "did you mean 'payload_t'" in str(info.value)


# ------------------------------------------------------------ errors in events


def test_event_unknown_path(write, tiny_text) -> None:
    text = tiny_text.replace('"drop_zones.dz.open"', '"drop_zones.dz.opn"')
    err = error_of(write("s.toml", text))
    assert err.path == 'events[0].set."drop_zones.dz.opn"'
    assert "unknown key 'opn' — did you mean 'open'?" in err.message


def test_event_bad_value(write, tiny_text) -> None:
    text = tiny_text.replace('"siege.combat_sorties_per_day" = 10', '"siege.weapons" = -1')
    err = error_of(write("s.toml", text))
    assert err.path == 'events[1].set."siege.weapons"'
    assert err.message == "must be >= 0, got -1"


def test_event_cannot_change_fixed_keys(write, tiny_text) -> None:
    text = tiny_text.replace('"drop_zones.dz.open" = false', '"calendar.end" = 2016-06-01')
    err = error_of(write("s.toml", text))
    assert err.path == 'events[0].set."calendar.end"'
    assert "an event cannot change 'calendar'" in err.message


def test_event_cannot_add_a_fleet(write, tiny_text) -> None:
    text = tiny_text.replace('"drop_zones.dz.open" = false', '"fleets.an26.aircraft" = 1')
    err = error_of(write("s.toml", text))
    assert "no entry 'an26' in fleets" in err.message


def test_event_cannot_add_entries_by_setting_a_whole_section(write, tiny_text) -> None:
    text = tiny_text.replace(
        '"drop_zones.dz.open" = false',
        'drop_zones = { dz = { pocket = "city", recovery = 0.5 }, '
        'dz2 = { pocket = "city", recovery = 0.5 } }',
    )
    err = error_of(write("s.toml", text))
    assert err.path == "events[0].set.drop_zones"
    assert "cannot add or remove drop_zones entries (adds ['dz2'])" in err.message


def test_event_reference_problem_points_at_the_event(write, tiny_text) -> None:
    text = tiny_text.replace('"drop_zones.dz.open" = false', '"fleets.il76.targets" = ["base"]')
    err = error_of(write("s.toml", text))
    assert err.path == 'events[0].set."fleets.il76.targets"'
    assert err.message.startswith("fleets.il76.targets[0]: 'base' is in airfields")


def test_event_unquoted_dotted_key_gets_a_hint(write, tiny_text) -> None:
    text = tiny_text.replace('"drop_zones.dz.open" = false', "drop_zones.dz.open = false")
    err = error_of(write("s.toml", text))
    assert err.path == "events[0].set.drop_zones"
    assert 'quote the dotted key: "drop_zones.dz.open" = ...' in err.message


def test_error_in_inherited_value_names_the_parent_file(write, tiny_text) -> None:
    base = write("base/base.toml", tiny_text.replace("recovery = 0.9", "recovery = 9"))
    child = write("child.toml", 'extends = "base/base.toml"\nseed = 5\n')
    err = error_of(child)
    assert err.file == str(base)
    assert err.path == "drop_zones.dz.recovery"


def test_error_in_overriding_value_names_the_child_file(write, tiny_text) -> None:
    write("base.toml", tiny_text)
    child = write("child.toml", 'extends = "base.toml"\n[drop_zones.dz]\nrecovery = 9\n')
    assert error_of(child).file == str(child)


def test_set_extends_is_refused(tiny) -> None:
    err = error_of(tiny, ("extends=other.toml",))
    assert err.path == "extends"
    assert "cannot be set with --set" in err.message


@pytest.mark.parametrize(
    ("override", "path", "words"),
    [
        ('observations[0].aggregate="sum"', "observations[0].aggregate", "must be one of 'total'"),
        (
            'observations[0].metric="stock_t"',
            "observations[0].selector.fleets",
            "does not use it",
        ),
        (
            'observations[0].selector={commodity=["food", "fuel"]}',
            "observations[0].selector.commodity[1]",
            "unknown commodity 'fuel'",
        ),
        (
            'observations[0].selector={commodity=["food", "food"]}',
            "observations[0].selector.commodity",
            "listed twice",
        ),
    ],
)
def test_bad_observation_selectors_and_aggregates(tiny, override, path, words) -> None:
    err = error_of(tiny, (override,))
    assert err.path == path and words in err.message, str(err)


def test_an_aggregate_that_does_not_fit_the_metric_is_refused(tiny) -> None:
    err = error_of(
        tiny,
        (
            'observations[0].metric="combat_sorties_per_day"',
            "observations[0].selector={}",
            'observations[0].aggregate="total"',
        ),
    )
    assert err.path == "observations[0].aggregate"
    assert "'total' does not apply to combat_sorties_per_day" in err.message
    err = error_of(
        tiny,
        (
            'observations[0].metric="stock_t"',
            'observations[0].selector={pocket="city", commodity=["food"]}',
        ),
    )
    assert err.path == "observations[0].selector" and "one commodity" in err.message
