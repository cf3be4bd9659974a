"""The manifest every result folder records: what ran, with what, when."""

from __future__ import annotations

import datetime as dt
import json
import time

from sim.experiment.provenance import build_manifest, package_version, with_session


def test_manifest_fields():
    m = build_manifest(
        seed=3,
        replications=5,
        workers=2,
        wall_time_s=1.23456,
        command=["siege", "run", "x.toml"],
        scenario_name="x",
    )
    for key in (
        "siege_sim_version",
        "git_commit",
        "seed",
        "replications",
        "workers",
        "wall_time_s",
        "python",
        "simpy",
        "numpy",
        "pydantic",
        "command",
        "created_utc",
    ):
        assert key in m
    assert m["seed"] == 3 and m["wall_time_s"] == 1.235 and m["workers"] == 2
    assert m["git_commit"] is None or len(m["git_commit"]) == 40
    json.dumps(m)


def test_package_version() -> None:
    assert package_version("numpy")
    assert package_version("no-such-distribution-siege") is None


def test_a_session_is_appended_to_those_a_manifest_has(tmp_path) -> None:
    """The one home of a resumable folder's sessions (sweep, plan, calibration,
    comparison): a missing or unreadable manifest has none; a string command is one word."""
    manifest = tmp_path / "manifest.json"
    started = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
    entry = dict(started=started, t0=time.perf_counter(), runs=3, status="complete", workers=2)
    for text in (None, "{broken", "[1, 2]"):
        if text is not None:
            manifest.write_text(text)
        (only,) = with_session(manifest, command="siege sweep x.toml", **entry)
        assert only["command"] == ["siege sweep x.toml"] and only["runs"] == 3
    manifest.write_text(json.dumps({"sessions": [{"status": "interrupted"}]}))
    old, new = with_session(manifest, command=["siege", "sweep"], **entry)
    assert old == {"status": "interrupted"}
    assert new["command"] == ["siege", "sweep"] and new["started_utc"] == "2026-11-29T12:00:00Z"
