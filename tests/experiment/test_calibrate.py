"""ABC-SMC calibration end to end on a synthetic scenario whose answer is known.

The tiny scenario's record is made by the model itself at payload 2 t (the
``synthetic`` fixture); the calibration fits the payload to January's deliveries and
predicts the first half of February (held out). The posterior must cover the truth,
the held-out figure must lie inside its predictive band, and the files must be the
same whatever the workers or executor, and after a kill and a resume.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import TRUE_PAYLOAD_T
from sweep_fakes import folder_files, payload_kills_worker

from sim import api
from sim.cli import main
from sim.experiment import calibrate as calibrating
from sim.experiment.executors import ProcessExecutor, SerialExecutor
from sim.experiment.runner import default_evaluate
from sim.output.folder import FolderLock
from sim.scenario.load import load_scenario

PATH = "fleets.drops.payload_t"
RESULTS = (
    "runs.csv",
    "predictive_runs.csv",
    "posterior.csv",
    "parameters.csv",
    "generations.csv",
    "predictive.csv",
    "validation.csv",
    "calibrated.toml",
)


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _results(folder: Path) -> dict[str, bytes]:
    files = folder_files(folder)
    return {k: v for k, v in files.items() if k != "manifest.json" and not k.startswith(".")}


def _calibrate(cal: Path, out: Path, executor: object = None) -> api.CalibrationResult:
    return api.calibrate(cal, out, executor=executor or SerialExecutor())  # type: ignore[arg-type]


@pytest.mark.parametrize("stochastic", [False, True], ids=["deterministic", "stochastic"])
def test_the_posterior_covers_the_truth_and_predicts_the_held_out_figure(
    synthetic: Callable[..., Path], tmp_path: Path, stochastic: bool
) -> None:
    cal = synthetic(stochastic=stochastic)
    result = _calibrate(cal, tmp_path / "out")
    out = result.out_dir
    [param] = _rows(out / "parameters.csv")
    assert param["parameter"] == PATH and param["prior"] == "uniform(0.5, 5)"
    assert float(param["p05"]) <= TRUE_PAYLOAD_T <= float(param["p95"])
    assert float(param["median"]) == pytest.approx(TRUE_PAYLOAD_T, rel=0.1)
    # the posterior is far narrower than the prior (0.5–5 t)
    assert float(param["p95"]) - float(param["p05"]) < 0.25 * 4.5
    [held] = _rows(out / "validation.csv")
    assert held["id"] == "drops_feb" and held["inside_90"] == "true"
    assert float(held["p05"]) <= float(held["observed"]) <= float(held["p95"])
    # the fit never saw the held-out observation
    assert "obs__drops_feb" not in (out / "runs.csv").read_text().splitlines()[0]
    roles = {r["id"]: (r["role"], r["fitted"]) for r in _rows(out / "predictive.csv")}
    assert roles == {"drops_jan": ("calibration", "true"), "drops_feb": ("validation", "false")}
    # tolerance falls every generation; the posterior has as many particles as asked
    gens = _rows(out / "generations.csv")
    assert [g["generation"] for g in gens] == ["0", "1", "2", "3"]
    tolerances = [float(g["tolerance"]) for g in gens]
    assert tolerances == sorted(tolerances, reverse=True)
    posterior = _rows(out / "posterior.csv")
    assert len(posterior) == 20
    assert sum(float(r["weight"]) for r in posterior) == pytest.approx(1.0)
    # calibrated.toml is the base at the posterior median, and siege run accepts it
    calibrated = load_scenario(out / "calibrated.toml")
    assert calibrated.fleets["drops"].payload_t == float(param["median"])
    assert "posterior medians of calibration 'calibration'" in (out / "calibrated.toml").read_text()
    assert sorted(p.name for p in (out / "plots").iterdir()) == ["marginals.png", "predictive.png"]


def test_a_validation_value_cannot_change_any_fitted_number(
    synthetic: Callable[..., Path], tmp_path: Path
) -> None:
    cal = synthetic(particles=10, generations=3)
    first = _calibrate(cal, tmp_path / "a").out_dir
    scenario = cal.parent / "synthetic.toml"
    text = scenario.read_text()
    i = text.index('id = "drops_feb"')
    j = text.index("value = ", i)
    k = text.index("\n", j)
    scenario.write_text(text[:j] + "value = 999.0" + text[k:])
    second = _calibrate(cal, tmp_path / "b").out_dir
    for name in (
        "runs.csv",
        "predictive_runs.csv",
        "posterior.csv",
        "parameters.csv",
        "generations.csv",
    ):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    a, b = _rows(first / "validation.csv"), _rows(second / "validation.csv")
    assert [r["p50"] for r in a] == [r["p50"] for r in b]
    assert b[0]["observed"] == "999" and b[0]["inside_90"] == "false"


def test_the_same_files_whatever_the_workers(
    synthetic: Callable[..., Path], tmp_path: Path
) -> None:
    cal = synthetic(particles=8, generations=2)
    serial = _calibrate(cal, tmp_path / "one" / "out").out_dir
    pool = _calibrate(cal, tmp_path / "two" / "out", ProcessExecutor(2)).out_dir
    assert _results(pool) == _results(serial)


def test_dask_gives_the_local_files(synthetic: Callable[..., Path], tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    cal = synthetic(particles=8, generations=2)
    local = _calibrate(cal, tmp_path / "local" / "out").out_dir
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        status = main(
            [
                "calibrate",
                str(cal),
                "--out",
                str(tmp_path / "dask" / "out"),
                "--executor",
                "dask",
                "--scheduler",
                cluster.scheduler_address,
                "--quiet",
            ]
        )
    assert status == 0
    assert _results(tmp_path / "dask" / "out") == _results(local)


_CALLS = {"n": 0, "stop_at": -1}


def interrupting(scenario, replication, seed):  # type: ignore[no-untyped-def]
    """The model, but Ctrl-C at the ``stop_at``-th run (module-level: it must pickle)."""
    _CALLS["n"] += 1
    if _CALLS["n"] == _CALLS["stop_at"]:
        raise KeyboardInterrupt
    return default_evaluate(scenario, replication, seed)


@pytest.mark.parametrize("share", [0.02, 0.5, 0.97])
def test_an_interrupted_calibration_resumes_to_the_same_bytes(
    synthetic: Callable[..., Path], tmp_path: Path, share: float
) -> None:
    """Interrupted in generation 0, in a later generation, in the predictive runs."""
    cal = synthetic(particles=6, generations=3)
    ref = _calibrate(cal, tmp_path / "ref" / "out").out_dir
    fit_runs = (ref / "runs.csv").read_text().count("\n") - 1
    total = fit_runs + (ref / "predictive_runs.csv").read_text().count("\n") - 1
    stop_at = max(1, round(share * total))
    assert (stop_at > fit_runs) == (share > 0.9)
    out = tmp_path / "cut" / "out"
    _CALLS.update(n=0, stop_at=stop_at)
    with pytest.raises(calibrating.CalibrationInterrupted):
        api.calibrate(cal, out, executor=SerialExecutor(), evaluate=interrupting)
    assert not (out / "posterior.csv").exists()
    assert '"status": "interrupted"' in (out / "manifest.json").read_text()
    with open(out / "runs.csv", "a", encoding="utf-8") as fh:
        fh.write("1,3,0,3,2.5,4")  # a torn last line
    api.resume_calibration(out, executor=SerialExecutor())
    assert _results(out) == _results(ref)
    # resuming a finished calibration runs nothing and changes nothing but the manifest
    again = api.resume_calibration(out, executor=SerialExecutor())
    assert again.ran == 0 and _results(out) == _results(ref)


def test_resume_refuses_changed_inputs(
    synthetic: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cal = synthetic(particles=6, generations=2)
    out = _calibrate(cal, tmp_path / "out").out_dir
    path = out / "calibration.toml"
    path.write_text(path.read_text().replace("seed = 3", "seed = 4"))
    assert main(["calibrate", "--resume", str(out), "--quiet", "--workers", "1"]) == 2
    assert capsys.readouterr().err.startswith(
        f"error: {path}: seed: changed since the calibration started (was 3, now 4); "
    )


def test_a_held_folder_cannot_be_resumed(
    synthetic: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cal = synthetic(particles=6, generations=2)
    out = _calibrate(cal, tmp_path / "out").out_dir
    with FolderLock(out).acquire("another siege calibrate"):
        assert main(["calibrate", "--resume", str(out), "--quiet", "--workers", "1"]) == 2
    assert "in use by another siege calibrate" in capsys.readouterr().err


KILL_DRIVER = """\
import sys
from sim.api import calibrate
from sim.experiment.executors import SerialExecutor
calibrate(sys.argv[1], sys.argv[2], executor=SerialExecutor())
"""


@pytest.mark.slow
def test_killed_with_sigkill_then_resumed_gives_the_same_bytes(
    synthetic: Callable[..., Path], tmp_path: Path
) -> None:
    cal = synthetic(particles=30, generations=4, replications=3)
    ref = _calibrate(cal, tmp_path / "ref" / "out").out_dir
    lines = (ref / "runs.csv").read_text().count("\n")
    out = tmp_path / "killed" / "out"
    proc = subprocess.Popen([sys.executable, "-c", KILL_DRIVER, str(cal), str(out)])
    journal = out / "runs.csv"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.exists() and journal.read_text().count("\n") > lines // 3:
            break
        time.sleep(0.01)
    if proc.poll() is not None:
        pytest.skip("the calibration finished before it could be killed")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "posterior.csv").exists()
    assert main(["calibrate", "--resume", str(out), "--quiet", "--workers", "1"]) == 0
    assert _results(out) == _results(ref)


def test_the_summary_and_the_progress_lines(
    synthetic: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cal = synthetic(particles=6, generations=2)
    assert main(["calibrate", str(cal), "--out", str(tmp_path / "o"), "--workers", "1"]) == 0
    captured = capsys.readouterr()
    assert "generation 0: tolerance ∞, kept 6 of 6 candidates (100%)" in captured.err
    assert "fitted to: drops_jan" in captured.out
    assert " of 1 validation observations inside the 90 % predictive band" in captured.out
    assert captured.out.rstrip().endswith(f"results: {tmp_path / 'o'}")
    assert main(["validate", str(cal)]) == 0
    assert capsys.readouterr().out.strip() == f"ok: {cal}"


def test_batches_follow_the_acceptance_rate() -> None:
    assert calibrating.batch_size(10, 0, 0, 10, 1000) == 10
    assert calibrating.batch_size(5, 5, 20, 10, 1000) == 20  # 1 in 4 kept: 20 more for 5
    assert calibrating.batch_size(5, 5, 20, 10, 7) == 7  # no more than max_candidates
    assert calibrating.batch_size(5, 0, 30, 10, 1000) == 10


def test_a_generation_that_cannot_fill_stops_the_fit(
    synthetic: Callable[..., Path], tmp_path: Path
) -> None:
    """A tiny max_candidates: the last generation is incomplete, the posterior is the one
    before it, and generations.csv says so."""
    cal = synthetic(particles=10, generations=6)
    text = cal.read_text().replace("replications = 2", "replications = 2\nmax_candidates = 12")
    cal.write_text(text)
    out = _calibrate(cal, tmp_path / "out").out_dir
    gens = _rows(out / "generations.csv")
    assert int(gens[-1]["accepted"]) < 10 and int(gens[-1]["evaluated"]) == 12
    assert all(int(g["accepted"]) == 10 for g in gens[:-1])
    posterior = _rows(out / "posterior.csv")
    runs = _rows(out / "runs.csv")
    last_complete = str(len(gens) - 2)
    kept = {r["candidate"] for r in posterior}
    assert kept <= {r["candidate"] for r in runs if r["generation"] == last_complete}


def test_an_existing_folder_needs_force_or_resume(
    synthetic: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cal = synthetic(particles=4, generations=1, replications=1)
    argv = ["calibrate", str(cal), "--out", str(tmp_path / "out"), "--workers", "1", "--quiet"]
    assert main(argv) == 0
    capsys.readouterr()
    assert main(argv) == 2
    assert "use --force to replace it, or --resume" in capsys.readouterr().err
    assert main([*argv, "--force"]) == 0


def test_a_candidate_that_kills_its_worker_is_rejected_and_the_fit_goes_on(
    synthetic: Callable[..., Path], tmp_path: Path
) -> None:
    """A worker that dies (``kill -9``, the out-of-memory killer) on some candidates:
    each (all its replications: one task) is tried 1 + LOST_RETRIES times, then
    recorded as failed runs, and rejected."""
    cal = synthetic(particles=6, generations=2)
    result = api.calibrate(
        cal, tmp_path / "out", executor=ProcessExecutor(2), evaluate=payload_kills_worker
    )
    out = result.out_dir
    runs = _rows(out / "runs.csv")
    lost = [r for r in runs if r["error"]]
    assert lost and all(float(r[PATH]) > 4.0 for r in lost)
    assert all(r["error"].startswith("WorkerLostError: ") for r in lost)
    assert not any(r["error"] for r in runs if float(r[PATH]) <= 4.0)
    posterior = _rows(out / "posterior.csv")
    assert len(posterior) == 6 and all(float(r[PATH]) <= 4.0 for r in posterior)
    assert '"status": "complete"' in (out / "manifest.json").read_text()


def test_a_calibration_stopped_by_sigterm_says_so_and_resumes(
    synthetic: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cal = synthetic(particles=30, generations=4, replications=3)
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "calibrate", cal, "--out", out, "--workers", "2", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a shell job is
    )
    journal = out / "runs.csv"
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if journal.exists() and journal.read_bytes().count(b"\n") > 20:
            break
        time.sleep(0.01)
    if proc.poll() is not None:
        pytest.skip("the calibration finished before it could be stopped")
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 143, err
    assert err == (
        f"interrupted (SIGTERM): the finished runs are in {out}; "
        f"continue with: siege calibrate --resume {out}\n"
    )
    assert '"status": "interrupted"' in (out / "manifest.json").read_text()
    assert main(["calibrate", "--resume", str(out), "--quiet", "--workers", "2"]) == 0
    assert '"status": "complete"' in (out / "manifest.json").read_text()
    capsys.readouterr()


def test_a_killed_calibration_is_seen_as_interrupted_by_the_next_reader(
    synthetic: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A process killed with -9 leaves its manifest ``running`` and its lock free: plot
    and resume put the status right and say so."""
    cal = synthetic(particles=6, generations=2)
    _CALLS.update(n=0, stop_at=10)
    out = tmp_path / "out"
    with pytest.raises(calibrating.CalibrationInterrupted):
        api.calibrate(cal, out, executor=SerialExecutor(), evaluate=interrupting)
    manifest = out / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"interrupted"', '"running"'))
    assert main(["plot", str(out)]) == 2
    assert capsys.readouterr().err == (
        f"error: {out}: the calibration did not finish (its manifest says interrupted); "
        f"finish it with: siege calibrate --resume {out}\n"
    )
    assert '"status": "interrupted"' in manifest.read_text()
    manifest.write_text(manifest.read_text().replace('"interrupted"', '"running"'))
    assert main(["calibrate", "--resume", str(out), "--workers", "1"]) == 0
    assert f"note: {out}: the calibration's previous session was killed" in capsys.readouterr().err
    assert '"status": "complete"' in manifest.read_text()


def test_plot_of_a_damaged_calibration_folder_is_one_line(
    synthetic: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cal = synthetic(particles=4, generations=1, replications=1)
    out = _calibrate(cal, tmp_path / "out").out_dir
    (out / "posterior.csv").write_bytes(b"\xff\xfe garbage\n")
    assert main(["plot", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "posterior.csv" in err
    (out / "plots").rename(tmp_path / "elsewhere")
    (out / "plots").symlink_to(tmp_path / "elsewhere")
    (out / "posterior.csv").write_text("")
    assert main(["plot", str(out)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
