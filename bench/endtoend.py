"""What a user waits for: whole commands, timed from the outside, and the runner's overhead.

- :func:`fixed_cost`: ``siege run SCENARIO --replications 1`` end to end (interpreter
  start, imports, the run, every file and plot, exit), with 2 workers (the default on
  the 2-core machine) and with 1, median of a few repeats.
- :func:`end_to_end`: ``siege run --replications N`` with 1 and with 2 workers; the
  end-to-end parallel efficiency is the work that depends on N, per worker setting,
  compared: ``(W1 − F1) / (2 × (W2 − F2))``, where ``W`` is the wall time of the N
  replication run and ``F`` the fixed cost (the 1-replication run) with the same
  number of workers (both with the same plots, drawn in parallel or not).
- :func:`sweep_overhead`: the marginal cost of a run in the sweep runner (``sim.api.sweep``
  in this process, one worker) against the marginal cost of the same replications
  run bare (:func:`sim.model.world.run_replication`): the difference between two sweep
  sizes, so the sweep's fixed parts (checks, probe run, files, plots) cancel.
- :func:`peer`: ``siege sweep`` end to end against EMA workbench's
  ``MultiprocessingEvaluator`` (:mod:`bench.peer_ema`) on the same runs, alternated.

Times are seconds (wall: :func:`time.perf_counter`; CPU of a command: its own and its
waited-for children's, from ``wait4``).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.measures import shown_path, siege_run_command, siege_sweep_command
from sim.api import sweep, sweep_spec
from sim.experiment.sweepfile import parse_param_option
from sim.model.world import run_replication
from sim.scenario.load import load_scenario, with_values

PEER_MISSING = 3
"""Exit status of :mod:`bench.peer_ema` when ema_workbench is not installed."""


def timed(cmd: Sequence[str], log: Path) -> dict[str, Any]:
    """Run ``cmd`` (output to ``log``): wall time, CPU time, exit status."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as fh:
        w0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - w0
    proc.returncode = os.waitstatus_to_exitcode(status)
    rec: dict[str, Any] = {
        "command": " ".join(shown_path(c) for c in cmd),
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "exit_status": proc.returncode,
    }
    if proc.returncode != 0:
        rec["output_tail"] = log.read_text(errors="replace")[-2000:]
    return rec


def _siege_run(
    scenario: str, replications: int, workers: int, out: Path, repeats: int
) -> dict[str, Any]:
    """``siege run`` ``repeats`` times: the median wall and CPU time, and every wall time."""
    cmd = siege_run_command(scenario, replications, workers, out)
    runs = [timed(cmd, out.with_name(out.name + ".log")) for _ in range(repeats)]
    failed = [r for r in runs if r["exit_status"] != 0]
    rec: dict[str, Any] = {
        "command": runs[0]["command"],
        "replications": replications,
        "workers": workers,
        "repeats": repeats,
        "wall_s": statistics.median(r["wall_s"] for r in runs),
        "cpu_s": statistics.median(r["cpu_s"] for r in runs),
        "walls_s": [round(r["wall_s"], 3) for r in runs],
        "exit_status": failed[0]["exit_status"] if failed else 0,
    }
    if failed:
        rec["output_tail"] = failed[0].get("output_tail", "")
    return rec


def fixed_cost(scenario: str, repeats: int, scratch: Path) -> dict[str, Any]:
    """``siege run SCENARIO --replications 1`` with 2 workers and with 1 (see the module)."""
    timed([sys.executable, "-c", "import sim.api"], scratch / "warm.log")  # file caches
    return {
        f"workers_{w}": _siege_run(scenario, 1, w, scratch / f"fixed_w{w}", repeats) for w in (2, 1)
    }


def end_to_end(
    scenario: str, replications: int, fixed: dict[str, Any], scratch: Path
) -> dict[str, Any]:
    """``siege run --replications N`` with 1 and 2 workers; efficiency net of fixed costs."""
    rec: dict[str, Any] = {"replications": replications}
    for w in (1, 2):
        rec[f"workers_{w}"] = _siege_run(scenario, replications, w, scratch / f"e2e_w{w}", 1)
    w1, w2 = rec["workers_1"]["wall_s"], rec["workers_2"]["wall_s"]
    f1, f2 = fixed["workers_1"]["wall_s"], fixed["workers_2"]["wall_s"]
    rec["efficiency"] = (w1 - f1) / (2.0 * (w2 - f2)) if w2 > f2 else None
    rec["efficiency_gross"] = w1 / (2.0 * w2)
    return rec


