"""Sweep plots: which plots each kind of sweep gets, drawn again from the files alone."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
import sweep_fakes  # worker-side fakes (tests/experiment, on pytest's pythonpath)

from sim.api import sweep
from sim.cli import main
from sim.experiment.executors import WarmPool
from sim.output.sweep_plots import plot_sweep

HEAD = 'base = "tiny.toml"\ntitle = "Plot test"\nreplications = 3\nseed = 2\nmetrics = ["y", "z"]\n'
REC = '"drop_zones.field.recovery" = { low = 0.5, high = 0.9 }\n'
AIR = '"fleets.drops.aircraft" = [1, 2, 3]\n'
PAY = '"fleets.drops.payload_t" = { low = 1.0, high = 3.0 }\n'
DATE = '"events[0].date" = { low = 2016-02-01, high = 2016-03-01 }\n'

CASES = {
    "one_range": ('design = "grid"\n', REC, ["y.png", "z.png"]),
    "one_list": ('design = "grid"\n', AIR, ["y.png", "z.png"]),
    "one_date": ('design = "lhs"\nsamples = 6\n', DATE, ["y.png", "z.png"]),
    "two_grid": ('design = "grid"\nsamples = 3\n', AIR + REC, ["heatmap__y.png", "heatmap__z.png"]),
    "two_lhs": ('design = "lhs"\nsamples = 10\n', REC + PAY, ["map__y.png", "map__z.png"]),
    "three_lhs": ('design = "lhs"\nsamples = 10\n', AIR + REC + PAY, ["scatter_matrix.png"]),
    "three_grid": ('design = "grid"\nsamples = 2\n', AIR + REC + PAY, ["main_effects.png"]),
    "sobol": ('design = "sobol"\nsamples = 8\n', AIR + REC + PAY, ["sobol_indices.png"]),
    "morris": ('design = "morris"\nsamples = 4\n', AIR + REC + PAY, ["morris.png"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_plots_of_each_kind_of_sweep(case: str, tmp_path: Path, tiny_toml: str) -> None:
    design, params, expected = CASES[case]
    (tmp_path / "tiny.toml").write_text(tiny_toml)
    (tmp_path / "s.toml").write_text(HEAD + design + "[parameters]\n" + params)
    result = sweep(tmp_path / "s.toml", tmp_path / "out", workers=1, evaluate=sweep_fakes.smooth)
    out = tmp_path / "out"
    assert result.failed == 0
    assert sorted(p.name for p in (out / "plots").iterdir()) == sorted(expected)
    assert all((out / "plots" / name).stat().st_size > 5000 for name in expected)
    assert (out / "sensitivity.csv").exists() == (case in ("sobol", "morris"))
    # drawn again from a copy of the files (no model, no source files): the same bytes
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    shutil.rmtree(copy / "plots")
    (copy / "plots").mkdir()
    written = plot_sweep(copy, copy / "plots")
    assert sorted(p.name for p in written) == sorted(expected)
    for name in expected:
        assert (copy / "plots" / name).read_bytes() == (out / "plots" / name).read_bytes()
    # drawn by two worker processes: the same files, listed in the same order
    (copy / "parallel").mkdir()
    pool = WarmPool(2)
    try:
        drawn = plot_sweep(copy, copy / "parallel", executor=pool)
    finally:
        pool.close()
    assert [p.name for p in drawn] == [p.name for p in written]
    for name in expected:
        assert (copy / "parallel" / name).read_bytes() == (out / "plots" / name).read_bytes()


def test_sensitivity_csv_of_a_sobol_sweep(tmp_path: Path, tiny_toml: str) -> None:
    (tmp_path / "tiny.toml").write_text(tiny_toml)
    (tmp_path / "s.toml").write_text(
        HEAD + 'design = "sobol"\nsamples = 64\n[parameters]\n' + AIR + REC + PAY
    )
    sweep(tmp_path / "s.toml", tmp_path / "out", workers=2, evaluate=sweep_fakes.smooth)
    with open(tmp_path / "out" / "sensitivity.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["metric"], r["parameter"]) for r in rows] == [
        (m, p)
        for m in ("y", "z")
        for p in ("fleets.drops.aircraft", "drop_zones.field.recovery", "fleets.drops.payload_t")
    ]
    z = {r["parameter"]: r for r in rows if r["metric"] == "z"}  # z = recovery², no noise
    assert float(z["drop_zones.field.recovery"]["S1"]) == pytest.approx(1.0, abs=0.05)
    assert abs(float(z["fleets.drops.aircraft"]["ST"])) < 0.02
    assert float(z["fleets.drops.aircraft"]["noise_share"]) < 1e-20
    y = {r["parameter"]: r for r in rows if r["metric"] == "y"}  # y = a × p × r + noise
    assert all(0.0 < float(y[p]["ST"]) < 1.2 for p in y)
    assert 0.0 < float(y["fleets.drops.aircraft"]["noise_share"]) < 0.2


def test_siege_plot_redraws_a_sweep_folder(
    tmp_path: Path, tiny_toml: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "tiny.toml").write_text(tiny_toml)
    (tmp_path / "s.toml").write_text(HEAD + 'design = "grid"\n[parameters]\n' + REC)
    sweep(tmp_path / "s.toml", tmp_path / "out", workers=1, evaluate=sweep_fakes.smooth)
    before = (tmp_path / "out" / "plots" / "y.png").read_bytes()
    shutil.rmtree(tmp_path / "out" / "plots")
    assert main(["plot", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "plots" / "y.png").read_bytes() == before
