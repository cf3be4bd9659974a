"""Every class of bad input: exit 2, one line on stderr, nothing written.

The first cases edit the tiny scenario (``tests/tiny.toml``) or add a file it
extends, run ``siege run`` in a subprocess (so a traceback could not hide in the
test runner's capture), and check the one stderr line names the file, the dotted
key path and the problem, and that no result folder was created.

The hostile cases (issue 8) run ``siege run``, ``sweep``, ``calibrate``, ``validate``
and ``plot`` in this process: special files instead of scenario files, deep nesting, absurd
sizes, what cannot be swept, loose types, folders that cannot be written, a Dask
scheduler nobody answers, broken sweep folders, calibration files that name unknown
paths or observations, empty priors, a held-out observation to fit.
"""

from __future__ import annotations

import csv
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from sim import api
from sim.cli import main
from sim.conventions import csv_rows
from sim.output import files

CASES = {
    "unknown observation role": (
        ('source = "made up for the test"', 'source = "made up for the test"\nrole = "held"'),
        {},
        [],
        "observations[0].role",
        "'calibration' or 'validation'",
    ),
    # name: (edit of the tiny file, extra files, --set options, expected path, expected words)
    "malformed TOML": (("seed = 5", "seed = = 5"), {}, [], "", "invalid TOML at line"),
    "unknown key": (
        ("flight_h = 2.0", "flight_hours = 2.0"),
        {},
        [],
        "fleets.drops.flight_hours",
        "did you mean 'flight_h'",
    ),
    "wrong type": (
        ("aircraft = 1", 'aircraft = "one"'),
        {},
        [],
        "fleets.drops.aircraft",
        "whole number",
    ),
    "negative": (("payload_t = 2.0", "payload_t = -2.0"), {}, [], "fleets.drops.payload_t", "> 0"),
    "zero where positive": (
        ("payload_t = 2.0", "payload_t = 0"),
        {},
        [],
        "fleets.drops.payload_t",
        "> 0",
    ),
    "share above 1": (
        ("recovery = 0.8", "recovery = 1.4"),
        {},
        [],
        "drop_zones.field.recovery",
        "1.4",
    ),
    "unknown pocket": (
        ('pocket = "town"', 'pocket = "village"'),
        {},
        [],
        "drop_zones.field.pocket",
        "unknown pocket 'village'",
    ),
    "unknown drop zone": (
        ('targets = ["field"]', 'targets = ["meadow"]'),
        {},
        [],
        "fleets.drops.targets[0]",
        "'meadow'",
    ),
    "unknown fleet": (
        ('fleets = ["drops"]', 'fleets = ["planes"]'),
        {},
        [],
        "observations[0].selector.fleets[0]",
        "unknown fleet 'planes'",
    ),
    "event outside the calendar": (
        ("date = 2016-02-15", "date = 2017-02-15"),
        {},
        [],
        "events[0].date",
        "outside the calendar",
    ),
    "observation outside the calendar": (
        ("to = 2016-01-31", "to = 2016-05-31"),
        {},
        [],
        "observations[0].to",
        "outside the calendar",
    ),
    "end before start": (
        ("end = 2016-03-30", "end = 2015-03-30"),
        {},
        [],
        "calendar.end",
        "before start",
    ),
    "extends cycle": (
        ('name = "tiny"', 'extends = "other.toml"\nname = "tiny"'),
        {"other.toml": 'extends = "tiny.toml"\n'},
        [],
        "extends",
        "cycle",
    ),
    "missing extends file": (
        ('name = "tiny"', 'extends = "gone.toml"\nname = "tiny"'),
        {},
        [],
        "extends",
        "not found",
    ),
    "an event changing a fleet's mode": (
        None,
        {},
        ["--set", 'events[0].set."fleets.drops.mode"="land"'],
        'events[0].set."fleets.drops.mode"',
        "an event cannot change a fleet's mode",
    ),
    "no flight time": (
        ("flight_h = 2.0\n", ""),
        {},
        [],
        "fleets.drops.flight_h",
        "give flight_h, or block_speed_kmh with a base",
    ),
    "--set path that does not exist": (
        None,
        {},
        ["--set", "fleets.drops.payload=3"],
        "fleets.drops.payload",
        "did you mean 'payload_t'",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_line_exit_2_nothing_written(
    case: str, tmp_path: Path, tiny_toml: str
) -> None:
    edit, extra_files, options, path, words = CASES[case]
    text = tiny_toml
    if edit is not None:
        assert edit[0] in text, f"test setup: {edit[0]!r} not in the tiny scenario"
        text = text.replace(edit[0], edit[1], 1)
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(text)
    for name, content in extra_files.items():
        (tmp_path / name).write_text(content)
    out_dir = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "run",
            str(scenario),
            "--out",
            str(out_dir),
            "--quiet",
            *options,
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    line = lines[0]
    assert line.startswith("error: ") and "Traceback" not in proc.stderr
    assert str(tmp_path) in line  # names the file
    if path:
        assert f": {path}: " in line, line
    assert words in line, line
    assert not out_dir.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["tiny.toml", *extra_files])
    assert proc.stdout == ""


# ---- hostile and absurd input: refused early, for every command ---------------------------

Setup = Callable[[Path, str], list[str]]


def _file(tmp: Path, name: str, text: str) -> Path:
    p = tmp / name
    p.write_text(text, encoding="utf-8")
    return p


def _edited(tmp: Path, tiny: str, old: str, new: str, name: str = "tiny.toml") -> Path:
    assert old in tiny, f"test setup: {old!r} not in the tiny scenario"
    return _file(tmp, name, tiny.replace(old, new, 1))


def _extends(tmp: Path, tiny: str, parent: str) -> Path:
    return _file(tmp, "child.toml", f'extends = "{parent}"\n')


def _fifo(tmp: Path) -> Path:
    fifo = tmp / "pipe.toml"
    os.mkfifo(fifo)
    return fifo


def _chain(tmp: Path, tiny: str, n: int) -> Path:
    _file(tmp, "c0.toml", tiny)
    for i in range(1, n):
        _file(tmp, f"c{i}.toml", f'extends = "c{i - 1}.toml"\n')
    return tmp / f"c{n - 1}.toml"


def _run(path: Path, *options: str) -> list[str]:
    return ["run", str(path), "--quiet", "--workers", "1", *options]


def _sweep(path: Path, *options: str) -> list[str]:
    return ["sweep", str(path), "--quiet", "--workers", "1", *options]


def _calibrate(path: Path, *options: str) -> list[str]:
    return ["calibrate", str(path), "--quiet", "--workers", "1", *options]


HELD_OUT = """
[[observations]]
id = "drops_feb"
metric = "delivered_t"
selector = { fleets = ["drops"] }
from = 2016-02-01
to = 2016-02-14
value = 20.0
source = "made up"
role = "validation"
"""


def _cal(tmp: Path, tiny: str, body: str, top: str = "", method: str = "abc-smc") -> Path:
    """A calibration file (``top`` keys, then ``body`` tables) of the tiny scenario with a
    held-out observation."""
    _file(tmp, "tiny.toml", tiny + HELD_OUT)
    return _file(tmp, "cal.toml", f'base = "tiny.toml"\nmethod = "{method}"\n{top}{body}')


PAYLOAD = '[parameters]\n"fleets.drops.payload_t" = { low = 1.0, high = 3.0 }\n'

DEEP = "x = " + "[" * 5000 + "]" * 5000 + "\n"
BIG = "# " + "x" * (11 * 2**20) + "\n"

HOSTILE: dict[str, tuple[Setup, str]] = {
    # unbounded reads
    "scenario is a directory": (lambda t, s: _run(t), "is a directory"),
    "scenario is a FIFO": (lambda t, s: _run(_fifo(t)), "is a pipe (FIFO)"),
    "scenario is /dev/zero": (lambda t, s: _run(Path("/dev/zero")), "is a device"),
    "extends /dev/zero": (lambda t, s: _run(_extends(t, s, "/dev/zero")), "is a device"),
    "extends a FIFO": (
        lambda t, s: _run(_extends(t, s, _fifo(t).name)),
        "is a pipe (FIFO)",
    ),
    "extends a directory": (lambda t, s: _run(_extends(t, s, ".")), "is a directory"),
    "file over 10 MiB": (lambda t, s: _run(_file(t, "big.toml", BIG + s)), "too large"),
    "sweep file is a FIFO": (lambda t, s: _sweep(_fifo(t)), "is a pipe (FIFO)"),
    # deep nesting
    "1,200-deep extends chain": (
        lambda t, s: _run(_chain(t, s, 1200)),
        "the chain of extends is longer than 32 files",
    ),
    "5,000-deep array": (
        lambda t, s: _run(_file(t, "deep.toml", DEEP + s)),
        "nested more than 64 levels deep",
    ),
    "5,000-deep --set value": (
        lambda t, s: _run(_file(t, "tiny.toml", s), "--set", "title=" + "[" * 5000 + "]" * 5000),
        "nested more than 64 levels deep",
    ),
    # absurd sizes
    "--replications 1e9": (
        lambda t, s: _run(_file(t, "tiny.toml", s), "--replications", "1000000000"),
        "1,000,000,000 replications exceed the limit of 100,000",
    ),
    "replications = 1e9 in the file": (
        lambda t, s: _run(_edited(t, s, "replications = 4", "replications = 1000000000")),
        "exceed the limit of 100,000",
    ),
    "aircraft = 1e8": (
        lambda t, s: _run(_edited(t, s, "aircraft = 1", "aircraft = 1e8")),
        "fleets.drops.aircraft: expected a whole number, got 100000000",
    ),
    "aircraft = 100,000,000": (
        lambda t, s: _run(_edited(t, s, "aircraft = 1", "aircraft = 100_000_000")),
        "fleets.drops.aircraft: must be between 0 and 10000",
    ),
    "sorties_per_day = 1e9": (
        lambda t, s: _run(_edited(t, s, "sorties_per_day = 1.0", "sorties_per_day = 1e9")),
        "fleets.drops.sorties_per_day: must be > 0 and <= 1000",
    ),
    "a horizon of 1,000 years": (
        lambda t, s: _run(_edited(t, s, "end = 2016-03-30", "end = 2999-03-30")),
        "calendar.end: the calendar spans 359,123 days; the limit is 36,525",
    ),
    "a calendar in year 1": (
        lambda t, s: _run(_file(t, "tiny.toml", s.replace("2016-", "0001-"))),
        "calendar.start: 0001-01-01 is outside the dates a scenario may use",
    ),
    "a calendar in year 9999": (
        lambda t, s: _run(_file(t, "tiny.toml", s.replace("2016-", "9999-"))),
        "calendar.start: 9999-01-01 is outside the dates a scenario may use",
    ),
    "sweep samples 1e9": (
        lambda t, s: _sweep(
            _file(t, "tiny.toml", s),
            "--param",
            "fleets.drops.payload_t=1:3",
            "--design",
            "lhs",
            "--samples",
            "1000000000",
        ),
        "1,000,000,000 samples exceed the limit of 100,000",
    ),
    "a grid of 100,000 levels": (
        lambda t, s: _sweep(
            _file(t, "tiny.toml", s),
            "--param",
            "fleets.drops.payload_t=1:3",
            "--param",
            "drop_zones.field.recovery=0.1:0.9",
            "--samples",
            "100000",
        ),
        "10,000,000,000 design points exceed the limit of 100,000",
    ),
    "a sweep of 1e9 replications": (
        lambda t, s: _sweep(
            _file(t, "tiny.toml", s),
            "--param",
            "fleets.drops.aircraft=1,2",
            "--replications",
            "1000000000",
        ),
        "1,000,000,000 replications exceed the limit of 100,000",
    ),
    # what cannot be swept, or is given twice
    "sweeping seed": (
        lambda t, s: _sweep(_file(t, "tiny.toml", s), "--param", "seed=1,2"),
        "seed cannot be swept",
    ),
    "sweeping replications in a sweep file": (
        lambda t, s: _sweep(
            _file(t, "tiny.toml", s)
            and _file(t, "sw.toml", 'base = "tiny.toml"\n[parameters]\nreplications = [2, 3]\n')
        ),
        "sw.toml: parameters.replications: replications cannot be swept",
    ),
    "the same --param twice": (
        lambda t, s: _sweep(
            _file(t, "tiny.toml", s),
            "--param",
            "fleets.drops.aircraft=1,2",
            "--param",
            "fleets.drops.aircraft=3",
        ),
        "--param: fleets.drops.aircraft: is given twice",
    ),
    # lax coercion
    'aircraft = "2"': (
        lambda t, s: _run(_edited(t, s, "aircraft = 1", 'aircraft = "2"')),
        "fleets.drops.aircraft: expected a whole number, got '2'",
    ),
    "aircraft = true": (
        lambda t, s: _run(_edited(t, s, "aircraft = 1", "aircraft = true")),
        "fleets.drops.aircraft: expected a whole number, got true",
    ),
    'open = "no"': (
        lambda t, s: _run(_edited(t, s, "recovery = 0.8", 'recovery = 0.8\nopen = "no"')),
        "drop_zones.field.open: expected true or false, got 'no'",
    ),
    'an event sets open = "no"': (
        lambda t, s: _run(
            _edited(t, s, '"drop_zones.field.open" = false', '"drop_zones.field.open" = "no"')
        ),
        "events[0].set.\"drop_zones.field.open\": expected true or false, got 'no'",
    ),
    "--set open=no": (
        lambda t, s: _run(_file(t, "tiny.toml", s), "--set", "drop_zones.field.open=no"),
        "drop_zones.field.open: expected true or false, got 'no'",
    ),
    # output folders
    "--out inside a file": (
        lambda t, s: _run(_file(t, "tiny.toml", s), "--out", str(_file(t, "f", "x") / "out")),
        "cannot create the folder",
    ),
    "--out where nothing can be created": (
        lambda t, s: _run(_file(t, "tiny.toml", s), "--out", "/proc/siege-test/out"),
        "cannot create the folder",
    ),
    "sweep --out inside a file": (
        lambda t, s: _sweep(
            _file(t, "tiny.toml", s),
            "--param",
            "fleets.drops.aircraft=1,2",
            "--out",
            str(_file(t, "f", "x") / "out"),
        ),
        "cannot create the folder",
    ),
    # validate
    "validate a FIFO": (lambda t, s: ["validate", str(_fifo(t))], "is a pipe (FIFO)"),
    "validate a sweep of seed": (
        lambda t, s: [
            "validate",
            str(
                _file(t, "tiny.toml", s)
                and _file(t, "sw.toml", 'base = "tiny.toml"\n[parameters]\nseed = [1, 2]\n')
            ),
        ],
        "seed cannot be swept",
    ),
    # calibrate
    "calibration file is a FIFO": (lambda t, s: _calibrate(_fifo(t)), "is a pipe (FIFO)"),
    "calibrate an unknown path": (
        lambda t, s: _calibrate(_cal(t, s, PAYLOAD.replace("payload_t", "payload"))),
        'cal.toml: parameters."fleets.drops.payload": ',
    ),
    "calibrate an empty prior range": (
        lambda t, s: _calibrate(_cal(t, s, PAYLOAD.replace("3.0", "1.0"))),
        "empty prior range",
    ),
    "calibrate to an unknown observation": (
        lambda t, s: _calibrate(_cal(t, s, PAYLOAD, 'fit = ["drops_may"]\n')),
        "cal.toml: fit[0]: no observation 'drops_may'",
    ),
    "calibrate to a validation observation": (
        lambda t, s: _calibrate(_cal(t, s, PAYLOAD, 'fit = ["drops_jan", "drops_feb"]\n')),
        "cal.toml: fit[1]: 'drops_feb' has role \"validation\"",
    ),
    "calibrate the seed": (
        lambda t, s: _calibrate(_cal(t, s, "[parameters]\nseed = { low = 1, high = 9 }\n")),
        "parameters.seed: seed cannot be fitted",
    ),
    "calibrate with an unknown method": (
        lambda t, s: _calibrate(_cal(t, s, PAYLOAD, method="mcmc")),
        "cal.toml: method: unknown method 'mcmc'",
    ),
    "calibrate 1e9 particles": (
        lambda t, s: _calibrate(_cal(t, s, PAYLOAD + "[budget]\nparticles = 1000000000\n")),
        "particles exceed the limit",
    ),
    "calibrate --scheduler without dask": (
        lambda t, s: _calibrate(_cal(t, s, PAYLOAD), "--scheduler", "tcp://127.0.0.1:1"),
        "--scheduler: needs --executor dask",
    ),
    "calibrate --resume with a file": (
        lambda t, s: _calibrate(_cal(t, s, PAYLOAD), "--resume", str(t)),
        "--resume: a calibration file cannot be given with --resume",
    ),
    "calibrate --resume of a plain folder": (
        lambda t, s: ["calibrate", "--resume", str(t), "--quiet"],
        "not a calibration folder",
    ),
    "validate a calibration to a validation observation": (
        lambda t, s: ["validate", str(_cal(t, s, PAYLOAD, 'fit = ["drops_feb"]\n'))],
        'has role "validation"',
    ),
    "run --posterior of a plain folder": (
        lambda t, s: _run(_file(t, "tiny.toml", s), "--posterior", str(t)),
        "--posterior: ",
    ),
    "validate 1e9 replications": (
        lambda t, s: [
            "validate",
            str(
                _edited(
                    t, s, "replications = 4", "replications = 10**9".replace("10**9", "1000000000")
                )
            ),
        ],
        "exceed the limit of 100,000",
    ),
}


@pytest.mark.timeout(120)  # a regression may hang (a FIFO waits for a writer): fail instead
@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_input_is_refused_at_once_with_one_line(
    case: str,
    tmp_path: Path,
    tiny_toml: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    setup, words = HOSTILE[case]
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    argv = setup(work, tiny_toml)
    before = sorted(p.name for p in work.iterdir())
    status = main(argv)
    err = capsys.readouterr().err
    assert status == 2, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert words in lines[0], lines[0]
    assert sorted(p.name for p in work.iterdir()) == before  # nothing written
    assert not (work / "results").exists()


def test_allow_large_lifts_the_replication_limit(
    tmp_path: Path, tiny_toml: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api.runs, "MAX_REPLICATIONS", 2)
    path = _file(tmp_path, "tiny.toml", tiny_toml)
    out = tmp_path / "out"
    assert main([*_run(path, "--replications", "3", "--out", str(out))]) == 2
    assert main([*_run(path, "--replications", "3", "--out", str(out), "--allow-large")]) == 0
    assert (out / "replications.csv").read_text().count("\n") == 4


def test_dev_stdin_is_refused_without_waiting(tmp_path: Path) -> None:
    for stdin in (subprocess.PIPE, subprocess.DEVNULL):
        proc = subprocess.run(
            [sys.executable, "-m", "sim", "validate", "/dev/stdin"],
            stdin=stdin,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
        )
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.startswith("error: /dev/stdin: is a ") and proc.stderr.count("\n") == 1


def test_an_unreachable_scheduler_is_refused_before_the_folder_is_created(
    tmp_path: Path,
    tiny_toml: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(api.common, "SCHEDULER_TIMEOUT_S", 1.0)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    path = _file(tmp_path, "tiny.toml", tiny_toml)
    out = tmp_path / "out"
    argv = [
        *_sweep(path, "--param", "fleets.drops.aircraft=1,2", "--out", str(out)),
        "--executor",
        "dask",
        "--scheduler",
        f"tcp://127.0.0.1:{port}",
    ]
    t0 = time.monotonic()
    assert main(argv) == 2
    assert time.monotonic() - t0 < 30
    err = capsys.readouterr().err
    assert (
        err.startswith("error: --scheduler: cannot reach a Dask scheduler at")
        and err.count("\n") == 1
    )
    assert not out.exists()


# ---- siege plot on broken folders -------------------------------------------------------


@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory: pytest.TempPathFactory, tiny_toml: str) -> Path:
    d = tmp_path_factory.mktemp("plotted")
    _file(d, "tiny.toml", tiny_toml)
    out = d / "sweep"
    argv = _sweep(d / "tiny.toml", "--param", "fleets.drops.aircraft=1,2", "--out", str(out))
    assert main([*argv, "--replications", "2"]) == 0
    return out


BROKEN: dict[str, tuple[Callable[[Path], None], str]] = {
    "no points.csv": (lambda d: (d / "points.csv").unlink(), "points.csv: missing"),
    "garbage points.csv": (
        lambda d: (d / "points.csv").write_text("a,b\n1,2\n"),
        "points.csv: not a sweep's points table",
    ),
    "bad sweep.toml": (
        lambda d: (d / "sweep.toml").write_text("parameters = [\n"),
        "sweep.toml: invalid TOML",
    ),
    "empty sweep.toml": (
        lambda d: (d / "sweep.toml").write_text(""),
        "sweep.toml: not a sweep's settings (no parameters)",
    ),
    "points.csv not UTF-8": (
        lambda d: (d / "points.csv").write_bytes(b"\xff\xfe\x00garbage\n"),
        "points.csv: not a sweep's points table",
    ),
    "plots is a symbolic link": (
        lambda d: (shutil.rmtree(d / "plots"), (d / "plots").symlink_to(d.parent)),
        "is a symbolic link",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_plot_of_a_broken_sweep_folder_is_refused(
    case: str, sweep_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = tmp_path / "copy"
    shutil.copytree(sweep_folder, d, symlinks=True)
    breaking, words = BROKEN[case]
    breaking(d)
    outside = sorted(p.name for p in tmp_path.iterdir())
    assert main(["plot", str(d)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and words in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == outside  # nothing written through


@pytest.mark.parametrize("command", ["plot", "resume"])
def test_sweep_plots_are_never_written_through_a_link(
    command: str, sweep_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = tmp_path / "copy"
    shutil.copytree(sweep_folder, d)
    if command == "resume":  # a sweep killed before its end
        lines = (d / "runs.csv").read_text().splitlines(keepends=True)
        (d / "runs.csv").write_text("".join(lines[:2]))
        (d / "points.csv").unlink()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.rmtree(d / "plots")
    (d / "plots").symlink_to(elsewhere)
    argv = ["plot", str(d)] if command == "plot" else ["sweep", "--resume", str(d), "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err == f"error: {d}/plots: is a symbolic link; refusing to write through it\n"
    assert list(elsewhere.iterdir()) == []
    assert (d / "plots").is_symlink()


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory, tiny_toml: str) -> Path:
    d = tmp_path_factory.mktemp("run")
    _file(d, "tiny.toml", tiny_toml)
    assert main([*_run(d / "tiny.toml", "--out", str(d / "run"), "--workers", "1")]) == 0
    return d / "run"


def _half(p: Path) -> None:
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


BROKEN_RUN: dict[str, tuple[Callable[[Path], object], str]] = {
    "daily.csv not UTF-8": (
        lambda d: (d / "daily.csv").write_bytes(b"\xff\xfe\x00"),
        "daily.csv: not a run's daily table (not UTF-8 text)",
    ),
    "daily.csv cut in the middle": (
        lambda d: _half(d / "daily.csv"),
        "daily.csv: not a run's daily table (ValueError: line ",
    ),
    "empty daily.csv": (
        lambda d: (d / "daily.csv").write_text(""),
        "daily.csv: not a run's daily table (empty file)",
    ),
    "daily.csv of other days": (
        lambda d: (d / "daily.csv").write_text("date\n2016-01-01\n"),
        "daily.csv: has 1 days, its scenario.toml 90",
    ),
    "observations.csv of other columns": (
        lambda d: (d / "observations.csv").write_text("a,b\n1,2\n"),
        "observations.csv: not a run's observations table (no 'observed')",
    ),
    "replications.csv not UTF-8": (
        lambda d: (d / "replications.csv").write_bytes(b"\xff"),
        "replications.csv: not a run's replications table (not UTF-8 text)",
    ),
    "scenario.toml gone": (lambda d: (d / "scenario.toml").unlink(), "missing scenario.toml"),
}


@pytest.mark.parametrize("case", list(BROKEN_RUN))
def test_plot_of_a_broken_run_folder_is_refused(
    case: str, run_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = tmp_path / "copy"
    shutil.copytree(run_folder, d)
    breaking, words = BROKEN_RUN[case]
    breaking(d)
    before = sorted(p.name for p in (d / "plots").iterdir())
    assert main(["plot", str(d)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and words in err, err
    assert sorted(p.name for p in (d / "plots").iterdir()) == before


def test_plot_of_no_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plot", str(tmp_path / "none")]) == 2
    assert "no such result folder" in capsys.readouterr().err


# ---- text that a spreadsheet would run: neutralised in every CSV, read back as meant ------

FORMULAS = ['=HYPERLINK("http://example.org","x")', "+t", "-1+2", "@SUM(A1)"]


def test_formula_text_from_scenario_files_is_neutralised_in_csvs(
    tmp_path: Path, tiny_toml: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tiny_toml.replace('unit = "t"', 'unit = "+t"').replace(
        'source = "made up for the test"', 'source = "=HYPERLINK(\\"http://example.org\\",\\"x\\")"'
    )
    path = _file(tmp_path, "tiny.toml", text)
    run_dir, sweep_dir = tmp_path / "run", tmp_path / "sweep"
    assert main([*_run(path, "--out", str(run_dir), "--workers", "1")]) == 0
    with open(run_dir / "observations.csv", newline="", encoding="utf-8") as fh:
        row = dict(zip(*list(csv.reader(fh)), strict=True))
    assert row["unit"] == "'+t" and row["source"] == "'" + FORMULAS[0]
    assert row["rel_error"].startswith("-")  # a number is never touched
    [back] = files.read_observations_csv(run_dir / "observations.csv")
    assert back["unit"] == "+t" and back["source"] == FORMULAS[0]
    assert main(["plot", str(run_dir)]) == 0

    values = ",".join(f"'{v}'" for v in FORMULAS)
    argv = _sweep(path, "--param", f"events[0].title={values}", "--out", str(sweep_dir))
    assert main([*argv, "--replications", "2", "--workers", "1", "--quiet"]) == 0
    for name in ("design.csv", "points.csv"):
        with open(sweep_dir / name, newline="", encoding="utf-8") as fh:
            cells = [r[1] for r in list(csv.reader(fh))[1:]]
        assert cells == ["'" + v for v in FORMULAS], name
        with open(sweep_dir / name, newline="", encoding="utf-8") as fh:
            assert [r[1] for r in list(csv_rows(fh))[1:]] == FORMULAS, name
    assert main(["plot", str(sweep_dir)]) == 0
    capsys.readouterr()
