"""Run the benchmark suite: ``python -m bench`` (or ``python bench/run.py``) from the repo root.

Options:

``--quick``
    a smoke run of a few seconds (few replications, horizon and fleets ×1 and ×2,
    tiny sweeps, no 1,000-replication ``siege run``); writes
    ``bench/out/results-quick.json`` unless ``--out`` says otherwise.
``--scenario FILE``
    the scenario to measure (default ``scenarios/deir_ez_zor/baseline.toml``).
``--only ITEM ...``
    run only some of ``replication`` (items 1–2), ``throughput``, ``scaling``, ``memory``,
    ``validation``, ``fixed`` (one-replication ``siege run`` end to end), ``endtoend``
    (``siege run`` of 200 replications, 1 and 2 workers, net of the fixed cost),
    ``large`` (a large airlift: cost per event, doubling), ``overhead`` (the sweep
    runner's cost per run beyond the replication), ``peer`` (``siege sweep`` against EMA
    workbench on the same 200 runs).
``--out FILE``
    where to write the results (default ``bench/results.json`` for a full run).
``--report [FILE]``
    print the Markdown table of a results file (default ``bench/results.json``) and
    measure nothing — what the README's Performance section shows.

Scratch output (sweep and run folders, their logs) goes to ``bench/out/``
(git-ignored). Exit status 0 when the run completed, whether or not the targets are
met (the table says which are); 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: python bench/run.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sim
from bench import endtoend, large_airlift, measures, report

ROOT = Path(__file__).resolve().parent.parent
"""The repository root (the benchmark runs from there)."""

DEFAULT_SCENARIO = "scenarios/deir_ez_zor/baseline.toml"
ITEMS: tuple[str, ...] = (
    "replication",
    "throughput",
    "scaling",
    "memory",
    "runmemory",
    "validation",
    "fixed",
    "endtoend",
    "large",
    "overhead",
    "peer",
)
DEFAULT_ITEMS: tuple[str, ...] = tuple(i for i in ITEMS if i != "runmemory")
"""What a run without ``--only`` measures: all but ``runmemory`` (about 20 minutes)."""
SWEEP_PARAM = "weather.unflyable_share=0.02,0.05,0.08,0.11"
"""The swept parameter of the memory, overhead and peer measures: 4 design points, valid
in any scenario (the default weather zone: in the Deir ez-Zor baseline, the city's,
its drop zones' and the helicopters' base's)."""

FULL: dict[str, Any] = {
    "rounds": 7,
    "per_round": 5,  # 2. replication cost: 7 × (engine + 5 replications)
    "throughput_reps": 200,  # 3. replications per worker setting
    "run_reps": 1000,  # 3. end-to-end siege run (0 = skip)
    "factors": (1, 2, 4),
    "scale_reps": 3,
    "scale_rounds": 2,  # 4.
    "sweep_small": 50,
    "sweep_large": 500,  # 5. replications per point (× 4 points)
    "runmem_reps": (2000, 10000),  # 5b. siege run, peak memory (about 20 min in all)
    "event_counts": (2500, 5000, 10000),
    "event_rounds": 2,  # 6. extra events in the validated scenario
    "fixed_repeats": 5,  # 7. siege run --replications 1, each worker setting
    "e2e_reps": 200,  # 8. siege run, 1 and 2 workers
    "large_days": 365,
    "large_rounds": 1,  # 9. the large airlift (×1, aircraft ×2, horizon ×2)
    "overhead_reps": (5, 25),  # 10. sweep runner: replications per point, two sizes
    "peer_reps": 50,
    "peer_rounds": 2,  # 11. siege sweep vs EMA workbench: 4 points × 50 replications
}
QUICK: dict[str, Any] = {
    "rounds": 2,
    "per_round": 2,
    "throughput_reps": 6,
    "run_reps": 0,
    "factors": (1, 2),
    "scale_reps": 1,
    "scale_rounds": 1,
    "sweep_small": 1,
    "sweep_large": 3,
    "runmem_reps": (3, 6),
    "event_counts": (100, 200),
    "event_rounds": 1,
    "fixed_repeats": 1,
    "e2e_reps": 4,
    "large_days": 20,
    "large_rounds": 1,
    "overhead_reps": (1, 2),
    "peer_reps": 2,
    "peer_rounds": 1,
}


def machine_info() -> dict[str, Any]:
    """Where the measures were taken: cores, processor, versions, commit, load."""
    import numpy
    import simpy

    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "sim"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if dirty:
            commit += "+uncommitted sim/ changes"
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "cpus": os.cpu_count(),
        "processor": cpu,
        "python": platform.python_version(),
        "simpy": simpy.__version__,
        "numpy": numpy.__version__,
        "platform": platform.platform(),
        "commit": commit,
        "load_before": _load(),
    }


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def compile_bytecode() -> str:
    """Compile the package's (and the benchmark's) modules to bytecode, as installing a
    package does, so that the commands timed here start as a user's do: an environment
    with ``PYTHONDONTWRITEBYTECODE`` set (a development machine's may) would otherwise
    compile every module of ours at every start (0.15 s of each command, measured)."""
    for package in (Path(sim.__file__).parent, ROOT / "bench"):  # the sim imported
        compileall.compile_dir(package, quiet=1)
    return "compiled (compileall) before measuring"


