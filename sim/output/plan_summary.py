"""The text ``siege plan`` prints at the end: the answer, then every candidate evaluated."""

from __future__ import annotations

import math

from sim.experiment.plan import Evaluation, PlanOutcome, PlanSpec


def _num(x: float) -> str:
    if not math.isfinite(x):
        return "–"
    if abs(x) >= 1e6:
        return f"{x / 1e6:.3g} M"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def _row(e: Evaluation) -> tuple[str, ...]:
    goals = "; ".join(
        f"{j.goal.metric} {_num(j.estimate)} ({j.goal.side} {_num(j.bound)})" for j in e.judgements
    )
    verdict = "undecided → not met" if e.verdict == "undecided" else e.verdict
    return (str(e.step), str(e.value), str(e.replications), verdict, goals)


def format_plan(
    spec: PlanSpec,
    outcome: PlanOutcome,
    *,
    out_dir: str,
    ran: int,
    reused: int,
    wall_time_s: float,
) -> str:
    """The console summary of a plan (no trailing newline)."""
    mode = (
        "deterministic: one replication per candidate"
        if spec.exact
        else f"batches of {spec.batch}, at most {spec.replications} replications per candidate"
    )
    lines = [
        f"plan: {spec.base.name}, {spec.vary.path} in [{spec.vary.low}, {spec.vary.high}], "
        f"seed {spec.seed}, {mode}",
        f"goal: {spec.goal_text} (one-sided bounds at {spec.confidence:.0%})",
        "",
    ]
    table: list[tuple[str, ...]] = [
        ("step", spec.vary.path, "replications", "verdict", "estimate (bound)")
    ]
    table.extend(_row(e) for e in outcome.trace)
    widths = [max(len(r[i]) for r in table) for i in range(4)]
    for r in table:
        lines.append(
            f"{r[0]:>{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:>{widths[2]}}  "
            f"{r[3]:<{widths[3]}}  {r[4]}"
        )
    lines.append("")
    if outcome.answer is None:
        lines.append(f"answer: none — {outcome.reason}")
    else:
        lines.append(f"answer: {outcome.statement}")
        lines.append(f"  why: {outcome.reason}")
    undecided = sum(1 for e in outcome.trace if e.verdict == "undecided")
    if undecided:
        lines.append(
            f"  {undecided} candidate(s) undecided at the replication cap were counted as "
            "not met (conservative); raise --replications to decide them"
        )
    lines.extend(
        [
            "",
            f"runs: {ran} run now, {reused} reused from the journal, {wall_time_s:.1f} s",
            f"results: {out_dir}",
        ]
    )
    return "\n".join(lines)
