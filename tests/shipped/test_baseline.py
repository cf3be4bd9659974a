"""Calibration of the Deir ez-Zor baseline against the historical record.

For every observation of ``scenarios/deir_ez_zor/baseline.toml`` the model's median
across replications must lie within the observation's tolerance, and the observed
figure must lie inside the model's p05–p95 band. Every calibrated parameter must
stay inside the range its sources allow, at every point of the timeline.

The default (CI) test runs 40 replications (about 2 s); the ``slow`` one runs 400.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

import sim.api
from sim.scenario.load import load_scenario
from sim.scenario.schema import Scenario
from sim.scenario.timeline import timeline_steps

BASELINE = Path(__file__).resolve().parents[2] / "scenarios" / "deir_ez_zor" / "baseline.toml"

CALIBRATED: dict[str, tuple[float, float, str]] = {
    "fleets.wfp_il76.sorties_per_day": (
        0.0,
        2.0,
        "[S:plan-il76]: an Il-76 flies up to 2 rotations a day (WFP, Sudan)",
    ),
    "fleets.wfp_il76.payload_t": (
        16.7,
        35.0,
        "[S:dez-wfp] [S:dez-russian]: high-altitude Il-76 drops 16.7–21 t, up to 35 t",
    ),
    "fleets.wfp_il76.mission_capable": (0.70, 0.92, "[S:plan-tempo]: MC rates"),
    "fleets.ru_il76.sorties_per_day": (0.0, 2.0, "[S:plan-il76]"),
    "fleets.ru_il76.payload_t": (20.0, 35.0, "[S:dez-russian]: 20 t (TASS) to 35 t (5-tv)"),
    "fleets.ru_il76.mission_capable": (0.50, 0.92, "[S:plan-tempo]: MC rates"),
    "weather.unflyable_share": (0.02, 0.15, "[S:dez-weather]: recommended 0.05, 0.02–0.15"),
    "siege.targets_per_sortie": (22 / 70, 22 / 60, "[S:dez-combat]: 22 targets by 60–70 sorties"),
    "siege.weapons": (200.0, 1000.0, "ASSUMPTION in baseline.toml"),
    "siege.reinforcement_per_day": (0.0, 10.0, "ASSUMPTION in baseline.toml"),
}
"""Calibrated parameter → (low, high, basis): the range every value in force must respect."""

AUGUST_2017_TEMPO = (60.0, 70.0)
"""The combat sortie tempo in force during August 2017 (SANA; Tishreen) [S:dez-combat]."""


def _get(scenario: Scenario, path: str) -> Any:
    node: Any = scenario
    for part in path.split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return node


def values_in_force(scenario: Scenario, path: str) -> list[tuple[int, Any]]:
    """(day, value) of ``path`` at the start and after every event that changes it."""
    out = [(0, _get(scenario, path))]
    for step in timeline_steps(scenario):
        value = _get(step.scenario, path)
        if value != out[-1][1]:
            out.append((step.day, value))
    return out


def check_calibration(scenario: Scenario, replications: int) -> list[str]:
    """Every observation's problems with the model, one line each (empty: all fine)."""
    runset = sim.api.run(scenario, replications=replications)
    problems: list[str] = []
    rows = {row["id"]: row for row in runset.observations}
    assert set(rows) == {o.id for o in scenario.observations}
    for obs in scenario.observations:
        row = rows[obs.id]
        lo, mid, hi = row["model_p05"], row["model_p50"], row["model_p95"]
        if row["within_tolerance"] is not True:
            problems.append(f"{obs.id}: median {mid:g} outside tolerance of {obs.observed:g}")
        if not lo <= obs.observed <= hi:
            problems.append(f"{obs.id}: observed {obs.observed:g} outside p05–p95 [{lo:g}, {hi:g}]")
    return problems


@pytest.fixture(scope="module")
def baseline() -> Scenario:
    return load_scenario(BASELINE)


KNOWN_MISSES: dict[str, str] = {
    "ru_aug_2017_t": "issue 10: the Russian figures count food and medical only; compared "
    "so, the 2017 Russian drop rate (calibrated on the whole load, 10 % ammunition "
    "included) is about 10 % low. Recalibrating it (× 1/0.9) belongs to the baseline's "
    "owner; this mark must go then (strict: the test fails once the observation matches).",
}
"""Observations the baseline is known to miss, and why (each an expected failure)."""


@pytest.fixture(scope="module")
def problems(baseline: Scenario) -> list[str]:
    return check_calibration(baseline, replications=40)


@pytest.mark.parametrize(
    "obs_id",
    [
        pytest.param(o.id, marks=pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[o.id]))
        if o.id in KNOWN_MISSES
        else o.id
        for o in load_scenario(BASELINE).observations
    ],
)
def test_every_observation_is_matched(problems: list[str], obs_id: str) -> None:
    assert [p for p in problems if p.startswith(f"{obs_id}:")] == []


@pytest.mark.slow
def test_every_observation_is_matched_with_many_replications(baseline: Scenario) -> None:
    assert check_calibration(baseline, replications=400) == []


@pytest.mark.parametrize("path", sorted(CALIBRATED))
def test_calibrated_parameters_stay_in_their_sourced_ranges(baseline: Scenario, path: str) -> None:
    lo, hi, basis = CALIBRATED[path]
    for day, value in values_in_force(baseline, path):
        assert lo <= value <= hi, f"{path} = {value} from day {day}, outside {lo}–{hi} ({basis})"


def test_the_august_2017_combat_tempo_is_in_the_reported_range(baseline: Scenario) -> None:
    cal = baseline.calendar
    first, last = cal.day(dt.date(2017, 8, 1)), cal.day(dt.date(2017, 8, 31))
    history = values_in_force(baseline, "siege.combat_sorties_per_day")
    on_first = [v for d, v in history if d <= first][-1]
    during = [v for d, v in history if first < d <= last]
    for v in [on_first, *during]:
        assert AUGUST_2017_TEMPO[0] <= v <= AUGUST_2017_TEMPO[1]


def test_check_calibration_reports_a_missed_observation(baseline: Scenario) -> None:
    obs = baseline.observations[0].model_copy(update={"value": 1.0e6})
    bad = baseline.model_copy(update={"observations": [obs]})
    problems = check_calibration(bad, replications=3)
    assert len(problems) == 2
    assert all(p.startswith(obs.id) for p in problems)