def sweep_overhead(
    scenario: str, param: str, small: int, large: int, scratch: Path
) -> dict[str, Any]:
    """Marginal CPU time of a run in the sweep runner against the same run bare."""
    path, values = parse_param_option(param)
    base = load_scenario(scenario)
    points = [with_values(base, {path: v}, source="<bench>") for v in _values(values)]
    cpu: dict[int, float] = {}
    for reps in (small, large):
        spec = sweep_spec(scenario, params=[param], replications=reps)
        c0 = time.process_time()
        result = sweep(spec, scratch / f"overhead_{reps}", workers=1, force=True)
        cpu[reps] = time.process_time() - c0
        if result.failed:
            raise RuntimeError(f"the sweep of {reps} replications had {result.failed} failures")
    c0 = time.process_time()
    for point in points:
        for r in range(small, large):
            run_replication(point, r, base.seed)
    bare = time.process_time() - c0
    runs = len(points) * (large - small)
    per_run_sweep = (cpu[large] - cpu[small]) / runs
    per_run_bare = bare / runs
    return {
        "param": param,
        "points": len(points),
        "replications": [small, large],
        "marginal_runs": runs,
        "sweep_cpu_s": cpu,
        "per_run_sweep_s": per_run_sweep,
        "per_run_bare_s": per_run_bare,
        "overhead": per_run_sweep / per_run_bare - 1.0,
    }


def _values(values: Any) -> list[Any]:
    """The listed values of a ``--param`` option (a range is not a list of values)."""
    if isinstance(values, list | tuple):
        return list(values)
    raise ValueError("the overhead measure needs a list of values (path=v1,v2,...)")


def peer(
    scenario: str, param: str, replications: int, workers: int, rounds: int, scratch: Path
) -> dict[str, Any]:
    """``siege sweep`` and the EMA workbench peer on the same runs, alternated ``rounds``
    times; medians. ``peer`` is None (with the reason) when ema_workbench is missing."""
    sweep_cmd = siege_sweep_command(scenario, param, replications, workers, scratch / "peer_sweep")
    peer_out = scratch / "peer_ema.json"
    peer_cmd = [
        sys.executable,
        "-m",
        "bench.peer_ema",
        scenario,
        "--param",
        param,
        "--replications",
        str(replications),
        "--workers",
        str(workers),
        "--out",
        str(peer_out),
    ]
    sweeps: list[dict[str, Any]] = []
    peers: list[dict[str, Any]] = []
    missing = False
    for _ in range(rounds):
        sweeps.append(timed(sweep_cmd, scratch / "peer_sweep.log"))
        if missing:
            continue
        rec = timed(peer_cmd, scratch / "peer_ema.log")
        if rec["exit_status"] == PEER_MISSING:
            missing = True
            continue
        if rec["exit_status"] == 0:
            rec.update(json.loads(peer_out.read_text(encoding="utf-8")))
        peers.append(rec)
    points = len(param.split("=", 1)[1].split(","))
    out: dict[str, Any] = {
        "param": param,
        "runs": points * replications,
        "workers": workers,
        "rounds": rounds,
        "siege_sweep": _medians(sweeps),
    }
    if missing:
        out["peer"] = None
        out["peer_skipped"] = "ema_workbench is not installed (pip install 'siege-sim[bench]')"
    else:
        out["peer"] = _medians(peers)
    return out


def _medians(recs: list[dict[str, Any]]) -> dict[str, Any]:
    """The first record, with wall and CPU times (and ``evaluate_s``) the medians of all."""
    first = dict(recs[0])
    for key in ("wall_s", "cpu_s", "evaluate_s"):
        vals = [r[key] for r in recs if key in r]
        if vals:
            first[key] = statistics.median(vals)
    first["walls_s"] = [round(r["wall_s"], 3) for r in recs]
    failed = [r for r in recs if r["exit_status"] != 0]
    if failed:
        first["exit_status"] = failed[0]["exit_status"]
        first["output_tail"] = failed[0].get("output_tail", "")
    return first
