"""Plots of a finished calibration, drawn from its folder's files alone.

:func:`plot_calibration` reads ``calibration.toml`` (the priors), ``posterior.csv``
and ``predictive.csv`` and writes ``plots/``:

* ``marginals.png`` — per parameter, the posterior (a histogram of the final
  population, weighted) against the prior's density, with the posterior median and
  90 % credible interval marked; in the parameter's own unit;
* ``pairs.png`` — with two parameters or more, every pair of parameters as a scatter
  of the final population (marker area ∝ weight), the marginal on the diagonal;
* ``predictive.png`` — per observation, the posterior predictive p05–p95 band and
  median divided by the observed value (1 = the record), the observed value (or range)
  at 1; fitted, unfitted and held-out (validation) observations in their own colours.

Drawn on the Agg canvas and saved without a timestamp, so the same files give the
same PNG bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np

from sim.conventions import InputError, csv_dicts
from sim.experiment.calibfile import CalibParameter, load_calibration
from sim.experiment.calibrate import CALIBRATION_TOML, POSTERIOR_CSV, PREDICTIVE_CSV
from sim.output.sweep_plots import _figure, _save

PLOTS_DIR = "plots"
POSTERIOR = "#1f77b4"
PRIOR = "#7f7f7f"
ROLE_COLOURS = {"fitted": "#1f77b4", "calibration": "#9467bd", "validation": "#d62728"}
ROLE_LABELS = {
    "fitted": "fitted (calibration)",
    "calibration": "calibration, not fitted",
    "validation": "held out (validation)",
}


def _read(path: Path) -> list[dict[str, str]]:
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            return list(csv_dicts(fh))
    except (OSError, csv.Error, UnicodeDecodeError) as err:
        raise InputError(f"{path}: cannot be read: {err}") from None


def _number(p: CalibParameter, cell: str) -> float:
    if p.kind == "date":
        return float(dt.date.fromisoformat(cell).toordinal())
    return float(cell)


def plot_calibration(result_dir: Path, plots_dir: Path | None = None) -> list[Path]:
    """Draw the plots of a finished calibration folder into ``plots_dir`` (default: its
    ``plots/``); return the files written."""
    d = Path(result_dir)
    out = plots_dir or d / PLOTS_DIR
    out.mkdir(parents=True, exist_ok=True)
    spec = load_calibration(d / CALIBRATION_TOML)
    rows = _read(d / POSTERIOR_CSV)
    try:
        x = np.array(
            [[_number(p, r[p.path]) for p in spec.parameters] for r in rows], dtype=float
        ).reshape(len(rows), len(spec.parameters))
        w = np.array([float(r["weight"]) for r in rows])
    except (KeyError, ValueError) as err:
        raise InputError(f"{d / POSTERIOR_CSV}: not a posterior table ({err})") from None
    written = [_marginals(spec.parameters, x, w, out / "marginals.png")]
    if len(spec.parameters) >= 2:
        written.append(_pairs(spec.parameters, x, w, out / "pairs.png"))
    written.append(_predictive(_read(d / PREDICTIVE_CSV), out / "predictive.png"))
    return written


def _label(p: CalibParameter) -> str:
    return p.path + (" (date)" if p.kind == "date" else "")


def _ticks_as_dates(ax: Any, p: CalibParameter, axis: str = "x") -> None:
    if p.kind != "date":
        return
    get = ax.get_xticks if axis == "x" else ax.get_yticks
    ticks = [t for t in get() if 1 <= t < 3_650_000]
    labels = [dt.date.fromordinal(round(t)).isoformat() for t in ticks]
    if axis == "x":
        ax.set_xticks(ticks, labels, rotation=30, ha="right")
    else:
        ax.set_yticks(ticks, labels)


def _marginals(
    params: tuple[CalibParameter, ...], x: np.ndarray, w: np.ndarray, path: Path
) -> Path:
    n = len(params)
    cols = min(n, 3)
    nrows = math.ceil(n / cols)
    fig = _figure(figsize=(4.2 * cols, 3.4 * nrows), layout="constrained")
    for i, p in enumerate(params):
        ax = fig.add_subplot(nrows, cols, i + 1)
        lo, hi = _prior_span(p, x[:, i])
        grid = np.linspace(lo, hi, 400)
        dens = np.array([p.prior.pdf(float(v)) for v in grid])
        ax.hist(
            x[:, i],
            bins=20,
            range=(lo, hi),
            weights=w,
            density=True,
            color=POSTERIOR,
            alpha=0.6,
            label="posterior",
        )
        ax.plot(grid, dens, color=PRIOR, lw=1.5, ls="--", label="prior")
        order = np.argsort(x[:, i], kind="stable")
        cum = np.cumsum(w[order]) / w.sum()
        for q, ls in ((0.05, ":"), (0.5, "-"), (0.95, ":")):
            v = x[order, i][min(int(np.searchsorted(cum, q - 1e-12)), len(cum) - 1)]
            ax.axvline(v, color="black", lw=1.0, ls=ls)
        ax.set_xlabel(_label(p))
        ax.set_ylabel("density")
        _ticks_as_dates(ax, p)
        if i == 0:
            ax.legend(fontsize="small")
    fig.suptitle(
        "Posterior against prior\n(lines: median and 90 % credible interval)", fontsize="medium"
    )
    return _save(fig, path)


def _prior_span(p: CalibParameter, values: np.ndarray) -> tuple[float, float]:
    pr = p.prior
    if pr.low is not None and pr.high is not None:
        return pr.low, pr.high
    assert pr.mean is not None and pr.sd is not None
    lo = pr.low if pr.low is not None else min(pr.mean - 4 * pr.sd, float(values.min()))
    hi = pr.high if pr.high is not None else max(pr.mean + 4 * pr.sd, float(values.max()))
    return lo, hi


def _pairs(params: tuple[CalibParameter, ...], x: np.ndarray, w: np.ndarray, path: Path) -> Path:
    n = len(params)
    fig = _figure(figsize=(2.6 * n + 1, 2.6 * n + 0.6), layout="constrained")
    size = 8 + 200 * w / w.max()
    for i in range(n):
        for j in range(n):
            ax = fig.add_subplot(n, n, i * n + j + 1)
            if i == j:
                ax.hist(x[:, j], bins=20, weights=w, color=POSTERIOR, alpha=0.7)
                ax.set_yticks([])
            else:
                ax.scatter(x[:, j], x[:, i], s=size, color=POSTERIOR, alpha=0.5, lw=0)
            if i == n - 1:
                ax.set_xlabel(_label(params[j]), fontsize="small")
                _ticks_as_dates(ax, params[j])
            else:
                ax.set_xticklabels([])
            if j == 0 and i != j:
                ax.set_ylabel(_label(params[i]), fontsize="small")
                _ticks_as_dates(ax, params[i], "y")
    fig.suptitle("Posterior: every pair of parameters (marker area ∝ weight)")
    return _save(fig, path)


def _group(row: dict[str, str]) -> str:
    if row.get("role") == "validation":
        return "validation"
    return "fitted" if row.get("fitted") == "true" else "calibration"


def _predictive(rows: list[dict[str, str]], path: Path) -> Path:
    fig = _figure(figsize=(8.0, 1.2 + 0.42 * max(len(rows), 1)), layout="constrained")
    ax = fig.add_subplot(1, 1, 1)
    seen: set[str] = set()
    for k, r in enumerate(reversed(rows)):
        try:
            observed = float(r["observed"])
            p05, p50, p95 = (float(r[c]) if r[c] else math.nan for c in ("p05", "p50", "p95"))
        except (KeyError, ValueError) as err:
            raise InputError(f"{path.parent.parent / PREDICTIVE_CSV}: bad row ({err})") from None
        group = _group(r)
        scale = observed if observed != 0 else 1.0
        colour = ROLE_COLOURS[group]
        label = None if group in seen else ROLE_LABELS[group]
        seen.add(group)
        ax.plot([p05 / scale, p95 / scale], [k, k], color=colour, lw=6, alpha=0.45, label=label)
        ax.plot([p50 / scale], [k], "o", color=colour, ms=6)
    ax.axvline(1.0, color="black", lw=1.0, label="observed")
    ax.set_yticks(range(len(rows)), [r["id"] for r in reversed(rows)])
    ax.set_xlabel("model ÷ observed (posterior predictive p05–p95 band and median)")
    ax.set_title("Posterior predictive check per observation")
    ax.legend(fontsize="small", loc="best")
    return _save(fig, path)
