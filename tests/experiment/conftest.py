"""Fixtures for sweep tests: the tiny scenario and sweep files in a temporary folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

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
