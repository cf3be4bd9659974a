"""The files and the console table of a comparison folder (``siege compare``).

=====================  ================================================================
``comparison.csv``     one row per option (every scenario after the first) and metric:
                       the columns of :data:`sim.experiment.compare.COLUMNS` — the paired
                       difference option − reference (mean, 95 % interval), the shares of
                       replications in which the option is better / worse / higher /
                       lower, the variance reduction against unpaired sampling, Welch's
                       unpaired interval for contrast, and a verdict in words
``daily_diff.csv``     ``scenario, date``, then ``<series>_p05, <series>_p50,
                       <series>_p95`` per main series (sorted): percentiles across
                       replications of the paired daily difference option − reference;
                       one row per option and day; blank where a series is not
                       defined (no demand) or not in that option
=====================  ================================================================

Cells are written like every result file (:func:`sim.conventions.csv_cell`: ten
significant digits, NaN blank, an infinite variance reduction ``inf``, text that a
spreadsheet would take for a formula behind a ``'``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sim.analysis.paired import is_decisive
from sim.conventions import csv_dicts, csv_rows
from sim.experiment.compare import COLUMNS, OptionResult, decisive_first
from sim.output.files import PERCENTILE_SUFFIXES, write_rows

COMPARISON_CSV = "comparison.csv"
DAILY_DIFF_CSV = "daily_diff.csv"
RUNS_DIR = "runs"
"""Sub-folder holding each scenario's own run folder, ``runs/<label>/``."""


def write_comparison_csv(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    """``comparison.csv`` (columns :data:`~sim.experiment.compare.COLUMNS`)."""
    write_rows(path, COLUMNS, [[r[c] for c in COLUMNS] for r in rows])


def read_comparison_csv(path: Path) -> list[dict[str, Any]]:
    """Rows of ``comparison.csv``: numbers as floats (NaN if blank), text as text."""
    text_cols = {"scenario", "reference", "metric", "unit", "better", "verdict"}
    out: list[dict[str, Any]] = []
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv_dicts(fh):
            out.append(
                {
                    k: (v if k in text_cols else (math.nan if v == "" else float(v)))
                    for k, v in row.items()
                }
            )
    return out


def write_daily_diff_csv(path: Path, start: dt.date, options: Sequence[OptionResult]) -> None:
    """``daily_diff.csv``: per option and day, p05/p50/p95 of each main series' difference."""
    names = sorted({s for o in options for s in o.daily})
    header = ["scenario", "date", *(f"{n}{s}" for n in names for s in PERCENTILE_SUFFIXES)]
    n_days = max((a.shape[1] for o in options for a in o.daily.values()), default=0)
    rows: list[list[Any]] = []
    for o in options:
        blank = np.full((3, n_days), np.nan)
        cols = [o.daily.get(n, blank)[k] for n in names for k in range(3)]
        for d in range(n_days):
            date = (start + dt.timedelta(days=d)).isoformat()
            rows.append([o.label, date, *(float(c[d]) for c in cols)])
    write_rows(path, header, rows)


def read_daily_diff_csv(
    path: Path,
) -> tuple[list[dt.date], dict[str, dict[str, np.ndarray]]]:
    """Dates and, per option, series name → ``3 × days`` array (p05, p50, p95)."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv_rows(fh)
        header = next(reader)
        body = list(reader)
    names = [header[j][: -len("_p05")] for j in range(2, len(header), 3)]
    by_option: dict[str, list[list[str]]] = {}
    for row in body:
        by_option.setdefault(row[0], []).append(row)
    dates: list[dt.date] = []
    out: dict[str, dict[str, np.ndarray]] = {}
    for label, rows in by_option.items():
        if not dates:
            dates = [dt.date.fromisoformat(r[1]) for r in rows]
        values = np.array(
            [[math.nan if c == "" else float(c) for c in r[2:]] for r in rows], dtype=float
        ).reshape(len(rows), len(header) - 2)
        out[label] = {
            n: values[:, 3 * i : 3 * i + 3].T.copy()
            for i, n in enumerate(names)
            if not np.isnan(values[:, 3 * i : 3 * i + 3]).all()
        }
    return dates, out


# ---- the console table -----------------------------------------------------------------


def _num(x: Any) -> str:
    if x is None:
        return "–"
    v = float(x)
    if math.isnan(v):
        return "–"
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    if v != 0 and abs(v) >= 1e6:
        return f"{v / 1e6:,.2f} M"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}"


def _share(x: Any) -> str:
    return "–" if x is None or math.isnan(float(x)) else f"{float(x):.0%}"


def format_comparison(
    rows: Sequence[Mapping[str, Any]],
    *,
    replications: int,
    seed: int,
    labels: Sequence[str],
    out_dir: str | None = None,
    limit: int = 12,
    wall_time_s: float | None = None,
) -> str:
    """The console summary: per option, its decisive differences first (at most
    ``limit`` rows, observation metrics left out; all rows are in comparison.csv)."""
    timing = f", {wall_time_s:.1f} s" if wall_time_s is not None else ""
    lines = [
        f"compare: {len(labels)} scenarios × {replications} replications, seed {seed} "
        f"(common random numbers){timing}",
        f"reference: {labels[0]}",
    ]
    for label in labels[1:]:
        mine = [r for r in rows if r["scenario"] == label and not r["metric"].startswith("obs__")]
        ordered = decisive_first(mine)
        n_decisive = sum(1 for r in ordered if is_decisive(str(r["verdict"])))
        n_same = sum(1 for r in ordered if r["verdict"] == "identical")
        lines.extend(
            [
                "",
                f"{label} − {labels[0]}: {n_decisive} decisive differences, "
                f"{n_same} metrics identical in every replication",
            ]
        )
        table = [
            ("metric", "reference", "option", "difference [95 % CI]", "better in", "vr", "verdict")
        ]
        shown = [r for r in ordered if r["verdict"] not in ("identical", "")] or ordered
        for r in shown[:limit]:
            table.append(
                (
                    r["metric"],
                    _num(r["reference_mean"]),
                    _num(r["scenario_mean"]),
                    f"{_num(r['diff_mean'])} [{_num(r['diff_ci95_low'])}, "
                    f"{_num(r['diff_ci95_high'])}]",
                    _share(r["share_better"]),
                    _num(r["variance_reduction"]),
                    str(r["verdict"]),
                )
            )
        widths = [max(len(t[i]) for t in table) for i in range(len(table[0]))]
        for t in table:
            lines.append(
                f"{t[0]:<{widths[0]}}  "
                + "  ".join(f"{t[i]:>{widths[i]}}" for i in range(1, 6))
                + f"  {t[6]}"
            )
        hidden = len(mine) - (len(table) - 1)
        if hidden > 0:
            lines.append(f"({hidden} more metrics in comparison.csv)")
    lines.append("")
    lines.append(
        "vr = variance reduction: how many times more replications two independent runs "
        "would need for the same interval"
    )
    if out_dir is not None:
        lines.extend(["", f"results: {out_dir}"])
    return "\n".join(lines)
