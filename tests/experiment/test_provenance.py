"""The manifest every result folder records: what ran, with what, when."""

from __future__ import annotations

import json

from sim.experiment.provenance import build_manifest, package_version


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
