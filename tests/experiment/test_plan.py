"""Planning: the varied parameter, the search, the deterministic limit and resume."""

from __future__ import annotations

import datetime as dt
import math
import re
import shutil

import pytest

import sim
from sim.analysis.goals import Goal
from sim.experiment.plan import BATCH, Vary, evaluate, make_spec, parse_vary, search
from sim.experiment.plan_store import PlanFolderError, load_plan
from sim.output.folder import FolderLock, FolderLockedError
from sim.scenario.errors import ScenarioError

LIFT = """\
name = "lift"
seed = 1
replications = 40
stochastic = false

[calendar]
start = 2020-01-01
end = 2020-01-30

[commodities.food]
civilian_kg_day = 0.5
soldier_kg_day = 1.0

[pockets.town]
civilians = 1000
stock_t = { food = 1000.0 }

[airfields.strip]
pocket = "town"
slots = 50

[fleets.planes]
mode = "land"
aircraft = 1
payload_t = 10.0
cargo = { food = 1.0 }
flight_h = 1.0
ground_h = 1.0
sorties_per_day = 1.0
mission_capable = 1.0
targets = ["strip"]
"""
DAYS, PAYLOAD = 30, 10.0


@pytest.fixture
def lift(tmp_path):
    path = tmp_path / "lift.toml"
    path.write_text(LIFT)
    return sim.load_scenario(path)


@pytest.fixture
def base(tmp_path, tiny_toml):
    path = tmp_path / "tiny.toml"
    path.write_text(tiny_toml)
    return sim.load_scenario(path)


# ---- the varied parameter ----------------------------------------------------------------


def test_vary_kinds_and_grids(base):
    v = parse_vary("fleets.drops.aircraft=0:5", base)
    assert (v.kind, v.last, [v.value(k) for k in range(6)]) == ("integer", 5, [0, 1, 2, 3, 4, 5])
    r = parse_vary("drop_zones.field.recovery=0.5:0.9", base)
    assert r.kind == "real" and r.step == pytest.approx(0.004) and r.last == 100
    assert r.value(0) == 0.5 and r.value(100) == 0.9 and r.value(50) == pytest.approx(0.7)
    s = parse_vary("drop_zones.field.recovery=0.5:0.9:0.15", base)
    assert s.last == 3 and [s.value(k) for k in range(4)] == [0.5, 0.65, 0.8, 0.9]
    d = parse_vary("events[0].date=2016-02-01:2016-03-01:7", base)
    assert d.kind == "date" and d.value(1) == dt.date(2016, 2, 8)
    assert d.value(d.last) == dt.date(2016, 3, 1)
    e = parse_vary('events[0].set."fleets.drops.payload_t"=1:3', base)
    assert e.kind == "real"
    one = parse_vary("fleets.drops.aircraft=2:2", base)
    assert one.last == 0 and one.value(0) == 2
    with pytest.raises(IndexError):
        v.value(6)


@pytest.mark.parametrize(
    ("option", "path", "words"),
    [
        ("fleets.drops.aircraft", "", "expected PATH=LOW:HIGH"),
        ("fleets.drops.aircraft=1", "fleets.drops.aircraft", "expected LOW:HIGH"),
        ("fleets.drops.aircraft=5:1", "fleets.drops.aircraft", "LOW (5) is above HIGH (1)"),
        ("fleets.drops.aircraft=1.5:3", "fleets.drops.aircraft", "whole"),
        ("fleets.drops.aircraft=2016-01-01:2016-02-01", "fleets.drops.aircraft", "a number"),
        ("events[0].date=1:3", "events[0].date", "YYYY-MM-DD"),
        ("fleets.drops.mode=1:2", "fleets.drops.mode", "not a numeric or date-valued"),
        ("drop_zones.field.open=0:1", "drop_zones.field.open", "not a numeric or date-valued"),
        ("fleets.drops.aircrafts=1:3", "fleets.drops.aircrafts", "did you mean 'aircraft'"),
        ("fleets.planes.aircraft=1:3", "fleets.planes.aircraft", "no entry 'planes'"),
        ("fleets..aircraft=1:3", "fleets..aircraft", "malformed key path"),
        ("drop_zones.field.recovery=0.5:1.5", "drop_zones.field.recovery", "HIGH = 1.5"),
        ("drop_zones.field.recovery=0.5:0.9:0", "drop_zones.field.recovery", "STEP"),
        ("fleets.drops.aircraft=1:3:0.5", "fleets.drops.aircraft", "STEP must be whole"),
        ("fleets.drops.aircraft=one:3", "fleets.drops.aircraft", "not a number or a date"),
    ],
)
def test_bad_vary(base, option, path, words):
    with pytest.raises(ScenarioError) as err:
        parse_vary(option, base)
    assert err.value.file == "--vary" and err.value.path == path
    assert words in err.value.message


