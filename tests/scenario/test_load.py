"""Loading scenarios: extends, --set overrides, with_values, the timeline and dump_toml."""

from __future__ import annotations

import datetime as dt
import tempfile
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.scenario.errors import ScenarioError
from sim.scenario.load import dump_toml, load_scenario, parse_override, with_values
from sim.scenario.schema import Scenario
from sim.scenario.timeline import TimelineStep
from sim.scenario.timeline import build_timeline as timeline


def test_loads_the_minimal_scenario(tiny) -> None:
    s = load_scenario(tiny)
    assert isinstance(s, Scenario)
    assert s.name == "tiny"
    assert s.fleets["il76"].payload_t == 20.0
    assert s.observations[0].from_ == dt.date(2016, 1, 1)
    assert s.observations[0].range == (100.0, 200.0)


def test_accepts_str_paths(tiny) -> None:
    assert load_scenario(str(tiny)) == load_scenario(tiny)


# ---------------------------------------------------------------------- extends


def test_extends_deep_merges_tables_and_replaces_arrays(write, tiny_text) -> None:
    write("base/base.toml", tiny_text)
    child = write(
        "child.toml",
        """\
extends = "base/base.toml"
name = "child"
[fleets.il76]
aircraft = 4
targets = ["dz"]
[weather]
unflyable_share = 0.25
[[events]]
date = 2016-03-01
title = "Only event"
set = { "fleets.il76.aircraft" = 2 }
""",
    )
    s = load_scenario(child)
    base = load_scenario(child.parent / "base" / "base.toml")
    assert s.name == "child"
    assert s.fleets["il76"].aircraft == 4  # overridden key
    assert s.fleets["il76"].payload_t == base.fleets["il76"].payload_t  # inherited key
    assert s.fleets["heli"] == base.fleets["heli"]  # inherited entry
    assert s.weather.unflyable_share == 0.25  # new table
    assert [e.title for e in s.events] == ["Only event"]  # array replaced whole


def test_set_table_changes_one_value_inside_an_inherited_array(write, tiny_text) -> None:
    write("base.toml", tiny_text)
    child = write(
        "child.toml",
        """\
extends = "base.toml"
name = "child"
[set]
"events[0].date" = 2016-03-01
"events[0].set" = { "drop_zones.dz.recovery" = 0.5 }
"fleets.il76.aircraft" = 3
""",
    )
    s = load_scenario(child)
    base = load_scenario(child.parent / "base.toml")
    assert s.events[0].date.isoformat() == "2016-03-01"
    assert s.events[0].title == base.events[0].title
    # a table merges into the one at its path key by key, as extends merges tables
    assert dict(s.events[0].set) == {**base.events[0].set, "drop_zones.dz.recovery": 0.5}
    assert s.fleets["il76"].aircraft == 3
    assert "set" not in tomllib.loads(dump_toml(s))


def test_set_table_errors_name_the_file_and_the_key(write, tiny_text) -> None:
    write("base.toml", tiny_text)
    child = write("child.toml", 'extends = "base.toml"\n[set]\n"events[7].date" = 2016-03-01\n')
    with pytest.raises(ScenarioError) as e:
        load_scenario(child)
    assert e.value.file.endswith("child.toml")
    assert e.value.path == 'set."events[7].date"'
    assert "out of range" in e.value.message
    bad = write("bad.toml", 'extends = "base.toml"\nset = 3\n')
    with pytest.raises(ScenarioError, match="expected a table"):
        load_scenario(bad)


def test_extends_is_recursive_and_relative_to_each_file(write, tiny_text) -> None:
    write("a/root.toml", tiny_text)
    write("a/b/mid.toml", 'extends = "../root.toml"\nseed = 7\n')
    leaf = write("leaf.toml", 'extends = "a/b/mid.toml"\nreplications = 9\n')
    s = load_scenario(leaf)
    assert (s.name, s.seed, s.replications) == ("tiny", 7, 9)


def test_diamond_is_not_a_cycle(write, tiny_text) -> None:
    write("base.toml", tiny_text)
    write("left.toml", 'extends = "base.toml"\nseed = 3\n')
    top = write("top.toml", 'extends = "left.toml"\ntitle = "ok"\n')
    assert load_scenario(top).seed == 3


