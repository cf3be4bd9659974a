"""The benchmark suite runs (quick mode, small scenario), so its code cannot rot."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

from bench import measures, report
from bench.run import main
from sim.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = str(ROOT / "scenarios" / "examples" / "minimal.toml")
BASELINE = ROOT / "scenarios" / "deir_ez_zor" / "baseline.toml"


def test_quick_run_writes_results_and_a_table(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "results.json"
    code = main(
        [
            "--quick",
            "--scenario",
            MINIMAL,
            "--only",
            "replication",
            "throughput",
            "scaling",
            "validation",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    res = json.loads(out.read_text())
    assert res["mode"] == "quick"
    assert res["scenario"] == "scenarios/examples/minimal.toml"  # given as an absolute path
    rep = res["replication"]
    assert rep["sim_events_median"] > 0
    assert 0 < rep["ratio_wall"] < 1 and math.isfinite(rep["ratio_cpu"])
    runs = res["throughput"]["runs"]
    assert [r["workers"] for r in runs] == [1, 2]
    assert all(r["replications"] == 6 and r["replications_per_s"] > 0 for r in runs)
    horizon = res["scaling"]["horizon"]
    assert [r["n_days"] for r in horizon] == [31, 62]
    assert horizon[1]["ratio_to_previous"] > 1.0  # twice the days cannot cost less
    validation = res["validation"]
    assert [r["added"] for r in validation] == [100, 200]
    assert all(r["cpu_s"] > 0 for r in validation) and "ratio_to_previous" in validation[1]
    table = capsys.readouterr().out
    assert "engine reference" in table and "(quick run)" in table

    assert main(["--report", str(out)]) == 0
    md = capsys.readouterr().out
    assert md.count("\n|") >= 6 and "| baseline replication" in md


def test_recorded_paths_name_no_machine_path() -> None:
    assert measures.shown_path(ROOT / "bench" / "out" / "run_1000") == "bench/out/run_1000"
    assert measures.shown_path(ROOT / ".venv" / "bin" / "python") == ".venv/bin/python"
    assert measures.shown_path("/usr/local/bin/python3") == "python3"
    assert measures.shown_path("scenarios/deir_ez_zor/baseline.toml") == (
        "scenarios/deir_ez_zor/baseline.toml"
    )
    assert measures.shown_path("--force") == "--force"
    assert not measures.shown_path(sys.executable).startswith("/")


def test_scaled_scenarios() -> None:
    sc = load_scenario(BASELINE)
    long = measures.scaled_horizon(sc, 2)
    assert long.calendar.n_days == 2 * sc.calendar.n_days
    assert [e.date for e in long.events] == [e.date for e in sc.events]
    for name, fleet in sc.fleets.items():
        moved = long.fleets[name].active_to
        if fleet.active_to is None:
            assert moved is None
        elif (sc.calendar.end - fleet.active_to).days < 31:  # flew to the end: still does
            assert moved == fleet.active_to + (long.calendar.end - sc.calendar.end)
        else:
            assert moved == fleet.active_to
    big = measures.scaled_fleets(sc, 4)
    assert all(big.fleets[f].aircraft == 4 * sc.fleets[f].aircraft for f in sc.fleets)
    assert measures.scaled_fleets(sc, 1) is sc


def test_peak_memory_of_a_process_tree_is_seen(tmp_path: Path) -> None:
    code = (
        "import subprocess, sys, time; b = bytearray(60 * 2**20); "
        "subprocess.run([sys.executable, '-c', "
        "'import time; b = bytearray(60 * 2**20); time.sleep(0.6)']); time.sleep(0.1)"
    )
    rec = measures.run_sampled([sys.executable, "-c", code], tmp_path / "log.txt", interval=0.02)
    assert rec["exit_status"] == 0
    assert rec["peak_tree_mib"] >= 120  # parent and child, both holding 60 MiB
    peaks = rec["process_peaks_mib"]
    assert len(peaks) == 2 and 60 <= peaks[1] <= peaks[0] < rec["peak_tree_mib"]


def test_report_marks_targets() -> None:
    res = {
        "replication": {
            "engine_events": 100_000,
            "engine_wall_s": 0.1,
            "engine_cpu_s": 0.1,
            "replication_wall_s": 0.06,
            "replication_cpu_s": 0.04,
            "ratio_wall": 0.6,
            "ratio_cpu": 0.4,
            "sim_events_median": 9000,
            "us_per_event": 6.7,
            "engine_us_per_event": 1.0,
        }
    }
    (_, _, _, _), (name, _, measured, verdict), *_ = report.rows(res)
    assert name.startswith("baseline replication") and verdict == "NOT MET"
    assert "0.60 × engine" in measured


@pytest.mark.slow
def test_quick_run_with_sweeps(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    assert main(["--quick", "--scenario", MINIMAL, "--only", "memory", "--out", str(out)]) == 0
    mem = json.loads(out.read_text())["memory"]
    assert mem["small"]["exit_status"] == 0 and mem["large"]["exit_status"] == 0
    assert mem["large"]["runs"] == 12 and mem["ratio"] > 0
