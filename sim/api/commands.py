"""The other commands of ``siege``: ``validate`` (check a file, run nothing), ``plot``
(re-draw any result folder's plots from its files) and ``schema`` (the JSON Schema of
the scenario format)."""

from __future__ import annotations

from pathlib import Path

from sim.api.calibrations import calibration_spec, redraw_calibration_plots
from sim.api.common import check_finished, reading
from sim.api.compares import redraw_comparison_plots
from sim.api.plans import redraw_plan_plots
from sim.api.runs import check_replications, redraw_plots
from sim.api.sweeps import plot_sweep_folder
from sim.conventions import InputError
from sim.experiment import calibrate as calibrating
from sim.experiment import plan_store
from sim.experiment.calibfile import is_calibration_data
from sim.experiment.sweep import check_points, check_size
from sim.experiment.sweepfile import (
    is_sweep_data,
    load_sweep,
)
from sim.output.folder import (
    folder_kind,
)
from sim.scenario.load import load_scenario
from sim.scenario.schema import schema_text
from sim.scenario.toml import read_toml

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "scenarios" / "schema.json"
"""Where a checkout of the repository keeps the JSON Schema of the scenario format."""

# ---- the other commands ------------------------------------------------------------------


def validate_file(path: str | Path, allow_large: bool = False) -> str:
    """Check a scenario, sweep or calibration file, running nothing; return ``"scenario"``,
    ``"sweep"`` or ``"calibration"``.

    A calibration file (see :func:`~sim.experiment.calibfile.is_calibration_data`) is
    checked with its base scenario, priors, fitted observations and budget.

    A sweep file (see :func:`~sim.experiment.sweepfile.is_sweep_data`) is checked as a
    sweep: the file, its base scenario, its size and every design point. Raises
    :class:`ScenarioError` for the first problem.
    """
    data = read_toml(path)
    if is_calibration_data(data):
        calibration_spec(path, allow_large)
        return "calibration"
    if is_sweep_data(data):
        spec = load_sweep(path)
        check_size(spec, allow_large)
        check_points(spec, spec.make_design().points)
        return "sweep"
    scenario = load_scenario(path)
    check_replications(None, scenario, allow_large)
    return "scenario"


def plot(result_dir: str | Path) -> Path:
    """Re-draw the plots of a finished run, sweep, comparison or plan folder from its files;
    return ``plots/``."""
    d = Path(result_dir)
    if not d.is_dir():
        raise InputError(f"{d}: no such result folder")
    kind = folder_kind(d)
    if kind == "comparison":
        with reading(d, "a comparison folder that can be plotted"):
            redraw_comparison_plots(d)
    elif kind == "calibration":
        check_finished(d, "calibration", calibrating.POSTERIOR_CSV, "calibrate")
        with reading(d, "a calibration folder that can be plotted"):
            redraw_calibration_plots(d)
    elif kind == "plan":
        check_finished(d, "plan", plan_store.PLAN_JSON)
        with reading(d, "a plan folder that can be plotted"):
            redraw_plan_plots(d)
    elif kind == "sweep" or (d / "design.csv").is_file():
        check_finished(d, "sweep", "points.csv")
        plot_sweep_folder(d)
    else:
        redraw_plots(d)
    return d / "plots"


def write_schema(path: str | Path | None = None) -> Path:
    """Write the JSON Schema of the scenario format to ``path`` (default: the repository's
    ``scenarios/schema.json``, for editors); return the path written."""
    if path is None:
        if not SCHEMA_FILE.parent.is_dir():
            raise InputError(
                f"{SCHEMA_FILE.parent}: no scenarios folder beside the package "
                "(give the file to write: siege schema --write FILE)"
            )
        path = SCHEMA_FILE
    target = Path(path)
    try:
        target.write_text(schema_text(), encoding="utf-8")
    except OSError as err:
        raise InputError(f"{target}: cannot write the file: {err.strerror or err}") from None
    return target
