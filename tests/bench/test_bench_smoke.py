"""The benchmark suite runs (quick mode, small scenario), so its code cannot rot."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

from bench import large_airlift, measures, report
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
    assert rep["ratio_wall"] > 0 and math.isfinite(rep["ratio_cpu"])
    runs = res["throughput"]["runs"]
    assert [r["workers"] for r in runs] == [1, 2]
    assert all(r["replications"] == 6 and r["replications_per_s"] > 0 for r in runs)
    horizon = res["scaling"]["horizon"]
    assert [r["n_days"] for r in horizon] == [31, 62]
    # twice the days is more work (counted in SimPy events: a timing here would be a
    # timed test, flaky on a loaded machine); the ratio itself is the bench's to judge
    assert horizon[1]["sim_events_max"] > horizon[0]["sim_events_max"]
    assert horizon[1]["ratio_to_previous"] > 0 and math.isfinite(horizon[1]["ratio_to_previous"])
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


def test_the_large_airlift_is_a_valid_scenario_of_the_size_it_says(tmp_path: Path) -> None:
    path = large_airlift.write(tmp_path / "big.toml", days=3)
    sc = load_scenario(path)
    assert sum(f.aircraft for f in sc.fleets.values()) == 300
    assert len(sc.bases) == 3 and len(sc.airfields) == 3 and sc.calendar.n_days == 3
    doubled = load_scenario(large_airlift.write(tmp_path / "big2.toml", 2, days=3))
    assert sum(f.aircraft for f in doubled.fleets.values()) == 600
    assert large_airlift.main([str(tmp_path / "x.toml"), "--days", "1"]) == 2  # too short


def test_report_rows_of_the_end_to_end_measures() -> None:
    run = {"exit_status": 0, "cpu_s": 1.0, "repeats": 3}
    res = {
        "fixed": {"workers_2": {**run, "wall_s": 1.4}, "workers_1": {**run, "wall_s": 2.0}},
        "endtoend": {
            "replications": 200,
            "workers_1": {**run, "wall_s": 20.0},
            "workers_2": {**run, "wall_s": 11.0},
            "efficiency": 0.94,
            "efficiency_gross": 0.91,
        },
        "large": {
            "rows": [
                {
                    "kind": "base",
                    "factor": 1,
                    "aircraft": 300,
                    "n_days": 365,
                    "sorties": 365_000.0,
                    "sim_events": 2_000_000,
                    "cpu_s": 5.0,
                    "us_per_event_cpu": 2.5,
                    "engine_us_per_event_cpu": 0.9,
                    "event_ratio": 2.78,
                },
                {
                    "kind": "fleets",
                    "factor": 2,
                    "aircraft": 600,
                    "n_days": 365,
                    "sorties": 730_000.0,
                    "cpu_s": 10.8,
                    "ratio_to_x1": 2.16,
                    "work_ratio_to_x1": 2.0,
                    "event_ratio": 2.9,
                },
            ]
        },
        "overhead": {
            "overhead": 0.04,
            "per_run_sweep_s": 0.052,
            "per_run_bare_s": 0.05,
            "marginal_runs": 80,
        },
        "peer": {
            "runs": 200,
            "workers": 2,
            "siege_sweep": {"wall_s": 6.0, "exit_status": 0},
            "peer": {"wall_s": 9.0, "evaluate_s": 6.5, "exit_status": 0},
        },
    }
    rows = {
        name.strip(): (target, measured, verdict)
        for name, target, measured, verdict in report.rows(res)
    }
    verdicts = [v for _, _, v in rows.values() if v != "—"]
    assert verdicts == ["met", "met", "met", "NOT MET", "met", "met"]
    assert any("2.78 × engine" in m for _, m, _ in rows.values())
    skipped = dict(res["peer"], peer=None, peer_skipped="ema_workbench is not installed")
    (row,) = report.rows({"peer": skipped})
    assert "not installed" in row[2] and row[3] == "—"


@pytest.mark.slow
def test_quick_run_of_the_end_to_end_measures(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    code = main(
        ["--quick", "--scenario", MINIMAL, "--only", "fixed", "overhead", "--out", str(out)]
    )
    assert code == 0
    res = json.loads(out.read_text())
    assert res["fixed"]["workers_2"]["exit_status"] == 0 and res["fixed"]["workers_2"]["wall_s"] > 0
    over = res["overhead"]
    assert over["marginal_runs"] == 4 and over["per_run_bare_s"] > 0
