"""The measurements of the benchmark suite, one function per measure.

Wall times come from :func:`time.perf_counter`; CPU times (this process only) from
:func:`time.process_time` and are reported beside them because the development
machine is shared: when other work competes for the cores, wall times grow but CPU
times much less. Times are in seconds, memory in MiB (2**20 bytes).

Nothing here changes the model: scaled scenarios are built with
:func:`sim.scenario.load.with_values`, runs go through the same functions as
``siege run`` and ``siege sweep`` (the latter two as subprocesses of the ``siege``
command, for end-to-end time and memory).
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import statistics
import subprocess
import sys
import time
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import simpy
import tomli_w

from sim.analysis.metrics import replication_metrics
from sim.experiment.replicate import iter_replications
from sim.model.world import run_replication
from sim.scenario.load import dump_toml, load_scenario, with_values
from sim.scenario.schema import Scenario

REPO = Path(__file__).resolve().parent.parent
"""The repository root: recorded paths are relative to it."""

ENGINE_PROCESSES = 10
ENGINE_TIMEOUTS = 10_000
"""The engine reference: this many processes, each yielding this many ``timeout(1)``."""


def shown_path(arg: str | Path) -> str:
    """``arg`` as the results file records it: no path of the machine it ran on.

    An absolute path inside the repository becomes relative to it
    (``.venv/bin/python``, ``bench/out/run_1000``); any other absolute path is cut to
    its file name (``python3``); anything else is kept as given.
    """
    text = str(arg)
    path = Path(text)
    if not path.is_absolute():
        return text
    for candidate in (Path(os.path.normpath(path)), path.resolve()):  # symlinks kept first
        if candidate.is_relative_to(REPO):
            return candidate.relative_to(REPO).as_posix()
    return path.name


# -- 1. engine reference ------------------------------------------------------------


def engine_reference(
    processes: int = ENGINE_PROCESSES, timeouts: int = ENGINE_TIMEOUTS
) -> tuple[float, float]:
    """(wall, CPU) seconds for ``processes`` × ``timeouts`` bare SimPy timeouts."""
    env = simpy.Environment()

    def ticker(env: simpy.Environment) -> Any:
        for _ in range(timeouts):
            yield env.timeout(1)

    for _ in range(processes):
        env.process(ticker(env))
    w0, c0 = time.perf_counter(), time.process_time()
    env.run()
    return time.perf_counter() - w0, time.process_time() - c0


# -- 2. one replication, against the engine -----------------------------------------


def replication_cost(scenario: Scenario, rounds: int, per_round: int) -> dict[str, Any]:
    """Median cost of one replication, measured interleaved with the engine reference.

    Each round times the engine reference once, then replications ``0 .. per_round-1``
    (the same ones every round), so both see the same machine load. Returns medians
    (wall and CPU) of the engine reference and of a replication, their ratios, and
    the SimPy events per replication.
    """
    run_replication(scenario, 0)  # warm up: imports, the timeline cache
    engine_reference()
    eng_w: list[float] = []
    eng_c: list[float] = []
    rep_w: list[float] = []
    rep_c: list[float] = []
    events: list[int] = []
    for k in range(rounds):
        w, c = engine_reference()
        eng_w.append(w)
        eng_c.append(c)
        for r in range(per_round):
            w0, c0 = time.perf_counter(), time.process_time()
            result = run_replication(scenario, r)
            rep_w.append(time.perf_counter() - w0)
            rep_c.append(time.process_time() - c0)
            if k == 0:
                events.append(int(result.sim_events))
    ew, ec = statistics.median(eng_w), statistics.median(eng_c)
    rw, rc = statistics.median(rep_w), statistics.median(rep_c)
    return {
        "engine_wall_s": ew,
        "engine_cpu_s": ec,
        "engine_events": ENGINE_PROCESSES * ENGINE_TIMEOUTS,
        "engine_rounds": rounds,
        "replication_wall_s": rw,
        "replication_cpu_s": rc,
        "replications_timed": len(rep_w),
        "sim_events_median": statistics.median(events),
        "ratio_wall": rw / ew,
        "ratio_cpu": rc / ec,
        "us_per_event": rw / statistics.median(events) * 1e6,
        "engine_us_per_event": ew / (ENGINE_PROCESSES * ENGINE_TIMEOUTS) * 1e6,
    }


# -- 3. throughput --------------------------------------------------------------------


def throughput(
    scenario: Scenario, replications: int, workers: int, seed: int = 1
) -> dict[str, Any]:
    """Replications per second through the per-replication path of ``siege run``.

    :func:`~sim.experiment.replicate.iter_replications` with ``workers`` processes and
    :func:`~sim.analysis.metrics.replication_metrics` on each result in the parent, as
    :func:`sim.api.run` does. ``replications_per_s`` counts the whole wall time (the
    worker pool's start-up included); ``steady_per_s`` the rate between the first and
    the last result, which is what a long run approaches.
    """
    w0, c0 = time.perf_counter(), time.process_time()
    n = 0
    first = last = 0.0
    for result in iter_replications(scenario, replications, seed, workers=workers):
        replication_metrics(scenario, result)
        n += 1
        last = time.perf_counter() - w0
        if n == 1:
            first = last
    wall = time.perf_counter() - w0
    return {
        "workers": workers,
        "replications": n,
        "wall_s": wall,
        "first_result_s": first,
        "parent_cpu_s": time.process_time() - c0,
        "replications_per_s": n / wall,
        "steady_per_s": (n - 1) / (last - first) if n > 1 and last > first else None,
    }


def siege_run_command(
    scenario_path: str | Path, replications: int, workers: int, out: Path
) -> list[str]:
    """The command line of a quiet ``siege run`` into ``out`` (replaced if there)."""
    return [
        sys.executable,
        "-m",
        "sim",
        "run",
        str(scenario_path),
        "--replications",
        str(replications),
        "--workers",
        str(workers),
        "--out",
        str(out),
        "--force",
        "--quiet",
    ]


def siege_run(
    scenario_path: str | Path, replications: int, workers: int, out: Path
) -> dict[str, Any]:
    """``siege run`` end to end in a subprocess: wall time and peak memory."""
    cmd = siege_run_command(scenario_path, replications, workers, out)
    rec = run_sampled(cmd, out.with_name(out.name + ".log"))
    rec.update(
        {
            "replications": replications,
            "workers": workers,
            "replications_per_s": replications / rec["wall_s"],
        }
    )
    return rec


# -- 4. scaling -------------------------------------------------------------------------


def scaled_horizon(scenario: Scenario, factor: int) -> Scenario:
    """The scenario run ``factor`` times as long: the calendar's end moved out.

    Events stay on their dates (the added days run under the last parameters in
    force). A fleet whose active window reached the last month of the calendar keeps
    flying to the new end (its ``active_to`` moves by the same number of days); one
    that stopped earlier still stops then.
    """
    if factor == 1:
        return scenario
    cal = scenario.calendar
    extra = dt.timedelta(days=(factor - 1) * cal.n_days)
    values: dict[str, Any] = {"calendar.end": cal.end + extra}
    for name, fleet in scenario.fleets.items():
        if fleet.active_to is not None and (cal.end - fleet.active_to).days < 31:
            values[f"fleets.{name}.active_to"] = fleet.active_to + extra
    return with_values(scenario, values, source="<bench: horizon>")


def scaled_fleets(scenario: Scenario, factor: int) -> Scenario:
    """The scenario with ``factor`` times the aircraft in every fleet (events included)."""
    if factor == 1:
        return scenario
    values: dict[str, Any] = {
        f"fleets.{name}.aircraft": fleet.aircraft * factor
        for name, fleet in scenario.fleets.items()
    }
    if any(
        k.startswith("fleets.") and k.endswith(".aircraft")
        for ev in scenario.events
        for k in ev.set
    ):
        events = []
        for ev in scenario.events:
            data = ev.model_dump(mode="json")
            data["set"] = {
                k: (v * factor if k.startswith("fleets.") and k.endswith(".aircraft") else v)
                for k, v in ev.set.items()
            }
            events.append(data)
        values["events"] = events
    return with_values(scenario, values, source="<bench: fleets>")


def replication_time(scenario: Scenario, replications: int, rounds: int) -> dict[str, Any]:
    """Median wall and CPU time of replications ``0 .. replications-1``, best of rounds.

    Each round times the same replications; the per-round median is kept and the
    smallest round median reported (the least disturbed by other work).
    """
    run_replication(scenario, 0)
    best_w = best_c = float("inf")
    events = 0
    for _ in range(rounds):
        ws: list[float] = []
        cs: list[float] = []
        for r in range(replications):
            w0, c0 = time.perf_counter(), time.process_time()
            res = run_replication(scenario, r)
            ws.append(time.perf_counter() - w0)
            cs.append(time.process_time() - c0)
            events = max(events, int(res.sim_events))
        best_w = min(best_w, statistics.median(ws))
        best_c = min(best_c, statistics.median(cs))
    return {
        "wall_s": best_w,
        "cpu_s": best_c,
        "n_days": scenario.calendar.n_days,
        "aircraft": sum(f.aircraft for f in scenario.fleets.values()),
        "sim_events_max": events,
    }


def scaling(
    scenario: Scenario, factors: Sequence[int], replications: int, rounds: int
) -> dict[str, Any]:
    """Replication time for each horizon and fleet factor, and the ratios between them."""
    out: dict[str, Any] = {}
    for kind, build in (("horizon", scaled_horizon), ("fleets", scaled_fleets)):
        rows = []
        for f in factors:
            rec = replication_time(build(scenario, f), replications, rounds)
            rec["factor"] = f
            rows.append(rec)
        base = rows[0]
        for prev, row in itertools.pairwise(rows):
            row["ratio_to_x1"] = row["cpu_s"] / base["cpu_s"]
            row["ratio_to_previous"] = row["cpu_s"] / prev["cpu_s"]
            row["ratio_to_previous_wall"] = row["wall_s"] / prev["wall_s"]
        out[kind] = rows
    return out


# -- 5. memory --------------------------------------------------------------------------


def _rss_of_tree(root: int) -> dict[int, tuple[float, str]]:
    """pid → (MiB resident, command name) of ``root`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    info: dict[int, tuple[float, str]] = {}
    page_mib = os.sysconf("SC_PAGE_SIZE") / 2**20
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
                stat = fh.read()
            with open(f"/proc/{pid}/statm", encoding="ascii") as fh:
                pages = int(fh.read().split()[1])
        except (OSError, ValueError, IndexError):
            continue
        close = stat.rindex(")")
        ppid = int(stat[close + 2 :].split()[1])
        children.setdefault(ppid, []).append(pid)
        info[pid] = (pages * page_mib, stat[stat.index("(") + 1 : close])
    tree: dict[int, tuple[float, str]] = {}
    todo = [root]
    while todo:
        pid = todo.pop()
        if pid in info:
            tree[pid] = info[pid]
        todo.extend(children.get(pid, ()))
    return tree


def run_sampled(cmd: Sequence[str], log: Path, interval: float = 0.05) -> dict[str, Any]:
    """Run ``cmd`` (output to ``log``); its wall time, exit status and peak memory.

    ``peak_tree_mib`` is the largest total resident memory of the process and all its
    descendants together, sampled every ``interval`` seconds from /proc;
    ``process_peaks_mib`` the largest resident size each of them reached, largest
    first. (The kernel's ``ru_maxrss`` is no use here: a child forked from a large
    process reports that process's size from before its ``exec``.)
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    w0 = time.perf_counter()
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT)
        peak = 0.0
        at_peak: dict[int, tuple[float, str]] = {}
        largest: dict[int, float] = {}  # pid → its own peak
        while True:
            pid, status = os.waitpid(proc.pid, os.WNOHANG)
            if pid:
                break
            tree = _rss_of_tree(proc.pid)
            mib = sum(m for m, _ in tree.values())
            if mib > peak:
                peak, at_peak = mib, tree
            for p, (m, _) in tree.items():
                largest[p] = max(largest.get(p, 0.0), m)
            time.sleep(interval)
    wall = time.perf_counter() - w0
    proc.returncode = os.waitstatus_to_exitcode(status)
    rec: dict[str, Any] = {
        "command": " ".join(shown_path(c) for c in cmd),
        "exit_status": proc.returncode,
        "wall_s": wall,
        "peak_tree_mib": peak,
        "processes_at_peak": len(at_peak),
        "at_peak_mib": sorted(((round(m, 1), name) for m, name in at_peak.values()), reverse=True),
        "process_peaks_mib": sorted((round(m, 1) for m in largest.values()), reverse=True),
    }
    if proc.returncode != 0:
        rec["output_tail"] = log.read_text(errors="replace")[-2000:]
    return rec


def siege_sweep_command(
    scenario_path: str | Path, param: str, replications: int, workers: int, out: Path
) -> list[str]:
    """The command line of a quiet ``siege sweep`` of one ``--param`` into ``out``
    (replaced if there)."""
    return [
        sys.executable,
        "-m",
        "sim",
        "sweep",
        str(scenario_path),
        "--param",
        param,
        "--replications",
        str(replications),
        "--workers",
        str(workers),
        "--out",
        str(out),
        "--force",
        "--quiet",
    ]


def siege_sweep(
    scenario_path: str | Path, replications: int, workers: int, out: Path, param: str
) -> dict[str, Any]:
    """``siege sweep SCENARIO --param PARAM --replications N`` in a subprocess, sampled."""
    points = len(param.split("=", 1)[1].split(","))
    cmd = siege_sweep_command(scenario_path, param, replications, workers, out)
    rec = run_sampled(cmd, out.with_name(out.name + ".log"))
    rec.update(
        {
            "points": points,
            "replications": replications,
            "runs": points * replications,
            "workers": workers,
        }
    )
    return rec


# -- 6. validation ----------------------------------------------------------------------

EVENT_SETTINGS: tuple[tuple[str, tuple[float, ...]], ...] = (
    ("siege.combat_sorties_per_day", (0.0, 10.0, 20.0, 40.0)),
    ("weather.unflyable_share", (0.02, 0.05, 0.08)),
    ("fleets.{fleet}.mission_capable", (0.6, 0.8, 0.9)),
)
"""What the generated events set, in turn, and the values they cycle through (valid in
any scenario; the fleet one only where there is a fleet)."""


def with_extra_events(scenario: Scenario, n: int, out: Path) -> Path:
    """Write the resolved ``scenario`` with ``n`` more events (spread evenly over its
    calendar, each setting one of :data:`EVENT_SETTINGS`) to ``out``; return ``out``."""
    data = tomllib.loads(dump_toml(scenario))
    cal = scenario.calendar
    fleet = next(iter(scenario.fleets), None)
    settings = [s for s in EVENT_SETTINGS if fleet is not None or "{fleet}" not in s[0]]
    events = list(data.get("events", []))
    for i in range(n):
        path, values = settings[i % len(settings)]
        path = path.format(fleet=fleet)
        value = values[(i // len(settings)) % len(values)]
        events.append(
            {
                "date": cal.start + dt.timedelta(days=i * (cal.n_days - 1) // max(n, 1)),
                "title": f"generated event {i}",
                "set": {path: value},
            }
        )
    data["events"] = events
    out.write_text(tomli_w.dumps(data), encoding="utf-8")
    return out


def validation(
    scenario: Scenario, counts: Sequence[int], rounds: int, scratch: Path
) -> list[dict[str, Any]]:
    """Time to load and validate the scenario with each count of extra events (the work of
    ``siege validate``, timeline included): best of ``rounds``, and the ratio to the
    previous count."""
    rows: list[dict[str, Any]] = []
    for n in counts:
        path = with_extra_events(scenario, n, scratch / f"events_{n}.toml")
        best_w = best_c = float("inf")
        for _ in range(rounds):
            w0, c0 = time.perf_counter(), time.process_time()
            loaded = load_scenario(path)
            best_w = min(best_w, time.perf_counter() - w0)
            best_c = min(best_c, time.process_time() - c0)
        rows.append({"events": len(loaded.events), "added": n, "wall_s": best_w, "cpu_s": best_c})
        path.unlink()
    for prev, row in itertools.pairwise(rows):
        row["ratio_to_previous"] = row["cpu_s"] / prev["cpu_s"]
    return rows


# -- 7. a large airlift ------------------------------------------------------------------


def large_airlift(
    scenario: Scenario,
    factors: Sequence[int],
    rounds: int,
    fleets: dict[int, Scenario] | None = None,
) -> dict[str, Any]:
    """Cost per SimPy event of one replication of a large airlift against the engine's own,
    and the CPU-time ratio when the aircraft or the horizon double.

    Each row is one replication (replication 0) of the scenario scaled by
    :func:`scaled_horizon` or, for the aircraft, the scenario ``fleets[f]`` given for
    factor ``f`` (:mod:`bench.large_airlift` scales the runways, parking and loading
    places with the aircraft, so that twice the aircraft is twice the work, not longer
    queues) or else :func:`scaled_fleets`; the engine reference is timed
    before each, and the ratio of CPU times per event is judged (the machine is shared:
    a replication of several seconds and the 0.1 s engine reference see different
    loads in wall time, not in CPU time). ``rounds`` repeats everything; the fastest
    round of each row is kept.
    """
    rows: list[dict[str, Any]] = []
    given = fleets or {}
    builds = [("base", 1, scenario)] + [
        (kind, f, given[f] if kind == "fleets" and f in given else build(scenario, f))
        for kind, build in (("fleets", scaled_fleets), ("horizon", scaled_horizon))
        for f in factors
        if f > 1
    ]
    for kind, factor, sc in builds:
        best: dict[str, Any] | None = None
        for _ in range(rounds):
            ew, ec = engine_reference()
            w0, c0 = time.perf_counter(), time.process_time()
            res = run_replication(sc, 0)
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            events = int(res.sim_events)
            sorties = sum(float(res.series[f"sorties_flown__{f}"].sum()) for f in sc.fleets)
            row: dict[str, Any] = {
                "kind": kind,
                "factor": factor,
                "n_days": sc.calendar.n_days,
                "aircraft": sum(f.aircraft for f in sc.fleets.values()),
                "sorties": sorties,
                "sim_events": events,
                "wall_s": wall,
                "cpu_s": cpu,
                "us_per_event_cpu": cpu / events * 1e6,
                "engine_us_per_event_cpu": ec / (ENGINE_PROCESSES * ENGINE_TIMEOUTS) * 1e6,
                "us_per_event_wall": wall / events * 1e6,
                "engine_us_per_event_wall": ew / (ENGINE_PROCESSES * ENGINE_TIMEOUTS) * 1e6,
            }
            row["event_ratio"] = row["us_per_event_cpu"] / row["engine_us_per_event_cpu"]
            if kind == "fleets" and factor in given:
                row["places_scaled"] = True  # runways, parking and loading places too
            if best is None or cpu < best["cpu_s"]:
                best = row
        assert best is not None
        rows.append(best)
    base = rows[0]
    for row in rows[1:]:
        row["ratio_to_x1"] = row["cpu_s"] / base["cpu_s"]
        row["work_ratio_to_x1"] = row["sorties"] / base["sorties"] if base["sorties"] else None
    return {"rows": rows}
