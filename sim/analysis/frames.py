"""Results as pandas DataFrames, for notebook users (the optional extra ``siege-sim[pandas]``).

pandas is not a dependency of the simulator: it is imported on first use, and a clear
:class:`PandasMissingError` (an ``ImportError``) says how to install it. The frames are
*tidy* (one row per observation unit), ready for ``DataFrame.plot`` or seaborn:

* :func:`metrics_frame` — one row per replication (index ``replication``), the
  column ``seed`` (the root seed) then one column per metric, as in ``replications.csv``;
* :func:`daily_frame` — one row per series and day: ``date``, ``series``, ``p05``,
  ``p50``, ``p95`` (the daily bands of ``daily.csv``, long rather than wide);
* :func:`records_frame` — rows of dicts (observations, comparison rows, summaries);
* :func:`csv_frame` — a result file (a sweep's ``points.csv``, a plan's ``trace.csv``).
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from sim.conventions import csv_value

INSTALL_HINT = "pip install 'siege-sim[pandas]'"


class PandasMissingError(ImportError):
    """A DataFrame was asked for but pandas is not installed."""


def pandas() -> ModuleType:
    """The pandas module, or :class:`PandasMissingError` naming the extra to install."""
    try:
        return importlib.import_module("pandas")
    except ImportError:
        raise PandasMissingError(
            f"DataFrames need pandas, an optional extra of siege-sim: {INSTALL_HINT}"
        ) from None


def metrics_frame(
    replications: Sequence[int], seeds: Sequence[int], metrics: Sequence[Mapping[str, float]]
) -> Any:
    """Per-replication metrics: index ``replication``, columns ``seed`` (the root seed)
    and the metrics."""
    pd = pandas()
    frame = pd.DataFrame(list(metrics), index=pd.Index(list(replications), name="replication"))
    frame.insert(0, "seed", list(seeds))
    return frame


def daily_frame(
    start: dt.date, daily: Mapping[str, np.ndarray], series: Sequence[str] | None = None
) -> Any:
    """Daily percentile bands, long: ``date, series, p05, p50, p95`` (``series``: which
    ones, default all, in name order). An unknown series name is a ``KeyError``."""
    pd = pandas()
    names = sorted(daily) if series is None else list(series)
    parts = []
    for name in names:
        arr = daily[name]
        n = arr.shape[1]
        parts.append(
            pd.DataFrame(
                {
                    "date": pd.date_range(start, periods=n, freq="D"),
                    "series": name,
                    "p05": arr[0],
                    "p50": arr[1],
                    "p95": arr[2],
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=["date", "series", "p05", "p50", "p95"])
    return pd.concat(parts, ignore_index=True)


def records_frame(rows: Sequence[Mapping[str, Any]], index: str | None = None) -> Any:
    """Rows of dicts as a DataFrame (``index``: a column to index by)."""
    frame = pandas().DataFrame([dict(r) for r in rows])
    return frame.set_index(index) if index is not None and len(frame) else frame


def summary_frame(summary: Mapping[str, Mapping[str, Any]]) -> Any:
    """``summary.json`` as a DataFrame: one row per metric (index ``metric``)."""
    return records_frame([{"metric": k, **v} for k, v in summary.items()], index="metric")


def csv_frame(path: Path) -> Any:
    """A result file read with pandas (empty cells as NaN; a text cell's leading ``'``,
    put there against formula injection, dropped: :func:`sim.conventions.csv_value`)."""
    pd = pandas()
    frame = pd.read_csv(path)
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):  # text (or mixed)
            frame[column] = frame[column].map(lambda v: csv_value(v) if isinstance(v, str) else v)
    return frame
