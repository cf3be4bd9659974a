"""The tool that writes the Deir ez-Zor README's table of binding limits.

Fast tests: the caps an aircraft has, the rule that names the binding limit, the
Markdown written and read back, and a tiny real run. The README's own table is
checked against fresh runs in ``test_baseline.py``.
"""

from __future__ import annotations

import datetime as dt

import pytest

from sim.scenario.load import load_scenario
from sim.scenario.schema import Scenario
from tools import binding_limits as bl  # the repository root is on pytest's pythonpath


@pytest.fixture(scope="module")
def baseline() -> Scenario:
    return load_scenario(bl.BASELINE)


def test_caps_of_the_wfp_aircraft(baseline: Scenario) -> None:
    fleet = baseline.fleets["wfp_il76"]
    flight = bl.flight_hours(baseline, fleet)
    assert flight == pytest.approx(534.0 / 600.0, rel=0.01)  # 534 km [S:dez-distances]
    # 2016-04-10 (a Sunday) to 2016-04-16: Sunday to Thursday are 5 of the 7 days
    day = baseline.calendar.day(dt.date(2016, 4, 10))
    caps = bl.caps(baseline, fleet, day, day + 6)
    assert caps["tasking"] == pytest.approx(5 / 7)
    assert caps["crew"] == pytest.approx(fleet.ute_h_day / (2 * flight))
    assert caps["cycle"] == pytest.approx(24.0 / (2 * flight + fleet.base_h))
    helo = baseline.fleets["syaf_helo"]
    assert bl.caps(baseline, helo, 0, 6)["tasking"] is None
    assert bl.caps(baseline, helo, 0, 6)["crew"] is None


def test_the_binding_rule(baseline: Scenario) -> None:
    wfp, helo = baseline.fleets["wfp_il76"], baseline.fleets["syaf_helo"]
    aborts = {"not_mc": 0.03, "weather": 0.05, "no_target": 0.0}
    caps = {"tasking": 0.71, "crew": 2.8, "cycle": 5.6}
    assert bl.binding_limit(baseline, wfp, 0.67, caps, aborts) == "tasking ceiling"
    assert bl.binding_limit(baseline, wfp, 0.5, caps, aborts) == "breakdowns, weather and closures"
    no_ceiling = {"tasking": None, "crew": 2.8, "cycle": 5.6}
    assert bl.binding_limit(baseline, wfp, 2.5, no_ceiling, aborts) == "flying-hour budget"
    assert bl.binding_limit(baseline, wfp, 0.0, caps, {**aborts, "no_target": 0.6}) == (
        "no open drop zone or landing site"
    )
    helo_caps = {"tasking": None, "crew": None, "cycle": 4.26}
    assert bl.binding_limit(baseline, helo, 4.0, helo_caps, aborts) == "aircraft cycle"
    assert bl.binding_limit(baseline, helo, 1.9, helo_caps, aborts) == (
        "opening hours of `brigade137_pad` (with the cycle)"
    )


def test_replace_between_and_block_keep_the_rest() -> None:
    marks = ("<!-- a -->", "<!-- b -->")
    text = "intro\n<!-- a -->\nold\n<!-- b -->\noutro\n"
    out = bl.replace_between(text, marks, "new\n")
    assert out == "intro\n<!-- a -->\nnew\n<!-- b -->\noutro\n"
    assert bl.block(out, marks) == "\nnew\n"
    with pytest.raises(ValueError):
        bl.replace_between("no markers", marks, "x")


def test_a_tiny_real_run_gives_a_table_that_parses_back(baseline: Scenario) -> None:
    tables = bl.build(2, 5, scenario=baseline)
    assert [r["id"] for r in tables.observations] == [o.id for o in baseline.observations]
    limits = bl.parse_rows(tables.limits_md)
    assert len(limits) == sum(len(p) for p in bl.PERIODS.values())
    assert [name for name, _ in limits] == [r.fleet for r in tables.limits]
    assert all(len(cells) == len(bl.LIMIT_COLUMNS) - 1 for _, cells in limits)
    assert "from 2 replications, root seed 5" in tables.limits_md
