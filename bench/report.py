"""The targets of the benchmark suite and the table that sets measures beside them.

:data:`TARGETS` are the targets set for the 2-core development machine.
:func:`rows` turns a results dict (what ``bench/results.json`` holds) into table
rows ``(measure, target, measured, verdict)``; :func:`text_table` prints them and
:func:`markdown_table` renders them for the README's Performance section.
"""

from __future__ import annotations

from typing import Any

TARGETS: dict[str, float] = {
    "replication_ratio": 0.5,  # one baseline replication ≤ 0.5 × the engine reference
    "run_1000_s": 40.0,  # 1,000 baseline replications with 2 workers, s
    "parallel_efficiency": 0.9,  # replications/s with 2 workers ÷ (2 × with 1)
    "doubling_ratio": 2.1,  # time ratio when the horizon or the fleets double
    "memory_ratio": 1.10,  # peak memory of a 2,000-run sweep ÷ that of a 200-run sweep
    "run_memory_mb": 600.0,  # siege run, 10,000 baseline replications, all processes, MB
    "events_doubling_ratio": 2.5,  # validation time ratio when the events double
    "validate_10000_events_s": 10.0,  # loading a scenario with 10,000 events, s
    "fixed_cost_s": 1.5,  # siege run --replications 1, end to end, plots included, s
    "e2e_efficiency": 0.9,  # siege run, 200 replications, 2 workers, net of fixed costs
    "event_cost_ratio": 3.0,  # large airlift: CPU per SimPy event ÷ the engine's
    "sweep_overhead": 0.10,  # sweep runner: cost per run beyond the replication
    "peer_ratio": 1.0,  # siege sweep end to end ÷ EMA workbench's evaluator, same runs
}
"""Target values (see the module docstring)."""

Row = tuple[str, str, str, str]


def _verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("met" if ok else "NOT MET")


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms"


