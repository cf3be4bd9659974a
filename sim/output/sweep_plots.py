"""Plots of a finished sweep, drawn from its folder's files alone.

:func:`plot_sweep` reads ``sweep.toml`` (parameters, design, metrics),
``points.csv`` and, for Sobol'/Morris designs, ``sensitivity.csv``, and writes
``plots/*.png``:

* one parameter — per metric, the mean against the parameter with its 95 %
  confidence band and the p05–p95 spread of single replications
  (``<metric>.png``);
* two parameters — per metric, a heatmap of the mean over a grid
  (``heatmap__<metric>.png``), or the points coloured by their mean for other
  designs (``map__<metric>.png``);
* more — Sobol' first- and total-order indices with their confidence intervals
  (``sobol_indices.png``), the Morris μ*–σ plot (``morris.png``), a scatter
  matrix of point means against every parameter for a Latin hypercube
  (``scatter_matrix.png``), main effects for a grid (``main_effects.png``).

Sobol'/Morris sweeps always get their index plot. Plots are drawn with the Agg
canvas (no global pyplot state) and saved without a timestamp, so the same files
give the same PNG bytes. Units are those of the metric names (``_t`` tonnes,
``person_days`` person-days, ``stockout__`` a probability once averaged).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.conventions import InputError, csv_dicts, csv_rows, fmt, one_line
from sim.experiment.executors import Executor
from sim.output.plots import attach_canvas, save
from sim.scenario.paths import PathError, flatten_table, format_path
from sim.scenario.toml import read_toml

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PLOTS_DIR = "plots"
DPI = 110
BAND = "#1f77b4"


def metric_label(name: str) -> str:
    """A readable axis label for a metric name."""
    parts = name.split("__")
    head, rest = parts[0], "/".join(parts[1:])
    where = f" ({rest})" if rest else ""
    labels = {
        "stockout": "probability of a stock-out",
        "first_stockout_day": "first stock-out, days from start",
        "person_days_below_half": "person-days below half ration",
        "person_days_below_full": "person-days below full ration",
        "delivered_t": "delivered, t",
        "received_t": "received by air, t",
        "aircraft_lost": "aircraft lost",
        "shortfall_t": "shortfall, t",
        "min_days_of_supply": "lowest days of supply",
        "sorties_flown": "sorties flown",
        "combat_sorties_per_day": "combat sorties per day",
    }
    return labels.get(head, head.replace("_", " ")) + where


def is_probability(name: str) -> bool:
    """Metrics that are 0/1 per replication, so that their mean is a probability."""
    return name.startswith("stockout__")


def _mean_label(name: str) -> str:
    return metric_label(name) + ("" if is_probability(name) else " (mean)")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_\-]+", "_", text).strip("_")


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv_rows(fh))
    return rows[0], rows[1:]


def _num(cell: str) -> float:
    return math.nan if cell == "" else float(cell)


class _Param:
    """How a parameter's cells in points.csv map to plot coordinates."""

    def __init__(self, path: str, spec: Any, label: str | None = None) -> None:
        self.path = path
        self.label = label or path
        self.is_range = isinstance(spec, dict)
        self.is_date = self.is_range and isinstance(spec.get("low"), dt.date)
        values = [] if self.is_range else list(spec)
        self.numeric = (self.is_range and not self.is_date) or (
            bool(values)
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        )
        self.labels = [fmt(v) for v in values]

    def coord(self, cell: str) -> Any:
        if self.is_date:
            return dt.date.fromisoformat(cell)
        if self.numeric:
            return float(cell)
        return self.labels.index(cell) if cell in self.labels else len(self.labels)

    def axis(self, ax: Any, which: str = "x") -> None:
        set_label = ax.set_xlabel if which == "x" else ax.set_ylabel
        set_label(self.label)
        if not self.numeric and not self.is_date:
            ticks = ax.set_xticks if which == "x" else ax.set_yticks
            ticks(range(len(self.labels)), self.labels)


def _figure(**options: Any) -> Figure:
    """A new figure. matplotlib is imported on first use, here: it takes a third of a
    second that the commands which draw nothing need not wait for."""
    from matplotlib.figure import Figure

    return Figure(**options)


