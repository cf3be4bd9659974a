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


def tiny_text() -> str:
    """The tiny scenario of the shared ``tests/conftest.py`` (its ``tiny_toml`` fixture),
    for fixtures of a wider scope than a function."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "conftest.py"
    spec = importlib.util.spec_from_file_location("_siege_tests_root_conftest", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.TINY_TOML)


@pytest.fixture
def tiny_path(tmp_path: Path, tiny_toml: str) -> Path:
    """``tiny.toml`` (see the ``tiny_toml`` fixture) written to a temporary folder."""
    p = tmp_path / "tiny.toml"
    p.write_text(tiny_toml, encoding="utf-8")
    return p


@pytest.fixture
def write_sweep(tiny_path: Path) -> Callable[..., Path]:
    """``write_sweep(text=GRID_SWEEP, name="sweep.toml")``: a sweep file beside tiny.toml."""

    def write(text: str = GRID_SWEEP, name: str = "sweep.toml") -> Path:
        p = tiny_path.parent / name
        p.write_text(text, encoding="utf-8")
        return p

    return write
