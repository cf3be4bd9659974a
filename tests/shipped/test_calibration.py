"""The Deir ez-Zor calibration (``scenarios/deir_ez_zor/calibration.toml``).

What is fitted and what is held out is the point of the file, so it is pinned here:
two early figures are fitted, every other figure of the record that no input is
read from is held out, and a held-out figure never reaches the fit. A small budget
of the same calibration runs end to end (the default budget takes minutes: its
measured time is in the folder's README, "Fitted honestly").
"""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import pytest

from sim import api
from sim.experiment.calibfile import CalibrationSpec, load_calibration
from sim.scenario.load import load_scenario

FOLDER = Path(__file__).resolve().parents[2] / "scenarios" / "deir_ez_zor"
CALIBRATION = FOLDER / "calibration.toml"

FITTED = ("wfp_2016_drops", "ru_jan_feb_2016_t")
"""The two figures the fit reads: WFP's drops to 8 Sep 2016, Russian tonnes Jan–Feb 2016."""

CHECKS_OF_INPUTS = ("wfp_suspension_jan_2017", "combat_sorties_aug_2017", "targets_aug_2017")
"""Calibration-role figures that are inputs read from the same reports: fitted by nothing."""


@pytest.fixture(scope="module")
def spec() -> CalibrationSpec:
    return load_calibration(CALIBRATION)


def test_two_early_figures_are_fitted_and_the_rest_is_held_out(spec: CalibrationSpec) -> None:
    baseline = load_scenario(FOLDER / "baseline.toml")
    assert spec.fit == FITTED
    assert not set(spec.fit) & set(spec.validation)
    ids = [o.id for o in baseline.observations]
    assert sorted(spec.validation) == sorted(set(ids) - set(FITTED) - set(CHECKS_OF_INPUTS))
    for oid in ("wfp_2016_pallets", "wfp_total_pallets", "combat_sorties_1_21_aug_2017"):
        assert oid in spec.validation


def test_the_payloads_are_never_fitted(spec: CalibrationSpec) -> None:
    """Tonnage and pallets are predictions: no fitted figure is a WFP tonnage, and the
    payloads carry their own prior."""
    fitted = [spec.observation(i) for i in spec.fit]
    wfp = [o.metric for o in fitted if list(o.selector.fleets or ()) == ["wfp_il76"]]
    assert wfp == ["deliveries"]
    assert "fleets.wfp_il76.payload_t" in spec.paths
    assert "fleets.ru_il76.payload_t" in spec.paths


def test_a_small_budget_runs_end_to_end(spec: CalibrationSpec, tmp_path: Path) -> None:
    small = dataclasses.replace(
        spec,
        budget=dataclasses.replace(
            spec.budget,
            particles=6,
            generations=2,
            replications=1,
            max_candidates=24,
            predictive_draws=4,
        ),
    )
    out = tmp_path / "fit"
    result = api.calibrate(small, out, workers=1)
    assert len(result.generations) == 2
    with open(out / "runs.csv", newline="") as fh:
        header = next(csv.reader(fh))
    # the fit's journal holds the fitted figures only: nothing held out reaches it
    assert [h for h in header if h.startswith("obs__")] == [f"obs__{i}" for i in FITTED]
    with open(out / "validation.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["id"] for r in rows] == list(spec.validation)
    for r in rows:
        assert float(r["p05"]) <= float(r["p50"]) <= float(r["p95"]), r["id"]
        assert r["inside_90"] in ("true", "false")
    with open(out / "posterior.csv", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == 6
    calibrated = load_scenario(out / "calibrated.toml")
    assert 1.0 <= calibrated.fleets["wfp_il76"].sorties_per_day <= 2.0
