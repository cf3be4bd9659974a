"""Dotted key paths: parsing, printing, and the rules for which keys may be set."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.scenario.paths import PathError, format_path, parse_path, set_path
from sim.scenario.schema import Scenario

DATA = {
    "name": "x",
    "calendar": {"start": "2016-01-01", "end": "2016-02-01"},
    "pockets": {"city": {"civilians": 1, "stock_t": {"food": 1.0}}},
    "fleets": {"f": {"days": ["mon"], "targets": ["a"]}},
    "events": [{"date": "2016-01-10", "title": "t", "set": {"routes.r.open": False}}],
    "observations": [{"from": "2016-01-01", "range": [1.0, 2.0]}],
}


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("name", ("name",)),
        ("fleets.wfp.payload_t", ("fleets", "wfp", "payload_t")),
        ("events[3].date", ("events", 3, "date")),
        ("pockets.city.rations.levels[0]", ("pockets", "city", "rations", "levels", 0)),
        ('events[2].set."routes.x.open"', ("events", 2, "set", "routes.x.open")),
        ("a[1][2]", ("a", 1, 2)),
        ('"quoted \\"key\\""', ('quoted "key"',)),
    ],
)
def test_parse_and_format(text: str, segments: tuple) -> None:
    assert parse_path(text) == segments
    assert format_path(segments) == text


@pytest.mark.parametrize(
    "text", ["", "a..b", "a.", ".a", "a[x]", "a[-1]", "a b", 'a."b', "a[1", "a.[1]"]
)
def test_malformed_paths(text: str) -> None:
    with pytest.raises(PathError):
        parse_path(text)


@given(
    st.lists(
        st.one_of(st.integers(0, 99), st.text(min_size=1, max_size=8)), min_size=1, max_size=5
    ).filter(lambda s: isinstance(s[0], str))
)
def test_format_then_parse_round_trips(segments: list) -> None:
    assert parse_path(format_path(segments)) == tuple(segments)


def apply(path: str, value: object, new_entries: bool = True) -> dict:
    data = copy.deepcopy(DATA)
    set_path(data, parse_path(path), value, Scenario, new_entries=new_entries)
    return data


def test_sets_existing_values() -> None:
    assert apply("fleets.f.days[0]", "tue")["fleets"]["f"]["days"] == ["tue"]
    assert apply("events[0].date", "2016-01-11")["events"][0]["date"] == "2016-01-11"
    assert apply("observations[0].range[1]", 3.0)["observations"][0]["range"] == [1.0, 3.0]
    assert apply('events[0].set."routes.r.open"', True)["events"][0]["set"] == {
        "routes.r.open": True
    }


def test_absent_optional_fields_exist() -> None:
    assert apply("fleets.f.payload_t", 2.0)["fleets"]["f"]["payload_t"] == 2.0
    assert apply("observations[0].to", "2016-01-02")["observations"][0]["to"] == "2016-01-02"


def test_absent_tables_are_created_on_the_way_down() -> None:
    assert apply("weather.unflyable_share", 0.2)["weather"] == {"unflyable_share": 0.2}
    data = apply("pockets.city.rations.recover_factor", 1.5)
    assert data["pockets"]["city"]["rations"] == {"recover_factor": 1.5}


def test_field_aliases_are_the_keys() -> None:
    assert apply("observations[0].from", "2016-01-02")["observations"][0]["from"] == "2016-01-02"
    with pytest.raises(PathError, match="unknown key 'from_' — did you mean 'from'"):
        apply("observations[0].from_", "2016-01-02")


def test_whole_tables_can_be_set_when_the_key_exists() -> None:
    assert apply("fleets.f", {"aircraft": 1})["fleets"]["f"] == {"aircraft": 1}
    with pytest.raises(PathError, match="no entry 'g' in fleets"):
        apply("fleets.g", {"aircraft": 1})


def test_entries_of_model_dicts_must_exist() -> None:
    with pytest.raises(PathError, match=r"no entry 'cty' in pockets — did you mean 'city'\?"):
        apply("pockets.cty.civilians", 3)


def test_new_plain_dict_entries_only_when_allowed() -> None:
    assert apply("pockets.city.stock_t.water", 2.0)["pockets"]["city"]["stock_t"]["water"] == 2.0
    with pytest.raises(PathError, match="no entry 'water'"):
        apply("pockets.city.stock_t.water", 2.0, new_entries=False)
    with pytest.raises(PathError, match="no entry"):
        apply('events[0].set."routes.r.a"', "x", new_entries=False)


def test_unknown_field_suggests_the_closest() -> None:
    with pytest.raises(PathError, match=r"unknown key 'civilian' — did you mean 'civilians'\?"):
        apply("pockets.city.civilian", 3)


def test_indices_must_exist_and_match_the_shape() -> None:
    with pytest.raises(PathError, match=r"index \[1\] is out of range: events has 1 entry"):
        apply("events[1].date", "2016-01-02")
    with pytest.raises(PathError, match="is an array: use"):
        apply("events.date", "2016-01-02")
    with pytest.raises(PathError, match="is a table, not an array"):
        apply("fleets[0]", 1)
    with pytest.raises(PathError, match="is a single value"):
        apply("name.first", "x")


def test_absent_arrays_cannot_be_indexed() -> None:
    with pytest.raises(PathError, match=r"set the whole array instead"):
        apply("pockets.city.rations.levels[0]", 0.5)


def test_wrongly_shaped_data_is_reported_not_crashed() -> None:
    data = copy.deepcopy(DATA)
    data["weather"] = 3
    with pytest.raises(PathError, match="weather is a number, not a table"):
        set_path(data, parse_path("weather.unflyable_share"), 0.1, Scenario)
