"""Nothing a user has is deleted, and two processes never lose each other's results.

Each case drives the ``siege`` command (in a subprocess where a traceback or a
half-deleted folder could otherwise hide) against folders holding the user's files.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import sim.api
from sim import cli
from sim.output.folder import FolderLock, ResultFolder


@pytest.fixture
def tiny(tmp_path: Path, tiny_toml: str) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(tiny_toml)
    return path


def siege(cwd: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize("out", [".", "..", "sub/..", "/"])
@pytest.mark.parametrize("command", ["run", "sweep"])
def test_force_on_the_working_folder_or_above_is_refused(tmp_path, tiny, out, command):
    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    (work / "thesis.tex").write_text("years of work")
    (tmp_path / "sibling.txt").write_text("also mine")
    before = tree(tmp_path)
    extra = ["--param", "fleets.drops.aircraft=1,2"] if command == "sweep" else []
    p = siege(work, command, tiny, *extra, "--replications", "1", "--out", out, "--force")
    assert p.returncode == 2, p.stderr
    assert p.stderr.startswith("error: ") and len(p.stderr.splitlines()) == 1
    assert "refused as an output folder" in p.stderr
    assert tree(tmp_path) == before


def test_a_run_into_a_folder_another_run_holds_is_refused(tmp_path, tiny):
    out = tmp_path / "x"
    with ResultFolder(out, "run") as first:  # another siege run, busy writing into x
        p = siege(tmp_path, "run", tiny, "--replications", "1", "--out", out)
        assert p.returncode == 2 and "already exists" in p.stderr
        (first.tmp / "daily.csv").write_text("the first run's")
    assert (out / "daily.csv").read_text() == "the first run's"


def test_a_file_the_user_puts_in_the_folder_mid_run_survives(tmp_path, tiny, monkeypatch, capsys):
    out = tmp_path / "x"
    real_run = sim.api.run

    def run_while_user_writes(*args, **kwargs):
        (out / "notes.txt").write_text("written by the user during the run")
        return real_run(*args, **kwargs)

    monkeypatch.setattr(sim.api.runs, "run", run_while_user_writes)  # run_to_folder calls it
    # one worker: the run in this process, where the patch is (with two, a single
    # replication runs in a worker forked from here, or from the fork server if a
    # thread left by an earlier test, Dask's, keeps this process from forking)
    argv = ["run", str(tiny), "--replications", "1", "--workers", "1", "--out", str(out)]
    code = cli.main([*argv, "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1 and "left untouched" in err
    assert tree(out) == ["notes.txt"]
    assert (tmp_path / "x-2" / "daily.csv").is_file()  # the run's results are kept too


def test_same_second_default_folders_do_not_collide(tmp_path, tiny):
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "sim", "run", str(tiny), "--replications", "1", "--quiet"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    folders = {o.strip() for o, _ in outs}
    assert len(folders) == 3
    for f in folders:
        assert (tmp_path / f / "daily.csv").is_file()


def test_a_second_resume_of_a_running_sweep_is_refused(tmp_path, tiny):
    out = tmp_path / "sw"
    p = siege(
        tmp_path, "sweep", tiny, "--param", "fleets.drops.aircraft=1,2",
        "--replications", "1", "--workers", "1", "--out", out, "--quiet",
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    runs = (out / "runs.csv").read_text()
    lock = FolderLock(out).acquire("siege sweep --resume")
    try:
        p = siege(tmp_path, "sweep", "--resume", out)
        assert p.returncode == 2 and len(p.stderr.splitlines()) == 1, p.stderr
        assert "in use by siege sweep --resume (pid" in p.stderr
    finally:
        lock.release()
    assert (out / "runs.csv").read_text() == runs
    p = siege(tmp_path, "sweep", "--resume", out, "--quiet")  # free again
    assert p.returncode == 0, p.stderr


def test_force_replaces_a_sweep_only_with_a_complete_new_one(tmp_path, tiny):
    out = tmp_path / "sw"
    args = ["sweep", tiny, "--param", "fleets.drops.aircraft=1,2", "--replications", "1"]
    assert siege(tmp_path, *args, "--workers", "1", "--out", out, "--quiet").returncode == 0
    # a bad design point is found before anything happens to the old sweep
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    p = siege(tmp_path, *args[:3], "fleets.drops.aircraft=1,-2", *args[4:], "--out", out, "--force")
    assert p.returncode == 2
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