def test_bad_plan_inputs(base):
    with pytest.raises(ScenarioError, match="--goal: unknown metric 'stockout__town__fod'"):
        make_spec(base, "fleets.drops.aircraft=1:3", "stockout__town__fod <= 0.05")
    with pytest.raises(ScenarioError, match="--goal: cannot read"):
        make_spec(base, "fleets.drops.aircraft=1:3", "stockout__town__food is small")
    with pytest.raises(ScenarioError, match="--confidence"):
        make_spec(base, "fleets.drops.aircraft=1:3", "delivered_t >= 1", confidence=1.0)
    with pytest.raises(ScenarioError, match="at least 59"):
        make_spec(base, "fleets.drops.aircraft=1:3", "stockout__town__food <= 0.05")
    spec = make_spec(
        base, "fleets.drops.aircraft=1:3", "stockout__town__food <= 0.05", replications=59
    )
    assert spec.replications == 59 and spec.seed == base.seed and spec.batch == BATCH


# ---- the search on a fake model ----------------------------------------------------------


def fake_runs(threshold: float, rising: bool = True):
    """Runs where delivered_t = value × 100 (exact), so the goal ``delivered_t >= t``
    holds from ``t / 100`` up (or, falling, ``delivered_t = (10 − value) × 100``)."""
    calls = []

    def runs(spec, index, reps):
        calls.append((index, reps))
        v = spec.vary.value(index)
        x = float(v) * 100 if rising else (10 - float(v)) * 100
        return [(x,) for _ in reps]

    return calls, runs


def spec_for(base, vary, goal, **kw):
    exact = base.model_copy(update={"stochastic": False})
    return make_spec(exact, vary, goal, **kw)


@pytest.mark.parametrize("threshold", [0, 1, 250, 399, 700, 1000])
def test_bisection_finds_the_smallest(base, threshold):
    spec = spec_for(base, "fleets.drops.aircraft=0:10", f"delivered_t >= {threshold}")
    calls, runs = fake_runs(threshold)
    out = search(spec, lambda k, r: runs(spec, k, r))
    assert out.answer == math.ceil(threshold / 100)
    assert out.extreme == "smallest"
    assert out.direction in ("increasing", "flat" if threshold == 0 else "increasing")
    assert len(calls) <= 2 + math.ceil(math.log2(10))
    assert all(len(r) == 1 for _, r in calls)  # deterministic: one replication each


def test_bisection_finds_the_largest_when_feasibility_falls(base):
    spec = spec_for(base, "fleets.drops.aircraft=0:10", "delivered_t >= 650")
    _, runs = fake_runs(650, rising=False)
    out = search(spec, lambda k, r: runs(spec, k, r))
    assert (out.answer, out.extreme, out.direction) == (3, "largest", "decreasing")
    assert "not at the neighbouring 4" in out.reason


