"""Shared fixtures for the scenario tests: a valid minimal scenario and a file writer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

TINY = """\
name = "tiny"
seed = 1
replications = 2

[calendar]
start = 2016-01-01
end = 2016-03-31

[commodities.food]
civilian_kg_day = 0.5
soldier_kg_day = 1.0

[commodities.medical]
civilian_kg_day = 0.01
soldier_kg_day = 0.02
rationed = false

[pockets.city]
civilians = 1000
garrison = 100
stock_t = { food = 20.0 }

[pockets.airbase]
civilians = 0
garrison = 300

[drop_zones.dz]
pocket = "city"
recovery = 0.9

[airfields.base]
pocket = "airbase"
slots = 2

[fleets.il76]
mode = "airdrop"
aircraft = 1
payload_t = 20
cargo = { food = 1.0 }
flight_h = 1.5
targets = ["dz"]

[fleets.heli]
mode = "helicopter"
aircraft = 2
payload_t = 3
cargo = { food = 0.8, medical = 0.2 }
flight_h = 1.0
ground_h = 0.5
targets = ["base"]

[routes.road]
a = "airbase"
b = "city"
capacity_t_day = 50

[[events]]
date = 2016-02-01
title = "DZ overrun"
set = { "drop_zones.dz.open" = false }

[[events]]
date = 2016-01-15
title = "Road cut"
set = { "routes.road.open" = false, "siege.combat_sorties_per_day" = 10 }

[[observations]]
id = "airdrops"
metric = "delivered_t"
selector = { fleets = ["il76"] }
from = 2016-01-01
to = 2016-01-31
range = [100.0, 200.0]
source = "test"
"""
"""A valid scenario using most sections; two events given out of date order."""


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """``write(name, text)`` writes a file under ``tmp_path`` and returns its path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return _write


@pytest.fixture
def tiny(write: Callable[[str, str], Path]) -> Path:
    """The path of a file holding :data:`TINY`."""
    return write("tiny.toml", TINY)


@pytest.fixture
def tiny_text() -> str:
    """The text of :data:`TINY` (edit it with ``str.replace`` for variants)."""
    return TINY
