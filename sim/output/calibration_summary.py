"""The text ``siege calibrate`` prints: the fit, the posterior, the held-out check.

One line on the work done (generations, particles, runs, wall time); the tolerance
and acceptance of every generation; each parameter's prior and posterior median with
its 90 % credible interval; every validation observation's posterior predictive
median and 90 % band beside the observed value, and how many observed values fall
inside their band; the folder.
"""

from __future__ import annotations

import math
from typing import Any

from sim.experiment.calibrate import CalibrationResult, Generation
from sim.output.console import _num


def _value(v: Any) -> str:
    return _num(v) if isinstance(v, int | float) else str(v)


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(f"{c:<{widths[i]}}" for i, c in enumerate(r)).rstrip() for r in rows]


def generation_line(g: Generation) -> str:
    """One generation in words (also the progress line of a running calibration)."""
    eps = "∞" if not math.isfinite(g.tolerance) else f"{g.tolerance:.4g}"
    rate = len(g.candidates) / g.used if g.used else math.nan
    tail = "" if g.complete else " — incomplete: max_candidates reached, stopped"
    return (
        f"generation {g.index}: tolerance {eps}, kept {len(g.candidates)} of {g.used} "
        f"candidates ({rate:.0%}){tail}"
    )


def format_calibration(result: CalibrationResult, quiet: bool = False) -> str:
    """The summary of a finished calibration (only the folder when ``quiet``)."""
    if quiet:
        return str(result.out_dir)
    spec, b = result.spec, result.spec.budget
    runs = sum(g.evaluated for g in result.generations) * b.replications
    runs += b.predictive_draws * b.replications
    lines = [
        f"calibration {spec.name!r} of {spec.base.name}: {spec.method}, "
        f"{len(result.generations)} generations of {b.particles} particles × "
        f"{b.replications} replications; {runs} runs ({result.ran} run now, "
        f"{result.wall_time_s:.1f} s)",
        f"fitted to: {', '.join(spec.fit)}",
        "",
        *(generation_line(g) for g in result.generations),
        "",
    ]
    prow: list[tuple[str, ...]] = [("parameter", "prior", "posterior median [90 % interval]")]
    for r in result.summary:
        prow.append(
            (
                r["parameter"],
                r["prior"],
                f"{_value(r['median'])} [{_value(r['p05'])} – {_value(r['p95'])}]",
            )
        )
    lines.extend(_table(prow))
    held = [r for r in result.rows if r["role"] == "validation"]
    lines.append("")
    if held:
        vrow: list[tuple[str, ...]] = [
            ("held out", "observed", "predicted p50 [p05 – p95]", "rel.err", "in band")
        ]
        for r in held:
            rel = r["rel_error"]
            vrow.append(
                (
                    r["id"],
                    f"{_num(r['observed'])} {r['unit']}".strip(),
                    f"{_num(r['p50'])} [{_num(r['p05'])} – {_num(r['p95'])}]",
                    f"{rel:+.0%}" if math.isfinite(rel) else "–",
                    {True: "yes", False: "NO", None: "–"}[r["inside_90"]],
                )
            )
        lines.extend(_table(vrow))
        inside = sum(1 for r in held if r["inside_90"])
        lines.append(
            f"{inside} of {len(held)} validation observations inside the 90 % predictive band"
        )
    else:
        lines.append('no validation observations (role = "validation") to predict')
    lines.extend(["", f"results: {result.out_dir}"])
    return "\n".join(lines)