def measure(
    scenario_path: str, items: Sequence[str], cfg: dict[str, Any], scratch: Path, say: Any = print
) -> dict[str, Any]:
    """Run the chosen measures; the results dict that ``bench/results.json`` holds."""
    from sim.scenario.load import load_scenario

    scenario = load_scenario(scenario_path)
    results: dict[str, Any] = {
        "mode": "quick" if cfg is QUICK else "full",
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "scenario": measures.shown_path(scenario_path),
        "n_days": scenario.calendar.n_days,
        "machine": machine_info(),
        "bytecode": compile_bytecode(),
        "settings": {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()},
        "targets": report.TARGETS,
    }
    if "replication" in items:
        say("1-2. engine reference and one replication ...")
        results["replication"] = measures.replication_cost(
            scenario, cfg["rounds"], cfg["per_round"]
        )
    if "throughput" in items:
        runs = []
        for workers in (1, 2):
            say(f"3. throughput, {cfg['throughput_reps']} replications, {workers} worker(s) ...")
            runs.append(measures.throughput(scenario, cfg["throughput_reps"], workers))
        thr: dict[str, Any] = {"runs": runs}
        thr["parallel_efficiency_incl_startup"] = runs[1]["replications_per_s"] / (
            2 * runs[0]["replications_per_s"]
        )
        if runs[0]["steady_per_s"] and runs[1]["steady_per_s"]:
            thr["parallel_efficiency"] = runs[1]["steady_per_s"] / (2 * runs[0]["steady_per_s"])
        thr["projected_1000_s"] = runs[1]["first_result_s"] + 1000 / (
            runs[1]["steady_per_s"] or runs[1]["replications_per_s"]
        )
        if cfg["run_reps"]:
            say(f"3. siege run --replications {cfg['run_reps']} --workers 2 ...")
            thr["siege_run"] = measures.siege_run(
                scenario_path, cfg["run_reps"], 2, scratch / f"run_{cfg['run_reps']}"
            )
        results["throughput"] = thr
    if "scaling" in items:
        say(f"4. scaling, factors {cfg['factors']} ...")
        results["scaling"] = measures.scaling(
            scenario, cfg["factors"], cfg["scale_reps"], cfg["scale_rounds"]
        )
    if "memory" in items:
        mem: dict[str, Any] = {"param": SWEEP_PARAM}
        for key, reps in (("small", cfg["sweep_small"]), ("large", cfg["sweep_large"])):
            say(f"5. siege sweep, 4 points × {reps} replications, 2 workers ...")
            mem[key] = measures.siege_sweep(
                scenario_path, reps, 2, scratch / f"sweep_{key}", SWEEP_PARAM
            )
        if mem["small"]["peak_tree_mib"] > 0:
            mem["ratio"] = mem["large"]["peak_tree_mib"] / mem["small"]["peak_tree_mib"]
        results["memory"] = mem
    if "runmemory" in items:
        runs = []
        for reps in cfg["runmem_reps"]:
            say(f"5b. siege run, {reps:,} replications, 2 workers: peak memory ...")
            runs.append(measures.siege_run(scenario_path, reps, 2, scratch / f"runmem_{reps}"))
        results["runmemory"] = {"runs": runs}
    if "validation" in items:
        say(f"6. validation with {cfg['event_counts']} extra events ...")
        results["validation"] = measures.validation(
            scenario, cfg["event_counts"], cfg["event_rounds"], scratch
        )
    fixed: dict[str, Any] | None = None
    if "fixed" in items or "endtoend" in items:
        say(f"7. siege run --replications 1, 2 and 1 workers, {cfg['fixed_repeats']} times ...")
        fixed = endtoend.fixed_cost(scenario_path, cfg["fixed_repeats"], scratch)
        results["fixed"] = fixed
    if "endtoend" in items:
        assert fixed is not None
        say(f"8. siege run --replications {cfg['e2e_reps']}, 1 and 2 workers ...")
        results["endtoend"] = endtoend.end_to_end(scenario_path, cfg["e2e_reps"], fixed, scratch)
    if "large" in items:
        path = large_airlift.write(scratch / "large_airlift.toml", days=cfg["large_days"])
        say(f"9. a large airlift, {cfg['large_days']} days: ×1, aircraft ×2, horizon ×2 ...")
        big = load_scenario(path)
        doubled = large_airlift.write(
            scratch / "large_airlift_x2.toml", aircraft_factor=2, days=cfg["large_days"]
        )
        results["large"] = measures.large_airlift(
            big, (2,), cfg["large_rounds"], fleets={2: load_scenario(doubled)}
        )
        results["large"]["scenario"] = measures.shown_path(path)
    if "overhead" in items:
        small, large = cfg["overhead_reps"]
        say(f"10. sweep runner overhead, 4 points × {small} and × {large} replications ...")
        results["overhead"] = endtoend.sweep_overhead(
            scenario_path, SWEEP_PARAM, small, large, scratch
        )
    if "peer" in items:
        say(f"11. siege sweep vs EMA workbench, 4 points × {cfg['peer_reps']} replications ...")
        results["peer"] = endtoend.peer(
            scenario_path, SWEEP_PARAM, cfg["peer_reps"], 2, cfg["peer_rounds"], scratch
        )
    results["machine"]["load_after"] = _load()
    return results


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m bench``."""
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    p.add_argument("--scenario", default=DEFAULT_SCENARIO, metavar="FILE")
    p.add_argument(
        "--only",
        nargs="+",
        choices=ITEMS,
        metavar="ITEM",
        help=f"measure only these ({', '.join(ITEMS)})",
    )
    p.add_argument("--out", metavar="FILE", help="results file (JSON)")
    p.add_argument(
        "--report",
        nargs="?",
        const="bench/results.json",
        metavar="FILE",
        help="print the Markdown table of a results file; measure nothing",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; see the module docstring."""
    args = build_parser().parse_args(argv)
    if args.report:
        path = Path(args.report)
        if not path.is_file():
            print(f"error: {path}: no such results file", file=sys.stderr)
            return 2
        print(report.markdown_table(json.loads(path.read_text(encoding="utf-8"))))
        return 0
    if not Path(args.scenario).is_file():
        print(f"error: {args.scenario}: no such scenario file", file=sys.stderr)
        return 2
    cfg = QUICK if args.quick else FULL
    out = (
        Path(args.out)
        if args.out
        else (
            ROOT / "bench" / "out" / "results-quick.json"
            if args.quick
            else ROOT / "bench" / "results.json"
        )
    )
    scratch = ROOT / "bench" / "out"
    scratch.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    results = measure(
        args.scenario,
        args.only or DEFAULT_ITEMS,
        cfg,
        scratch,
        say=lambda s: print(s, file=sys.stderr, flush=True),
    )
    results["bench_wall_s"] = time.perf_counter() - t0
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(report.text_table(results))
    print(f"\nwritten {out} ({results['bench_wall_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
