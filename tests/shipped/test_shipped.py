"""The scenario files shipped under ``scenarios/``.

Every scenario file loads (``extends`` resolved, validated, timeline applied) and
runs one replication with its books balanced; the Deir ez-Zor baseline carries
every observation id the calibration is judged on; the historical baselines (Deir
ez-Zor, and both Khe Sanh files) cite a source or an assumption for every value;
each counterfactual differs from the baseline only in
what its name says (three of them change single events through a top-level
``set`` table that names events by index, so these tests also check the index
still points at the intended event).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from sim.api import validate_file
from sim.model.world import run_replication
from sim.scenario.load import load_scenario
from sim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
DEZ = SCENARIOS / "deir_ez_zor"
KHE_SANH = SCENARIOS / "khe_sanh_1968"
SOURCED: tuple[Path, ...] = (
    DEZ / "baseline.toml",
    KHE_SANH / "baseline.toml",
    KHE_SANH / "first_run.toml",
)
"""Historical scenarios in which every value cites a source or an assumption."""

REQUIRED_IDS: tuple[str, ...] = (
    "ru_aug_2017_t",
    "combat_sorties_aug_2017",
    "wfp_2016_t",
    "wfp_2016_drops",
    "wfp_jan_2017_t",
    "wfp_jan_2017_drops",
    "wfp_q1_2017_t",
    "wfp_q1_2017_drops",
    "wfp_total_t",
    "wfp_total_drops",
    "wfp_suspension_jan_2017",
)
"""Observation ids the baseline must carry (tracker issue 3)."""

COUNTERFACTUALS: tuple[str, ...] = (
    "no_split",
    "no_wfp",
    "tempo_40",
    "helicopter_bridge",
    "early_relief",
)


def is_sweep_file(path: Path) -> bool:
    """Sweep and calibration definitions (``sweep_*.toml``, ``sensitivity*.toml``,
    ``calibration*.toml``) are not scenarios."""
    return path.name.startswith(("sweep", "sensitivity", "calibration"))


def shipped_scenarios() -> list[Path]:
    """Every scenario file under ``scenarios/``, sweep and calibration files left out."""
    return sorted(p for p in SCENARIOS.rglob("*.toml") if not is_sweep_file(p))


def shipped_calibrations() -> list[Path]:
    """Every calibration file under ``scenarios/`` (``calibration*.toml``)."""
    return sorted(SCENARIOS.rglob("calibration*.toml"))


def _id(path: Path) -> str:
    return str(path.relative_to(SCENARIOS))


@pytest.fixture(scope="module")
def baseline() -> Scenario:
    return load_scenario(DEZ / "baseline.toml")


def test_the_expected_files_are_shipped() -> None:
    names = {_id(p) for p in shipped_scenarios()}
    expected = {
        "examples/minimal.toml",
        "deir_ez_zor/baseline.toml",
        "khe_sanh_1968/baseline.toml",
        "khe_sanh_1968/first_run.toml",
    } | {f"deir_ez_zor/{c}.toml" for c in COUNTERFACTUALS}
    assert expected <= names


@pytest.mark.parametrize("path", shipped_scenarios(), ids=_id)
def test_loads_and_runs_one_replication(path: Path) -> None:
    scenario = load_scenario(path)
    result = run_replication(scenario, 0, scenario.seed)  # checks the mass balance
    assert result.n_days == scenario.calendar.n_days
    for name, series in result.series.items():
        assert len(series) == result.n_days, name


@pytest.mark.parametrize("path", shipped_calibrations(), ids=_id)
def test_calibration_files_validate(path: Path) -> None:
    assert validate_file(path) == "calibration"


def test_minimal_example_matches_its_own_observation() -> None:
    import sim.api

    scenario = load_scenario(SCENARIOS / "examples" / "minimal.toml")
    runset = sim.api.run(scenario, replications=20)
    (row,) = runset.observations
    assert row["within_tolerance"] is True
    assert row["model_p05"] <= row["observed"] <= row["model_p95"]


def test_baseline_carries_every_required_observation(baseline: Scenario) -> None:
    ids = [o.id for o in baseline.observations]
    missing = [i for i in REQUIRED_IDS if i not in ids]
    assert not missing, f"baseline.toml lacks observations {missing}"
    for o in baseline.observations:
        assert o.source.strip()
        if o.metric in ("dropped_t", "deliveries"):
            assert o.selector.fleets, o.id


def test_baseline_wfp_figures_use_dropped_tonnage_and_deliveries(baseline: Scenario) -> None:
    obs = {o.id: o for o in baseline.observations}
    for i in REQUIRED_IDS:
        if (i.startswith("wfp_") and i.endswith("_t")) or i == "wfp_suspension_jan_2017":
            assert obs[i].metric == "dropped_t", i
        if i.endswith("_drops"):
            assert obs[i].metric == "deliveries", i
    assert obs["wfp_suspension_jan_2017"].abs_tolerance > 0
    assert obs["combat_sorties_aug_2017"].range == (60.0, 70.0)
    assert obs["ru_aug_2017_t"].value == 293.0


# ------------------------------------------------------------ sources cited

_KEY = re.compile(r"^\s*(\"[^\"]+\"|[A-Za-z0-9_.-]+)\s*=")
_HEADER_KEYS = {"name", "title", "description", "seed", "replications", "stochastic"}


def uncited_lines(text: str) -> list[tuple[int, str]]:
    """Value lines with no comment, neither on the line nor in the block just above.

    A block is a run of consecutive non-blank lines under one table header; a
    comment anywhere above a value line in its block covers it (a comment may
    explain several adjacent keys). Observation tables cite through their
    ``source`` key and are skipped, as are an event's ``date`` and ``title`` (its
    comment sits above its ``set``), the scenario's header keys and the
    continuation lines of multi-line strings.
    """
    bad: list[tuple[int, str]] = []
    covered = False
    in_observation = False
    in_event = False
    in_string = False
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if in_string:
            in_string = line.count('"""') % 2 == 0
            continue
        if not line:
            covered = False
            continue
        if line.startswith("["):
            in_observation = line == "[[observations]]"
            in_event = line == "[[events]]"
            covered = "#" in line
            continue
        if line.startswith("#"):
            covered = True
            continue
        if line.count('"""') % 2 == 1:
            in_string = True
        m = _KEY.match(line)
        if m is None or in_observation or m.group(1) in _HEADER_KEYS:
            continue
        if in_event and m.group(1) in ("date", "title"):
            continue
        if "#" in line.split("=", 1)[1] or covered:
            continue
        bad.append((n, line))
    return bad


