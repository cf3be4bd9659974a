"""siege-sim: a discrete-event simulator of a besieged enclave kept alive from the air.

The public API, for notebooks and scripts, is :mod:`sim.api`; its main functions are
reachable from here too (imported on first use, so ``import sim`` stays light)::

    sim.load_scenario(path, overrides=())  -> Scenario
    sim.run(scenario, replications=None, seed=None, workers=1, progress=False) -> RunSet
    sim.write_run(runset, out_dir=None, force=False, command=None) -> Path
    sim.redraw_plots(result_dir) -> Path
    sim.sweep(spec_or_sweep_file, out_dir=None, workers=None, ...) -> SweepResult
    sim.resume_sweep(sweep_dir, workers=None, ...) -> SweepResult
    sim.compare([scenario, ...], out_dir=None, replications=None, seed=None, workers=1)
                                            -> Comparison (paired, common random numbers)
    sim.resume_compare(folder)              -> Comparison
    sim.plan(scenario, "PATH=LOW:HIGH", "METRIC OP VALUE", out_dir=None, ...) -> PlanResult
    sim.resume_plan(folder)                 -> PlanResult
    sim.calibrate(calibration_file, out_dir=None, workers=None, ...) -> CalibrationResult
    sim.resume_calibration(folder)          -> CalibrationResult
    sim.read_posterior(folder)              -> Posterior (for sim.run(..., posterior=...))
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

__all__ = [
    "CalibrationResult",
    "Comparison",
    "PlanResult",
    "RunSet",
    "__version__",
    "calibrate",
    "compare",
    "load_scenario",
    "plan",
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
    "sweep",
    "write_run",
]

_API = frozenset(__all__) - {"__version__"}


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    return getattr(importlib.import_module("sim.api"), name)
