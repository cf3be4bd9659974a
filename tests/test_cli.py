"""The ``siege`` command end to end, on a tiny scenario (``tiny_toml`` in conftest.py).

Exit codes (0 / 2 bad input / 1 internal), one-line errors, nothing written on bad
input, byte-identical files for the same seed, and reproduction from the run's own
``scenario.toml``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import sim
from sim import cli
from sim.output.plots import PLOT_FILES
from sim.scenario.schema import json_schema

RESULT_FILES = ("daily.csv", "replications.csv", "summary.json", "observations.csv")


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_toml: str) -> Path:
    """The tiny scenario file; the working directory is an empty temporary folder."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    path = tmp_path / "tiny.toml"
    path.write_text(tiny_toml)
    return path


def siege(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_run_writes_the_result_folder(tiny, tmp_path, capsys):
    out_dir = tmp_path / "run"
    code, out, err = siege(capsys, "run", tiny, "--out", out_dir, "--replications", "3")
    assert code == 0, err
    assert f"results: {out_dir}" in out
    assert "drops_jan" in out and "delivered_t" in out
    for name in ("scenario.toml", "manifest.json", *RESULT_FILES):
        assert (out_dir / name).is_file(), name
    for name in PLOT_FILES:
        assert (out_dir / "plots" / name).stat().st_size > 0
    manifest = json.loads((out_dir / "manifest.json").read_text())
    assert manifest["replications"] == 3 and manifest["seed"] == 5
    assert manifest["command"][:2] == ["siege", "run"]
    header = (out_dir / "replications.csv").read_text().splitlines()[0].split(",")
    assert header[:3] == ["replication", "seed", "delivered_t"]
    assert len((out_dir / "replications.csv").read_text().splitlines()) == 4
    assert len((out_dir / "daily.csv").read_text().splitlines()) == 1 + 90
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_same_seed_same_bytes_other_seed_differs(tiny, tmp_path, capsys):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for d, seed in ((a, "11"), (b, "11"), (c, "12")):
        code, _, err = siege(capsys, "run", tiny, "--out", d, "--seed", seed, "--quiet")
        assert code == 0, err
    for name in (*RESULT_FILES, "scenario.toml"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "daily.csv").read_bytes() != (c / "daily.csv").read_bytes()
    assert (a / "replications.csv").read_bytes() != (c / "replications.csv").read_bytes()


def test_run_folder_reproduces_itself(tiny, tmp_path, capsys):
    first, again = tmp_path / "first", tmp_path / "again"
    code, _, err = siege(
        capsys,
        "run",
        tiny,
        "--out",
        first,
        "--seed",
        "3",
        "--replications",
        "2",
        "--set",
        "fleets.drops.aircraft=2",
    )
    assert code == 0, err
    # no options: the seed, replications and --set are all in scenario.toml
    code, _, err = siege(capsys, "run", first / "scenario.toml", "--out", again)
    assert code == 0, err
    for name in (*RESULT_FILES, "scenario.toml"):
        assert (first / name).read_bytes() == (again / name).read_bytes(), name


def test_default_folder_and_quiet(tiny, capsys):
    code, out, err = siege(capsys, "run", tiny, "--replications", "1", "--quiet")
    assert code == 0, err
    path = Path(out.strip())
    assert path.parts[:2] == ("results", "tiny") and (path / "daily.csv").is_file()
    assert err == ""  # no progress bar when stderr is not a terminal


@pytest.mark.parametrize(
    "extra",
    [
        ["--set", "fleets.drops.aircraft=-1"],
        ["--set", "fleets.nope.aircraft=1"],
        ["--set", "no_equals_sign"],
        ["--replications", "0"],
        ["--seed", "minus"],
        ["--workers", "0"],
    ],
)
def test_bad_input_exits_2_one_line_nothing_written(tiny, tmp_path, capsys, extra):
    out_dir = tmp_path / "never"
    code, _out, err = siege(capsys, "run", tiny, "--out", out_dir, *extra)
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith("error: ")
    assert "Traceback" not in err
    assert not out_dir.exists()
    assert list(Path.cwd().iterdir()) == []


def test_bad_file_names_file_and_key(tiny, tmp_path, capsys, tiny_toml):
    bad = tmp_path / "bad.toml"
    bad.write_text(tiny_toml.replace("payload_t = 2.0", "payload_t = -2.0"))
    code, _, err = siege(capsys, "run", bad, "--out", tmp_path / "x")
    assert code == 2
    assert err.startswith(f"error: {bad}: fleets.drops.payload_t: ")
    assert len(err.splitlines()) == 1 and not (tmp_path / "x").exists()
    code, _, err = siege(capsys, "run", tmp_path / "missing.toml")
    assert code == 2 and len(err.splitlines()) == 1


def test_existing_folder_needs_force(tiny, tmp_path, capsys):
    out_dir = tmp_path / "run"
    out_dir.mkdir()
    (out_dir / "mine.txt").write_text("keep")
    code, _, err = siege(capsys, "run", tiny, "--out", out_dir, "--replications", "1")
    assert code == 2 and len(err.splitlines()) == 1 and "--force" in err
    assert [p.name for p in out_dir.iterdir()] == ["mine.txt"]
    # --force replaces only a run folder, never a folder of the user's
    code, _, err = siege(capsys, "run", tiny, "--out", out_dir, "--replications", "1", "--force")
    assert code == 2 and "not a folder written by siege" in err
    assert [p.name for p in out_dir.iterdir()] == ["mine.txt"]
    run_dir = tmp_path / "run2"
    code, _, err = siege(capsys, "run", tiny, "--out", run_dir, "--replications", "1", "--quiet")
    assert code == 0, err
    code, _, err = siege(
        capsys, "run", tiny, "--out", run_dir, "--replications", "2", "--force", "--quiet"
    )
    assert code == 0, err
    assert json.loads((run_dir / "manifest.json").read_text())["replications"] == 2


def test_internal_error_exits_1(tiny, tmp_path, capsys, monkeypatch):
    import sim.api

    def broken(*a, **k):
        raise RuntimeError("model exploded")

    monkeypatch.setattr(sim.api.runs, "run", broken)  # what run_to_folder calls (here: one worker)
    monkeypatch.delenv("SIEGE_DEBUG", raising=False)
    code, _, err = siege(capsys, "run", tiny, "--out", tmp_path / "x", "--workers", "1")
    assert code == 1
    assert len(err.splitlines()) == 1 and "model exploded" in err and "SIEGE_DEBUG=1" in err
    monkeypatch.setenv("SIEGE_DEBUG", "1")
    code, _, err = siege(capsys, "run", tiny, "--out", tmp_path / "x", "--workers", "1")
    assert code == 1 and "Traceback" in err
    assert not (tmp_path / "x").exists()


def test_usage_errors_are_short(capsys):
    for args in ([], ["run"], ["frobnicate"], ["run", "x.toml", "--bogus"]):
        code, _, err = siege(capsys, *args)
        assert code == 2, args
        assert len(err.splitlines()) == 1 and err.startswith("error: "), (args, err)


def test_validate(tiny, tmp_path, capsys, tiny_toml):
    bad = tmp_path / "bad.toml"
    bad.write_text(tiny_toml.replace("[weather]", "[weather]\nsunny = true"))
    code, out, err = siege(capsys, "validate", tiny)
    assert (code, out, err) == (0, f"ok: {tiny}\n", "")
    code, out, err = siege(capsys, "validate", tiny, bad, tmp_path / "missing.toml")
    assert code == 2
    assert out == f"ok: {tiny}\n"
    lines = err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"error: {bad}: weather.sunny: ")
    assert lines[1].startswith(f"error: {tmp_path / 'missing.toml'}")


