"""The compact text summaries ``siege run`` and ``siege sweep`` print at the end.

A run: key metrics with their 5th, 50th and 95th percentiles across replications
(first stock-out days shown as dates, "never" when the stock lasted to the end), then
every observation beside the model's median and 5–95 % range, and the result folder.
A sweep: points, replications, runs, wall time, failures and the sweep folder.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

from sim.analysis.precision import sentence
from sim.experiment.store import RUNS_CSV
from sim.experiment.sweep import SweepResult
from sim.scenario.schema import Scenario, shuttle_fleets


def _num(x: Any) -> str:
    if x is None:
        return "–"
    v = float(x)
    if not math.isfinite(v):
        return "–"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}"


def _day(start: dt.date, x: Any) -> str:
    if x is None or not math.isfinite(float(x)):
        return "never"
    return (start + dt.timedelta(days=round(float(x)))).isoformat()


def key_metrics(scenario: Scenario, summary: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Names of the metrics worth a line on the console, in display order."""
    shuttles = set(shuttle_fleets(scenario))
    names = [
        "delivered_t",
        *(f"delivered_t__{f}" for f in scenario.fleets if f not in shuttles),
        "transferred_t" if shuttles else "",
        "aircraft_lost",
        "person_days_below_full",
        "person_days_below_half",
        "combat_sorties_per_day",
    ]
    rationed = [c for c, spec in scenario.commodities.items() if spec.rationed]
    for p in scenario.pockets:
        for c in rationed:
            # shown where the pocket has a demand for it (min days of supply defined)
            dos = summary.get(f"min_days_of_supply__{p}__{c}")
            if dos is not None and dos.get("n"):
                names.append(f"first_stockout_day__{p}__{c}")
    return [n for n in names if n in summary]


def format_summary(
    scenario: Scenario,
    summary: Mapping[str, Mapping[str, Any]],
    observations: Sequence[Mapping[str, Any]],
    *,
    replications: int,
    seed: int,
    wall_time_s: float | None = None,
    out_dir: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """The console summary of a run, as one string (no trailing newline).

    ``extra`` is the run's :attr:`sim.api.RunSet.extra`: the precision reached (and
    which metric decided), or the one replication run."""
    start = scenario.calendar.start
    timing = f", {wall_time_s:.1f} s" if wall_time_s is not None else ""
    extra = extra or {}
    what = f"{replications} replications"
    if "replication" in extra:
        what = f"replication {extra['replication']} alone"
    lines = [f"{scenario.name}: {what}, seed {seed}{timing}"]
    if "precision" in extra:
        lines.append(sentence(extra["precision"]))
    lines.append("")
    rows = [("metric", "p05", "p50", "p95")]
    notes: list[str] = []
    for name in key_metrics(scenario, summary):
        s = summary[name]
        if name.startswith("first_stockout_day__"):
            _, p, c = name.split("__")
            label = f"first stock-out {c} ({p})"
            rows.append(
                (label, _day(start, s["p05"]), _day(start, s["median"]), _day(start, s["p95"]))
            )
            share = s.get("never_share")
            if share:
                notes.append(f"  {label}: never in {share:.0%} of replications")
        else:
            rows.append((name, _num(s["p05"]), _num(s["median"]), _num(s["p95"])))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        lines.append(
            f"{r[0]:<{widths[0]}}  " + "  ".join(f"{r[i]:>{widths[i]}}" for i in range(1, 4))
        )
    lines.extend(notes)
    if observations:
        lines.append("")
        orows: list[tuple[str, ...]] = [
            ("observation", "observed", "model p50 [p05 – p95]", "rel.err", "ok", "role")
        ]
        for o in observations:
            rel = o["rel_error"]
            rel_s = f"{float(rel):+.0%}" if rel is not None and math.isfinite(rel) else "–"
            ok = o["within_tolerance"]
            orows.append(
                (
                    str(o["id"]),
                    f"{_num(o['observed'])} {o.get('unit') or ''}".strip(),
                    f"{_num(o['model_p50'])} [{_num(o['model_p05'])} – {_num(o['model_p95'])}]",
                    rel_s,
                    "–" if ok is None else ("yes" if ok else "NO"),
                    str(o.get("role") or "calibration"),
                )
            )
        ow = [max(len(row[i]) for row in orows) for i in range(6)]
        for row in orows:
            name, observed, model, rel, ok_s, role = row
            lines.append(
                f"{name:<{ow[0]}}  {observed:>{ow[1]}}  {model:<{ow[2]}}  {rel:>{ow[3]}}  "
                f"{ok_s:<{ow[4]}}  {role}"
            )
        lines.append(_tolerance_line(observations))
    if out_dir is not None:
        lines.extend(["", f"results: {out_dir}"])
    return "\n".join(lines)


def _tolerance_line(observations: Sequence[Mapping[str, Any]]) -> str:
    """``n of m observations within tolerance``, split by role when some are held out."""
    n_ok = sum(1 for o in observations if o["within_tolerance"])
    line = f"{n_ok} of {len(observations)} observations within tolerance"
    roles = [str(o.get("role") or "calibration") for o in observations]
    if "validation" not in roles:
        return line
    parts = []
    for role in ("calibration", "validation"):
        mine = [o for o, r in zip(observations, roles, strict=True) if r == role]
        ok = sum(1 for o in mine if o["within_tolerance"])
        parts.append(f"{role} {ok} of {len(mine)}")
    return f"{line} ({', '.join(parts)})"


def format_sweep_summary(result: SweepResult, quiet: bool = False) -> str:
    """The lines ``siege sweep`` prints at the end (only the folder when ``quiet``), and
    a line on the failed runs if there are any."""
    if quiet:
        lines = [str(result.out_dir)]
    else:
        lines = [
            f"sweep: {result.points} points × {result.replications} replications = "
            f"{result.runs} runs ({result.ran} run now, {result.wall_time_s:.1f} s), "
            f"{result.failed} failed",
            f"results: {result.out_dir}",
        ]
    if result.failed:
        lines.append(
            f"{result.failed} of {result.runs} runs failed (see the error column of "
            f"{result.out_dir / RUNS_CSV}); first: {result.first_error}"
        )
    return "\n".join(lines)
