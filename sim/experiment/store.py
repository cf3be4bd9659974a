"""The sweep folder on disk: a journal of finished runs, resume, and the final tables.

Files (all UTF-8 CSV with a header row, ``\\n`` line ends, numbers written by
:func:`sim.conventions.csv_cell` — 10 significant digits, NaN as an empty cell, text
that a spreadsheet would take for a formula behind a ``'``):

``design.csv``
    ``point``, then one column per swept parameter (its dotted path): the values
    of every design point. Dates are ISO dates, lists JSON-style arrays.
``runs.csv``
    ``point, replication, seed``, the requested metrics, ``error``. While the
    sweep runs it is a *journal*: a row is appended and flushed as each run finishes
    (in finishing order), so a sweep killed at any moment loses at most the runs in
    flight. A failed run has empty metrics and the exception in ``error``. When the
    sweep completes the file is rewritten sorted by (point, replication).
``points.csv``
    per point: ``point``, the parameter values, ``runs`` (that succeeded),
    ``failed``, then per metric ``<m>_mean, <m>_ci95_low, <m>_ci95_high, <m>_p05,
    <m>_p50, <m>_p95`` over the point's replications
    (:func:`sim.analysis.summary.summarize_metric`: the metric's interval method,
    Clopper–Pearson for shares, Poisson for losses, bootstrap or Student t otherwise;
    NaN values left out, except "never" times, see there).
``sensitivity.csv``
    Sobol' or Morris designs only: :mod:`sim.analysis.sensitivity`.

Resume reads the journal, drops a torn last line (a row half-written when the
process died) and any row that does not parse, and runs only the (point,
replication) pairs still missing. All final tables are computed from the sorted
``runs.csv`` text alone, so a resumed sweep ends with the same bytes as an
uninterrupted one. Every rewrite is atomic (a temporary file renamed over the old).
"""

from __future__ import annotations

import contextlib
import csv
import math
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sim.analysis.summary import summarize_metric
from sim.conventions import csv_line, csv_rows
from sim.experiment.runner import RunRow

DESIGN_CSV = "design.csv"
RUNS_CSV = "runs.csv"
POINTS_CSV = "points.csv"
SENSITIVITY_CSV = "sensitivity.csv"
SWEEP_TOML = "sweep.toml"
SCENARIO_TOML = "scenario.toml"
MANIFEST_JSON = "manifest.json"

STAT_SUFFIXES: tuple[str, ...] = ("mean", "ci95_low", "ci95_high", "p05", "p50", "p95")
"""Per-metric columns of ``points.csv``: ``<metric>_<suffix>``."""

_SUMMARY_KEYS = {
    "mean": "mean",
    "ci95_low": "ci95_low",
    "ci95_high": "ci95_high",
    "p05": "p05",
    "p50": "median",
    "p95": "p95",
}


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def default_mode(kind: str = "file") -> int:
    """Permissions of a new file (``0o666``) or folder (``0o777``) under the umask
    (``tempfile`` makes private ones)."""
    return (0o777 if kind == "dir" else 0o666) & ~_umask()


def atomic_write(path: Path, text: str | bytes) -> None:
    """Write ``text`` (UTF-8, or ``bytes`` as they are) to ``path`` through a temporary
    sibling renamed over it, so ``path`` holds the old content or the new, never a part."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    data = text.encode("utf-8") if isinstance(text, str) else text
    try:
        os.chmod(tmp, default_mode())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# ---- design.csv ------------------------------------------------------------------------


def design_text(paths: Sequence[str], points: Iterable[Sequence[Any]]) -> str:
    """The text of ``design.csv``."""
    out = [csv_line(["point", *paths])]
    out.extend(csv_line([i, *pt]) for i, pt in enumerate(points))
    return "".join(out)


# ---- runs.csv --------------------------------------------------------------------------


def runs_header(metrics: Sequence[str]) -> list[str]:
    """Columns of ``runs.csv``."""
    return ["point", "replication", "seed", *metrics, "error"]


def run_line(row: RunRow, seed: int, n_metrics: int) -> str:
    """The ``runs.csv`` line of one run."""
    metrics: Sequence[Any] = row.metrics if row.metrics is not None else [None] * n_metrics
    return csv_line([row.point, row.replication, seed, *metrics, row.error])


class Journal:
    """``runs.csv`` opened for appending; one flushed line per finished run."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh = open(path, "a", encoding="utf-8", newline="")  # noqa: SIM115

    def append(self, line: str) -> None:
        """Append one line and flush it to the operating system."""
        self._fh.write(line)
        self._fh.flush()

    def close(self) -> None:
        """Flush to disk and close."""
        if not self._fh.closed:
            self._fh.flush()
            with contextlib.suppress(OSError):
                os.fsync(self._fh.fileno())
            self._fh.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_journal(
    path: Path, header: Sequence[str], n_points: int, replications: int
) -> dict[tuple[int, int], str]:
    """``(point, replication) → line`` of every complete, well-formed row in ``runs.csv``.

    A last line without its ``\\n`` (torn by a kill) and rows that do not parse or lie
    outside the design are ignored (see :func:`read_keyed`); the first row of a pair
    wins. Raises ``ValueError`` if the header is not ``header``.
    """
    rows = read_keyed(
        path,
        header,
        2,
        lambda key: 0 <= key[0] < n_points and 0 <= key[1] < replications,
    )
    return {(k[0], k[1]): line for k, line in rows.items()}


