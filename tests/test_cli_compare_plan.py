"""``siege compare`` and ``siege plan`` from the command line: output, exit codes, and
every class of bad input (exit 2, one stderr line, nothing written)."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim import cli
from sim.output.folder import FolderLock


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


def test_plan_prints_the_answer(tiny, tmp_path, capsys):
    out = tmp_path / "plan"
    code, text, err = siege(
        capsys,
        "plan",
        tiny,
        "--vary",
        "fleets.drops.aircraft=1:6",
        "--goal",
        "stockout__town__food <= 0.05",
        "--replications",
        "60",
        "--out",
        out,
    )
    assert code == 0, err
    assert "answer: the smallest fleets.drops.aircraft in [1, 6]" in text
    record = json.loads((out / "plan.json").read_text())
    assert record["answer"] == 2 and record["direction"] == "increasing"
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
    code, text, err = siege(capsys, "plan", "--resume", out)
    assert code == 0 and "0 run now" in text
    code, text, err = siege(
        capsys,
        "plan",
        tiny,
        "--vary",
        "fleets.drops.aircraft=1:6",
        "--goal",
        "delivered_t >= 1",
        "--out",
        out,
    )
    assert code == 2 and f"or --resume {out} to finish it" in err
    code, text, err = siege(capsys, "plot", out)
    assert code == 0 and (out / "plots" / "plan.png").is_file()


def test_plan_without_an_answer_says_why(tiny, tmp_path, capsys):
    out = tmp_path / "none"
    code, text, err = siege(
        capsys,
        "plan",
        tiny,
        "--vary",
        "fleets.drops.aircraft=1:2",
        "--goal",
        "delivered_t >= 100000",
        "--out",
        out,
    )
    assert code == 0, err
    assert "answer: none" in text and "not met at either end" in text
    record = json.loads((out / "plan.json").read_text())
    assert record["answer"] is None and "not met at either end" in record["reason"]


PLAN_OK = ["--vary", "fleets.drops.aircraft=1:3", "--goal", "delivered_t >= 10"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ["{tiny}", "--vary", "fleets.drops.aircraft=1:3", "--goal", "delivered_tt >= 1"],
            "error: --goal: unknown metric 'delivered_tt' — did you mean 'delivered_t'",
        ),
        (
            ["{tiny}", "--vary", "fleets.drops.aircraft=1:3", "--goal", "delivered_t about 1"],
            "error: --goal: cannot read 'delivered_t about 1'",
        ),
        (
            ["{tiny}", "--vary", "fleets.drops.mode=1:3", "--goal", "delivered_t >= 1"],
            "error: --vary: fleets.drops.mode: is not a numeric or date-valued parameter",
        ),
        (
            ["{tiny}", "--vary", "fleets.drops.aircraft=3:1", "--goal", "delivered_t >= 1"],
            "error: --vary: fleets.drops.aircraft: LOW (3) is above HIGH (1)",
        ),
        (
            ["{tiny}", "--vary", "fleets.jets.aircraft=1:3", "--goal", "delivered_t >= 1"],
            "error: --vary: fleets.jets.aircraft: no entry 'jets'",
        ),
        (
            ["{tiny}", "--vary", "fleets.drops.wings=1:3", "--goal", "delivered_t >= 1"],
            "error: --vary: fleets.drops.wings: unknown key 'wings'",
        ),
        (
            [
                "{tiny}",
                "--vary",
                "fleets.drops.aircraft=1:3",
                "--goal",
                "stockout__town__food < 0.1",
            ],
            "error: --replications: with at most 4 replications",
        ),
        (["{tiny}", *PLAN_OK, "--confidence", "1.5"], "error: --confidence: must be in"),
        (["{tiny}", "--goal", "delivered_t >= 1"], "--vary missing"),
        (["--resume", "{tmp}/out"], "no such plan folder"),
        (["{tiny}", *PLAN_OK, "--resume", "{tmp}/out"], "SCENARIO cannot be given with --resume"),
    ],
)
def test_plan_bad_input(tiny, tmp_path, capsys, args, words):
    argv = [a.format(tiny=tiny, tmp=tmp_path) for a in args]
    if "--resume" not in argv:
        argv += ["--out", str(tmp_path / "out")]
    code, _out, err = siege(capsys, "plan", *argv)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and words in err, err
    assert nothing_written(tmp_path)


def test_plan_bad_input_in_a_subprocess_has_no_traceback(tiny, tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "plan",
            str(tiny),
            "--vary",
            "fleets.drops.aircraft=1:3",
            "--goal",
            "nonsense",
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path / "work",
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("error: --goal:") and proc.stderr.count("\n") == 1


# ---- siege compare --resume ---------------------------------------------------------------

SLOW_SIEGE = """\
import sys
import time

import sim.experiment.compare_store as compare_store
from sim import cli

_model = compare_store.run_replication


def slow(scenario, replication, seed):
    time.sleep(0.05)
    return _model(scenario, replication, seed)


compare_store.run_replication = slow  # serial runs (--workers 1) happen in this process
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], Path]:
    """Two scenario files and their comparison run uninterrupted: (files, folder)."""
    d = tmp_path_factory.mktemp("compared")
    text = (Path(__file__).parent / "tiny.toml").read_text()
    (d / "tiny.toml").write_text(text)
    (d / "more.toml").write_text(text.replace("payload_t = 2.0", "payload_t = 3.0"))
    files = [str(d / "tiny.toml"), str(d / "more.toml")]
    argv = ["compare", *files, "--replications", "12", "--workers", "1", "--quiet"]
    assert cli.main([*argv, "--out", str(d / "whole")]) == 0
    return files, d / "whole"


