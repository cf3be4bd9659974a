"""The shipped sweep files: they load, point at the events they mean, and run."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from sim.cli import main
from sim.experiment.sweep import make_probe
from sim.experiment.sweepfile import load_sweep

FOLDER = Path(__file__).resolve().parents[2] / "scenarios" / "deir_ez_zor"
TEMPO = FOLDER / "sweep_tempo.toml"
SENSITIVITY = FOLDER / "sensitivity.toml"

# events[i] a sweep file varies → (title, key of its ``set``): guards against the
# baseline's timeline being reordered under the sweep files.
EVENTS = {
    TEMPO: {0: ("Russian air campaign begins", "siege.combat_sorties_per_day")},
    SENSITIVITY: {4: ("ISIL offensive begins", "siege.reinforcement_per_day")},
}


@pytest.mark.parametrize("path", [TEMPO, SENSITIVITY], ids=["tempo", "sensitivity"])
def test_sweep_file_loads_and_names_its_events(path: Path) -> None:
    spec = load_sweep(path, probe=make_probe(None))  # metric names checked on a probe run
    for i, (title, key) in EVENTS[path].items():
        assert spec.base.events[i].title == title
        assert key in spec.base.events[i].set
        assert f'events[{i}].set."{key}"' in spec.paths
    assert dict(spec.labels).keys() == set(spec.paths)


def test_tempo_sweep_is_the_grid_it_says() -> None:
    spec = load_sweep(TEMPO)
    assert spec.design == "grid" and len(spec.make_design()) == 7 * 4
    assert "stockout__city__food" in spec.metrics


def test_sensitivity_is_a_sobol_design_over_seven_parameters() -> None:
    spec = load_sweep(SENSITIVITY)
    assert spec.design == "sobol" and len(spec.paths) == 7
    assert len(spec.make_design()) == 256 * 9
    assert spec.metrics[0] == "person_days_below_half"


@pytest.mark.parametrize(
    "path,options",
    [
        (TEMPO, ["--replications", "1"]),
        (SENSITIVITY, ["--samples", "2", "--replications", "2"]),
    ],
    ids=["tempo", "sensitivity"],
)
def test_reduced_run_of_each_sweep_file(path: Path, options: list[str], tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "2", "--quiet", *options]) == 0
    with open(out / "points.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and all(r["failed"] == "0" for r in rows)
    assert any((out / "plots").iterdir())


@pytest.mark.slow
@pytest.mark.parametrize(
    "path,options",
    [
        (TEMPO, []),
        # the shipped Sobol' design at an eighth of its base samples (288 points × 2
        # replications instead of 2,304 × 2): every parameter, replication and metric
        # as shipped, in a fifth of CI's time budget for slow tests
        (SENSITIVITY, ["--samples", "32"]),
    ],
    ids=["tempo", "sensitivity"],
)
def test_full_run_of_each_sweep_file(path: Path, options: list[str], tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--quiet", *options]) == 0
    with open(out / "points.csv", newline="") as fh:
        assert all(r["failed"] == "0" for r in csv.DictReader(fh))
    if path == SENSITIVITY:
        with open(out / "sensitivity.csv", newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert len(rows) == 2 * 7  # two metrics × seven parameters
