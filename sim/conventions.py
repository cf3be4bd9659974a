"""Conventions every layer shares: how a value is written, how a message fits one line.

The lowest module of the package (it imports none of ours), so that the scenario
loader, the experiment store and the plots write the same things the same way:

- :func:`one_line` — any text collapsed onto a single line (error messages, CSV cells);
- :func:`fmt` — one value as text: numbers to ten significant digits
  (``format(x, '.10g')``), NaN and None empty, booleans ``true``/``false``,
  dates ISO, lists and tables JSON-style; the same value always gives the same bytes;
- :func:`csv_cell` — one CSV cell: :func:`fmt`, with text that a spreadsheet would
  take for a formula neutralised (below), and :func:`csv_line`, one CSV line of them
  (every CSV file we write is made of these lines); :func:`csv_value`,
  :func:`csv_rows` and :func:`csv_dicts` read such cells back as they were meant;
- :func:`json_ready` / :func:`json_text` — data as strict JSON: NaN and infinities
  become ``null``, numpy scalars plain numbers, tuples arrays, keys strings;
- :func:`default_workers` — the default number of worker processes: one per core;
- :class:`InputError` — bad input: the command line prints its one-line message and
  exits with status 2 (scenario-file errors are a kind of it);
- :class:`Terminated` — SIGTERM or SIGHUP, raised like Ctrl-C's ``KeyboardInterrupt``
  (a kind of it), so that every clean-up for Ctrl-C runs for them too; the command
  exits with 128 + the signal's number (:func:`signal_of`).

**Formula injection.** Text from scenario files (an observation's ``source`` or
``unit``, an event title swept as a design value, an error message) lands in CSV files
that users open in spreadsheets, which run a cell starting with ``=``, ``+``, ``-`` or
``@`` (or a tab or carriage return before one) as a formula. So a *text* cell that
starts with one of those characters, or with ``'``, is written with a ``'`` in front,
as spreadsheets expect (they show the text without it). Numbers are never changed:
``-5`` stays ``-5``. A reader drops one leading ``'`` from any cell, so every cell
reads back exactly as it was meant (a number never starts with ``'``).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import signal
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

__all__ = [
    "InputError",
    "Terminated",
    "csv_cell",
    "csv_dicts",
    "csv_line",
    "csv_rows",
    "csv_value",
    "default_workers",
    "fmt",
    "json_ready",
    "json_text",
    "one_line",
    "signal_of",
]


class InputError(Exception):
    """Bad input from the user (a file, an option, a folder): ``str(err)`` is one line
    saying what and where; the command line exits 2 with it."""


class Terminated(KeyboardInterrupt):
    """A termination signal (SIGTERM, SIGHUP) handled as Ctrl-C is: raised in the main
    thread by the command line's handler; ``signum`` is the signal's number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)


def signal_of(stop: BaseException) -> int:
    """The signal behind an interruption: a :class:`Terminated`'s, else SIGINT (Ctrl-C)."""
    return int(getattr(stop, "signum", signal.SIGINT))


def one_line(text: object) -> str:
    """``text`` with every run of whitespace (line breaks included) made one space."""
    return " ".join(str(text).split())


def fmt(x: Any) -> str:
    """One value as text: compact, exact to 10 significant digits, deterministic.

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


TEXT_MARK = "'"
"""Put before a text cell that a spreadsheet would take for a formula (see the module
docstring); dropped again by :func:`csv_value`."""

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", TEXT_MARK)
"""Text cells starting with these get :data:`TEXT_MARK` in front (``'`` itself too, so
that a text which really starts with ``'`` reads back unchanged)."""


def csv_cell(x: Any) -> str:
    """One CSV cell: :func:`fmt`, and text a spreadsheet would run as a formula
    neutralised with a leading ``'`` (see the module docstring). Never changes a number."""
    text = fmt(x)
    if isinstance(x, bool | int | float | np.bool_ | np.integer | np.floating):
        return text
    return TEXT_MARK + text if text.startswith(_FORMULA_STARTS) else text


def csv_line(cells: Iterable[Any]) -> str:
    """One CSV line with its ``\\n``, every value through :func:`csv_cell`.

    Fields holding a delimiter, a quote or a line break are quoted; a line with a
    carriage return in some text is quoted whole (``csv`` quotes only the characters of
    its line terminator, ``\\n``), so that every row reads back as one row.
    """
    texts = [csv_cell(c) for c in cells]
    buf = io.StringIO()
    if any("\r" in t for t in texts):
        csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_ALL).writerow(texts)
    else:
        csv.writer(buf, lineterminator="\n").writerow(texts)
    return buf.getvalue()


def csv_value(cell: str) -> str:
    """The text a cell written by :func:`csv_cell` stands for (one leading ``'`` dropped)."""
    return cell[1:] if cell.startswith(TEXT_MARK) else cell


def csv_rows(lines: Iterable[str]) -> Iterator[list[str]]:
    """``csv.reader`` over ``lines``, every cell read back by :func:`csv_value`."""
    for row in csv.reader(lines):
        yield [csv_value(c) for c in row]


def csv_dicts(lines: Iterable[str]) -> Iterator[dict[str, str]]:
    """Rows as dicts keyed by the header row (like ``csv.DictReader``), cells read back by
    :func:`csv_value`; a short row gets empty cells, extra cells are dropped."""
    rows = csv_rows(lines)
    header = next(rows, None)
    if header is None:
        return
    for row in rows:
        if row:  # a blank line is no row (as csv.DictReader has it)
            yield {k: row[i] if i < len(row) else "" for i, k in enumerate(header)}


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
