"""The plots of a comparison folder, drawn from its files alone (``siege plot`` re-draws them).

==========================  ===========================================================
``days_of_supply_diff.png``  per inhabited pocket and rationed commodity: the paired
                             daily difference in days of supply, option − reference,
                             median line and 5–95 % band across replications, one
                             colour per option; timeline events of the reference dashed
``forest.png``               forest plot of the metric differences: per metric (one row,
                             its own unit), each option's mean paired difference and its
                             95 % interval, coloured by the verdict (better, worse, no
                             clear difference); decisive differences first
``survival.png``             share of replications whose stock has not yet run out, by
                             date, every scenario overlaid (Kaplan–Meier, censored at
                             the end of the run), per inhabited pocket and rationed
                             commodity
==========================  ===========================================================

Inputs: ``manifest.json`` (the scenario labels, reference first), ``comparison.csv``,
``daily_diff.csv``, and each scenario's run folder under ``runs/<label>/``
(``scenario.toml``, ``replications.csv``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sim.analysis.paired import is_decisive
from sim.experiment.compare import decisive_first
from sim.output.comparison import (
    COMPARISON_CSV,
    DAILY_DIFF_CSV,
    RUNS_DIR,
    read_comparison_csv,
    read_daily_diff_csv,
)
from sim.output.files import read_replications_csv
from sim.output.plots import (
    COLORS,
    _date_axis,
    _events,
    _figure,
    _figure_with_key,
    _inhabited,
    _message,
    _rationed,
    save,
    survival_curve,
)
from sim.scenario.load import load_scenario
from sim.scenario.schema import Scenario

PLOT_FILES: tuple[str, ...] = ("days_of_supply_diff.png", "forest.png", "survival.png")
"""The files :func:`plot_comparison` writes into ``plots/``."""

FOREST_ROWS = 12
"""At most this many metrics in the forest plot (the rest are in comparison.csv)."""

VERDICT_COLORS = {
    "better": COLORS[2],
    "worse": COLORS[3],
    "higher": COLORS[0],
    "lower": COLORS[0],
}
"""Forest-plot colours by verdict; anything else (no clear difference, identical) grey."""


def scenario_labels(folder: Path) -> list[str]:
    """The labels of the compared scenarios, reference first (from ``manifest.json``)."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return [s["label"] for s in manifest["scenarios"]]


def plot_comparison(folder: Path, out: Path) -> list[Path]:
    """Draw every plot of :data:`PLOT_FILES` into the existing folder ``out`` (a new
    folder of the caller's, never ``plots/`` itself: nothing is written through a link)."""
    folder = Path(folder)
    out = Path(out)
    labels = scenario_labels(folder)
    reference = load_scenario(folder / RUNS_DIR / labels[0] / "scenario.toml")
    dates, diffs = read_daily_diff_csv(folder / DAILY_DIFF_CSV)
    rows = read_comparison_csv(folder / COMPARISON_CSV)
    metrics = {
        label: read_replications_csv(folder / RUNS_DIR / label / "replications.csv")
        for label in labels
    }
    plot_days_of_supply_diff(out / PLOT_FILES[0], reference, labels, dates, diffs)
    plot_forest(out / PLOT_FILES[1], reference, labels, rows)
    plot_survival_overlay(out / PLOT_FILES[2], reference, labels, metrics)
    return [out / n for n in PLOT_FILES]


def _panels(scenario: Scenario) -> list[tuple[str, str]]:
    return [(p, c) for p in _inhabited(scenario, {}) for c in _rationed(scenario)]


def plot_days_of_supply_diff(
    path: Path,
    reference: Scenario,
    labels: Sequence[str],
    dates: Sequence[Any],
    diffs: Mapping[str, Mapping[str, np.ndarray]],
) -> None:
    """Paired difference in days of supply over time, per option (see the module)."""
    panels = _panels(reference)
    fig, main = _figure_with_key(11, 2.8 * len(panels) + 0.9, reference)
    axes = main.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    for i, (ax, (p, c)) in enumerate(zip(axes, panels, strict=True)):
        name = f"days_of_supply__{p}__{c}"
        drawn = False
        for j, label in enumerate(labels[1:]):
            arr = diffs.get(label, {}).get(name)
            if arr is None or not np.isfinite(arr[1]).any():
                continue
            color = COLORS[j % len(COLORS)]
            ax.fill_between(dates, arr[0], arr[2], color=color, alpha=0.2, linewidth=0)
            ax.plot(dates, arr[1], color=color, linewidth=1.4, label=f"{label} − {labels[0]}")
            drawn = True
        ax.axhline(0.0, color="0.3", linewidth=0.8)
        _events(ax, reference, titles=i == 0)
        ax.set_ylabel("difference (days)")
        ax.set_title(
            f"{p}, {c}: days of supply, option − reference (paired: median, 5–95 % band)",
            fontsize=10,
            loc="left",
        )
        if drawn:
            ax.legend(loc="best", fontsize=8, framealpha=0.7)
        else:
            ax.text(0.5, 0.5, "no demand in either scenario", transform=ax.transAxes, ha="center")
        _date_axis(ax)
    axes[-1].set_xlabel("date")
    main.suptitle("Difference in days of supply, on common random numbers")
    save(fig, path)