def rows(results: dict[str, Any]) -> list[Row]:
    """Table rows ``(measure, target, measured, verdict)`` for the measures present.

    A quick run (``"mode": "quick"``) gets no verdicts.
    """
    verdict = _verdict if results.get("mode", "full") != "quick" else (lambda ok: "(quick run)")
    out: list[Row] = []
    rep = results.get("replication")
    if rep:
        out.append(
            (
                f"engine reference: {rep['engine_events']:,} bare SimPy timeouts (median)",
                "—",
                _ms(rep["engine_wall_s"]),
                "—",
            )
        )
        ratio = rep["ratio_wall"]
        out.append(
            (
                "baseline replication, wall time (median)",
                f"≤ {TARGETS['replication_ratio']} × engine "
                f"({_ms(TARGETS['replication_ratio'] * rep['engine_wall_s'])})",
                f"{_ms(rep['replication_wall_s'])} = {ratio:.2f} × engine",
                verdict(ratio <= TARGETS["replication_ratio"]),
            )
        )
        out.append(
            (
                "  same in CPU time",
                "—",
                f"{_ms(rep['replication_cpu_s'])} = {rep['ratio_cpu']:.2f} × engine "
                f"({_ms(rep['engine_cpu_s'])})",
                "—",
            )
        )
        out.append(
            (
                "  SimPy events per replication (median)",
                "—",
                f"{rep['sim_events_median']:,.0f} ({rep['us_per_event']:.2f} µs/event; "
                f"engine {rep['engine_us_per_event']:.2f})",
                "—",
            )
        )
    thr = results.get("throughput")
    if thr:
        for rec in thr["runs"]:
            steady = rec.get("steady_per_s")
            out.append(
                (
                    f"throughput, {rec['replications']} replications, "
                    f"{rec['workers']} worker{'s' if rec['workers'] > 1 else ''}",
                    "—",
                    f"{rec['replications_per_s']:.1f} rep/s in {rec['wall_s']:.1f} s"
                    + (f" (steady {steady:.1f} rep/s)" if steady else ""),
                    "—",
                )
            )
        eff = thr.get("parallel_efficiency")
        if eff is not None:
            out.append(
                (
                    "parallel efficiency, 2 workers (steady rate; with the pool's start-up)",
                    f"≥ {TARGETS['parallel_efficiency']}",
                    f"{eff:.3f} ({thr['parallel_efficiency_incl_startup']:.3f})",
                    verdict(eff >= TARGETS["parallel_efficiency"]),
                )
            )
        run = thr.get("siege_run")
        if run:
            ok = run["exit_status"] == 0 and run["wall_s"] <= TARGETS["run_1000_s"]
            out.append(
                (
                    f"`siege run`, {run['replications']:,} replications, "
                    f"{run['workers']} workers, end to end",
                    f"≤ {TARGETS['run_1000_s']:.0f} s",
                    f"{run['wall_s']:.1f} s (peak {run['peak_tree_mib']:.0f} MiB)"
                    + ("" if run["exit_status"] == 0 else f", exit {run['exit_status']}"),
                    verdict(ok),
                )
            )
        proj = thr.get("projected_1000_s")
        if proj is not None:
            out.append(
                (
                    "  1,000 replications at the steady 2-worker rate (no summaries)",
                    f"≤ {TARGETS['run_1000_s']:.0f} s",
                    f"{proj:.1f} s",
                    verdict(proj <= TARGETS["run_1000_s"]) if not run else "—",
                )
            )
    sc = results.get("scaling")
    if sc:
        for kind in ("horizon", "fleets"):
            for row in sc.get(kind, [])[1:]:
                prev = row["factor"] // 2 if row["factor"] % 2 == 0 else 1
                ratio = row["ratio_to_previous"]
                what = "days" if kind == "horizon" else "aircraft"
                size = row["n_days"] if kind == "horizon" else row["aircraft"]
                out.append(
                    (
                        f"{kind} ×{row['factor']} vs ×{prev} ({size:,} {what}), CPU time ratio",
                        f"≤ {TARGETS['doubling_ratio']}",
                        f"{ratio:.2f} ({_ms(row['cpu_s'])}; wall "
                        f"{row['ratio_to_previous_wall']:.2f})",
                        verdict(ratio <= TARGETS["doubling_ratio"]),
                    )
                )
    runmem = results.get("runmemory")
    if runmem:
        for rec in runmem["runs"]:
            ok = rec["exit_status"] == 0
            mb = rec["peak_tree_mib"] * 2**20 / 1e6
            out.append(
                (
                    f"`siege run` peak memory, {rec['replications']:,} replications "
                    f"({rec['workers']} workers, all processes)",
                    f"< {TARGETS['run_memory_mb']:.0f} MB",
                    f"{mb:.0f} MB ({rec['peak_tree_mib']:.0f} MiB; largest process "
                    f"{max(rec['process_peaks_mib']):.0f} MiB; {rec['wall_s']:.0f} s)"
                    if ok
                    else "failed: see results.json",
                    verdict(ok and mb < TARGETS["run_memory_mb"]),
                )
            )
    mem = results.get("memory")
    if mem:
        small, large = mem["small"], mem["large"]
        ratio = mem.get("ratio")
        failed = small["exit_status"] != 0 or large["exit_status"] != 0
        out.append(
            (
                f"`siege sweep` peak memory, {large['runs']:,} vs {small['runs']:,} runs "
                f"({large['workers']} workers, all processes)",
                f"≤ {TARGETS['memory_ratio']:.2f} ×",
                "failed: see results.json"
                if failed or ratio is None
                else f"{ratio:.3f} × ({large['peak_tree_mib']:.0f} vs "
                f"{small['peak_tree_mib']:.0f} MiB)",
                verdict(None if failed or ratio is None else ratio <= TARGETS["memory_ratio"]),
            )
        )
        if not failed:
            out.append(
                (
                    "  largest single process, same sweeps",
                    "—",
                    f"{large['process_peaks_mib'][0]:.0f} vs "
                    f"{small['process_peaks_mib'][0]:.0f} MiB",
                    "—",
                )
            )
    for row in results.get("validation", []):
        ratio = row.get("ratio_to_previous")
        out.append(
            (
                f"validation, {row['events']:,} events (load + timeline)",
                f"≤ {TARGETS['events_doubling_ratio']} × the previous"
                if ratio is not None
                else "—",
                f"{row['cpu_s']:.2f} s CPU" + (f", {ratio:.2f} ×" if ratio is not None else ""),
                verdict(ratio <= TARGETS["events_doubling_ratio"]) if ratio is not None else "—",
            )
        )
        if row["added"] == 10_000:
            out.append(
                (
                    "  10,000 added events validate in",
                    f"≤ {TARGETS['validate_10000_events_s']:.0f} s",
                    f"{row['wall_s']:.2f} s",
                    verdict(row["wall_s"] <= TARGETS["validate_10000_events_s"]),
                )
            )
    out += _end_to_end_rows(results, verdict)
    return out


