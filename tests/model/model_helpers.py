"""Scenario builders for the model tests: small, explicit, built from plain dicts."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from sim.scenario.schema import Scenario

BASE: dict[str, Any] = {
    "name": "unit",
    "seed": 3,
    "calendar": {"start": dt.date(2016, 1, 4), "end": dt.date(2016, 3, 27)},  # Mon .. Sun, 84 d
    "commodities": {"food": {"civilian_kg_day": 0.5, "soldier_kg_day": 1.0}},
    "pockets": {"city": {"civilians": 1000, "garrison": 0, "stock_t": {"food": 1000.0}}},
}


DAYS_100 = {"start": dt.date(2016, 1, 4), "end": dt.date(2016, 4, 12)}
"""A 100-day calendar (Monday 4 Jan to Tuesday 12 Apr 2016)."""


def scenario(**sections: Any) -> Scenario:
    """BASE updated section by section (a ``None`` value deletes the section)."""
    data = copy.deepcopy(BASE)
    for key, value in sections.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return Scenario.model_validate(data)


def drop_fleet(**over: Any) -> dict[str, Any]:
    """An airdrop fleet on drop zone ``dz`` (no ceiling: it flies as fast as its cycle).

    A key given as None is left out."""
    f: dict[str, Any] = {
        "mode": "airdrop",
        "aircraft": 1,
        "payload_t": 20.0,
        "cargo": {"food": 1.0},
        "flight_h": 1.0,
        "targets": ["dz"],
    }
    f.update(over)
    return {k: v for k, v in f.items() if v is not None}


def land_fleet(**over: Any) -> dict[str, Any]:
    """A landing fleet on airfield ``strip`` (no ceiling). A key given as None is left out."""
    f: dict[str, Any] = {
        "mode": "land",
        "aircraft": 1,
        "payload_t": 10.0,
        "cargo": {"food": 1.0},
        "flight_h": 1.0,
        "ground_h": 1.0,
        "targets": ["strip"],
    }
    f.update(over)
    return {k: v for k, v in f.items() if v is not None}
