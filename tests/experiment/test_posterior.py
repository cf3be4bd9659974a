"""``siege run --posterior DIR``: replication i runs with posterior draw i."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from sim import api
from sim.cli import main
from sim.experiment.executors import SerialExecutor
from sim.experiment.posterior import Posterior, read_posterior
from sim.experiment.runner import default_evaluate
from sim.scenario.load import load_scenario, with_values

PATH = "fleets.drops.payload_t"


@pytest.fixture
def calibration(synthetic: Callable[..., Path], tmp_path: Path) -> Path:
    """A finished calibration folder of the synthetic scenario (small budget)."""
    cal = synthetic(particles=8, generations=2)
    return api.calibrate(cal, tmp_path / "cal", executor=SerialExecutor()).out_dir


def _replications(folder: Path) -> list[dict[str, str]]:
    with open(folder / "replications.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_draws_follow_the_weights_and_the_seed() -> None:
    post = Posterior("x", (PATH,), ((1.0,), (2.0,), (3.0,)), (0.2, 0.0, 0.8))
    draws = post.draws(2000, seed=1)
    assert draws == post.draws(2000, seed=1) and draws != post.draws(2000, seed=2)
    counts = np.bincount(draws, minlength=3)
    assert counts[1] == 0 and counts[2] / 2000 == pytest.approx(0.8, abs=0.03)


def test_read_posterior(calibration: Path) -> None:
    post = read_posterior(calibration)
    assert post.paths == (PATH,) and len(post.values) == 8
    assert sum(post.weights) == pytest.approx(1.0)
    assert all(isinstance(v[0], float) for v in post.values)


def test_replication_i_runs_with_draw_i(calibration: Path, tmp_path: Path) -> None:
    scenario_file = calibration / "calibrated.toml"
    args = ["run", str(scenario_file), "--posterior", str(calibration), "--replications", "5"]
    assert main([*args, "--out", str(tmp_path / "one"), "--workers", "1", "--quiet"]) == 0
    one = _replications(tmp_path / "one")
    post = read_posterior(calibration)
    scenario = load_scenario(scenario_file)
    two = api.run(scenario, replications=5, workers=2, posterior=post)
    assert [float(r["obs__drops_jan"]) for r in one] == [
        pytest.approx(m["obs__drops_jan"], rel=1e-9) for m in two.metrics
    ]
    manifest = json.loads((tmp_path / "one" / "manifest.json").read_text())
    particles = post.draws(5, scenario.seed)
    assert manifest["posterior"] == {
        "folder": str(calibration),
        "parameters": [PATH],
        "stream": "posterior:draws",
        "particles": particles,
    }
    for i, row in enumerate(one):
        drawn = with_values(scenario, {PATH: post.values[particles[i]][0]})
        expected = default_evaluate(drawn, i, scenario.seed)["obs__drops_jan"]
        assert float(row["obs__drops_jan"]) == pytest.approx(expected, rel=1e-9)


def test_the_bands_include_parameter_uncertainty(calibration: Path, tmp_path: Path) -> None:
    """Two far-apart particles: the spread of a run over them is far wider than without."""
    (calibration / "posterior.csv").write_text(
        f"particle,candidate,{PATH},weight,distance\n0,0,1,0.5,0\n1,1,4,0.5,0\n"
    )
    scenario = load_scenario(calibration / "calibrated.toml")
    plain = api.run(scenario, replications=20)
    wide = api.run(scenario, replications=20, posterior=read_posterior(calibration))
    spread = [
        s["delivered_t"]["p95"] - s["delivered_t"]["p05"] for s in (plain.summary, wide.summary)
    ]
    assert spread[1] > 3 * spread[0]


def test_refusals(calibration: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario_file = str(calibration / "calibrated.toml")
    out = tmp_path / "never"
    assert main(["run", scenario_file, "--posterior", str(tmp_path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a finished calibration folder" in err
    (calibration / "posterior.csv").write_text(
        f"particle,candidate,{PATH},weight,distance\n0,0,-1,1,0\n"
    )
    assert main(["run", scenario_file, "--posterior", str(calibration), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --posterior: ") and "particle 0" in err
    assert not out.exists()