def read_keyed(
    path: Path,
    header: Sequence[str],
    n_keys: int,
    valid: Callable[[tuple[int, ...]], bool] = lambda key: True,
) -> dict[tuple[int, ...], str]:
    """Key → line of every complete, well-formed row of a journal whose first ``n_keys``
    columns are whole numbers (the key) and which has the columns ``header``.

    The file is read as bytes and only complete lines are decoded: a last line without
    its ``\\n`` (torn by a kill, perhaps in the middle of a UTF-8 character), a line
    that is not UTF-8, a row that does not parse, has the wrong width or a key that is
    not ``valid`` is ignored; the first row of a key wins. Raises ``ValueError`` if the
    header is not ``header``.
    """
    done: dict[tuple[int, ...], str] = {}
    if not path.exists():
        return done
    complete = path.read_bytes().split(b"\n")[:-1]  # the last piece: empty, or torn
    if not complete:
        return done
    try:
        columns = next(csv_rows([complete[0].decode("utf-8")]), [])
    except UnicodeDecodeError:
        columns = []
    if columns != list(header):
        raise ValueError(f"{path}: its columns are not {', '.join(header)}")
    width = len(header)
    for raw in complete[1:]:
        try:
            line = raw.decode("utf-8")
            cells = next(csv_rows([line]))
            key = tuple(int(c) for c in cells[:n_keys])
        except (StopIteration, ValueError, IndexError, csv.Error):  # UnicodeDecodeError too
            continue
        if len(cells) != width or len(key) != n_keys or not valid(key):
            continue
        done.setdefault(key, line + "\n")
    return done


def rewrite_journal(path: Path, text: str) -> None:
    """Make ``path`` hold exactly ``text`` (atomically; untouched if it already does):
    a torn or bad line is dropped before new rows are appended."""
    if not path.exists() or path.read_bytes() != text.encode("utf-8"):
        atomic_write(path, text)


def journal_text(
    header: Sequence[str],
    rows: Mapping[Any, str],
    order: Iterable[Any] | None = None,
) -> str:
    """Header and rows (sorted by (point, replication) unless ``order`` is given)."""
    keys = sorted(rows) if order is None else list(order)
    return csv_line(list(header)) + "".join(rows[k] for k in keys)


def parse_run_line(line: str, n_metrics: int) -> tuple[int, int, list[float], str]:
    """``(point, replication, metric values, error)`` of a ``runs.csv`` line."""
    cells = next(csv_rows([line]))
    values = [math.nan if c == "" else float(c) for c in cells[3 : 3 + n_metrics]]
    return int(cells[0]), int(cells[1]), values, cells[3 + n_metrics]


# ---- points.csv ------------------------------------------------------------------------


def points_header(paths: Sequence[str], metrics: Sequence[str]) -> list[str]:
    """Columns of ``points.csv``."""
    return [
        "point",
        *paths,
        "runs",
        "failed",
        *(f"{m}_{s}" for m in metrics for s in STAT_SUFFIXES),
    ]


def iter_points(
    lines: Iterable[str], n_metrics: int
) -> Iterator[tuple[int, list[int], list[list[float]], int]]:
    """Group sorted ``runs.csv`` lines by point: ``(point, replications, values, failed)``.

    ``values[k]`` holds the successful replications' values of metric ``k``.
    """
    current: int | None = None
    reps: list[int] = []
    values: list[list[float]] = []
    failed = 0
    for line in lines:
        point, rep, v, error = parse_run_line(line, n_metrics)
        if point != current:
            if current is not None:
                yield current, reps, values, failed
            current, reps, values, failed = point, [], [[] for _ in range(n_metrics)], 0
        if error:
            failed += 1
            continue
        reps.append(rep)
        for k in range(n_metrics):
            values[k].append(v[k])
    if current is not None:
        yield current, reps, values, failed


def point_stats(metric: str, values: Sequence[float]) -> dict[str, Any]:
    """``mean, ci95_low, ci95_high, p05, p50, p95`` of one metric at one point."""
    if not values:
        return dict.fromkeys(STAT_SUFFIXES)
    s = summarize_metric(metric, values)
    return {k: s.get(src) for k, src in _SUMMARY_KEYS.items()}


def nan_or(x: Any) -> float:
    """``x`` as a float, None → NaN."""
    return math.nan if x is None else float(x)


def summarize_runs(
    runs_text: str,
    metrics: Sequence[str],
    paths: Sequence[str],
    points: Sequence[Sequence[Any]],
    replications: int,
    keep_matrix: bool,
) -> tuple[str, dict[str, np.ndarray], dict[str, np.ndarray], int]:
    """From the sorted ``runs.csv`` text: ``points.csv`` text, per-metric point means,
    per-metric ``points × replications`` matrices (if ``keep_matrix``; NaN = failed) and
    the number of failed runs."""
    n_metrics = len(metrics)
    n = len(points)
    means = {m: np.full(n, np.nan) for m in metrics}
    matrix = {m: np.full((n, replications), np.nan) for m in metrics} if keep_matrix else {}
    out = [csv_line(points_header(paths, metrics))]
    failed_total = 0
    body = runs_text.split("\n")[1:-1]
    for point, reps, values, failed in iter_points(body, n_metrics):
        failed_total += failed
        cells: list[Any] = [point, *points[point], len(reps), failed]
        for k, m in enumerate(metrics):
            stats = point_stats(m, values[k])
            means[m][point] = nan_or(stats["mean"])
            if keep_matrix:
                matrix[m][point, reps] = values[k]
            cells.extend(stats[s] for s in STAT_SUFFIXES)
        out.append(csv_line(cells))
    return "".join(out), means, matrix, failed_total


def sensitivity_text(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """The text of ``sensitivity.csv``."""
    return csv_line(list(columns)) + "".join(csv_line([r[c] for c in columns]) for r in rows)
