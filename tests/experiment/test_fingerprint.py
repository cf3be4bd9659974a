"""Input fingerprints: flat values, one hash, the first change named, bad records refused."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sim.experiment import fingerprint as fp
from sim.scenario.errors import ScenarioError
from sim.scenario.load import load_scenario


def test_flat_values_walk_tables_and_arrays_of_tables() -> None:
    data = {
        "seed": 5,
        "levels": [0.75, 0.5],
        "fleets": {"a": {"aircraft": 2}},
        "events": [{"date": dt.date(2016, 2, 15), "set": {"x.open": False}}],
    }
    assert fp.flat_values(data) == {
        "seed": "5",
        "levels": "[0.75, 0.5]",
        "fleets.a.aircraft": "2",
        "events[0].date": "2016-02-15",
        'events[0].set."x.open"': "false",
    }


def test_settings_leave_out_the_labels() -> None:
    values = fp.settings_values({"name": "n", "title": "t", "labels": {"a": "b"}, "seed": 1})
    assert values == {"seed": "1"}


def test_the_same_scenario_gives_the_same_fingerprint(tiny_path: Path) -> None:
    a = fp.fingerprint({"scenario.toml": fp.scenario_values(load_scenario(tiny_path))})
    b = fp.fingerprint({"scenario.toml": fp.scenario_values(load_scenario(tiny_path))})
    assert a == b and len(a["sha256"]) == 64
    other = load_scenario(tiny_path, overrides=["fleets.drops.aircraft=2"])
    c = fp.fingerprint({"scenario.toml": fp.scenario_values(other)})
    assert c["sha256"] != a["sha256"]


def test_check_names_the_first_change(tmp_path: Path) -> None:
    old = fp.fingerprint({"a.toml": {"x": "1", "y": "2"}, "b.toml": {"z": "3"}})
    assert fp.check(tmp_path, old, "sweep") is False  # nothing recorded yet
    fp.record(tmp_path, old)
    assert fp.check(tmp_path, old, "sweep") is True
    cases = {
        "a.toml: y: changed since the sweep started (was 2, now 5)": {"x": "1", "y": "5"},
        "a.toml: y: changed since the sweep started (was 2, now not set)": {"x": "1"},
        "a.toml: w: changed since the sweep started (was not set, now 0)": {
            "x": "1",
            "y": "2",
            "w": "0",
        },
    }
    for words, a in cases.items():
        new = fp.fingerprint({"a.toml": a, "b.toml": {"z": "3"}})
        with pytest.raises(ScenarioError) as err:
            fp.check(tmp_path, new, "sweep")
        assert str(err.value).startswith(f"{tmp_path}/{words}; ")


@pytest.mark.parametrize("text", ["", "{", "[]", '{"sha256": 1, "files": {}}', '{"files": 2}'])
def test_an_unreadable_record_is_refused(tmp_path: Path, text: str) -> None:
    (tmp_path / fp.INPUTS_JSON).write_text(text)
    with pytest.raises(ScenarioError, match="cannot read the record of the folder's inputs"):
        fp.check(tmp_path, fp.fingerprint({}), "plan")