def _save(fig: Figure, path: Path) -> Path:
    """Write the figure: laid out by its layout engine (constrained layout), or, for a
    figure made without one, placed around its labels and drawn once
    (:func:`sim.output.plots.save`: :func:`sim.output.layout.fit`, an RGB PNG); on
    the canvas of the run plots (:func:`sim.output.plots.attach_canvas`), which
    measures a text once for every plot of the same size."""
    attach_canvas(fig)
    if fig.get_layout_engine() is None:
        fig.set_dpi(DPI)
        save(fig, path)
    else:
        fig.savefig(path, dpi=DPI, metadata={"Software": None})
    return path


def plot_sweep(result_dir: Path, plots_dir: Path, executor: Executor | None = None) -> list[Path]:
    """Draw the plots of a finished sweep folder into the folder ``plots_dir`` (the
    caller's: :func:`sim.api.plot` writes into a temporary folder that replaces
    ``plots/``, never through a link); return the files written.

    With an ``executor`` of two or more workers (a
    :class:`~sim.experiment.executors.WarmPool`) the plots are drawn there, in
    parallel (a sweep of one parameter draws one per metric); the files are the same.

    A folder whose ``sweep.toml`` or ``points.csv`` is missing or does not read as a
    finished sweep's is refused with :class:`~sim.conventions.InputError`.
    """
    result_dir = Path(result_dir)
    spec = read_toml(result_dir / "sweep.toml")
    try:
        labels = dict(_flatten(spec.get("labels", {})))
        params = [_Param(p, s, labels.get(p)) for p, s in _flatten(spec.get("parameters", {}))]
        metrics: list[str] = [str(m) for m in spec.get("metrics", [])]
        design = str(spec.get("design", "grid"))
        if not params or not metrics:
            raise ValueError("no parameters" if not params else "no metrics")
    except (PathError, AttributeError, TypeError, ValueError) as err:
        raise InputError(f"{result_dir / 'sweep.toml'}: not a sweep's settings ({err})") from None
    title = spec.get("title") or spec.get("name") or "sweep"
    points = result_dir / "points.csv"
    try:
        header, rows = _read_csv(points)
        col = {name: i for i, name in enumerate(header)}
        stats = {
            m: {
                s: np.array([_num(r[col[f"{m}_{s}"]]) for r in rows])
                for s in ("mean", "ci95_low", "ci95_high", "p05", "p95")
            }
            for m in metrics
        }
        coords = [[p.coord(r[col[p.path]]) for r in rows] for p in params]
    except FileNotFoundError:
        raise InputError(f"{points}: missing (is the sweep finished?)") from None
    except (OSError, UnicodeDecodeError, csv.Error, KeyError, IndexError, ValueError) as err:
        what = f"no column {err}" if isinstance(err, KeyError) else one_line(str(err))
        raise InputError(f"{points}: not a sweep's points table ({what})") from None
    out_dir = Path(plots_dir)
    jobs: list[tuple[Any, tuple[Any, ...]]] = []  # (drawing function, its arguments)
    reps = spec.get("replications", "?")
    subtitle = f"{title}\n{design} design, {len(rows)} points × {reps} replications"

    if len(params) == 1:
        for m in metrics:
            jobs.append(
                (
                    _one_param,
                    (out_dir / f"{_slug(m)}.png", params[0], coords[0], stats[m], m, subtitle),
                )
            )
    elif len(params) == 2:
        for m in metrics:
            if design == "grid":
                jobs.append(
                    (
                        _heatmap,
                        (
                            out_dir / f"heatmap__{_slug(m)}.png",
                            params,
                            coords,
                            stats[m]["mean"],
                            m,
                            subtitle,
                        ),
                    )
                )
            else:
                jobs.append(
                    (
                        _map,
                        (
                            out_dir / f"map__{_slug(m)}.png",
                            params,
                            coords,
                            stats[m]["mean"],
                            m,
                            subtitle,
                        ),
                    )
                )
    elif design == "lhs":
        jobs.append(
            (
                _scatter_matrix,
                (out_dir / "scatter_matrix.png", params, coords, stats, metrics, subtitle),
            )
        )
    elif design == "grid":
        jobs.append(
            (
                _main_effects,
                (out_dir / "main_effects.png", params, coords, stats, metrics, subtitle),
            )
        )
    sens = result_dir / "sensitivity.csv"
    try:
        if design == "sobol" and sens.is_file():
            jobs.append(
                (
                    _sobol,
                    (out_dir / "sobol_indices.png", _sens_rows(sens), metrics, subtitle, labels),
                )
            )
        if design == "morris" and sens.is_file():
            jobs.append(
                (_morris, (out_dir / "morris.png", _sens_rows(sens), metrics, subtitle, labels))
            )
    except (OSError, UnicodeDecodeError, csv.Error, KeyError, IndexError, ValueError) as err:
        what = f"no column {err}" if isinstance(err, KeyError) else one_line(str(err))
        raise InputError(f"{sens}: not a sweep's sensitivity table ({what})") from None
    if executor is None or executor.workers < 2 or len(jobs) < 2:
        return [fn(*args) for fn, args in jobs]
    drawn = dict(executor.imap(_draw, None, list(enumerate(jobs)), ordered=False))
    return [drawn[i] for i in range(len(jobs))]


