"""Sweeps end to end: identical results whatever the workers or executor, common random
numbers, failed runs recorded, kill-and-resume byte for byte, Ctrl-C, flat memory."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import sweep_fakes
from sweep_fakes import folder_files

from sim.api import resume_sweep, sweep
from sim.cli import main
from sim.conventions import csv_rows
from sim.experiment.sweep import check_points
from sim.experiment.sweepfile import load_sweep
from sim.scenario.errors import ScenarioError

ROOT = Path(__file__).resolve().parents[2]

REAL_SWEEP = """\
base = "tiny.toml"
title = "Tiny airdrop sweep"
design = "grid"
samples = 5
replications = 12
seed = 11
metrics = ["stockout__town__food", "person_days_below_half", "delivered_t",
           "first_stockout_day__town__food"]

[parameters]
"fleets.drops.aircraft" = [1, 2, 3]
"drop_zones.field.recovery" = { low = 0.5, high = 0.9 }
"""
REAL_RUNS = 3 * 5 * 12

FAKE_SWEEP = """\
base = "tiny.toml"
title = "Tiny fake sweep"
replications = 8
seed = 11
metrics = ["y", "z"]

[parameters]
"fleets.drops.aircraft" = [1, 2, 3]
"drop_zones.field.recovery" = { low = 0.5, high = 0.9 }
"""


def _lines(p: Path) -> int:
    try:
        return p.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def _wait_for_rows(proc: subprocess.Popen, runs: Path, rows: int, timeout: float = 60) -> None:
    t0 = time.monotonic()
    while _lines(runs) < rows + 1:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() - t0 < timeout, "the sweep made no progress"
        time.sleep(0.005)


@pytest.fixture(scope="module")
def real_reference(tmp_path_factory: pytest.TempPathFactory, tiny_toml: str) -> tuple[Path, Path]:
    """The real-model sweep run uninterrupted with 2 workers: (sweep file, folder)."""
    d = tmp_path_factory.mktemp("real")
    (d / "tiny.toml").write_text(tiny_toml, encoding="utf-8")
    (d / "sweep.toml").write_text(REAL_SWEEP, encoding="utf-8")
    assert (
        main(["sweep", str(d / "sweep.toml"), "--out", str(d / "ref"), "--workers", "2", "--quiet"])
        == 0
    )
    return d / "sweep.toml", d / "ref"


def test_workers_1_and_2_give_identical_files(
    real_reference: tuple[Path, Path], tmp_path: Path
) -> None:
    sweep_file, ref = real_reference
    assert (
        main(["sweep", str(sweep_file), "--out", str(tmp_path / "w1"), "--workers", "1", "--quiet"])
        == 0
    )
    one, two = folder_files(tmp_path / "w1"), folder_files(ref)
    assert one.keys() == two.keys()
    assert {"design.csv", "runs.csv", "points.csv", "sweep.toml", "scenario.toml"} <= set(one)
    assert any(k.startswith("plots/") for k in one)
    for name in one:
        assert one[name] == two[name], name
    rows = (ref / "runs.csv").read_text().splitlines()
    assert len(rows) == 1 + REAL_RUNS
    keys = [tuple(map(int, r.split(",")[:2])) for r in rows[1:]]
    assert keys == sorted(keys)
    assert {r.split(",")[2] for r in rows[1:]} == {"11"}  # the root seed
    manifest = json.loads((ref / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["failed"] == 0
    assert manifest["points"] == 15 and manifest["runs"] == REAL_RUNS


def test_common_random_numbers_across_points(
    write_sweep: Callable[..., Path], tmp_path: Path
) -> None:
    result = sweep(write_sweep(), tmp_path / "out", workers=1, evaluate=sweep_fakes.smooth)
    design = (tmp_path / "out" / "design.csv").read_text().splitlines()[1:]
    values = {int(p): (int(a), float(r)) for p, a, r in (d.split(",") for d in design)}
    noise: dict[int, set[float]] = {}
    for line in (tmp_path / "out" / "runs.csv").read_text().splitlines()[1:]:
        point, rep, _seed, y, *_ = line.split(",")
        a, rec = values[int(point)]
        noise.setdefault(int(rep), set()).add(round(float(y) - a * 2.0 * rec, 6))
    assert result.failed == 0
    assert len(noise) == 3 and all(len(v) == 1 for v in noise.values())  # same draw per rep
    assert len({next(iter(v)) for v in noise.values()}) == 3  # which differs between reps


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(
    write_sweep: Callable[..., Path],
    tmp_path: Path,
) -> None:
    result = sweep(write_sweep(), tmp_path / "out", workers=2, evaluate=sweep_fakes.failing)
    assert (result.failed, result.runs) == (3, 27)
    assert result.first_error == "ValueError: engine fire on the ramp"
    runs = (tmp_path / "out" / "runs.csv").read_text().splitlines()
    failed = [r for r in runs if r.endswith("ValueError: engine fire on the ramp")]
    assert len(failed) == 3 and all(r.split(",")[1] == "1" for r in failed)
    assert all(r.split(",")[3:5] == ["", ""] for r in failed)
    points = (tmp_path / "out" / "points.csv").read_text().splitlines()
    header = points[0].split(",")
    i_runs, i_failed = header.index("runs"), header.index("failed")
    by_failed = sorted((r.split(",")[i_runs], r.split(",")[i_failed]) for r in points[1:])
    assert by_failed.count(("2", "1")) == 3 and by_failed.count(("3", "0")) == 6
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["failed"] == 3


def test_a_run_that_kills_its_worker_is_recorded_and_the_sweep_goes_on(
    write_sweep: Callable[..., Path], tmp_path: Path
) -> None:
    result = sweep(write_sweep(), tmp_path / "out", workers=2, evaluate=sweep_fakes.dies)
    assert (result.failed, result.runs) == (3, 27)
    assert result.first_error == (
        "WorkerLostError: the worker process running it died 3 times "
        "(killed by a signal, or out of memory?)"
    )
    sweep(write_sweep(), tmp_path / "ok", workers=1, evaluate=sweep_fakes.smooth)
    got = (tmp_path / "out" / "runs.csv").read_text().splitlines()
    want = (tmp_path / "ok" / "runs.csv").read_text().splitlines()
    lost = [i for i, (a, b) in enumerate(zip(got, want, strict=True)) if a != b]
    assert len(lost) == 3 and all(next(csv_rows([got[i]]))[-1] == result.first_error for i in lost)
    assert all(got[i].split(",")[1] == "1" for i in lost)  # replication 1 of 3 points


def test_cli_exit_status_1_and_summary_when_runs_fail(
    write_sweep: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import sim.experiment.runner as runner
    import sim.experiment.sweep as sweep_module

    monkeypatch.setattr(runner, "default_evaluate", sweep_fakes.failing)
    monkeypatch.setattr(sweep_module, "default_evaluate", sweep_fakes.failing)
    status = main(["sweep", str(write_sweep()), "--out", str(tmp_path / "out"), "--workers", "1"])
    out = capsys.readouterr().out
    assert status == 1
    assert "27 runs" in out and "3 failed" in out
    assert "3 of 27 runs failed" in out and "engine fire" in out


DRIVER = """\
import sweep_fakes
from sim.api import sweep

