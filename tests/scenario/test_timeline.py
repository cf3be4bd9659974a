"""The timeline: steps equal to a full re-validation, work linear in the events, built once."""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim.scenario.timeline as timeline_module
from sim.scenario.errors import ScenarioError
from sim.scenario.load import load_scenario
from sim.scenario.paths import parse_path, set_path
from sim.scenario.schema import Scenario
from sim.scenario.timeline import build_timeline, remember, timeline_steps

START = dt.date(2016, 1, 1)

BASE: dict[str, Any] = {
    "name": "events",
    "calendar": {"start": START, "end": dt.date(2016, 12, 31)},
    "commodities": {"food": {"civilian_kg_day": 0.5, "soldier_kg_day": 1.0}},
    "pockets": {
        "city": {"civilians": 1000, "stock_t": {"food": 20.0}},
        "base": {"civilians": 0, "garrison": 100},
    },
    "drop_zones": {"dz": {"pocket": "city", "recovery": 0.9}},
    "airfields": {"strip": {"pocket": "base"}},
    "routes": {"road": {"a": "base", "b": "city", "capacity_t_day": 50.0}},
    "fleets": {
        "drops": {
            "mode": "airdrop",
            "aircraft": 1,
            "payload_t": 20.0,
            "cargo": {"food": 1.0},
            "flight_h": 1.5,
            "targets": ["dz"],
        },
        "planes": {
            "mode": "land",
            "aircraft": 2,
            "payload_t": 10.0,
            "cargo": {"food": 1.0},
            "flight_h": 1.0,
            "targets": ["strip"],
        },
    },
}

SETTINGS: list[tuple[str, Callable[[int], Any]]] = [
    ("siege.combat_sorties_per_day", lambda i: float(i % 40)),
    ("fleets.drops.aircraft", lambda i: i % 4),
    ("fleets.planes.mission_capable", lambda i: 0.5 + (i % 5) / 10),
    ("routes.road.open", lambda i: i % 2 == 0),
    ("drop_zones.dz.recovery", lambda i: (i % 10) / 10),
    ("weather.unflyable_share", lambda i: (i % 9) / 10),
]


def events(n: int, keys: list[int] | None = None) -> list[dict[str, Any]]:
    """``n`` events over the year, each setting one or two of :data:`SETTINGS`."""
    out = []
    for i in range(n):
        k = keys[i] if keys is not None else i
        chosen = {SETTINGS[k % len(SETTINGS)], SETTINGS[(k * 7 + 3) % len(SETTINGS)]}
        out.append(
            {
                "date": START + dt.timedelta(days=(i * 37) % 366),
                "title": f"event {i}",
                "set": {path: value(i) for path, value in chosen},
            }
        )
    return out


def scenario_with(evs: list[dict[str, Any]]) -> Scenario:
    return Scenario.model_validate({**copy.deepcopy(BASE), "events": evs})


def revalidated_versions(s: Scenario) -> list[Scenario]:
    """What the timeline must equal: each version validated whole, from plain data."""
    data = s.model_dump(by_alias=True)
    out = []
    for i in sorted(range(len(s.events)), key=lambda i: s.events[i].date):
        for key, value in s.events[i].set.items():
            set_path(data, parse_path(key), value, Scenario, new_entries=False)
        out.append(Scenario.model_validate(data))
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, 50), min_size=1, max_size=12))
def test_steps_equal_a_full_revalidation_of_each_version(keys: list[int]) -> None:
    s = scenario_with(events(len(keys), keys))
    steps = build_timeline(s)
    assert [step.scenario for step in steps] == revalidated_versions(s)
    order = sorted(range(len(keys)), key=lambda i: s.events[i].date)
    assert [step.day for step in steps] == [(s.events[i].date - START).days for i in order]
    assert [step.title for step in steps] == [s.events[i].title for i in order]


def test_versions_share_what_no_event_changed() -> None:
    s = scenario_with(
        [{"date": dt.date(2016, 3, 1), "title": "t", "set": {"siege.combat_sorties_per_day": 5}}]
    )
    version = build_timeline(s)[0].scenario
    assert version.siege.combat_sorties_per_day == 5
    assert version.fleets is s.fleets and version.pockets is s.pockets  # shared, not copied


def test_work_grows_linearly_with_the_number_of_events(monkeypatch: pytest.MonkeyPatch) -> None:
    """Doubling the events at most doubles the work (counted, not timed): the data dumped
    and re-validated, and the size of what references are checked on."""
    work = {"nodes": 0, "checked": 0}
    plain, check = timeline_module._plain, timeline_module.check_references

    def counting_plain(value: Any) -> Any:
        work["nodes"] += 1
        return plain(value)

    def counting_check(s: Scenario) -> list[tuple[str, str]]:
        work["checked"] += 1 + len(s.events) + len(s.observations)
        return check(s)

    monkeypatch.setattr(timeline_module, "_plain", counting_plain)
    monkeypatch.setattr(timeline_module, "check_references", counting_check)
    counts = []
    for n in (200, 400, 800):
        s = scenario_with(events(n))
        work.update(nodes=0, checked=0)
        build_timeline(s)
        counts.append(dict(work))
    for small, large in itertools.pairwise(counts):
        for key in ("nodes", "checked"):
            assert large[key] <= 2.1 * small[key], counts


def test_the_loader_keeps_the_timeline_it_built(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = load_scenario(tiny)

    def no_build(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the timeline was built again")

    monkeypatch.setattr(timeline_module, "build_timeline", no_build)
    steps = timeline_steps(s)
    assert [step.title for step in steps] == ["Road cut", "DZ overrun"]
    assert timeline_steps(s) is steps


def test_steps_shipped_with_a_pickled_scenario_are_not_built_again(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = load_scenario(tiny)
    copy_s, copy_steps = pickle.loads(pickle.dumps((s, timeline_steps(s))))
    remember(copy_s, copy_steps)
    monkeypatch.setattr(timeline_module, "build_timeline", pytest.fail)
    assert timeline_steps(copy_s) is copy_steps


def test_a_scenario_copy_gets_its_own_timeline(tiny: Path) -> None:
    s = load_scenario(tiny)
    other = s.model_copy(update={"seed": 99})
    assert timeline_steps(other) is not timeline_steps(s)
    assert [x.scenario.siege for x in timeline_steps(other)] == [
        x.scenario.siege for x in timeline_steps(s)
    ]


def test_an_unchecked_scenario_is_checked_when_its_timeline_is_built() -> None:
    s = scenario_with(
        [{"date": dt.date(2016, 3, 1), "title": "t", "set": {"fleets.x.aircraft": 1}}]
    )
    with pytest.raises(ScenarioError, match=r'events\[0\]\.set\."fleets\.x\.aircraft"'):
        timeline_steps(s)
