"""Result folders appear complete or not at all and never destroy what is not theirs."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sim.output.folder import (
    FolderLock,
    FolderLockedError,
    InputError,
    OutputChangedError,
    OutputExistsError,
    ResultFolder,
    atomic_folder,
    check_target,
    default_out_dir,
    folder_kind,
    protected_reason,
    remove_stale_temporaries,
    rewritten_subfolder,
    stale_temporaries,
    utc_stamp,
)


def make_result_folder(path: Path, kind: str = "run", content: str = "old") -> Path:
    """A folder that looks like one siege wrote (a manifest naming its kind)."""
    path.mkdir(parents=True)
    (path / "manifest.json").write_text(json.dumps({"kind": kind, "siege_sim_version": "0"}))
    (path / "old.txt").write_text(content)
    return path


def test_success_renames_into_place(tmp_path):
    out = tmp_path / "runs" / "a"
    with atomic_folder(out) as tmp:
        assert tmp.parent == out.parent and tmp.name.startswith(f".a.tmp-{os.getpid()}-")
        (tmp / "daily.csv").write_text("date\n")
        assert out.is_dir() and not any(out.iterdir())  # reserved, empty, until the end
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
    out = make_result_folder(tmp_path / "run")
    with pytest.raises(OutputExistsError, match="--force"), atomic_folder(out):
        pytest.fail("must not get here")
    assert (out / "old.txt").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_force_replaces_only_when_complete(tmp_path):
    out = make_result_folder(tmp_path / "run")
    with pytest.raises(RuntimeError), atomic_folder(out, force=True) as tmp:
        (tmp / "new.txt").write_text("new")
        raise RuntimeError
    assert (out / "old.txt").exists()  # a failed forced run keeps the old folder
    with atomic_folder(out, force=True) as tmp:
        (tmp / "new.txt").write_text("new")
        (tmp / "manifest.json").write_text('{"kind": "run", "siege_sim_version": "0"}')
        assert (out / "old.txt").exists()  # the old one stays until the new one is complete
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "new.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        ("user_folder", "not a folder written by siege"),
        ("other_kind", "is a sweep folder"),
        ("symlink", "symbolic link"),
        ("file", "not a folder"),
    ],
)
def test_force_never_replaces_what_is_not_a_run_folder(tmp_path, setup, words):
    out = tmp_path / "target"
    if setup == "user_folder":
        out.mkdir()
        (out / "thesis.tex").write_text("years of work")
    elif setup == "other_kind":
        make_result_folder(out, kind="sweep")
    elif setup == "symlink":
        real = make_result_folder(tmp_path / "real")
        out.symlink_to(real)
    else:
        out.write_text("a file")
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    with pytest.raises(OutputExistsError, match=words), atomic_folder(out, force=True):
        pytest.fail("must not get here")
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before


@pytest.mark.parametrize("where", ["cwd", "parent", "root", "home", "project"])
def test_protected_targets_are_refused_even_with_force(tmp_path, monkeypatch, where):
    work = tmp_path / "a" / "work"
    work.mkdir(parents=True)
    (work / "keep.txt").write_text("keep")
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "pyproject.toml").write_text("")
    target = {
        "cwd": Path("."),
        "parent": Path(".."),
        "root": Path("/"),
        "home": tmp_path / "home",
        "project": tmp_path / "proj",
    }[where]
    assert protected_reason(target)
    with pytest.raises(OutputExistsError, match="refused as an output folder"):
        check_target(target, "run", force=True)
    with pytest.raises(OutputExistsError), atomic_folder(target, force=True):
        pytest.fail("must not get here")
    assert (work / "keep.txt").read_text() == "keep"
    assert sorted(p.name for p in work.iterdir()) == ["keep.txt"]


def test_a_second_writer_is_refused_at_its_start(tmp_path):
    out = tmp_path / "run"
    with atomic_folder(out) as tmp:
        (tmp / "a.txt").write_text("first")
        with pytest.raises(OutputExistsError, match="already exists"), atomic_folder(out):
            pytest.fail("must not get here")
    assert (out / "a.txt").read_text() == "first"


def test_a_file_put_in_the_reserved_folder_mid_run_is_kept(tmp_path):
    out = tmp_path / "run"
    with (
        pytest.raises(OutputChangedError, match="left untouched") as info,
        atomic_folder(out) as tmp,
    ):
        (tmp / "result.csv").write_text("mine")
        (out / "notes.txt").write_text("the user's")
    assert (out / "notes.txt").read_text() == "the user's"
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    alt = info.value.written_to
    assert alt == tmp_path / "run-2" and (alt / "result.csv").read_text() == "mine"


def test_default_names_taken_at_the_same_second_stay_apart(tmp_path):
    now = dt.datetime(2017, 1, 15, 12, 30, 5, tzinfo=dt.UTC)
    assert utc_stamp(now) == "20170115T123005Z"
    base = default_out_dir("deir", now, root=tmp_path)
    assert base == tmp_path / "deir" / "20170115T123005Z"
    with ResultFolder(base, "run", unique=True) as a, ResultFolder(base, "run", unique=True) as b:
        (a.tmp / "who").write_text("a")
        (b.tmp / "who").write_text("b")
    assert a.path.name == "20170115T123005Z" and b.path.name == "20170115T123005Z-2"
    assert (a.path / "who").read_text() == "a" and (b.path / "who").read_text() == "b"


def test_unwritable_parent_is_refused_before_anything(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="cannot create"), atomic_folder(tmp_path / "file" / "r"):
        pytest.fail("must not get here")
    assert (tmp_path / "file").read_text() == "x"


def test_folder_kind(tmp_path):
    assert folder_kind(make_result_folder(tmp_path / "s", kind="sweep")) == "sweep"
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    (legacy / "manifest.json").write_text('{"siege_sim_version": "0.1.0"}')
    assert folder_kind(legacy) == "run"
    assert folder_kind(tmp_path) is None


def test_lock_names_its_holder_and_is_released(tmp_path):
    lock = FolderLock(tmp_path).acquire("siege sweep")
    assert f"pid {os.getpid()}" in FolderLock(tmp_path).holder()
    with pytest.raises(FolderLockedError, match=r"in use by siege sweep \(pid"):
        FolderLock(tmp_path).acquire()
    lock.release()
    assert FolderLock(tmp_path).holder() == ""
    again = FolderLock(tmp_path).acquire()
    assert again.stale == ""  # released cleanly: nothing stale
    again.release()


def test_a_dead_holder_leaves_a_stale_lock_that_is_taken_over(tmp_path):
    code = (
        "import sys; from sim.output.folder import FolderLock; "
        f"FolderLock({str(tmp_path)!r}).acquire('siege sweep'); sys.exit(0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)  # exits without releasing
    assert FolderLock(tmp_path).holder() == ""  # the OS released it
    lock = FolderLock(tmp_path).acquire()
    assert "siege sweep (pid" in lock.stale
    lock.release()


def test_a_process_forked_by_the_holder_does_not_keep_the_lock(tmp_path):
    # a sweep's workers are forked from the process holding the folder's lock: once that
    # process is gone (here: has released it), the folder must be free, workers or not
    lock = FolderLock(tmp_path).acquire("siege sweep")
    go_r, go_w = os.pipe()
    up_r, up_w = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child
        os.close(go_w)
        os.write(up_w, b"1")  # it runs (so the fork's hooks have run)
        os.read(go_r, 1)  # wait until the parent has looked
        os._exit(0 if not lock.held else 1)
    os.close(go_r)
    os.close(up_w)
    try:
        assert os.read(up_r, 1) == b"1"
        os.close(up_r)
        lock.release()
        assert FolderLock(tmp_path).holder() == ""
    finally:
        os.close(go_w)
        _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0  # the child's copy was closed at once


def test_force_refuses_a_folder_in_use(tmp_path):
    out = make_result_folder(tmp_path / "sweep", kind="sweep")
    lock = FolderLock(out).acquire("siege sweep")
    try:
        with pytest.raises(FolderLockedError, match="in use by"):
            check_target(out, "sweep", force=True)
    finally:
        lock.release()
    check_target(out, "sweep", force=True)


def test_stale_temporaries_of_killed_processes_are_cleaned_up(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    pid = int(dead.stdout)
    (tmp_path / "r1").mkdir()  # an empty reservation of the killed run
    stale = tmp_path / f".r1.tmp-{pid}-0123abcd"
    stale.mkdir()
    (stale / "daily.csv").write_text("half")
    live = tmp_path / f".r2.tmp-{os.getpid()}-0123abcd"
    live.mkdir()
    swapped = tmp_path / f".r3.old-{pid}-0123abcd"  # a killed --force between its renames
    make_result_folder(swapped)
    assert stale_temporaries(tmp_path) == sorted([stale, swapped])
    remove_stale_temporaries(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["r3", live.name])
    assert (tmp_path / "r3" / "old.txt").read_text() == "old"  # the old result is put back


def test_a_killed_runs_reservation_does_not_block_the_next_run(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    (tmp_path / "run").mkdir()
    (tmp_path / f".run.tmp-{int(dead.stdout)}-0123abcd").mkdir()
    with atomic_folder(tmp_path / "run") as tmp:
        (tmp / "x").write_text("new")
    assert (tmp_path / "run" / "x").read_text() == "new"


def test_rewritten_subfolder_refuses_a_symlink(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious.png").write_text("x")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "plots").symlink_to(elsewhere)
    with (
        pytest.raises(InputError, match="symbolic link"),
        rewritten_subfolder(tmp_path / "run" / "plots"),
    ):
        pytest.fail("must not get here")
    assert sorted(p.name for p in elsewhere.iterdir()) == ["precious.png"]
