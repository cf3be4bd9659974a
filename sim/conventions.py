"""Conventions every layer shares: how a value is written, how a message fits one line.

The lowest module of the package (it imports none of ours), so that the scenario
loader, the experiment store and the plots write the same things the same way:

- :func:`one_line` — any text collapsed onto a single line (error messages, CSV cells);
- :func:`fmt` — one value as a CSV cell: numbers to ten significant digits
  (``format(x, '.10g')``), NaN and None as an empty cell, booleans ``true``/``false``,
  dates ISO, lists and tables JSON-style; the same value always gives the same bytes;
- :func:`json_ready` / :func:`json_text` — data as strict JSON: NaN and infinities
  become ``null``, numpy scalars plain numbers, tuples arrays, keys strings;
- :func:`default_workers` — the default number of worker processes: one per core;
- :class:`InputError` — bad input: the command line prints its one-line message and
  exits with status 2 (scenario-file errors are a kind of it).
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

import numpy as np

__all__ = ["InputError", "default_workers", "fmt", "json_ready", "json_text", "one_line"]


class InputError(Exception):
    """Bad input from the user (a file, an option, a folder): ``str(err)`` is one line
    saying what and where; the command line exits 2 with it."""


def one_line(text: object) -> str:
    """``text`` with every run of whitespace (line breaks included) made one space."""
    return " ".join(str(text).split())


def fmt(x: Any) -> str:
    """One CSV cell: compact, exact to 10 significant digits, deterministic.

    ``None`` and NaN are empty, ``-0`` is ``0``, booleans are ``true``/``false``,
    lists, tuples and tables are JSON arrays/objects (dates in them ISO), anything
    else is ``str(x)`` (an ISO date for a date).
    """
    if x is None:
        return ""
    if isinstance(x, bool | np.bool_):
        return "true" if x else "false"
    if isinstance(x, int | np.integer):
        return str(int(x))
    if isinstance(x, float | np.floating):
        v = float(x)
        if math.isnan(v):
            return ""
        if v == 0.0:
            v = 0.0  # no "-0"
        return format(v, ".10g")
    if isinstance(x, list | tuple | dict):
        return json.dumps(x, default=str, ensure_ascii=False)
    return str(x)


def json_ready(x: Any) -> Any:
    """``x`` as data :func:`json.dumps` writes as strict JSON (NaN and infinities → None)."""
    if isinstance(x, dict):
        return {str(k): json_ready(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [json_ready(v) for v in x]
    if isinstance(x, bool | np.bool_):
        return bool(x)
    if isinstance(x, int | np.integer):
        return int(x)
    if isinstance(x, float | np.floating):
        v = float(x)
        return v if math.isfinite(v) else None
    return x


def json_text(data: Any) -> str:
    """``data`` as indented JSON text with a final newline, keys in the given order.

    Values JSON has no type for (dates, paths) are written as their ``str``.
    """
    return json.dumps(json_ready(data), indent=2, allow_nan=False, default=str) + "\n"


def default_workers() -> int:
    """Worker processes when none are asked for: the machine's cores (1 if unknown).

    Results never depend on it (see :mod:`sim.experiment.replicate`).
    """
    return os.cpu_count() or 1