def test_dates_are_searched_by_day(base):
    spec = spec_for(base, "events[0].date=2016-02-01:2016-03-15", "delivered_t <= 1000")
    start = dt.date(2016, 2, 1)

    def runs(k, reps):  # the later the date, the more is delivered: 50 t a day
        return [((spec.vary.value(k) - start).days * 50.0,) for _ in reps]

    out = search(spec, runs)
    assert out.answer == dt.date(2016, 2, 21) and out.extreme == "latest"
    assert "the latest events[0].date in [2016-02-01, 2016-03-15]" in out.statement


def test_met_at_both_ends_and_at_neither(base):
    spec = spec_for(base, "fleets.drops.aircraft=1:5", "delivered_t >= 50")
    _, runs = fake_runs(50)
    both = search(spec, lambda k, r: runs(spec, k, r))
    assert both.answer == 1 and both.direction == "increasing" and len(both.trace) == 2
    assert "both ends" in both.reason
    _, falling = fake_runs(50, rising=False)
    spec2 = spec_for(base, "fleets.drops.aircraft=1:5", "delivered_t >= 50")
    latest = search(spec2, lambda k, r: falling(spec2, k, r))
    assert latest.answer == 5 and latest.extreme == "largest"
    spec3 = spec_for(base, "fleets.drops.aircraft=1:5", "delivered_t >= 5000")
    never = search(spec3, lambda k, r: runs(spec3, k, r))
    assert never.answer is None and never.direction == "none"
    assert "try values above 5" in never.reason


def test_replications_are_added_until_decided_and_capped(base):
    spec = make_spec(
        base,
        "fleets.drops.aircraft=1:3",
        "min_days_of_supply__town__food >= 5",
        replications=50,
    )
    seen = []

    def noisy(k, reps):  # mean 5.0 exactly: never decided
        seen.append(reps)
        return [(5.0 + (1 if r % 2 else -1),) for r in reps]

    e = evaluate(spec, 0, noisy)
    assert [(r.start, r.stop) for r in seen] == [(0, 20), (20, 40), (40, 50)]
    assert e.verdict == "undecided" and not e.met and e.replications == 50
    assert "counted as not met" in e.note
    clear = evaluate(spec, 0, lambda k, reps: [(9.0 + r % 2,) for r in reps])
    assert clear.verdict == "met" and clear.replications == BATCH


# ---- the model: deterministic limit, stochastic, resume --------------------------------


def test_deterministic_limit_finds_the_planning_answer(lift, tmp_path):
    """Aircraft to carry 1,000 t in 30 days, 10 t and one sortie a day each:
    ⌈1000 / (30 × 10)⌉ = 4 aircraft (the planning equation N × sorties/day × payload)."""
    target = 1000.0
    result = sim.plan(
        lift, "fleets.planes.aircraft=1:12", f"delivered_t >= {target:g}", tmp_path / "det"
    )
    assert result.outcome.answer == math.ceil(target / (DAYS * PAYLOAD)) == 4
    by_value = {e.value: e for e in result.outcome.trace}
    # the four aircraft start spread over their day (the model has no shared grid), so the
    # last of them flies its first sortie on day 1: one sortie fewer than 4 × 30
    assert 4 * DAYS * PAYLOAD - PAYLOAD <= by_value[4].judgements[0].estimate <= 4 * DAYS * PAYLOAD
    assert by_value[3].verdict == "not met" and by_value[4].verdict == "met"
    assert all(e.replications == 1 for e in result.outcome.trace)
    assert (tmp_path / "det" / "plots" / "plan.png").is_file()


