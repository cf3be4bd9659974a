"""Shared test fixtures.

Analysis/output fixtures (``fake_scenario``, ``make_result``): a small Scenario built
directly from the pydantic models, and a factory of hand-built RunResults with every
series the record contract names, so the analysis and output layers can be tested
without running the model.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.model.record import RunResult
from sim.scenario.schema import Scenario


def build_fake_scenario(**changes: Any) -> Scenario:
    """Ten days, two pockets, two commodities, an airdrop fleet and a landing fleet."""
    data: dict[str, Any] = {
        "name": "fake",
        "replications": 3,
        "seed": 7,
        "calendar": {"start": dt.date(2020, 1, 1), "end": dt.date(2020, 1, 10)},
        "commodities": {
            "food": {"civilian_kg_day": 0.5, "soldier_kg_day": 1.0},
            "ammo": {"civilian_kg_day": 0.0, "soldier_kg_day": 2.0, "rationed": False},
        },
        "pockets": {
            "city": {"civilians": 1000, "garrison": 100, "stock_t": {"food": 5.0}},
            "base": {"civilians": 0, "garrison": 50, "stock_t": {"food": 1.0, "ammo": 3.0}},
        },
        "airfields": {"strip": {"pocket": "base"}},
        "drop_zones": {"dz": {"pocket": "city", "recovery": 0.8}},
        "fleets": {
            "drops": {
                "mode": "airdrop",
                "aircraft": 1,
                "payload_t": 20.0,
                "cargo": {"food": 1.0},
                "flight_h": 2.0,
                "targets": ["dz"],
            },
            "planes": {
                "mode": "land",
                "aircraft": 2,
                "payload_t": 10.0,
                "cargo": {"food": 0.5, "ammo": 0.5},
                "flight_h": 1.0,
                "targets": ["strip"],
            },
        },
        "events": [
            {
                "date": dt.date(2020, 1, 6),
                "title": "Strip shelled",
                "set": {"airfields.strip.open": False},
            },
        ],
        "observations": [
            {
                "id": "drops_total",
                "metric": "delivered_t",
                "selector": {"fleets": ["drops"]},
                "from": dt.date(2020, 1, 1),
                "to": dt.date(2020, 1, 10),
                "value": 100.0,
                "unit": "t",
                "source": "test",
            },
        ],
    }
    data.update(changes)
    return Scenario.model_validate(data)


@pytest.fixture
def fake_scenario_factory() -> Callable[..., Scenario]:
    """Factory ``fake_scenario_factory(**top_level_changes)`` of small Scenarios."""
    return build_fake_scenario


@pytest.fixture
def fake_scenario() -> Scenario:
    """A small Scenario built from the pydantic models (see :func:`build_fake_scenario`)."""
    return build_fake_scenario()


def build_fake_result(
    scenario: Scenario,
    replication: int = 0,
    seed: int = 0,
    scale: float = 1.0,
    **series: Any,
) -> RunResult:
    """A RunResult with every contract series: constant defaults, ``series`` overriding.

    Defaults per day: each fleet delivers 10 t × ``scale`` (all to its first target's
    pocket, as are its sorties, deliveries and losses, also when overridden), flies 2
    sorties, aborts 1, makes 2 deliveries, loses none; stocks stay at
    5 t with 5 days of supply; full rations; 3 combat sorties and 1 target a day.
    """
    n = scenario.calendar.n_days
    full = np.ones(n)
    s: dict[str, np.ndarray] = {}
    points = {**scenario.airfields, **scenario.helipads, **scenario.drop_zones}
    received = {p: np.zeros(n) for p in scenario.pockets}
    for f, fleet in scenario.fleets.items():
        target_pocket = points[fleet.targets[0]].pocket
        s[f"delivered_t__{f}"] = 10.0 * scale * full
        for p in scenario.pockets:
            s[f"delivered_t__{f}__{p}"] = 10.0 * scale * full if p == target_pocket else np.zeros(n)
        received[target_pocket] = received[target_pocket] + 10.0 * scale * full
        if fleet.mode == "airdrop":
            s[f"dropped_t__{f}"] = 12.5 * scale * full
            s[f"dropped_t__{f}__{target_pocket}"] = 12.5 * scale * full
            s[f"pallets_dropped__{f}"] = 16.0 * full
            s[f"pallets_dropped__{f}__{target_pocket}"] = 16.0 * full
        s[f"sorties_flown__{f}"] = 2.0 * full
        s[f"sorties_aborted__{f}"] = 1.0 * full
        s[f"deliveries__{f}"] = 2.0 * full
        s[f"aircraft_lost__{f}"] = np.zeros(n)
        for kind in ("sorties_flown", "deliveries", "aircraft_lost"):
            s[f"{kind}__{f}__{target_pocket}"] = s[f"{kind}__{f}"].copy()
    for p, pocket in scenario.pockets.items():
        s[f"received_t__{p}"] = received[p]
        s[f"transferred_in_t__{p}"] = np.zeros(n)
        s[f"civilians__{p}"] = pocket.civilians * full
        s[f"garrison__{p}"] = pocket.garrison * full
        s[f"ration_level__{p}"] = full.copy()
        s[f"civilian_ration__{p}"] = full.copy() if pocket.civilians else np.full(n, np.nan)
        s[f"garrison_ration__{p}"] = full.copy() if pocket.garrison else np.full(n, np.nan)
        for c, com in scenario.commodities.items():
            demand = pocket.civilians * com.civilian_kg_day + pocket.garrison * com.soldier_kg_day
            s[f"stock_t__{p}__{c}"] = 5.0 * full
            s[f"days_of_supply__{p}__{c}"] = 5.0 * full if demand > 0 else np.full(n, np.nan)
            s[f"consumed_t__{p}__{c}"] = demand / 1000 * full
            s[f"shortfall_t__{p}__{c}"] = np.zeros(n)
    s["combat_sorties"] = 3.0 * full
    s["targets_destroyed"] = 1.0 * full
    s["besieger_weapons"] = 100.0 + np.arange(n, dtype=float)
    s["threat"] = full.copy()
    s["flyable"] = full.copy()
    for a in [*scenario.airfields, *scenario.helipads]:
        s[f"closed__{a}"] = np.zeros(n)
    for r in scenario.routes:
        s[f"transfer_t__{r}"] = np.zeros(n)
        s[f"in_transit_t__{r}"] = np.zeros(n)
    for name, values in series.items():
        arr = np.asarray(values, dtype=float)
        s[name] = arr if arr.shape == (n,) else np.broadcast_to(arr, (n,)).copy()
        kind, _, rest = name.partition("__")
        if kind in ("sorties_flown", "deliveries", "aircraft_lost") and "__" not in rest:
            # an overridden fleet total: its first target's pocket gets all of it
            pocket = points[scenario.fleets[rest].targets[0]].pocket
            s[f"{name}__{pocket}"] = s[name].copy()
    events = [(scenario.calendar.day(e.date), e.title) for e in scenario.events]
    return RunResult(replication=replication, seed=seed, n_days=n, series=s, events=events)


@pytest.fixture
def make_result() -> Callable[..., RunResult]:
    """Factory ``make_result(scenario, replication=0, seed=0, scale=1.0, **series)``."""
    return build_fake_result


TINY_FILE = Path(__file__).with_name("tiny.toml")
"""The one tiny runnable scenario of the tests (90 days, one pocket, one airdrop fleet,
one event, one observation); a run of a few replications takes well under 1 s."""


@pytest.fixture(scope="session")
def tiny_toml() -> str:
    """The text of ``tests/tiny.toml`` (edit it with ``str.replace`` for variants)."""
    return TINY_FILE.read_text(encoding="utf-8")


@pytest.fixture
def tiny_path(tmp_path: Path, tiny_toml: str) -> Path:
    """``tiny.toml`` (see the ``tiny_toml`` fixture) written to a temporary folder."""
    p = tmp_path / "tiny.toml"
    p.write_text(tiny_toml, encoding="utf-8")
    return p