def _draw(_: None, job: tuple[int, tuple[Any, tuple[Any, ...]]]) -> tuple[int, Path]:
    """Draw job ``(number, (function, arguments))`` in a worker: ``(number, file)``."""
    number, (fn, args) = job
    return number, fn(*args)


def _flatten(table: dict[str, Any]) -> list[tuple[str, Any]]:
    """``sweep.toml``'s table of dotted paths → (canonical path, value); a ``{ low, high }``
    range is a value."""
    leaves = flatten_table(table, lambda v: bool({"low", "high"} & set(v)))
    return [(format_path(full), value) for _, full, value in leaves]


def _order(xs: Sequence[Any]) -> np.ndarray:
    return np.array(sorted(range(len(xs)), key=lambda i: xs[i]), dtype=int)


def _one_param(
    path: Path, p: _Param, xs: list[Any], s: dict[str, np.ndarray], metric: str, subtitle: str
) -> Path:
    # a date axis's slanted labels are left to constrained layout; other plots are
    # placed around their labels without a measuring draw (a sweep draws one per metric)
    fig = _figure(figsize=(7.5, 4.8), layout="constrained" if p.is_date else None)
    ax = fig.add_subplot()
    idx = _order(xs)
    x = [xs[i] for i in idx]
    mean, lo, hi = s["mean"][idx], s["ci95_low"][idx], s["ci95_high"][idx]
    p05, p95 = s["p05"][idx], s["p95"][idx]
    if p.numeric or p.is_date:
        ax.fill_between(
            x, p05, p95, color=BAND, alpha=0.12, lw=0, label="p05–p95 of single replications"
        )
        ax.fill_between(x, lo, hi, color=BAND, alpha=0.35, lw=0, label="95 % CI of the mean")
        ax.plot(x, mean, "o-", color=BAND, ms=4, label="mean")
    else:
        err = np.vstack([mean - lo, hi - mean])
        ax.errorbar(
            x,
            mean,
            yerr=np.where(np.isfinite(err), err, 0),
            fmt="o",
            color=BAND,
            capsize=4,
            label="mean ± 95 % CI",
        )
        ax.plot(x, p05, "v", color="grey", ms=4, label="p05 / p95")
        ax.plot(x, p95, "^", color="grey", ms=4)
    p.axis(ax)
    if p.is_date:
        fig.autofmt_xdate()
    ax.set_ylabel(metric_label(metric))
    if is_probability(metric):
        ax.set_ylim(-0.03, 1.03)
    ax.set_title(subtitle, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def _levels(xs: list[Any]) -> list[Any]:
    seen: list[Any] = []
    for x in xs:
        if x not in seen:
            seen.append(x)
    return sorted(seen)


def _tick(p: _Param, v: Any) -> str:
    if p.is_date:
        return str(v.isoformat())
    if not p.numeric:
        return str(p.labels[v]) if v < len(p.labels) else "?"
    return f"{v:g}"


def _short(v: float) -> str:
    """A cell label: thousands separated above 1000, else three significant digits."""
    if abs(v) >= 1e6:
        return f"{v / 1e6:.1f} M"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


def _heatmap(
    path: Path,
    params: list[_Param],
    coords: list[list[Any]],
    mean: np.ndarray,
    metric: str,
    subtitle: str,
) -> Path:
    px, py = params
    xl, yl = _levels(coords[0]), _levels(coords[1])
    grid = np.full((len(yl), len(xl)), np.nan)
    for k, (x, y) in enumerate(zip(coords[0], coords[1], strict=True)):
        grid[yl.index(y), xl.index(x)] = mean[k]
    fig = _figure(figsize=(1.1 * len(xl) + 3.5, 0.55 * len(yl) + 2.6), layout="constrained")
    ax = fig.add_subplot()
    scale: dict[str, Any] = {"vmin": 0.0, "vmax": 1.0} if is_probability(metric) else {}
    im = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis", **scale)
    fig.colorbar(im, ax=ax, label=_mean_label(metric))
    ax.set_xticks(range(len(xl)), [_tick(px, v) for v in xl], rotation=30 if px.is_date else 0)
    ax.set_yticks(range(len(yl)), [_tick(py, v) for v in yl])
    ax.set_xlabel(px.label)
    ax.set_ylabel(py.label)
    if len(xl) * len(yl) <= 150:
        finite = grid[np.isfinite(grid)]
        mid = float(np.mean([finite.min(), finite.max()])) if finite.size else 0.0
        for (i, j), v in np.ndenumerate(grid):
            if np.isfinite(v):
                ax.text(
                    j,
                    i,
                    _short(v),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="black" if v > mid else "white",
                )
    ax.set_title(subtitle, fontsize=10)
    return _save(fig, path)


def _map(
    path: Path,
    params: list[_Param],
    coords: list[list[Any]],
    mean: np.ndarray,
    metric: str,
    subtitle: str,
) -> Path:
    fig = _figure(figsize=(7.0, 5.2), layout="constrained")
    ax = fig.add_subplot()
    scale: dict[str, Any] = {"vmin": 0.0, "vmax": 1.0} if is_probability(metric) else {}
    sc = ax.scatter(coords[0], coords[1], c=mean, cmap="viridis", s=30, **scale)
    fig.colorbar(sc, ax=ax, label=_mean_label(metric))
    params[0].axis(ax, "x")
    params[1].axis(ax, "y")
    ax.set_title(subtitle, fontsize=10)
    return _save(fig, path)


def _scatter_matrix(
    path: Path,
    params: list[_Param],
    coords: list[list[Any]],
    stats: dict[str, dict[str, np.ndarray]],
    metrics: list[str],
    subtitle: str,
) -> Path:
    nr, nc = len(metrics), len(params)
    fig = _figure(figsize=(2.6 * nc + 1, 2.3 * nr + 1), layout="constrained")
    axes = fig.subplots(nr, nc, squeeze=False, sharey="row")
    for i, m in enumerate(metrics):
        for j, p in enumerate(params):
            ax = axes[i][j]
            ax.scatter(coords[j], stats[m]["mean"], s=8, alpha=0.7, color=BAND)
            ax.grid(alpha=0.3)
            if i == nr - 1:
                p.axis(ax)
                if p.is_date:
                    ax.tick_params(axis="x", labelrotation=30)
            else:
                ax.tick_params(labelbottom=False)
            if j == 0:
                ax.set_ylabel(metric_label(m), fontsize=8)
    fig.suptitle(subtitle + " — point means against each parameter", fontsize=10)
    return _save(fig, path)


def _main_effects(
    path: Path,
    params: list[_Param],
    coords: list[list[Any]],
    stats: dict[str, dict[str, np.ndarray]],
    metrics: list[str],
    subtitle: str,
) -> Path:
    nr, nc = len(metrics), len(params)
    fig = _figure(figsize=(2.6 * nc + 1, 2.3 * nr + 1), layout="constrained")
    axes = fig.subplots(nr, nc, squeeze=False, sharey="row")
    for i, m in enumerate(metrics):
        mean = stats[m]["mean"]
        for j, p in enumerate(params):
            ax = axes[i][j]
            levels = _levels(coords[j])
            avg = [
                float(np.nanmean([mean[k] for k, x in enumerate(coords[j]) if x == lv]))
                for lv in levels
            ]
            ax.plot(levels, avg, "o-", color=BAND, ms=4)
            ax.grid(alpha=0.3)
            if i == nr - 1:
                p.axis(ax)
            if j == 0:
                ax.set_ylabel(metric_label(m), fontsize=8)
    fig.suptitle(subtitle + " — mean over the other parameters", fontsize=10)
    return _save(fig, path)


def _sens_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv_dicts(fh))


