"""Fixtures for sweep tests: the tiny scenario and sweep files in a temporary folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from sim.analysis.metrics import replication_metrics
from sim.model.world import run_replication
from sim.scenario.load import load_scenario

GRID_SWEEP = """\
base = "tiny.toml"
title = "Tiny grid"
design = "grid"
samples = 3
replications = 3
seed = 11
metrics = ["y", "z"]

[parameters]
"fleets.drops.aircraft" = [1, 2, 3]
"drop_zones.field.recovery" = { low = 0.5, high = 0.9 }
"""


@pytest.fixture
def write_sweep(tiny_path: Path) -> Callable[..., Path]:
    """``write_sweep(text=GRID_SWEEP, name="sweep.toml")``: a sweep file beside tiny.toml."""

    def write(text: str = GRID_SWEEP, name: str = "sweep.toml") -> Path:
        p = tiny_path.parent / name
        p.write_text(text, encoding="utf-8")
        return p

    return write


# ---- calibration: a synthetic scenario with a known answer -----------------------------

TRUE_PAYLOAD_T = 2.0
"""The payload the synthetic record was made with (the answer a calibration must find)."""

HELD_OUT = """
[[observations]]
id = "drops_feb"
metric = "delivered_t"
selector = { fleets = ["drops"] }
from = 2016-02-01
to = 2016-02-14
value = 20.0
unit = "t"
source = "made up for the test"
role = "validation"
"""

CALIBRATION = """\
base = "synthetic.toml"
method = "abc-smc"
seed = 3

[parameters]
"fleets.drops.payload_t" = {{ low = 0.5, high = 5.0 }}

[budget]
particles = {particles}
generations = {generations}
replications = {replications}
"""


@pytest.fixture
def synthetic(tmp_path: Path, tiny_toml: str) -> Callable[..., Path]:
    """``synthetic(stochastic=True, particles=20, generations=4, replications=2)``: the tiny
    scenario with a held-out observation, both observed values made by the model itself
    at payload ``TRUE_PAYLOAD_T`` (the mean of ``replications`` runs of the calibration's
    seed); returns the path of a calibration file fitting the payload to January."""

    def make(
        stochastic: bool = True, particles: int = 20, generations: int = 4, replications: int = 2
    ) -> Path:
        text = tiny_toml + HELD_OUT
        if not stochastic:
            text = text.replace("replications = 4", "replications = 4\nstochastic = false")
        scenario_path = tmp_path / "synthetic.toml"
        scenario_path.write_text(text, encoding="utf-8")
        truth = load_scenario(
            scenario_path, overrides=(f"fleets.drops.payload_t={TRUE_PAYLOAD_T}",)
        )
        reps = [
            replication_metrics(truth, run_replication(truth, r, 3)) for r in range(replications)
        ]
        for oid, old in (("drops_jan", "value = 40.0"), ("drops_feb", "value = 20.0")):
            value = sum(m[f"obs__{oid}"] for m in reps) / replications
            i = text.index(f'id = "{oid}"')
            text = text[:i] + text[i:].replace(old, f"value = {value!r}", 1)
        scenario_path.write_text(text, encoding="utf-8")
        cal = tmp_path / "calibration.toml"
        cal.write_text(
            CALIBRATION.format(
                particles=particles, generations=generations, replications=replications
            ),
            encoding="utf-8",
        )
        return cal

    return make
