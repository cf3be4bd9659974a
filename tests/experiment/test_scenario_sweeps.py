"""The shipped sweep files: they load, point at the events they mean, and run."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from sim.cli import main
from sim.experiment.calibfile import load_calibration
from sim.experiment.sweep import make_probe
from sim.experiment.sweepfile import load_sweep

FOLDER = Path(__file__).resolve().parents[2] / "scenarios" / "deir_ez_zor"
TEMPO = FOLDER / "sweep_tempo.toml"
SENSITIVITY = FOLDER / "sensitivity.toml"

# events[i] a sweep file varies → (title, key of its ``set``): guards against the
# baseline's timeline being reordered under the sweep files.
EVENTS = {
    TEMPO: {0: ("Russian air campaign begins", "siege.combat_sorties_per_day")},
    SENSITIVITY: {
        1: ("OCHA: ~200,000 in government areas", "routes.smuggling_city.capacity_t_day"),
        2: ("WFP: 110,000 people", "routes.smuggling_city.capacity_t_day"),
        7: ("OCHA: 93,500 west, ~6,000 east", "routes.smuggling_city.capacity_t_day"),
    },
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


def test_sensitivity_is_a_sobol_design_over_ten_unfitted_parameters() -> None:
    spec = load_sweep(SENSITIVITY)
    assert spec.design == "sobol" and len(spec.paths) == 10
    assert len(spec.make_design()) == 128 * 12
    assert spec.metrics[0] == "person_days_below_half"
    assert spec.base.name == "deir_ez_zor_fitted"
    # the food from outside the air bridge in every period, and the initial stock
    assert "routes.smuggling_city.capacity_t_day" in spec.paths
    assert "pockets.city.stock_t.food" in spec.paths
    # a fitted input is never varied on its own (calibration.toml)
    fitted = load_calibration(FOLDER / "calibration.toml").paths
    assert not set(fitted) & set(spec.paths)


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
        # the shipped Sobol' design at an eighth of its base samples (16 instead of
        # 128): every parameter, replication and metric as shipped, in a small share of
        # CI's time budget for slow tests
        (SENSITIVITY, ["--samples", "16"]),
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
        spec = load_sweep(SENSITIVITY)
        # one row per metric and parameter, as shipped
        assert len(rows) == len(spec.metrics) * len(spec.parameters) == 2 * 10


def test_sensitivity_varies_the_food_from_outside_per_person_over_its_stated_range() -> None:
    """Each period's capacity ranges over 0.05–0.2 kg per person a day × that period's
    population (baseline.toml, routes.smuggling_city), to the file's rounding."""
    spec = load_sweep(SENSITIVITY)
    ranges = {p.path: (p.low, p.high) for p in spec.parameters}
    key = "routes.smuggling_city.capacity_t_day"
    people = {key: spec.base.pockets["city"].civilians}
    for i in (1, 2, 7):
        people[f'events[{i}].set."{key}"'] = spec.base.events[i].set["pockets.city.civilians"]
    for path, n in people.items():
        low, high = ranges[path]
        assert low == pytest.approx(0.05 * n / 1000, rel=0.01), path
        assert high == pytest.approx(0.2 * n / 1000, rel=0.01), path
