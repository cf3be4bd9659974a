"""``siege compare`` from the command line: output, exit codes, and every class of bad
input (exit 2, one stderr line, nothing written)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from sim import cli


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_toml: str) -> Path:
    """The tiny scenario file; the working directory is an empty temporary folder."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    path = tmp_path / "tiny.toml"
    path.write_text(tiny_toml)
    return path


def siege(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def nothing_written(tmp_path: Path) -> bool:
    work = tmp_path / "work"
    return not any(work.iterdir()) and not (tmp_path / "out").exists()


def test_compare_prints_the_table_and_writes_the_folder(tiny, tmp_path, capsys):
    other = tmp_path / "more.toml"
    other.write_text(tiny.read_text().replace("payload_t = 2.0", "payload_t = 3.0"))
    out = tmp_path / "cmp"
    code, text, err = siege(
        capsys, "compare", tiny, other, "--replications", "5", "--out", out, "--workers", "1"
    )
    assert code == 0, err
    assert "reference: tiny" in text and "tiny-2 − tiny" in text and f"results: {out}" in text
    assert "delivered_t" in text and "better" in text
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "comparison" and manifest["replications"] == 5
    assert [s["label"] for s in manifest["scenarios"]] == ["tiny", "tiny-2"]
    with open(out / "comparison.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    row = next(r for r in rows if r["metric"] == "delivered_t")
    assert float(row["diff_mean"]) > 0 and row["verdict"] == "better"
    code, text, err = siege(capsys, "plot", out)
    assert code == 0 and (out / "plots" / "forest.png").is_file()
    code, _, err = siege(capsys, "compare", tiny, other, "--replications", "5", "--out", out)
    assert code == 2 and "already exists" in err


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["{tiny}"], "at least two scenarios"),
        (["{tiny}", "{late}"], "calendar: runs 2016-01-01 to 2016-04-30"),
        (["{tiny}", "{tiny}", "--set", "fleets.drops.aircraft=-1"], "fleets.drops.aircraft"),
        (["{tiny}", "{tmp}/none.toml"], "none.toml: file not found"),
    ],
)
def test_compare_bad_input(tiny, tmp_path, capsys, args, words):
    late = tmp_path / "late.toml"
    late.write_text(tiny.read_text().replace("end = 2016-03-30", "end = 2016-04-30"))
    argv = [a.format(tiny=tiny, late=late, tmp=tmp_path) for a in args]
    code, _out, err = siege(capsys, "compare", *argv, "--out", tmp_path / "out")
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and words in err, err
    assert nothing_written(tmp_path)