def test_validate_checks_sweep_files_as_sweeps(tiny, tmp_path, capsys):
    good = tmp_path / "sweep.toml"
    good.write_text(
        f'base = "{tiny.name}"\ndesign = "grid"\n[parameters]\n"fleets.drops.aircraft" = [1, 2]\n'
    )
    bad = tmp_path / "bad_sweep.toml"
    bad.write_text(
        f'base = "{tiny.name}"\ndesign = "grid"\n[parameters]\n"fleets.nope.aircraft" = [1, 2]\n'
    )
    code, out, err = siege(capsys, "validate", good, bad)
    assert code == 2
    assert out == f"ok: {good}\n"
    assert err.count("\n") == 1
    assert err.startswith(f"error: {bad}: parameters.") and "nope" in err


def test_schema(capsys):
    code, out, _ = siege(capsys, "schema")
    assert code == 0
    assert out == json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


def test_plot_redraws_from_files(tiny, tmp_path, capsys):
    out_dir = tmp_path / "run"
    assert siege(capsys, "run", tiny, "--out", out_dir, "--replications", "2", "--quiet")[0] == 0
    before = {n: (out_dir / n).read_bytes() for n in RESULT_FILES}
    for p in (out_dir / "plots").iterdir():
        p.unlink()
    code, _out, err = siege(capsys, "plot", out_dir)
    assert code == 0, err
    assert sorted(p.name for p in (out_dir / "plots").iterdir()) == sorted(PLOT_FILES)
    assert all((out_dir / "plots" / n).stat().st_size > 0 for n in PLOT_FILES)
    assert {n: (out_dir / n).read_bytes() for n in RESULT_FILES} == before
    assert [p.name for p in out_dir.iterdir() if p.name.startswith(".")] == []
    code, _, err = siege(capsys, "plot", tmp_path)
    assert code == 2 and len(err.splitlines()) == 1 and "not a run folder" in err
    code, _, err = siege(capsys, "plot", tmp_path / "nowhere")
    assert code == 2 and len(err.splitlines()) == 1