def _forest_metrics(rows: Sequence[Mapping[str, Any]], labels: Sequence[str]) -> list[str]:
    """Metrics worth a row: not observations, not identical everywhere; decisive first."""
    candidates = [r for r in rows if not str(r["metric"]).startswith("obs__")]
    order: list[str] = []
    for r in decisive_first(candidates):
        m = str(r["metric"])
        if m in order or r["verdict"] in ("identical", ""):
            continue
        if not math.isfinite(float(r["diff_mean"])):
            continue
        order.append(m)
    return order[:FOREST_ROWS]


def plot_forest(
    path: Path, reference: Scenario, labels: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    """One row per metric: each option's paired mean difference and 95 % interval."""
    names = _forest_metrics(rows, labels)
    options = list(labels[1:])
    if not names:
        fig = _figure(9, 2.5)
        ax = fig.subplots()
        _message(ax, "no metric differs between the scenarios (every difference is 0)")
        ax.set_title(f"Metric differences against {labels[0]}")
        save(fig, path)
        return
    row_h = 0.3 * len(options) + 0.5
    fig = _figure(10, row_h * len(names) + 0.8)
    axes = fig.subplots(len(names), 1, squeeze=False)[:, 0]
    by_key = {(r["scenario"], r["metric"]): r for r in rows}
    for ax, name in zip(axes, names, strict=True):
        ticks = []
        for k, label in enumerate(options):
            r = by_key.get((label, name))
            if r is None or not math.isfinite(float(r["diff_mean"])):
                ticks.append(f"{label}  (not compared)")
                continue
            mean, lo, hi = (float(r[c]) for c in ("diff_mean", "diff_ci95_low", "diff_ci95_high"))
            color = VERDICT_COLORS.get(str(r["verdict"]), "0.55")
            if math.isfinite(lo) and math.isfinite(hi):
                ax.errorbar(
                    [mean], [k], xerr=[[mean - lo], [hi - mean]], fmt="o", color=color, capsize=3
                )
                shown = f"{_short(mean)} [{_short(lo)}, {_short(hi)}]"
            else:
                ax.plot([mean], [k], "o", color=color)
                shown = _short(mean)
            mark = " *" if is_decisive(str(r["verdict"])) else ""
            ticks.append(f"{label}  {shown}{mark}")
        ax.axvline(0.0, color="0.4", linewidth=0.8)
        ax.set_yticks(range(len(options)), ticks, fontsize=7)
        ax.set_ylim(len(options) - 0.5, -0.5)
        ax.xaxis.set_major_formatter(number_formatter())
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(True, axis="x", alpha=0.3)
        r0 = next(r for r in rows if r["metric"] == name)
        arrow = {"higher": "higher is better", "lower": "lower is better"}.get(
            str(r0["better"]), "no better direction"
        )
        ax.set_title(f"{name}  ({r0['unit']}; {arrow})", fontsize=8, loc="left")
    fig.suptitle(
        f"Paired differences, option − {labels[0]}: mean and 95 % interval "
        "(one row per metric, each on its own scale)\n"
        "green: better, red: worse, blue: differs (no better direction), "
        "grey: no clear difference; * = the interval excludes 0",
        fontsize=9,
    )
    save(fig, path)


def _short(x: float) -> str:
    """A difference for a tick label: 3 significant digits, k/M for large values."""
    if x == 0:
        return "0"
    a = abs(x)
    if a >= 1e6:
        return f"{x / 1e6:+.3g} M"
    if a >= 1e3:
        return f"{x / 1e3:+.3g} k"
    return f"{x:+.3g}"


def number_tick(x: float, pos: int | None = None) -> str:
    """An axis tick: plain below 10,000, then k and M (never SI milli)."""
    a = abs(x)
    if a >= 1e6:
        return f"{x / 1e6:g}M"
    if a >= 1e4:
        return f"{x / 1e3:g}k"
    return f"{x:g}"


def number_formatter() -> Any:
    """:func:`number_tick` as a matplotlib formatter (matplotlib is imported on first use,
    as in :mod:`sim.output.plots`)."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(number_tick)


def plot_survival_overlay(
    path: Path,
    reference: Scenario,
    labels: Sequence[str],
    metrics: Mapping[str, Sequence[Mapping[str, float]]],
) -> None:
    """Survival of stocks (first stock-out date), every scenario on the same axes."""
    panels = _panels(reference)
    n_days = reference.calendar.n_days
    dates = [reference.calendar.start + dt.timedelta(days=d) for d in range(n_days)]
    fig, main = _figure_with_key(11, 2.6 * len(panels) + 0.9, reference)
    axes = main.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    for i, (ax, (p, c)) in enumerate(zip(axes, panels, strict=True)):
        key = f"first_stockout_day__{p}__{c}"
        for j, label in enumerate(labels):
            vals = [r[key] for r in metrics.get(label, []) if key in r]
            if not vals:
                continue
            curve = survival_curve(vals, n_days)
            style = "-" if j == 0 else "--"
            ax.step(
                dates,
                curve,
                where="post",
                linestyle=style,
                color="black" if j == 0 else COLORS[(j - 1) % len(COLORS)],
                label=label + (" (reference)" if j == 0 else ""),
            )
        ax.set_ylim(-0.03, 1.03)
        ax.set_ylabel("share not yet out")
        ax.set_title(f"{p}, {c}: share of replications with stock left", fontsize=10, loc="left")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="lower left", fontsize=8)
        _events(ax, reference, titles=i == 0)
        _date_axis(ax)
    axes[-1].set_xlabel("date")
    main.suptitle("Survival of stocks (first stock-out date), scenarios overlaid")
    save(fig, path)