def _sobol(
    path: Path,
    rows: list[dict[str, str]],
    metrics: list[str],
    subtitle: str,
    labels: dict[str, str],
) -> Path:
    fig = _figure(figsize=(7.5, 2.6 * len(metrics) + 1.2), layout="constrained")
    axes = fig.subplots(len(metrics), 1, squeeze=False)
    for ax, m in zip(axes[:, 0], metrics, strict=True):
        mine = [r for r in rows if r["metric"] == m]
        names = [labels.get(r["parameter"], r["parameter"]) for r in mine]
        y = np.arange(len(names))
        for k, (idx, colr, off) in enumerate((("S1", BAND, -0.2), ("ST", "#ff7f0e", 0.2))):
            v = np.array([_num(r[idx]) for r in mine])
            c = np.array([_num(r[f"{idx}_conf"]) for r in mine])
            ax.barh(
                y + off,
                v,
                height=0.38,
                color=colr,
                xerr=np.where(np.isfinite(c), c, 0),
                capsize=3,
                label=("first order S1" if k == 0 else "total order ST") + " ± 95 % CI",
            )
        share = _num(mine[0]["noise_share"]) if mine else math.nan
        noise = (
            f"; replication noise {100 * share:.0f} % of the variance"
            if math.isfinite(share)
            else ""
        )
        ax.set_yticks(y, names, fontsize=8)
        ax.invert_yaxis()
        ax.axvline(0, color="black", lw=0.6)
        ax.set_xlabel("Sobol' index (share of variance of the replication mean)")
        ax.set_title(f"{metric_label(m)}{noise}", fontsize=9)
        ax.grid(axis="x", alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    fig.suptitle(subtitle, fontsize=10)
    return _save(fig, path)


def _morris(
    path: Path,
    rows: list[dict[str, str]],
    metrics: list[str],
    subtitle: str,
    labels: dict[str, str],
) -> Path:
    n = len(metrics)
    fig = _figure(figsize=(6.5 * min(n, 2), 5.0 * math.ceil(n / 2)), layout="constrained")
    axes = fig.subplots(math.ceil(n / 2), min(n, 2), squeeze=False)
    for k, m in enumerate(metrics):
        ax = axes[k // 2][k % 2]
        mine = [r for r in rows if r["metric"] == m]
        mu = np.array([_num(r["mu_star"]) for r in mine])
        conf = np.array([_num(r["mu_star_conf"]) for r in mine])
        sigma = np.array([_num(r["sigma"]) for r in mine])
        ax.errorbar(
            mu, sigma, xerr=np.where(np.isfinite(conf), conf, 0), fmt="o", color=BAND, capsize=3
        )
        for r, x, y in zip(mine, mu, sigma, strict=True):
            if np.isfinite(x) and np.isfinite(y):
                ax.annotate(
                    labels.get(r["parameter"], r["parameter"]),
                    (x, y),
                    fontsize=7,
                    xytext=(4, 4),
                    textcoords="offset points",
                )
        top = float(np.nanmax(np.concatenate([mu, sigma]))) if mine else 1.0
        if np.isfinite(top) and top > 0:
            ax.plot([0, top], [0, top], ls=":", color="grey", lw=0.8, label="σ = μ*")
            ax.legend(fontsize=7)
        ax.set_xlabel("μ*: mean |change of the metric over the parameter's range| ± 95 % CI")
        ax.set_ylabel("σ (spread of elementary effects)")
        ax.set_title(metric_label(m), fontsize=9)
        ax.grid(alpha=0.3)
    for k in range(n, axes.size):
        axes[k // 2][k % 2].set_visible(False)
    fig.suptitle(subtitle, fontsize=10)
    return _save(fig, path)