if __name__ == "__main__":
    sweep({sweep_file!r}, {out!r}, workers=2, evaluate=sweep_fakes.slow)
"""


def test_kill_and_resume_gives_the_uninterrupted_files(
    write_sweep: Callable[..., Path], tmp_path: Path
) -> None:
    sweep_file = write_sweep(FAKE_SWEEP)
    total = 3 * 5 * 8
    out = tmp_path / "killed"
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER.format(sweep_file=str(sweep_file), out=str(out)))
    env = {**os.environ, "PYTHONPATH": str(Path(sweep_fakes.__file__).parent)}
    proc = subprocess.Popen(
        [sys.executable, str(driver)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for_rows(proc, out / "runs.csv", 25)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=20)  # returns once the orphaned workers have exited too
    finally:
        proc.kill()
    done = _lines(out / "runs.csv") - 1
    assert 25 <= done < total
    assert not (out / "points.csv").exists()
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"

    result = resume_sweep(out, workers=2, evaluate=sweep_fakes.slow)
    assert result.ran == total - done and result.failed == 0

    reference = sweep(sweep_file, tmp_path / "whole", workers=1, evaluate=sweep_fakes.smooth)
    assert reference.ran == total
    assert folder_files(out) == folder_files(tmp_path / "whole")
    sessions = json.loads((out / "manifest.json").read_text())["sessions"]
    assert [s["status"] for s in sessions] == ["complete"]  # the killed one left no entry
    # resuming a complete sweep runs nothing and changes nothing
    before = folder_files(out)
    assert resume_sweep(out, workers=1, evaluate=sweep_fakes.smooth).ran == 0
    assert folder_files(out) == before


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_cli_sweep_killed_or_interrupted_then_resumed(
    sig: signal.Signals,
    real_reference: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    sweep_file, ref = real_reference
    out = tmp_path / "cut"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sim",
            "sweep",
            str(sweep_file),
            "--out",
            str(out),
            "--workers",
            "2",
            "--quiet",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        _wait_for_rows(proc, out / "runs.csv", 30)
        proc.send_signal(sig)
        # the workers hold the pipes too: this returns only once they have all exited
        _stdout, stderr = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    done = _lines(out / "runs.csv") - 1
    assert 30 <= done < REAL_RUNS, "the sweep finished before it could be stopped"
    if sig == signal.SIGINT:
        assert proc.returncode == 130
        assert f"siege sweep --resume {out}" in stderr
        assert "Traceback" not in stderr
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["status"] == "interrupted"
    else:
        assert proc.returncode == -signal.SIGKILL
    assert main(["sweep", "--resume", str(out), "--workers", "1", "--quiet"]) == 0
    assert folder_files(out) == folder_files(ref)


def test_design_points_are_checked_before_anything_is_written(
    write_sweep: Callable[..., Path],
) -> None:
    # each value is fine on its own; the combination (from 10 Feb, to 20 Jan) is not
    spec = load_sweep(
        write_sweep(
            'base = "tiny.toml"\nmetrics = ["y"]\n[parameters]\n'
            '"fleets.drops.active_from" = [2016-01-05, 2016-02-10]\n'
            '"fleets.drops.active_to" = [2016-01-20, 2016-03-01]\n'
        )
    )
    points = spec.make_design().points
    with pytest.raises(ScenarioError, match=r"is before active_from \(design point 2: "):
        check_points(spec, points)
    # beyond the limit, evenly spaced points are checked: 0 and 3 are fine
    check_points(spec, points, limit=2)
    with pytest.raises(ScenarioError, match="design point 2"):
        check_points(spec, points, limit=3)  # 0, 2 and 3


def test_existing_folder_is_refused_unless_forced(
    write_sweep: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    args = ["sweep", str(write_sweep(REAL_SWEEP)), "--out", str(out), "--workers", "1", "--quiet"]
    assert main(args) == 2
    assert "already exists" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    # --force never replaces a folder that is not a sweep folder of ours
    assert main([*args, "--force"]) == 2
    assert "not a folder written by siege" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    done = tmp_path / "done"
    assert main([*args[:3], str(done), *args[4:]]) == 0
    (done / "stray.txt").write_text("replaced with the folder")
    assert main([*args[:3], str(done), *args[4:], "--force"]) == 0
    assert (done / "points.csv").is_file() and not (done / "stray.txt").exists()


def test_resume_refuses_an_edited_design(
    real_reference: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    _, ref = real_reference
    copy = tmp_path / "copy"
    shutil.copytree(ref, copy)
    text = (copy / "sweep.toml").read_text().replace("3,\n]", "4,\n]")
    assert text != (copy / "sweep.toml").read_text()
    (copy / "sweep.toml").write_text(text)
    assert main(["sweep", "--resume", str(copy), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert (
        f'{copy}/sweep.toml: parameters."fleets.drops.aircraft": changed since the sweep '
        "started (was [1, 2, 3], now [1, 2, 4])" in err
    ), err
    (copy / "sweep.toml").write_text((ref / "sweep.toml").read_text())
    (copy / "design.csv").write_text((ref / "design.csv").read_text().replace(",3,", ",4,"))
    assert main(["sweep", "--resume", str(copy), "--quiet"]) == 2
    assert "design.csv: does not match sweep.toml" in capsys.readouterr().err


def _cut(folder: Path, keep: int) -> list[str]:
    """Make a complete sweep folder look killed after ``keep`` runs; its removed rows."""
    lines = (folder / "runs.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (folder / "runs.csv").write_text("".join(lines[: 1 + keep]), encoding="utf-8")
    for name in ("points.csv", "sensitivity.csv"):
        (folder / name).unlink(missing_ok=True)
    return lines[1 + keep :]


EDITS = {
    "seed in sweep.toml": (
        "sweep.toml",
        ("seed = 11", "seed = 12"),
        "sweep.toml: seed: changed since the sweep started (was 11, now 12)",
    ),
    "replications in sweep.toml": (
        "sweep.toml",
        ("replications = 3", "replications = 2"),
        "sweep.toml: replications: changed since the sweep started (was 3, now 2)",
    ),
    "a value in scenario.toml": (
        "scenario.toml",
        ("payload_t = 2.0", "payload_t = 2.5"),
        "scenario.toml: fleets.drops.payload_t: changed since the sweep started (was 2, now 2.5)",
    ),
    "a key added to scenario.toml": (
        "scenario.toml",
        ("[fleets.drops]\n", "[fleets.drops]\nreplacement_days = 5.0\n"),
        "scenario.toml: fleets.drops.replacement_days: changed since the sweep started "
        "(was not set, now 5)",
    ),
}


@pytest.mark.parametrize("case", list(EDITS))
def test_resume_refuses_changed_inputs_naming_the_change(
    case: str,
    write_sweep: Callable[..., Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    name, (old, new), words = EDITS[case]
    out = tmp_path / "out"
    sweep(write_sweep(), out, workers=1, evaluate=sweep_fakes.smooth)
    _cut(out, 10)
    text = (out / name).read_text(encoding="utf-8")
    assert old in text, f"test setup: {old!r} not in {name}"
    (out / name).write_text(text.replace(old, new, 1), encoding="utf-8")
    before = folder_files(out)
    assert main(["sweep", "--resume", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: {out}/{words}; "), err
    assert folder_files(out) == before  # nothing run, nothing rewritten
    with pytest.raises(ScenarioError, match="changed since the sweep started"):
        resume_sweep(out, workers=1, evaluate=sweep_fakes.smooth)


def test_labels_may_change_between_sessions(
    write_sweep: Callable[..., Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    sweep(write_sweep(), out, workers=1, evaluate=sweep_fakes.smooth)
    _cut(out, 10)
    text = (out / "sweep.toml").read_text(encoding="utf-8")
    (out / "sweep.toml").write_text(text.replace("Tiny grid", "Tiny grid, retitled"))
    assert resume_sweep(out, workers=1, evaluate=sweep_fakes.smooth).ran == 17


def test_a_torn_utf8_character_in_the_journal_does_not_stop_a_resume(
    write_sweep: Callable[..., Path], tmp_path: Path
) -> None:
    whole = tmp_path / "whole"
    sweep(write_sweep(), whole, workers=1, evaluate=sweep_fakes.smooth)
    out = tmp_path / "out"
    sweep(write_sweep(), out, workers=1, evaluate=sweep_fakes.smooth)
    dropped = _cut(out, 20)
    with open(out / "runs.csv", "ab") as fh:  # a kill in the middle of "é" of a row
        fh.write(dropped[0].rstrip("\n").encode("utf-8") + ",café"[:-1].encode() + b"\xc3")
    result = resume_sweep(out, workers=1, evaluate=sweep_fakes.smooth)
    assert result.ran == 27 - 20 and result.failed == 0
    assert folder_files(out) == folder_files(whole)


def test_retry_failed_reruns_the_failed_runs_only(
    write_sweep: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    flag = tmp_path / "fault"
    flag.touch()
    monkeypatch.setenv(sweep_fakes.FLAKY_FLAG, str(flag))
    whole = tmp_path / "whole"
    sweep(write_sweep(), whole, workers=1, evaluate=sweep_fakes.smooth)
    out = tmp_path / "out"
    first = sweep(write_sweep(), out, workers=1, evaluate=sweep_fakes.flaky)
    assert first.failed == 3
    assert resume_sweep(out, workers=1, evaluate=sweep_fakes.flaky).ran == 0  # plain resume
    again = resume_sweep(out, workers=1, evaluate=sweep_fakes.flaky, retry_failed=True)
    assert (again.ran, again.failed) == (3, 3)  # the fault is still there
    flag.unlink()
    fixed = resume_sweep(out, workers=1, evaluate=sweep_fakes.flaky, retry_failed=True)
    assert (fixed.ran, fixed.failed) == (3, 0)
    assert folder_files(out) == folder_files(whole)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["failed"] == 0 and manifest["status"] == "complete"
    assert main(["sweep", "--resume", str(out), "--retry-failed", "--quiet"]) == 0
    assert main(["sweep", str(write_sweep()), "--retry-failed"]) == 2
    assert "--retry-failed: needs --resume" in capsys.readouterr().err


def test_dask_local_cluster_gives_the_local_files(
    real_reference: tuple[Path, Path], tmp_path: Path
) -> None:
    distributed = pytest.importorskip("distributed")
    sweep_file, ref = real_reference
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        status = main(
            [
                "sweep",
                str(sweep_file),
                "--out",
                str(tmp_path / "dask"),
                "--executor",
                "dask",
                "--scheduler",
                cluster.scheduler_address,
                "--quiet",
            ]
        )
    assert status == 0
    assert folder_files(tmp_path / "dask") == folder_files(ref)


MEMORY_DRIVER = """\
import resource
from sim.api import sweep

if __name__ == "__main__":
    sweep({sweep_file!r}, {out!r}, workers=1)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


@pytest.mark.slow
def test_memory_stays_flat_in_the_number_of_runs(
    write_sweep: Callable[..., Path], tmp_path: Path
) -> None:
    peaks = {}
    for reps in (40, 400):  # 600 and 6,000 runs of the real model
        text = REAL_SWEEP.replace("replications = 12", f"replications = {reps}").replace(
            "samples = 5", 'samples = 5\nname = "mem"'
        )
        sweep_file = write_sweep(text, name=f"mem{reps}.toml")
        driver = tmp_path / "mem_driver.py"
        driver.write_text(
            MEMORY_DRIVER.format(sweep_file=str(sweep_file), out=str(tmp_path / f"m{reps}"))
        )
        done = subprocess.run(
            [sys.executable, str(driver)], cwd=tmp_path, check=True, capture_output=True, text=True
        )
        peaks[reps] = int(done.stdout.split()[-1])  # KiB
    assert peaks[400] - peaks[40] < 20_000, peaks
