"""The plot of a plan folder, drawn from its files alone (``siege plot`` re-draws it).

``plots/plan.png``: one panel per goal. For every candidate the search evaluated, the
goal metric's estimate (a dot: green when the candidate met every goal, red when it
did not, orange when it was still undecided at the replication cap and counted as not
met) and the one-sided confidence bound the goal is judged on (a bar from the
estimate to the bound, its replications written beside it); the goal's threshold as a
dashed line; the answer as a vertical line (none when the goal cannot be met in the
range). The x axis is the varied parameter (dates for a date).

Inputs: ``plan.json`` (goals, answer, statement) and ``trace.csv``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import textwrap
from pathlib import Path
from typing import Any

from sim.conventions import csv_dicts
from sim.output.compare_plots import number_formatter, number_tick
from sim.output.plots import COLORS, _figure

PLOT_FILE = "plan.png"
VERDICT_COLORS = {"met": COLORS[2], "not met": COLORS[3], "undecided": COLORS[1]}


def _x(cell: str, kind: str) -> Any:
    return dt.date.fromisoformat(cell) if kind == "date" else float(cell)


def _num(cell: str) -> float:
    return math.nan if cell == "" else float(cell)


def plot_plan(folder: Path, out: Path) -> list[Path]:
    """Draw ``plan.png`` into the existing folder ``out`` (a new folder of the caller's,
    never ``plots/`` itself: nothing is written through a link); return its path."""
    folder = Path(folder)
    out = Path(out)
    record = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
    with open(folder / "trace.csv", newline="", encoding="utf-8") as fh:
        trace = list(csv_dicts(fh))
    kind = record["kind"]
    goals = record["goals"]
    # matplotlib is imported on first use, as in sim.output.plots
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
    from matplotlib.ticker import MaxNLocator

    fig = _figure(9, 3.2 * len(goals) + 1.3)
    axes = fig.subplots(len(goals), 1, sharex=True, squeeze=False)[:, 0]
    answer = record["answer"]
    ax_answer = _x(str(answer), kind) if answer is not None else None
    for ax, goal in zip(axes, goals, strict=True):
        metric = goal["metric"]
        side = "upper" if goal["op"] in ("<=", "<") else "lower"
        xs = [_x(row["value"], kind) for row in trace]
        nums = [date2num(x) if kind == "date" else float(x) for x in xs]
        span = (max(nums) - min(nums)) or 1.0
        labelled: list[float] = []
        for row, x, xn in zip(trace, xs, nums, strict=True):
            est = _num(row[f"{metric}_estimate"])
            bound = _num(row[f"{metric}_{side}_bound"])
            color = VERDICT_COLORS.get(row["verdict"], "0.4")
            if math.isfinite(est) and math.isfinite(bound) and bound != est:
                ax.plot([x, x], [est, bound], color=color, linewidth=2.5, alpha=0.6, zorder=3)
            if math.isfinite(est):
                ax.plot([x], [est], "o", color=color, markersize=6, zorder=4)
                if all(abs(xn - other) > 0.04 * span for other in labelled):
                    labelled.append(xn)
                    ax.annotate(
                        f"n={row['replications']}",
                        (x, est),
                        xytext=(4, -10),
                        textcoords="offset points",
                        fontsize=6.5,
                        color="0.35",
                    )
        ax.axhline(
            goal["threshold"],
            color="0.2",
            linestyle="--",
            linewidth=1,
            label=f"goal: {metric} {goal['op']} {number_tick(goal['threshold'])}",
            zorder=2,
        )
        if ax_answer is not None:
            ax.axvline(
                ax_answer,
                color=COLORS[0],
                linewidth=1.5,
                alpha=0.7,
                zorder=1,
                label=f"answer: {record['answer']}",
            )
        if goal.get("share"):
            top = max([goal["threshold"], *_values(trace, metric, side)], default=1.0)
            ax.set_ylim(-0.02, min(1.02, max(0.1, top * 1.15)))
        unit = goal.get("unit") or ""
        ax.set_ylabel(f"{metric}\n({unit})" if unit else metric, fontsize=8)
        ax.set_title(
            f"{metric}: estimate (dot) and {side} {record['confidence']:.0%} bound (bar)",
            fontsize=9,
            loc="left",
        )
        ax.yaxis.set_major_formatter(number_formatter())
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize=7.5, framealpha=0.8)
    last = axes[-1]
    last.set_xlabel(record["parameter"])
    if kind == "date":
        loc = AutoDateLocator(minticks=3, maxticks=8)
        last.xaxis.set_major_locator(loc)
        last.xaxis.set_major_formatter(ConciseDateFormatter(loc))
    elif kind == "integer":
        last.xaxis.set_major_locator(MaxNLocator(integer=True))
    legend = (
        "green: met; red: not met; orange: undecided at the cap, counted as not met; "
        "n = replications (trace.csv)"
    )
    statement = record["statement"] if answer is not None else record["reason"]
    fig.suptitle(
        "\n".join(textwrap.wrap(f"{record['scenario']}: {statement}", 110)) + f"\n({legend})",
        fontsize=9,
    )
    path = out / PLOT_FILE
    fig.savefig(path, metadata={"Software": None})
    return [path]


def _values(trace: list[dict[str, str]], metric: str, side: str) -> list[float]:
    out = []
    for row in trace:
        for key in (f"{metric}_estimate", f"{metric}_{side}_bound"):
            v = _num(row[key])
            if math.isfinite(v):
                out.append(v)
    return out
