"""The public API: what the ``siege`` command calls, and what a notebook user calls.

>>> import sim
>>> scenario = sim.load_scenario("scenarios/deir_ez_zor/baseline.toml")  # doctest: +SKIP
>>> runset = sim.run(scenario, replications=20, seed=1)                   # doctest: +SKIP
>>> runset.summary["delivered_t"]["median"]                               # doctest: +SKIP
>>> sim.write_run(runset, "results/my_run")                               # doctest: +SKIP
>>> sim.sweep("scenarios/deir_ez_zor/sweep_tempo.toml")                   # doctest: +SKIP

:func:`run` runs the replications and reduces them to plain data (:class:`RunSet`):
per-replication metrics, daily percentile bands, the metric summary and the
observations table. :func:`write_run` writes a :class:`RunSet` as a result folder
(see :mod:`sim.output.files`); :func:`redraw_plots` re-draws a folder's plots from its
files alone. Masses are in tonnes, times in days.

:func:`sweep` runs a parameter sweep into a new sweep folder and :func:`resume_sweep`
finishes an interrupted one (:mod:`sim.experiment.sweep`); this module owns the
folders (created atomically, locked while a sweep runs) and draws the plots at the
end. :func:`validate_file`, :func:`plot` and :func:`write_schema` are the other
commands of ``siege``.

Sizes beyond the limits of :mod:`sim.scenario.limits` (replications, samples, design
points, runs) are refused unless ``allow_large`` is given.

One module per command: :mod:`~sim.api.runs` (``siege run``), :mod:`~sim.api.sweeps`,
:mod:`~sim.api.calibrations`, :mod:`~sim.api.compares`, :mod:`~sim.api.plans`,
:mod:`~sim.api.commands` (``validate``, ``plot``, ``schema``), and
:mod:`~sim.api.common` for what they share. Everything public is importable from here.
"""

from __future__ import annotations

from sim.api.calibrations import (
    calibrate,
    calibration_spec,
    redraw_calibration_plots,
    resume_calibration,
)
from sim.api.commands import SCHEMA_FILE, plot, validate_file, write_schema
from sim.api.compares import Comparison, compare, redraw_comparison_plots, resume_compare
from sim.api.plans import PlanResult, format_plan, plan, redraw_plan_plots, resume_plan
from sim.api.runs import RunSet, redraw_plots, run, run_to_folder, write_run, write_run_files
from sim.api.sweeps import resume_sweep, sweep, sweep_spec
from sim.experiment.calibfile import CalibrationSpec
from sim.experiment.calibrate import CalibrationResult
from sim.experiment.designs import DESIGNS
from sim.experiment.executors import EXECUTORS
from sim.experiment.posterior import read_posterior
from sim.experiment.sweep import SweepResult
from sim.experiment.sweepfile import SweepSpec
from sim.output.calibration_summary import format_calibration
from sim.scenario.load import load_scenario
from sim.scenario.schema import Scenario, schema_text

__all__ = [
    "DESIGNS",
    "EXECUTORS",
    "SCHEMA_FILE",
    "CalibrationResult",
    "CalibrationSpec",
    "Comparison",
    "PlanResult",
    "RunSet",
    "Scenario",
    "SweepResult",
    "SweepSpec",
    "calibrate",
    "calibration_spec",
    "compare",
    "format_calibration",
    "format_plan",
    "load_scenario",
    "plan",
    "plot",
    "read_posterior",
    "redraw_calibration_plots",
    "redraw_comparison_plots",
    "redraw_plan_plots",
    "redraw_plots",
    "resume_calibration",
    "resume_compare",
    "resume_plan",
    "resume_sweep",
    "run",
    "run_to_folder",
    "schema_text",
    "sweep",
    "sweep_spec",
    "validate_file",
    "write_run",
    "write_run_files",
    "write_schema",
]
