"""Plots of a calibration folder: marginals, pairs, predictive check; redrawn alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim import api
from sim.cli import main
from sim.conventions import InputError
from sim.experiment.executors import SerialExecutor
from sim.output.calibration_plots import plot_calibration

CALIBRATION = """\
base = "tiny.toml"
method = "abc-smc"
[parameters]
"fleets.drops.payload_t" = { low = 1.0, high = 3.0 }
"events[0].date" = { low = 2016-02-01, high = 2016-02-28 }
[budget]
particles = 6
generations = 2
replications = 1
"""


@pytest.fixture
def folder(tiny_path: Path) -> Path:
    cal = tiny_path.parent / "cal.toml"
    cal.write_text(CALIBRATION)
    return api.calibrate(cal, tiny_path.parent / "out", executor=SerialExecutor()).out_dir


def test_plots_of_two_parameters_and_a_redraw(folder: Path, tmp_path: Path) -> None:
    names = sorted(p.name for p in (folder / "plots").iterdir())
    assert names == ["marginals.png", "pairs.png", "predictive.png"]
    first = {n: (folder / "plots" / n).read_bytes() for n in names}
    assert all(b.startswith(b"\x89PNG") for b in first.values())
    assert main(["plot", str(folder)]) == 0
    assert {n: (folder / "plots" / n).read_bytes() for n in names} == first


def test_a_broken_posterior_is_bad_input(folder: Path, tmp_path: Path) -> None:
    (folder / "posterior.csv").write_text("particle,weight\n0,zero\n")
    with pytest.raises(InputError, match="not a posterior table"):
        plot_calibration(folder, tmp_path / "plots")