# --------------------------------------------------------------------- overrides


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fleets.wfp.aircraft=2", ("fleets.wfp.aircraft", 2)),
        ("a = 0.5", ("a", 0.5)),
        ("a=true", ("a", True)),
        ("events[3].date=2017-02-01", ("events[3].date", dt.date(2017, 2, 1))),
        ('name="x y"', ("name", "x y")),
        ("name=foo", ("name", "foo")),
        ('targets=["a", "b"]', ("targets", ["a", "b"])),
        ("f={ a = 1 }", ("f", {"a": 1})),
        ('events[0].set."a.b=c"=1', ('events[0].set."a.b=c"', 1)),
    ],
)
def test_parse_override(text: str, expected: tuple) -> None:
    assert parse_override(text) == expected


@pytest.mark.parametrize(
    "text", ["noequals", "=3", "a=", "a=[1,", "a=1 2", "a=__import__('os')", "a=1\nb=2", "x=a=b"]
)
def test_parse_override_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_override(text)


def test_overrides_are_applied_in_order(tiny) -> None:
    s = load_scenario(
        tiny,
        [
            "fleets.il76.aircraft=3",
            "weather.unflyable_share=0.3",
            "events[1].date=2016-01-20",
            "observations[0].from=2016-01-02",
            "name=renamed",
            "fleets.il76.aircraft=5",
        ],
    )
    assert s.fleets["il76"].aircraft == 5
    assert s.weather.unflyable_share == 0.3
    assert s.events[1].date == dt.date(2016, 1, 20)
    assert s.observations[0].from_ == dt.date(2016, 1, 2)
    assert s.name == "renamed"


def test_override_of_a_whole_table(tiny) -> None:
    s = load_scenario(tiny, ['routes.road={a="city", b="airbase", capacity_t_day=5}'])
    assert (s.routes["road"].a, s.routes["road"].capacity_t_day) == ("city", 5.0)


def test_override_inside_an_event(tiny) -> None:
    s = load_scenario(tiny, ['events[1].set."siege.combat_sorties_per_day"=40'])
    assert s.events[1].set["siege.combat_sorties_per_day"] == 40


def test_override_applies_to_inherited_values(write, tiny_text) -> None:
    write("base.toml", tiny_text)
    child = write("child.toml", 'extends = "base.toml"\n')
    assert load_scenario(child, ["drop_zones.dz.recovery=0.5"]).drop_zones["dz"].recovery == 0.5


def test_a_single_string_override_is_not_split_into_characters(tiny) -> None:
    assert load_scenario(tiny, "seed=4").seed == 4  # type: ignore[arg-type]


# ------------------------------------------------------------------- with_values


def test_with_values_returns_a_new_validated_scenario(tiny) -> None:
    s = load_scenario(tiny)
    t = with_values(
        s,
        {
            "fleets.il76.aircraft": 3,
            "events[0].date": "2016-02-10",
            "calendar.end": dt.date(2016, 4, 30),
            "drop_zones.dz.recovery": 0.5,
            'events[1].set."siege.combat_sorties_per_day"': 20.0,
        },
    )
    assert t is not s
    assert s.fleets["il76"].aircraft == 1  # the original is untouched
    assert t.fleets["il76"].aircraft == 3
    assert t.events[0].date == dt.date(2016, 2, 10)
    assert t.calendar.end == dt.date(2016, 4, 30)
    assert timeline(t)[0].scenario.siege.combat_sorties_per_day == 20.0


def test_with_values_accepts_numpy_scalars(tiny) -> None:
    np = pytest.importorskip("numpy")
    s = with_values(
        load_scenario(tiny),
        {"fleets.il76.aircraft": np.int64(4), "fleets.il76.payload_t": np.float64(12.5)},
    )
    assert s.fleets["il76"].aircraft == 4
    assert type(s.fleets["il76"].aircraft) is int
    assert s.fleets["il76"].payload_t == 12.5


def test_with_no_values_is_equal(tiny) -> None:
    s = load_scenario(tiny)
    assert with_values(s, {}) == s


# ---------------------------------------------------------------------- timeline


