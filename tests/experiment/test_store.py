"""The sweep folder's tables: journal reading (torn lines), sorting, per-point summaries."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest

from sim.experiment import store
from sim.experiment.runner import RunRow

HEADER = store.runs_header(["y", "z"])


def test_design_text_formats_dates_lists_and_numbers() -> None:
    text = store.design_text(
        ["a", "b", "c"],
        [(0.1, dt.date(2016, 1, 2), ["mon", "thu"]), (2, dt.date(2016, 2, 1), ["sun"])],
    )
    assert text == (
        'point,a,b,c\n0,0.1,2016-01-02,"[""mon"", ""thu""]"\n1,2,2016-02-01,"[""sun""]"\n'
    )


def test_run_line_of_a_success_and_of_a_failure() -> None:
    ok = store.run_line(RunRow(3, 1, (1.5, math.nan)), seed=9, n_metrics=2)
    bad = store.run_line(RunRow(3, 2, None, "ValueError: x, y"), seed=9, n_metrics=2)
    assert ok == "3,1,9,1.5,,\n"
    assert bad == '3,2,9,,,"ValueError: x, y"\n'
    assert store.parse_run_line(bad.rstrip("\n"), 2)[3] == "ValueError: x, y"


def test_read_journal_drops_a_torn_last_line_bad_rows_and_duplicates(tmp_path: Path) -> None:
    p = tmp_path / "runs.csv"
    p.write_text(
        "point,replication,seed,y,z,error\n"
        "1,0,9,1,2,\n"
        "0,1,9,3,4,\n"
        "0,1,9,99,99,\n"  # a duplicate: the first row wins
        "garbage\n"
        "7,0,9,1,2,\n"  # outside the design
        "0,0,9,5,6\n"  # a column short
        "0,0,9,5,",  # torn by a kill: no newline
        encoding="utf-8",
    )
    done = store.read_journal(p, HEADER, n_points=2, replications=2)
    assert done == {(1, 0): "1,0,9,1,2,\n", (0, 1): "0,1,9,3,4,\n"}
    assert store.journal_text(HEADER, done) == (
        "point,replication,seed,y,z,error\n0,1,9,3,4,\n1,0,9,1,2,\n"
    )


def test_read_journal_rejects_other_columns(tmp_path: Path) -> None:
    p = tmp_path / "runs.csv"
    p.write_text("point,replication,seed,w,error\n", encoding="utf-8")
    with pytest.raises(ValueError, match="columns"):
        store.read_journal(p, HEADER, 1, 1)


def test_summarize_runs_per_point(tmp_path: Path) -> None:
    runs = (
        "point,replication,seed,y,z,error\n"
        "0,0,9,1,10,\n0,1,9,2,20,\n0,2,9,3,30,\n"
        "1,0,9,,,ValueError: boom\n1,1,9,5,,\n1,2,9,7,,\n"
    )
    text, means, matrix, failed = store.summarize_runs(
        runs, ["y", "z"], ["a"], [(0.5,), (0.7,)], replications=3, keep_matrix=True
    )
    lines = text.splitlines()
    assert lines[0].startswith("point,a,runs,failed,y_mean,y_ci95_low,y_ci95_high,y_p05,y_p50")
    cells = lines[1].split(",")
    assert cells[:5] == ["0", "0.5", "3", "0", "2"]
    # Student-t 95 % interval of the mean of 1, 2, 3: 2 ± 4.303 × 1/√3
    assert float(cells[5]) == pytest.approx(2 - 4.302652730 / math.sqrt(3), rel=1e-8)
    assert lines[2].split(",")[:5] == ["1", "0.7", "2", "1", "6"]
    assert failed == 1
    assert list(means["y"]) == [2.0, 6.0]
    assert math.isnan(means["z"][1])
    assert math.isnan(matrix["y"][1, 0]) and matrix["y"][1, 2] == 7.0


def test_atomic_write_replaces_whole_files(tmp_path: Path) -> None:
    p = tmp_path / "f.csv"
    store.atomic_write(p, "a\n")
    store.atomic_write(p, "b\n")
    assert p.read_text() == "b\n"
    assert [q.name for q in tmp_path.iterdir()] == ["f.csv"]