def test_sweep_options_parse():
    args = cli.build_parser().parse_args(
        [
            "sweep",
            "s.toml",
            "--param",
            "fleets.a.aircraft=1,2",
            "--param",
            "x=0:1",
            "--design",
            "lhs",
            "--samples",
            "8",
            "--replications",
            "3",
            "--workers",
            "2",
            "--executor",
            "dask",
            "--scheduler",
            "tcp://h:8786",
            "--out",
            "o",
        ]
    )
    assert args.target == "s.toml" and args.param == ["fleets.a.aircraft=1,2", "x=0:1"]
    assert (args.design, args.samples, args.replications, args.workers) == ("lhs", 8, 3, 2)
    assert (args.executor, args.scheduler, args.out, args.resume) == (
        "dask",
        "tcp://h:8786",
        "o",
        None,
    )


def test_python_dash_m_and_entry_point(tiny):
    r = subprocess.run(
        [sys.executable, "-m", "sim", "validate", str(tiny)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 0 and r.stdout == f"ok: {tiny}\n"
    siege_exe = Path(sys.executable).with_name("siege")
    if siege_exe.exists():
        r = subprocess.run(
            [str(siege_exe), "validate", "nope.toml"], capture_output=True, text=True, check=False
        )
        assert r.returncode == 2 and len(r.stderr.splitlines()) == 1


REPO = Path(__file__).resolve().parents[1]


def test_readme_quick_start_is_true():
    readme = (REPO / "README.md").read_text()
    run_cmd = (
        "python3 -m venv .venv && .venv/bin/pip install -e . && "
        ".venv/bin/siege run scenarios/deir_ez_zor/baseline.toml"
    )
    test_cmd = (
        "python3 -m venv .venv && .venv/bin/pip install -e '.[test,dask,pandas]' && "
        '.venv/bin/pytest -m "slow or not slow"'
    )
    assert run_cmd in readme and test_cmd in readme
    assert readme.index(test_cmd) < readme.index("## Commands")
    assert readme.index(run_cmd) < readme.index("## Commands")
    assert (REPO / "scenarios/deir_ez_zor/baseline.toml").is_file()
    assert (REPO / "scenarios/examples/minimal.toml").is_file()
    for link in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", readme):
        assert (REPO / link).is_file(), link
    ci = (REPO / ".ci/run").read_text()
    assert "set -euo pipefail" in ci
    # CI installs what the README's test command installs and runs the same tests
    assert "pip install --quiet -e '.[test,dask,pandas]'" in ci
    assert '.venv/bin/pytest -m "slow or not slow"' in ci


@pytest.mark.slow
def test_baseline_end_to_end(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out_dir = tmp_path / "baseline"
    baseline = REPO / "scenarios/deir_ez_zor/baseline.toml"
    code, out, err = siege(capsys, "run", baseline, "--replications", "10", "--out", out_dir)
    assert code == 0, err
    assert "observations within tolerance" in out
    for name in ("scenario.toml", "manifest.json", *RESULT_FILES):
        assert (out_dir / name).stat().st_size > 0
    assert all((out_dir / "plots" / n).stat().st_size > 10_000 for n in PLOT_FILES)
    scenario = sim.load_scenario(baseline)
    rows = (out_dir / "observations.csv").read_text().splitlines()
    assert len(rows) == 1 + len(scenario.observations)


def _rows(path: Path) -> list[str]:
    return (path / "replications.csv").read_text().splitlines()


def test_root_seed_and_replication_reproduce_a_row(tiny, tmp_path, capsys):
    """replications.csv gives the root seed and the index; --replication K repeats row K."""
    whole, one = tmp_path / "whole", tmp_path / "one"
    code, _, err = siege(capsys, "run", tiny, "--out", whole, "--replications", "4", "--seed", "9")
    assert code == 0, err
    rows = _rows(whole)
    assert rows[0].startswith("replication,seed,")
    assert [r.split(",")[:2] for r in rows[1:]] == [[str(k), "9"] for k in range(4)]
    code, out, err = siege(capsys, "run", tiny, "--out", one, "--seed", "9", "--replication", "2")
    assert code == 0, err
    assert "replication 2 alone, seed 9" in out
    assert _rows(one) == [rows[0], rows[3]]
    assert json.loads((one / "manifest.json").read_text())["replication"] == 2


def test_precision_adds_batches_until_the_metric_is_precise(tiny, tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    args = ("run", tiny, "--precision", "0.05", "--metric", "delivered_t", "--seed", "3")
    code, out, err = siege(capsys, *args, "--out", a, "--workers", "1")
    assert code == 0, err
    manifest = json.loads((a / "manifest.json").read_text())
    p = manifest["precision"]
    n = p["replications"]
    assert p["reached"] and p["decided_by"] == "delivered_t" and n % 20 == 0
    assert manifest["replications"] == n == len(_rows(a)) - 1
    m = p["metrics"]["delivered_t"]
    assert m["half_width"] <= 0.05 * m["mean"]
    assert f"reached after {n} replications; decided by delivered_t" in out
    summary = json.loads((a / "summary.json").read_text())["delivered_t"]
    assert (summary["ci95_high"] - summary["ci95_low"]) / 2 == pytest.approx(m["half_width"])
    # the same seed gives the same answer whatever the workers
    code, _, err = siege(capsys, *args, "--out", b, "--workers", "2")
    assert code == 0, err
    assert (a / "replications.csv").read_bytes() == (b / "replications.csv").read_bytes()
    assert json.loads((b / "manifest.json").read_text())["precision"] == p


def test_precision_stops_at_the_cap_and_says_so(tiny, tmp_path, capsys):
    out_dir = tmp_path / "capped"
    code, out, err = siege(
        capsys, "run", tiny, "--precision", "0.0001", "--max-replications", "40",
        "--metric", "delivered_t", "--metric", "stockout__town__food", "--out", out_dir,
    )  # fmt: skip
    assert code == 0, err
    p = json.loads((out_dir / "manifest.json").read_text())["precision"]
    assert not p["reached"] and p["replications"] == 40
    assert "NOT reached at the cap of 40 replications" in out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--precision", "0.02", "--replications", "5"), "--precision: cannot be given with"),
        (("--metric", "delivered_t"), "--metric: needs --precision"),
        (("--precision", "0.02", "--metric", "delivered"), "unknown metric 'delivered'"),
        (("--precision", "2"), "--precision: must be between 0 and 1"),
        (("--precision", "0.02", "--max-replications", "5"), "at least 20"),
        (("--replication", "1", "--replications", "3"), "--replication: runs one"),
        (("--precision", "0.02", "--posterior", "cal"), "--posterior: cannot be given with"),
        (("--replication", "1", "--posterior", "cal"), "--posterior: cannot be given with"),
    ],
)
def test_bad_precision_options_are_one_line_errors(tiny, tmp_path, capsys, args, words):
    out_dir = tmp_path / "never"
    code, _, err = siege(capsys, "run", tiny, "--out", out_dir, *args)
    assert code == 2 and words in err and err.count("\n") == 1, err
    assert not out_dir.exists()


def test_the_command_exits_at_once_with_every_line_written(tmp_path: Path) -> None:
    # python -m sim ends with os._exit after flushing: nothing printed may be lost,
    # to a pipe or a file, and the status is main's (streams buffered as they are usually)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    r = subprocess.run(
        [sys.executable, "-m", "sim", "schema"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert r.returncode == 0 and r.stdout == sim.api.schema_text()
    minimal = Path(__file__).parents[1] / "scenarios" / "examples" / "minimal.toml"
    r = subprocess.run(  # a line short enough to wait in the buffer
        [sys.executable, "-m", "sim", "validate", str(minimal)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert r.returncode == 0 and r.stdout.startswith("ok") and r.stdout.endswith("\n")
    with open(tmp_path / "out.txt", "w") as fh:
        r = subprocess.run(
            [sys.executable, "-m", "sim", "validate", str(tmp_path / "nothing.toml")],
            stdout=fh,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
            env=env,
        )
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("error: ")