def test_timeline_sorts_by_date_and_applies_cumulatively(tiny) -> None:
    s = load_scenario(tiny)
    steps = timeline(s)
    assert [type(x) for x in steps] == [TimelineStep, TimelineStep]
    assert [(x.day, x.title) for x in steps] == [(14, "Road cut"), (31, "DZ overrun")]
    assert steps[0].paths == ("routes.road.open", "siege.combat_sorties_per_day")
    assert steps[1].paths == ("drop_zones.dz.open",)
    first, second = steps[0].scenario, steps[1].scenario
    assert not first.routes["road"].open and first.drop_zones["dz"].open
    assert not second.routes["road"].open and not second.drop_zones["dz"].open  # cumulative
    assert second.siege.combat_sorties_per_day == 10.0
    assert s.routes["road"].open  # the start is untouched


def test_timeline_is_stable_for_events_on_the_same_day(tiny) -> None:
    s = load_scenario(tiny, ["events[0].date=2016-01-15"])
    steps = timeline(s)
    assert [x.title for x in steps] == ["DZ overrun", "Road cut"]
    assert steps[0].day == steps[1].day == 14


def test_later_event_overrides_earlier_one(tiny) -> None:
    s = load_scenario(tiny, ['events[0].set={"routes.road.open" = true}'])
    steps = timeline(s)
    assert not steps[0].scenario.routes["road"].open
    assert steps[1].scenario.routes["road"].open


def test_no_events_no_steps(tiny) -> None:
    s = load_scenario(tiny)
    assert timeline(s.model_copy(update={"events": []})) == []


def test_timeline_step_is_frozen(tiny) -> None:
    step = timeline(load_scenario(tiny))[0]
    with pytest.raises(AttributeError):
        step.day = 3  # type: ignore[misc]


def test_timeline_of_an_unchecked_scenario_raises(tiny) -> None:
    s = load_scenario(tiny)
    bad = s.model_copy(update={"events": [s.events[0].model_copy(update={"set": {"x.y": 1}})]})
    with pytest.raises(ScenarioError, match=r"^<scenario>: events\[0\]\.set\.\"x\.y\": unknown"):
        timeline(bad)


# --------------------------------------------------------------------- dump_toml


def test_dump_round_trips(tiny, write) -> None:
    s = load_scenario(tiny, ["fleets.il76.active_from=2016-01-05"])
    text = dump_toml(s)
    assert text.startswith("# Generated by siege-sim")
    assert "from = 2016-01-01" in text
    assert "extends =" not in text
    assert "None" not in text
    assert load_scenario(write("again.toml", text)) == s
    assert dump_toml(load_scenario(write("again.toml", text))) == text


def test_dump_of_a_child_is_self_contained(write, tiny_text) -> None:
    write("base.toml", tiny_text)
    child = write("sub/child.toml", 'extends = "../base.toml"\nseed = 11\n')
    s = load_scenario(child)
    data = tomllib.loads(dump_toml(s))
    assert "extends" not in data
    assert data["seed"] == 11


_names = st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    aircraft=st.integers(0, 50),
    payload=st.floats(0.01, 1e4, allow_nan=False, allow_infinity=False),
    food=st.floats(0, 1),
    recovery=st.floats(0, 1),
    days=st.lists(
        st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
        min_size=1,
        max_size=7,
        unique=True,
    ),
    title=st.text(min_size=0, max_size=20),
    extra_pocket=_names,
    event_day=st.integers(0, 90),
    stochastic=st.booleans(),
)
def test_dump_round_trips_for_variations(
    tiny_text: str,
    aircraft,
    payload,
    food,
    recovery,
    days,
    title,
    extra_pocket,
    event_day,
    stochastic,
) -> None:
    base = Scenario.model_validate(tomllib.loads(tiny_text))
    pockets = dict(base.pockets)
    pockets.setdefault(extra_pocket, base.pockets["city"])
    data = base.model_dump(by_alias=True)
    data["pockets"] = {k: v.model_dump() for k, v in pockets.items()}
    s = with_values(
        Scenario.model_validate(data),
        {
            "title": title,
            "stochastic": stochastic,
            "fleets.il76.aircraft": aircraft,
            "fleets.il76.payload_t": payload,
            "fleets.heli.cargo": {"food": food, "medical": 1.0 - food},
            "fleets.heli.days": days,
            "drop_zones.dz.recovery": recovery,
            "events[0].date": dt.date(2016, 1, 1) + dt.timedelta(days=event_day),
        },
    )
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "s.toml"
        path.write_text(dump_toml(s), encoding="utf-8")
        assert load_scenario(path) == s