def _end_to_end_rows(results: dict[str, Any], verdict: Any) -> list[Row]:
    """Rows of the measures 7–11 (fixed cost, end to end, large airlift, overhead, peer)."""
    out: list[Row] = []
    fixed = results.get("fixed")
    if fixed:
        for key, label in (("workers_2", "2 workers (the default)"), ("workers_1", "1 worker")):
            rec = fixed[key]
            ok = rec["exit_status"] == 0 and rec["wall_s"] <= TARGETS["fixed_cost_s"]
            out.append(
                (
                    f"`siege run`, 1 replication, end to end, plots included, {label}"
                    if key == "workers_2"
                    else f"  same, {label}",
                    f"≤ {TARGETS['fixed_cost_s']} s" if key == "workers_2" else "—",
                    f"{rec['wall_s']:.2f} s (CPU {rec['cpu_s']:.2f} s; median of "
                    f"{rec['repeats']})" + _failed(rec),
                    verdict(ok) if key == "workers_2" else "—",
                )
            )
    e2e = results.get("endtoend")
    if e2e:
        w1, w2 = e2e["workers_1"], e2e["workers_2"]
        out.append(
            (
                f"`siege run`, {e2e['replications']} replications, end to end, 1 / 2 workers",
                "—",
                f"{w1['wall_s']:.2f} s / {w2['wall_s']:.2f} s" + _failed(w1) + _failed(w2),
                "—",
            )
        )
        eff = e2e.get("efficiency")
        out.append(
            (
                "  end-to-end parallel efficiency, net of the fixed costs (gross)",
                f"≥ {TARGETS['e2e_efficiency']}",
                "—" if eff is None else f"{eff:.3f} ({e2e['efficiency_gross']:.3f})",
                verdict(None if eff is None else eff >= TARGETS["e2e_efficiency"]),
            )
        )
    large = results.get("large")
    if large:
        base, *rows = large["rows"]
        out.append(
            (
                f"large airlift ({base['aircraft']:,} aircraft, {base['n_days']:,} days, "
                f"{base['sorties'] / base['n_days']:,.0f} sorties/day): CPU per SimPy event",
                f"≤ {TARGETS['event_cost_ratio']:.0f} × engine",
                f"{base['us_per_event_cpu']:.2f} µs = {base['event_ratio']:.2f} × engine "
                f"({base['engine_us_per_event_cpu']:.2f} µs); {base['sim_events']:,} events, "
                f"{base['cpu_s']:.1f} s",
                verdict(base["event_ratio"] <= TARGETS["event_cost_ratio"]),
            )
        )
        for row in rows:
            what = "aircraft" if row["kind"] == "fleets" else "horizon"
            if row.get("places_scaled"):
                what = "aircraft and places"
            work = row.get("work_ratio_to_x1")
            out.append(
                (
                    f"  {what} ×{row['factor']} ({row['aircraft']:,} aircraft, "
                    f"{row['n_days']:,} days), CPU time ratio",
                    f"≤ {TARGETS['doubling_ratio']}",
                    f"{row['ratio_to_x1']:.2f} ({row['cpu_s']:.1f} s"
                    + (f"; sorties × {work:.2f}" if work else "")
                    + f"; {row['event_ratio']:.2f} × engine per event)",
                    verdict(row["ratio_to_x1"] <= TARGETS["doubling_ratio"]),
                )
            )
    over = results.get("overhead")
    if over:
        out.append(
            (
                "sweep runner: cost per run beyond the replication (CPU, 1 worker)",
                f"≤ {TARGETS['sweep_overhead']:.0%}",
                f"{over['overhead']:+.1%} ({over['per_run_sweep_s'] * 1e3:.1f} vs "
                f"{over['per_run_bare_s'] * 1e3:.1f} ms a run, {over['marginal_runs']} runs)",
                verdict(over["overhead"] <= TARGETS["sweep_overhead"]),
            )
        )
    peer = results.get("peer")
    if peer:
        mine = peer["siege_sweep"]
        other = peer.get("peer")
        label = (
            f"`siege sweep`, {peer['runs']} runs, end to end, vs EMA workbench's "
            f"MultiprocessingEvaluator ({peer['workers']} workers)"
        )
        if other is None:
            out.append((label, "≤ peer", f"{mine['wall_s']:.2f} s; {peer['peer_skipped']}", "—"))
        else:
            ratio = mine["wall_s"] / other["evaluate_s"] if other.get("evaluate_s") else None
            out.append(
                (
                    label,
                    "≤ the evaluator alone",
                    f"{mine['wall_s']:.2f} s vs {other.get('evaluate_s', float('nan')):.2f} s "
                    f"(its whole process {other['wall_s']:.2f} s)" + _failed(mine) + _failed(other),
                    verdict(
                        None
                        if ratio is None or mine["exit_status"] or other["exit_status"]
                        else ratio <= TARGETS["peer_ratio"]
                    ),
                )
            )
    return out


def _failed(rec: dict[str, Any]) -> str:
    return "" if rec.get("exit_status", 0) == 0 else f", exit {rec['exit_status']}"


def text_table(results: dict[str, Any]) -> str:
    """The table as aligned plain text."""
    table = [("measure", "target", "measured", ""), *rows(results)]
    widths = [max(len(r[i]) for r in table) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(results: dict[str, Any]) -> str:
    """The table in Markdown, with a line saying where and when it was measured."""
    m = results.get("machine", {})
    head = (
        f"Measured {results.get('date', '?')} on {m.get('cpus', '?')} cores "
        f"({m.get('processor', '?')}), Python {m.get('python', '?')}, "
        f"SimPy {m.get('simpy', '?')}, commit {m.get('commit', '?')}, "
        f"scenario `{results.get('scenario', '?')}`; load average before/after "
        f"{m.get('load_before', '?')} / {m.get('load_after', '?')}."
    )
    lines = [head, "", "| measure | target | measured | |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows(results)]
    return "\n".join(lines)
