"""Result files read as pandas frames mean what was written."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.analysis.frames import csv_frame
from sim.conventions import csv_line


def test_a_neutralised_text_cell_reads_back_as_written(tmp_path: Path) -> None:
    pytest.importorskip("pandas")
    path = tmp_path / "points.csv"
    path.write_text(
        csv_line(["label", "value"]) + csv_line(["=1+2", -5]) + csv_line(["-plain", 2.5]),
        encoding="utf-8",
    )
    assert path.read_text().splitlines()[1] == "'=1+2,-5"
    frame = csv_frame(path)
    assert list(frame["label"]) == ["=1+2", "-plain"]
    assert list(frame["value"]) == [-5, 2.5]
