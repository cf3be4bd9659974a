"""The files of a result folder: writers, and readers for re-drawing plots.

=======================  ==============================================================
``scenario.toml``        the fully resolved scenario, with the seed and replications
                         actually used: ``siege run DIR/scenario.toml`` repeats the run
``manifest.json``        versions, git commit, seed, replications, workers, wall time,
                         command line, UTC timestamp
``daily.csv``            ``date`` (ISO), then ``<series>_p05,<series>_p50,<series>_p95``
                         per series, series sorted by name
``replications.csv``     ``replication, seed`` — the replication's index and the run's
                         root seed: the pair reproduces the row
                         (``siege run --seed S --replication R``) — then the metrics
                         of :mod:`sim.analysis.metrics`
``summary.json``         metric → mean, median, p05, p95, ci95_low, ci95_high, n (and
                         never_share for first stock-out days)
``observations.csv``     the columns of :data:`sim.analysis.observations.TABLE_COLUMNS`
=======================  ==============================================================

Cells are written by :func:`sim.conventions.csv_cell`: numbers with ten significant
digits (``format(x, '.10g')``), so the same inputs always give the same bytes; an
undefined value (NaN) is an empty CSV cell and ``null`` in JSON; booleans are
``true``/``false``; a text cell that a spreadsheet would take for a formula (it starts
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, or with ``'``) gets a
``'`` in front. The readers here drop it again (:func:`sim.conventions.csv_rows`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sim.analysis.observations import TABLE_COLUMNS
from sim.conventions import csv_dicts, csv_line, csv_rows, json_text

PERCENTILE_SUFFIXES: tuple[str, str, str] = ("_p05", "_p50", "_p95")


def _parse(cell: str) -> float:
    return math.nan if cell == "" else float(cell)


def write_rows(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A CSV file: the header, then the rows (:func:`~sim.conventions.csv_line`)."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        fh.write(csv_line(header))
        for row in rows:
            fh.write(csv_line(row))


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON (NaN/inf → null), keys in the given order."""
    path.write_text(json_text(data), encoding="utf-8")


# ---- daily.csv -------------------------------------------------------------------------


def write_daily_csv(path: Path, start: dt.date, percentiles: Mapping[str, np.ndarray]) -> None:
    """``daily.csv``: one row per day; per series (sorted) its p05, p50, p95 columns.

    The cells are what :func:`sim.conventions.fmt` writes (the tests hold the two to
    the same bytes), formatted a row at a time: a run of several years has hundreds
    of thousands of cells, and a call per cell cost half a second.
    """
    names = sorted(percentiles)
    header = ["date"] + [f"{n}{s}" for n in names for s in PERCENTILE_SUFFIXES]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        fh.write(csv_line(header))
        if not names:
            return
        table = np.concatenate([np.asarray(percentiles[n], dtype=float)[:3] for n in names]).T
        fh.writelines(
            f"{(start + dt.timedelta(days=d)).isoformat()},{line}\n"
            for d, line in enumerate(number_lines(table))
        )


def number_lines(table: np.ndarray) -> Iterable[str]:
    """Each row of a 2-D float array as comma-separated :func:`~sim.conventions.fmt` cells
    (ten significant digits, NaN empty, no ``-0``)."""
    table = np.asarray(table, dtype=float) + 0.0  # -0.0 + 0.0 is 0.0: no "-0"
    template = ",".join(["%.10g"] * table.shape[1])
    for row in table.tolist():
        line = template % tuple(row)
        if "nan" in line:  # an empty cell: two passes empty every run of ",nan,"
            line = f",{line},".replace(",nan,", ",,").replace(",nan,", ",,")[1:-1]
        yield line


def read_daily_csv(path: Path) -> tuple[list[dt.date], dict[str, np.ndarray]]:
    """Dates and series name → ``3 × days`` percentile array, from a ``daily.csv``."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv_rows(fh)
        header = next(reader)
        body = list(reader)
    if not header or header[0] != "date":
        raise ValueError(f"{path}: first column must be 'date'")
    for i, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise ValueError(f"line {i} has {len(row)} cells, the header {len(header)}")
    dates = [dt.date.fromisoformat(r[0]) for r in body]
    values = np.array([[_parse(c) for c in r[1:]] for r in body], dtype=float).reshape(
        len(body), len(header) - 1
    )
    out: dict[str, np.ndarray] = {}
    for j in range(1, len(header), 3):
        name = header[j][: -len("_p05")]
        expected = [f"{name}{s}" for s in PERCENTILE_SUFFIXES]
        if header[j : j + 3] != expected:
            raise ValueError(f"{path}: columns {header[j : j + 3]} are not {expected}")
        out[name] = values[:, j - 1 : j + 2].T.copy()
    return dates, out


# ---- replications.csv ------------------------------------------------------------------


def write_replications_csv(
    path: Path,
    replications: Sequence[int],
    seeds: Sequence[int],
    metrics: Sequence[Mapping[str, float]],
) -> None:
    """``replications.csv``: ``replication, seed``, then every metric (first row's order).

    ``seed`` is the run's *root* seed (the column keeps the name of the result-folder
    contract). Replication ``r`` of root seed ``s`` is what reproduces a row: every random stream
    of that replication is derived from the pair (:mod:`sim.model.streams`), so
    ``siege run SCENARIO --seed s --replication r`` gives the row again.
    """
    names = list(metrics[0]) if metrics else []
    rows = (
        [r, s, *(float(m.get(n, math.nan)) for n in names)]
        for r, s, m in zip(replications, seeds, metrics, strict=True)
    )
    write_rows(path, ["replication", "seed", *names], rows)


def read_replications_csv(path: Path) -> list[dict[str, float]]:
    """Rows of a ``replications.csv`` as dicts (``replication`` and ``seed`` included)."""
    with open(path, newline="", encoding="utf-8") as fh:
        return [{k: _parse(v) for k, v in row.items()} for row in csv_dicts(fh)]


# ---- summary.json, observations.csv ----------------------------------------------------


def write_summary_json(path: Path, summary: Mapping[str, Mapping[str, Any]]) -> None:
    """``summary.json``: metric → its statistics (see :mod:`sim.analysis.summary`)."""
    write_json(path, dict(summary))


def write_observations_csv(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    """``observations.csv`` with exactly the columns of the result-folder contract."""
    write_rows(path, TABLE_COLUMNS, ([row[c] for c in TABLE_COLUMNS] for row in rows))


def read_observations_csv(path: Path) -> list[dict[str, Any]]:
    """Rows of an ``observations.csv``: numbers as floats (NaN if blank), flag as bool/None."""
    numeric = ("observed", "model_p05", "model_p50", "model_p95", "rel_error")
    out: list[dict[str, Any]] = []
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv_dicts(fh):
            rec: dict[str, Any] = dict(row)
            for k in numeric:
                rec[k] = _parse(row[k])
            flag = row["within_tolerance"]
            rec["within_tolerance"] = None if flag == "" else flag == "true"
            out.append(rec)
    return out