@pytest.mark.parametrize("path", SOURCED, ids=_id)
def test_every_baseline_value_cites_a_source_or_an_assumption(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert uncited_lines(text) == []


@pytest.mark.parametrize("path", SOURCED, ids=_id)
def test_assumptions_give_a_range_or_a_reason(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for n, line in enumerate(text.splitlines(), start=1):
        if "ASSUMPTION" in line:
            after = line.split("ASSUMPTION", 1)[1]
            assert after.startswith((" (range", ":", " on ")), f"line {n}: {line.strip()}"


def test_uncited_lines_finds_a_bare_value() -> None:
    text = "[pockets.city]\n# sourced\ncivilians = 1\n\ngarrison = 2\n"
    assert uncited_lines(text) == [(5, "garrison = 2")]


# ------------------------------------------------------- counterfactuals

_PRESENTATION = ("name", "title", "description")


def _data(s: Scenario) -> dict[str, Any]:
    d = s.model_dump(by_alias=True, mode="json")
    for k in _PRESENTATION:
        d.pop(k)
    return d


def _diff(a: Any, b: Any, path: str = "") -> set[str]:
    """Dotted paths at which two plain-data trees differ (lists compared whole)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: set[str] = set()
        for k in a.keys() | b.keys():
            sub = f"{path}.{k}" if path else str(k)
            if k not in a or k not in b:
                out.add(sub)
            else:
                out |= _diff(a[k], b[k], sub)
        return out
    return set() if a == b else {path}


def _events(s: Scenario) -> list[tuple[str, str, dict[str, Any]]]:
    return [(e.date.isoformat(), e.title, dict(e.set)) for e in s.events]


def _load(name: str) -> Scenario:
    return load_scenario(DEZ / f"{name}.toml")


def test_counterfactuals_have_their_own_names(baseline: Scenario) -> None:
    names = {baseline.name} | {_load(c).name for c in COUNTERFACTUALS}
    assert len(names) == len(COUNTERFACTUALS) + 1


def test_no_wfp_changes_only_the_wfp_fleet_size(baseline: Scenario) -> None:
    child = _load("no_wfp")
    assert _diff(_data(baseline), _data(child)) == {"fleets.wfp_il76.aircraft"}
    assert child.fleets["wfp_il76"].aircraft == 0


def test_helicopter_bridge_only_adds_a_shuttle(baseline: Scenario) -> None:
    child = _load("helicopter_bridge")
    added = _diff(_data(baseline), _data(child))
    assert len(added) == 1
    (path,) = added
    fleet = child.fleets[path.split(".")[1]]
    assert path.split(".")[1] not in baseline.fleets
    assert fleet.origin in ("airbase", "city")
    target_pockets = {child.helipads[t].pocket for t in fleet.targets}
    assert fleet.origin not in target_pockets
    split = next(e.date for e in baseline.events if e.set == {"routes.airbase_city.open": False})
    assert fleet.active_from is not None and fleet.active_from >= split


def _same_but_events(baseline: Scenario, child: Scenario) -> None:
    diff = _diff(_data(baseline), _data(child))
    assert diff <= {"events"}, f"changed besides the events: {sorted(diff - {'events'})}"


def _changed_events(baseline: Scenario, child: Scenario) -> dict[int, tuple]:
    assert len(child.events) == len(baseline.events)
    return {
        i: e
        for i, (b, e) in enumerate(zip(_events(baseline), _events(child), strict=True))
        if b != e
    }


def test_no_split_only_defuses_the_split_event(baseline: Scenario) -> None:
    child = _load("no_split")
    _same_but_events(baseline, child)
    split = {"routes.airbase_city.open": False}
    (i,) = [i for i, e in enumerate(_events(baseline)) if e[2] == split]
    changed = _changed_events(baseline, child)
    assert list(changed) == [i]
    assert changed[i][0] == _events(baseline)[i][0]
    assert changed[i][2] == {"routes.airbase_city.open": True}


def test_tempo_40_holds_the_combat_tempo_from_august_2017(baseline: Scenario) -> None:
    child = _load("tempo_40")
    _same_but_events(baseline, child)
    start = dt.date(2017, 8, 1).isoformat()
    key = "siege.combat_sorties_per_day"
    tempo = [i for i, e in enumerate(_events(baseline)) if e[0] >= start and set(e[2]) == {key}]
    assert len(tempo) == 2
    changed = _changed_events(baseline, child)
    assert sorted(changed) == tempo
    assert all(e[2] == {key: 40.0} and e[0] == _events(baseline)[i][0] for i, e in changed.items())


def test_early_relief_moves_only_the_relief_three_months_earlier(baseline: Scenario) -> None:
    child = _load("early_relief")
    _same_but_events(baseline, child)

    def is_relief(e: tuple[str, str, dict[str, Any]]) -> bool:
        return all(k.startswith("routes.relief_") for k in e[2])

    assert [e for e in _events(child) if not is_relief(e)] == [
        e for e in _events(baseline) if not is_relief(e)
    ]
    base = {str(s): d for d, _, s in _events(baseline) if is_relief((d, _, s))}
    moved = {str(s): d for d, _, s in _events(child) if is_relief((d, _, s))}
    assert len(base) == 2
    assert base.keys() == moved.keys()
    for k, d0 in base.items():
        a, b = dt.date.fromisoformat(d0), dt.date.fromisoformat(moved[k])
        assert (a.year, a.month - 3, a.day) == (b.year, b.month, b.day)
