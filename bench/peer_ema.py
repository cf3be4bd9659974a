"""The peer of ``siege sweep``: EMA workbench's ``MultiprocessingEvaluator`` on the same runs.

``python -m bench.peer_ema SCENARIO --param PATH=v1,v2,... --replications N --workers W
--out FILE`` runs every value × replication ``0 .. N-1`` of the scenario through
EMA workbench (https://emaworkbench.readthedocs.io; ``pip install 'siege-sim[bench]'``)
with W processes, each run calling our own model and metrics exactly as a sweep's
worker does: replication ``r`` with the scenario's seed
(:func:`sim.model.world.run_replication`) of the scenario with the value set
(:func:`sim.scenario.load.with_values`, the base loaded once per process), reduced to
the sweep's metrics (:func:`sim.analysis.metrics.replication_metrics`). So the two
compute the same numbers, and what differs is only the machinery around the runs.

It writes a JSON record: the wall time of the whole process up to the result table
(``wall_s``, imports included) and of ``perform_experiments`` alone
(``evaluate_s``), the runs, and the mean of ``delivered_t`` per value (a check that
the peer computed what the sweep does). Exit status 3 when ema_workbench is not
installed (the benchmark then skips the peer, saying so).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

T0 = time.perf_counter()

from sim.analysis.metrics import replication_metrics  # noqa: E402  (after T0)
from sim.model.world import run_replication  # noqa: E402
from sim.scenario.load import load_scenario, with_values  # noqa: E402
from sim.scenario.schema import Scenario  # noqa: E402

NOT_INSTALLED = 3
"""Exit status when ema_workbench is missing."""
METRICS: tuple[str, ...] = ("delivered_t", "aircraft_lost", "person_days_below_half")
"""Outcomes reported to the workbench (the sweep's default metrics, stock-outs aside)."""


@functools.lru_cache(maxsize=4)
def _base(path: str) -> Scenario:
    return load_scenario(path)


@functools.lru_cache(maxsize=64)
def _point(path: str, param: str, value: float) -> Scenario:
    return with_values(_base(path), {param: value}, source="<peer>")


def run_one(
    scenario_path: str = "", param: str = "", value: float = 0.0, replication: int = 0
) -> dict[str, float]:
    """One run, as a sweep's worker makes it: the workbench's model function."""
    scenario = _point(scenario_path, param, float(value))
    metrics = replication_metrics(scenario, run_replication(scenario, int(replication)))
    return {name: float(metrics[name]) for name in METRICS}


def evaluate(
    scenario_path: str, param: str, values: Sequence[float], replications: int, workers: int
) -> dict[str, Any]:
    """Every value × replication through ``MultiprocessingEvaluator``; the record."""
    from ema_workbench import (
        Constant,
        IntegerParameter,
        Model,
        MultiprocessingEvaluator,
        RealParameter,
        ScalarOutcome,
        Scenario,
    )

    model = Model("siege", function=run_one)
    model.uncertainties = [
        RealParameter("value", min(values), max(values) + 1e-9),
        IntegerParameter("replication", 0, max(1, replications - 1)),
    ]
    model.constants = [Constant("scenario_path", scenario_path), Constant("param", param)]
    model.outcomes = [ScalarOutcome(name) for name in METRICS]
    scenarios = [
        Scenario(f"{i}_{r}", value=float(v), replication=r)
        for i, v in enumerate(values)
        for r in range(replications)
    ]
    _base(scenario_path)  # loaded before the workers are forked, as a sweep ships its base
    t0 = time.perf_counter()
    with MultiprocessingEvaluator(model, n_processes=workers) as evaluator:
        experiments, outcomes = evaluator.perform_experiments(scenarios=scenarios)
    evaluate_s = time.perf_counter() - t0
    delivered = outcomes["delivered_t"]
    means = {
        str(v): float(delivered[(experiments["value"] == float(v)).to_numpy()].mean())
        for v in values
    }
    return {
        "evaluate_s": evaluate_s,
        "runs": len(experiments),
        "workers": workers,
        "delivered_t_mean": means,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """See the module docstring."""
    p = argparse.ArgumentParser(prog="python -m bench.peer_ema", description=__doc__)
    p.add_argument("scenario")
    p.add_argument("--param", required=True, metavar="PATH=v1,v2,...")
    p.add_argument("--replications", type=int, required=True)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", required=True, metavar="FILE")
    args = p.parse_args(argv)
    try:
        import ema_workbench
    except ImportError:
        print("ema_workbench is not installed: pip install 'siege-sim[bench]'", file=sys.stderr)
        return NOT_INSTALLED
    import logging

    logging.getLogger("EMA").setLevel(logging.WARNING)
    param, _, spec = args.param.partition("=")
    values = [float(v) for v in spec.split(",")]
    record = evaluate(args.scenario, param, values, args.replications, args.workers)
    record["wall_s"] = time.perf_counter() - T0
    record["ema_workbench"] = ema_workbench.__version__
    Path(args.out).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