def test_stochastic_answer_within_one_step(lift, tmp_path):
    mc, unflyable, target = 0.8, 0.1, 1000.0
    noisy = lift.model_copy(
        update={
            "stochastic": True,
            "weather": lift.weather.model_copy(
                update={"unflyable_share": unflyable, "mean_spell_days": 2.0}
            ),
            "fleets": {"planes": lift.fleets["planes"].model_copy(update={"mission_capable": mc})},
        }
    )
    analytic = math.ceil(target / (DAYS * PAYLOAD * mc * (1 - unflyable)))
    result = sim.plan(
        noisy,
        "fleets.planes.aircraft=1:12",
        f"delivered_t >= {target:g}",
        tmp_path / "st",
        replications=60,
        workers=2,
    )
    assert abs(result.outcome.answer - analytic) <= 1
    assert all(e.replications % BATCH == 0 for e in result.outcome.trace)


def test_resume_ends_with_identical_files(base, tmp_path):
    out = tmp_path / "p"
    goal = "stockout__town__food <= 0.05"
    first = sim.plan(base, "fleets.drops.aircraft=1:6", goal, out, replications=80)
    assert first.outcome.answer is not None
    names = ["runs.csv", "trace.csv", "plan.json", "plan.toml", "scenario.toml", "plots/plan.png"]
    before = {n: (out / n).read_bytes() for n in names}
    copy = tmp_path / "q"
    shutil.copytree(out, copy)
    runs = (out / "runs.csv").read_bytes()
    (copy / "runs.csv").write_bytes(runs[: len(runs) // 3] + b"3,7,5,4")  # torn last line
    for n in ("trace.csv", "plan.json"):
        (copy / n).unlink()
    shutil.rmtree(copy / "plots")
    again = sim.resume_plan(copy, workers=2)
    assert again.reused > 0 and again.ran > 0
    assert again.ran + again.reused >= first.ran
    for n in names:
        assert (copy / n).read_bytes() == before[n], n
    assert load_plan(copy).goal_text == goal


def test_resume_refuses_what_it_cannot_resume(base, tmp_path):
    with pytest.raises(PlanFolderError):
        sim.resume_plan(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(PlanFolderError):
        sim.resume_plan(tmp_path / "empty")
    out = tmp_path / "p"
    sim.plan(base, "fleets.drops.aircraft=1:2", "delivered_t >= 1", out)
    with FolderLock(out).acquire("test"), pytest.raises(FolderLockedError):
        sim.resume_plan(out)


def test_goal_kinds_recorded(base):
    spec = make_spec(base, "fleets.drops.aircraft=1:3", "delivered_t >= 1 and aircraft_lost < 1")
    assert spec.goals == (Goal("delivered_t", ">=", 1.0), Goal("aircraft_lost", "<", 1.0))
    assert spec.metrics == ("delivered_t", "aircraft_lost")
    assert isinstance(spec.vary, Vary)


def test_resume_refuses_changed_inputs_and_reads_a_torn_utf8_line(base, tmp_path):
    out = tmp_path / "p"
    goal = "stockout__town__food <= 0.05"
    sim.plan(base, "fleets.drops.aircraft=1:6", goal, out, replications=60)
    assert (out / "inputs.json").is_file()
    for name, old, new, words in (
        ("plan.toml", "seed = 5", "seed = 6", "plan.toml: seed: changed since the plan started"),
        (
            "scenario.toml",
            "recovery = 0.8",
            "recovery = 0.7",
            "scenario.toml: drop_zones.field.recovery: changed since the plan started "
            "(was 0.8, now 0.7)",
        ),
    ):
        copy = tmp_path / f"edited-{name}"
        shutil.copytree(out, copy)
        text = (copy / name).read_text()
        assert old in text, f"test setup: {old!r} not in {name}"
        (copy / name).write_text(text.replace(old, new, 1))
        with pytest.raises(PlanFolderError, match=re.escape(words)):
            sim.resume_plan(copy)
    torn = tmp_path / "torn"
    shutil.copytree(out, torn)
    with open(torn / "runs.csv", "ab") as fh:
        fh.write("9,9,5,é".encode()[:-1])  # a kill in the middle of a UTF-8 character
    assert sim.resume_plan(torn).ran == 0
    assert (torn / "runs.csv").read_bytes() == (out / "runs.csv").read_bytes()
