"""The result folder appears complete or not at all, and is never overwritten silently."""

from __future__ import annotations

import datetime as dt

import pytest

from sim.output.folder import (
    OutputExistsError,
    atomic_folder,
    check_writable,
    default_out_dir,
    utc_stamp,
)


def test_success_renames_into_place(tmp_path):
    out = tmp_path / "runs" / "a"
    with atomic_folder(out) as tmp:
        assert tmp.parent == out.parent and tmp.name.startswith(".a.tmp-")
        (tmp / "daily.csv").write_text("date\n")
        assert not out.exists()
    assert (out / "daily.csv").read_text() == "date\n"
    assert sorted(p.name for p in out.parent.iterdir()) == ["a"]


def test_failure_mid_write_leaves_nothing(tmp_path):
    out = tmp_path / "results" / "scn" / "stamp"
    with pytest.raises(RuntimeError, match="boom"), atomic_folder(out) as tmp:
        (tmp / "daily.csv").write_text("half")
        raise RuntimeError("boom")
    assert not out.exists()
    # the parents created for it are gone too; what existed before stays
    assert list(tmp_path.iterdir()) == []


def test_failure_keeps_existing_parent_content(tmp_path):
    (tmp_path / "other").mkdir()
    with pytest.raises(KeyboardInterrupt), atomic_folder(tmp_path / "new"):
        raise KeyboardInterrupt
    assert [p.name for p in tmp_path.iterdir()] == ["other"]


def test_refuses_to_overwrite(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("old")
    with pytest.raises(OutputExistsError, match="--force"), atomic_folder(out):
        pytest.fail("must not get here")
    assert (out / "keep.txt").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
    with pytest.raises(OutputExistsError):
        check_writable(out, force=False)
    check_writable(out, force=True)


def test_force_replaces_only_when_complete(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with pytest.raises(RuntimeError), atomic_folder(out, force=True) as tmp:
        (tmp / "new.txt").write_text("new")
        raise RuntimeError
    assert (out / "old.txt").exists()  # a failed forced run keeps the old folder
    with atomic_folder(out, force=True) as tmp:
        (tmp / "new.txt").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == ["new.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_default_out_dir(tmp_path):
    now = dt.datetime(2017, 1, 15, 12, 30, 5, tzinfo=dt.UTC)
    assert utc_stamp(now) == "20170115T123005Z"
    first = default_out_dir("deir", now, root=tmp_path)
    assert first == tmp_path / "deir" / "20170115T123005Z"
    first.mkdir(parents=True)
    assert default_out_dir("deir", now, root=tmp_path).name == "20170115T123005Z-2"