def folder_bytes(d: Path) -> dict[str, bytes]:
    """Every file but the manifests (they record times and sessions): path → bytes."""
    return {
        str(p.relative_to(d)): p.read_bytes()
        for p in sorted(d.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


def _stop_half_way(files: list[str], out: Path, tmp_path: Path, sig: int) -> tuple[int, str]:
    driver = tmp_path / "slow_siege.py"
    driver.write_text(SLOW_SIEGE)
    argv = ["compare", *files, "--replications", "12", "--workers", "1", "--out", str(out)]
    proc = subprocess.Popen(
        [sys.executable, str(driver), *argv],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        t0 = time.monotonic()
        while len(list(out.glob("journal/tiny/*.npz"))) < 4:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() - t0 < 60, "the comparison made no progress"
            time.sleep(0.005)
        proc.send_signal(sig)
        _stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, stderr


@pytest.mark.parametrize(
    "sig",
    [
        pytest.param(signal.SIGINT, id="ctrl-c"),
        pytest.param(signal.SIGTERM, id="sigterm", marks=pytest.mark.slow),
        pytest.param(signal.SIGKILL, id="kill-9", marks=pytest.mark.slow),
    ],
)
def test_compare_stopped_then_resumed_gives_the_same_files(compared, tmp_path, capsys, sig):
    files, whole = compared
    out = tmp_path / "cut"
    code, stderr = _stop_half_way(files, out, tmp_path, sig)
    assert not (out / "comparison.csv").exists(), "the comparison finished before it was stopped"
    if sig == signal.SIGKILL:
        assert code == -sig
    else:  # Ctrl-C and SIGTERM alike: exit 128 + the signal, one line, status saved
        assert code == 128 + sig and "Traceback" not in stderr
        assert stderr.rstrip().endswith(f"continue with: siege compare --resume {out}")
        assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"
    code, text, err = siege(capsys, "compare", "--resume", out, "--workers", "2")
    assert code == 0, err
    table = text
    kept = int(table.split("resumed: ")[1].split()[0])
    assert 4 <= kept < 24 and f"resumed: {kept} replications kept, {24 - kept} run now" in table
    assert folder_bytes(out) == folder_bytes(whole)  # plots included
    # a complete comparison: nothing is run or changed, exit 0 (as a sweep or a plan),
    # and its table is printed again from comparison.csv
    code, text, err = siege(capsys, "compare", "--resume", out)
    assert code == 0 and "the comparison is complete: nothing to resume" in err
    first, rest = table.split("\n", 1)
    assert text == first.rsplit(", ", 1)[0] + "\n" + rest.split("resumed: ")[0]  # no timing
    assert folder_bytes(out) == folder_bytes(whole)
    code, text, _ = siege(capsys, "compare", "--resume", out, "--quiet")
    assert code == 0 and text.strip() == str(out)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--resume", "{tmp}/none"], "{tmp}/none: no such comparison folder"),
        (["--resume", "{plan}"], "{plan}: not a comparison folder"),
        (["{tiny}", "--resume", "{cut}"], "--resume: SCENARIO cannot be given with --resume"),
        (["--resume", "{cut}", "--seed", "3"], "--resume: --seed cannot be given with --resume"),
        (["--resume", "{cut}", "--out", "{tmp}/x"], "--resume: --out cannot be given"),
        (["--resume", "{cut}", "--locked"], "{cut}: in use by siege compare --resume (pid"),
        (
            ["--resume", "{cut}", "--edited"],
            "{cut}/scenarios/tiny.toml: fleets.drops.aircraft: changed since the comparison "
            "started (was 1, now 2)",
        ),
    ],
)
def test_compare_resume_bad_input(tiny, tmp_path, capsys, args, words):
    cut, plan = tmp_path / "cut", tmp_path / "plan"
    stop = "fleets.drops.aircraft=1"
    with pytest.MonkeyPatch.context() as mp:

        def interrupt(*_args: object) -> None:
            raise KeyboardInterrupt

        mp.setattr("sim.experiment.compare_store.run_replication", interrupt)
        code, _, err = siege(
            capsys, "compare", tiny, tiny, "--set", stop, "--out", cut, "--workers", "1"
        )
    assert code == 130 and f"siege compare --resume {cut}" in err
    code, _, err = siege(capsys, "plan", tiny, *PLAN_OK, "--replications", "2", "--out", plan)
    assert code == 0, err
    argv = [a.format(tiny=tiny, tmp=tmp_path, cut=cut, plan=plan) for a in args]
    if "--edited" in argv:
        argv.remove("--edited")
        scenario = cut / "scenarios" / "tiny.toml"
        scenario.write_text(scenario.read_text().replace("aircraft = 1", "aircraft = 2"))
    before = {d: folder_bytes(d) for d in (cut, plan)}
    if "--locked" in argv:
        argv.remove("--locked")
        with FolderLock(cut).acquire("siege compare --resume"):
            code, _, err = siege(capsys, "compare", *argv)
    else:
        code, _, err = siege(capsys, "compare", *argv)
    assert code == 2
    want = words.format(tmp=tmp_path, cut=cut, plan=plan)
    assert err.count("\n") == 1 and err.startswith("error: ") and want in err, err
    assert {d: folder_bytes(d) for d in (cut, plan)} == before
    assert not (tmp_path / "none").exists() and not (tmp_path / "x").exists()
