"""siege-sim: a discrete-event simulator of a besieged enclave kept alive from the air.

The public API, for notebooks and scripts (imported on first use, so ``import sim``
stays light)::

    sim.load_scenario(path, overrides=())  -> Scenario
    sim.run(scenario, replications=None, seed=None, workers=1, progress=False) -> RunSet
    sim.write_run(runset, out_dir=None, force=False, command=None) -> Path
    sim.sweep(...)                          (see sim.experiment.sweep)
    sim.compare([scenario, ...], out_dir=None, replications=None, seed=None, workers=1)
                                            -> Comparison (paired, common random numbers)
    sim.plan(scenario, "PATH=LOW:HIGH", "METRIC OP VALUE", out_dir=None, ...) -> PlanResult
    sim.resume_plan(folder)                 -> PlanResult
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_API = {
    "load_scenario": "sim.api",
    "run": "sim.api",
    "write_run": "sim.api",
    "redraw_plots": "sim.api",
    "RunSet": "sim.api",
    "sweep": "sim.experiment.sweep",
    "compare": "sim.api",
    "Comparison": "sim.api",
    "plan": "sim.api",
    "resume_plan": "sim.api",
    "PlanResult": "sim.api",
    "redraw_comparison_plots": "sim.api",
    "redraw_plan_plots": "sim.api",
}

__all__ = [
    "Comparison",
    "PlanResult",
    "RunSet",
    "__version__",
    "compare",
    "load_scenario",
    "plan",
    "redraw_comparison_plots",
    "redraw_plan_plots",
    "redraw_plots",
    "resume_plan",
    "run",
    "sweep",
    "write_run",
]


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
