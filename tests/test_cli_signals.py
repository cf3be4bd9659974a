"""SIGTERM and SIGHUP are handled like Ctrl-C by every long command, and a killed
sweep's manifest does not stay ``running`` for whoever reads the folder next.

Each case starts ``siege`` in a subprocess (its own process group, as a shell job
is), waits until it is at work, sends the signal to the whole group (as a terminal's
hang-up or a service manager's stop does), and checks the exit status, the one line
on stderr, and what is left on disk.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]

SIGNALS = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGHUP: 129}


@pytest.fixture
def tiny(tmp_path: Path, tiny_toml: str) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(tiny_toml)
    return path


def _start(cwd: Path, *args: str | Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "sim", *map(str, args)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        start_new_session=True,
    )


def _wait_until(proc: subprocess.Popen[str], ready: object, timeout: float = 60) -> None:
    t0 = time.monotonic()
    while not ready():  # type: ignore[operator]
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() - t0 < timeout, "the command never got to work"
        time.sleep(0.01)


def _stop(proc: subprocess.Popen[str], sig: int) -> tuple[int, str]:
    """Send ``sig`` to the process group; its exit status and stderr."""
    try:
        os.killpg(proc.pid, sig)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return proc.returncode, err


def _lines(p: Path) -> int:
    try:
        return p.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


@pytest.mark.parametrize("sig", list(SIGNALS), ids=lambda s: signal.Signals(s).name)
@pytest.mark.parametrize("command", ["run", "compare"])
def test_a_run_stopped_by_a_signal_cleans_up_and_says_so(
    command: str, sig: int, tmp_path: Path, tiny: Path
) -> None:
    out = tmp_path / "out"
    targets = [tiny] if command == "run" else [tiny, tiny]
    proc = _start(
        tmp_path, command, *targets, "--replications", "3000", "--workers", "2", "--out", out
    )
    _wait_until(proc, lambda: any(p.name.startswith(".out.tmp-") for p in tmp_path.iterdir()))
    time.sleep(0.5)  # the replications are under way
    status, err = _stop(proc, sig)
    name = "Ctrl-C" if sig == signal.SIGINT else signal.Signals(sig).name
    assert status == SIGNALS[sig], err
    if command == "run":  # a run leaves nothing behind
        assert err.strip() == f"interrupted ({name}): stopped; nothing half-written was left behind"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.toml"]
    else:  # a comparison keeps its finished replications, to be resumed
        assert err.strip() == (
            f"interrupted ({name}): the finished replications are kept in {out}; "
            f"continue with: siege compare --resume {out}"
        )
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "tiny.toml"]
        assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_sweep_stopped_by_a_signal_can_be_resumed(
    sig: int, tmp_path: Path, tiny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sw"
    args = ["sweep", tiny, "--param", "fleets.drops.aircraft=1,2,3", "--replications", "400"]
    proc = _start(tmp_path, *args, "--workers", "2", "--out", out, "--quiet")
    _wait_until(proc, lambda: _lines(out / "runs.csv") > 20)
    status, err = _stop(proc, sig)
    assert status == SIGNALS[sig], err
    name = signal.Signals(sig).name
    assert err == (
        f"interrupted ({name}): the finished runs are in {out}/runs.csv; "
        f"continue with: siege sweep --resume {out}\n"
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    assert [s["status"] for s in manifest["sessions"]] == ["interrupted"]
    assert main(["sweep", "--resume", str(out), "--workers", "2", "--quiet"]) == 0
    assert _lines(out / "runs.csv") == 1 + 3 * 400
    capsys.readouterr()


def test_a_killed_sweep_is_seen_as_interrupted_by_the_next_reader(
    tmp_path: Path, tiny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sw"
    args = ["sweep", tiny, "--param", "fleets.drops.aircraft=1,2,3", "--replications", "400"]
    proc = _start(tmp_path, *args, "--workers", "2", "--out", out, "--quiet")
    _wait_until(proc, lambda: _lines(out / "runs.csv") > 20)
    assert _stop(proc, signal.SIGKILL)[0] == -signal.SIGKILL
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"

    assert main(["plot", str(out)]) == 2  # the next reader
    err = capsys.readouterr().err
    assert err == (
        f"error: {out}: the sweep did not finish (its manifest says interrupted); "
        f"finish it with: siege sweep --resume {out}\n"
    )
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"

    (out / "manifest.json").write_text(
        (out / "manifest.json").read_text().replace('"interrupted"', '"running"')
    )
    assert main(["sweep", "--resume", str(out), "--workers", "2"]) == 0
    err = capsys.readouterr().err
    assert f"note: {out}: the sweep's previous session was killed" in err
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"


def test_a_plan_stopped_by_sigterm_can_be_resumed(
    tmp_path: Path, tiny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plan"
    proc = _start(
        tmp_path, "plan", tiny, "--vary", "fleets.drops.aircraft=1:40",
        "--goal", "stockout__town__food <= 0.01", "--replications", "3000",
        "--workers", "2", "--out", out, "--quiet",
    )  # fmt: skip
    _wait_until(proc, lambda: _lines(out / "runs.csv") > 20)
    status, err = _stop(proc, signal.SIGTERM)
    assert status == 143, err
    assert err == (
        f"interrupted (SIGTERM): the finished runs are in {out}/runs.csv; "
        f"continue with: siege plan --resume {out}\n"
    )
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"


def _session_of(sid: int) -> list[str]:
    """The command lines of the processes still in session ``sid`` (zombies included)."""
    left = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) == sid:
                left.append(Path(entry.path, "stat").read_text().split(")")[0] + ")")
        except OSError:
            continue
    return left


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
@pytest.mark.parametrize("command", ["run", "run one", "sweep"])
def test_nothing_of_a_command_outlives_it(tmp_path: Path, tiny: Path, command: str) -> None:
    """The fork server and the resource tracker, children of the command, used to end
    only after it had exited, and stayed in its process group for a second or more
    (a job runner waiting for the group saw ``siege sweep`` linger). A run of one
    replication has a process of its own for it, and forks the plots' workers after."""
    name, *one = command.split()
    args: list[str | Path] = [name, tiny, "--workers", "2", "--out", tmp_path / "out"]
    if name == "sweep":
        args += ["--param", "fleets.drops.aircraft=1,2", "--replications", "2"]
    else:
        args += ["--replications", "1" if one else "4"]
    proc = _start(tmp_path, *args)
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert _session_of(proc.pid) == []


def test_a_ctrl_c_while_the_command_starts_ends_it_silently(tmp_path: Path, tiny: Path) -> None:
    """Before the command sets its own handlers (its modules take about 0.3 s to import),
    a Ctrl-C ends it by the signal's default action: no traceback (Python's own default
    printed one from the middle of an import), nothing written."""
    proc = _start(tmp_path, "run", tiny, "--out", tmp_path / "out", "--quiet")
    time.sleep(0.1)  # started, still importing
    code, err = _stop(proc, signal.SIGINT)
    assert code == -signal.SIGINT, err
    assert "Traceback" not in err and err == ""
    assert not (tmp_path / "out").exists()
