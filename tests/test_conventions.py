"""The shared conventions: CSV cells, one-line messages, strict JSON, default workers."""

from __future__ import annotations

import datetime as dt
import io
import json
import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sim.conventions import (
    csv_cell,
    csv_dicts,
    csv_line,
    csv_rows,
    csv_value,
    default_workers,
    fmt,
    json_ready,
    json_text,
    one_line,
)


def test_fmt_numbers() -> None:
    assert fmt(0.1) == "0.1"
    assert fmt(1 / 3) == "0.3333333333"
    assert fmt(12345678901.0) == "1.23456789e+10"
    assert fmt(-0.0) == "0"
    assert fmt(math.nan) == ""
    assert fmt(None) == ""
    assert fmt(True) == "true" and fmt(np.bool_(False)) == "false"
    assert fmt(7) == "7" and fmt(np.int64(7)) == "7"
    assert fmt(np.float32(0.5)) == "0.5"


def test_fmt_dates_lists_and_text() -> None:
    assert fmt(dt.date(2017, 1, 15)) == "2017-01-15"
    assert fmt([1, "a", dt.date(2017, 1, 15)]) == '[1, "a", "2017-01-15"]'
    assert fmt({"a": 1}) == '{"a": 1}'
    assert fmt("text") == "text"


@given(st.floats(min_value=-1e300, max_value=1e300))
def test_fmt_keeps_ten_significant_digits(x: float) -> None:
    assert math.isclose(float(fmt(x)), x, rel_tol=1e-9, abs_tol=0.0)


@given(st.text())
def test_one_line_has_no_line_break(text: str) -> None:
    out = one_line(text)
    assert "\n" not in out and "\r" not in out and out == out.strip()


def test_json_is_strict() -> None:
    data = {1: (np.float64(math.nan), np.int64(2), math.inf), "d": dt.date(2017, 1, 1)}
    assert json_ready(data) == {"1": [None, 2, None], "d": dt.date(2017, 1, 1)}
    text = json_text(data)
    assert text.endswith("\n")
    assert json.loads(text) == {"1": [None, 2, None], "d": "2017-01-01"}


def test_default_workers_is_at_least_one() -> None:
    assert default_workers() >= 1


# ---- CSV cells: formula injection ------------------------------------------------------


def test_csv_cell_neutralises_text_that_looks_like_a_formula() -> None:
    assert csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert (
        csv_cell("+1") == "'+1" and csv_cell("-1") == "'-1" and csv_cell("@SUM(A1)") == "'@SUM(A1)"
    )
    assert csv_cell("\t=1") == "'\t=1" and csv_cell("\r=1") == "'\r=1"
    assert csv_cell("'quoted") == "''quoted"  # so that it reads back unchanged
    assert csv_cell("plain text") == "plain text" and csv_cell("a=b") == "a=b"


def test_csv_cell_never_changes_a_number() -> None:
    for x in (-5, -0.25, np.float64(-1e-300), np.int64(-3), -math.inf, math.inf, True, None):
        assert csv_cell(x) == fmt(x)
    assert csv_cell(-5) == "-5"
    assert csv_cell(dt.date(2017, 1, 15)) == "2017-01-15"
    assert csv_cell(["=1"]) == '["=1"]'  # a JSON array starts with "["


@given(st.text())
def test_csv_cells_read_back_as_meant(text: str) -> None:
    cell = csv_cell(text)
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert csv_value(cell) == text
    line = csv_line([text, -2.5])
    assert line.endswith("\n")
    assert list(csv_rows(io.StringIO(line, newline=""))) == [[text, "-2.5"]]


def test_csv_dicts() -> None:
    lines = ["a,b\n", "'=x,-1\n", "\n", "y\n"]
    assert list(csv_dicts(lines)) == [{"a": "=x", "b": "-1"}, {"a": "y", "b": ""}]
