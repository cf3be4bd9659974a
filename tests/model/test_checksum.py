"""A pinned checksum of fixed-seed runs: optimisations must not change results.

:data:`SCENARIO` is small (120 days, runs in well under a second) but exercises
every mechanism of the model: three pockets (garrison priority on and off, a
threat-scaled and a non-rationed commodity), two home bases (loading slots, hours,
a weather zone of their own; a fleet moved between them by an event), an airfield
with an operating window, runway interval and ground losses, a congested helipad
with shelling closures that last days, drop zones (one opened, one overrun by
events; a pass limit), a route with transit time and interdiction, landing,
airdrop, helicopter and shuttle fleets (weekdays, active window, tasking ceilings
and none, a flying-hour budget, breakdowns, holding and diversions, losses with
replacement, fleet grown, cut back and restored by events), Markov weather with
monthly and degraded days in two zones, the siege, and events that set stocks,
head counts and the climate.

The digest covers every byte of every series (float64, in name order), every
counter, every mass-balance term and the event list, for three stochastic
replications and the deterministic limit (``stochastic = false``).

**When a change of results is intended** (a model fix, a new mechanism), run

    .venv/bin/python tests/model/test_checksum.py

which prints the new digests, paste them into :data:`PINNED`, and say in the commit
message why the results changed. A speed-up must never need this.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import struct
from typing import Any

import numpy as np
import pytest

from sim.model.record import RunResult
from sim.model.world import run_replication
from sim.scenario.load import with_values
from sim.scenario.schema import Scenario

ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

SCENARIO: dict[str, Any] = {
    "name": "checksum",
    "seed": 12345,
    "calendar": {"start": dt.date(2016, 1, 4), "end": dt.date(2016, 5, 2)},  # 120 days
    "commodities": {
        "food": {"civilian_kg_day": 0.555, "soldier_kg_day": 1.45, "rationed": True},
        "medical": {"civilian_kg_day": 0.002, "soldier_kg_day": 0.02, "rationed": False},
        "ammunition": {
            "civilian_kg_day": 0.0,
            "soldier_kg_day": 0.5,
            "rationed": False,
            "threat_scaled": True,
        },
    },
    "pockets": {
        "city": {
            "civilians": 20000,
            "garrison": 800,
            "stock_t": {"food": 200.0, "medical": 1.0, "ammunition": 10.0},
            "rations": {
                "thresholds_days": [30.0, 15.0, 5.0],
                "levels": [0.75, 0.5, 0.25],
                "recover_factor": 1.25,
                "garrison_priority": True,
            },
        },
        "base": {
            "civilians": 3000,
            "garrison": 600,
            "stock_t": {"food": 150.0, "medical": 2.0, "ammunition": 40.0},
            "rations": {
                "thresholds_days": [20.0, 8.0],
                "levels": [0.6, 0.3],
                "recover_factor": 1.5,
                "garrison_priority": False,
            },
        },
        "depot": {"civilians": 0, "garrison": 0, "stock_t": {"food": 500.0, "ammunition": 50.0}},
    },
    "bases": {
        "hub": {"lat": 33.5, "lon": 36.3, "loading_slots": 1, "opens_h": 4.0, "hours": 18.0},
        "north": {"lat": 37.0, "lon": 41.2, "weather_zone": "north"},
    },
    "weather_zones": {
        "north": {
            "unflyable_share": [0.3, 0.3, 0.2, 0.1, 0.05, 0, 0, 0, 0, 0.05, 0.1, 0.2],
            "mean_spell_days": 3.0,
            "degraded_share": 0.2,
            "degraded_landing_factor": 2.0,
        }
    },
    "airfields": {
        "runway": {
            "pocket": "base",
            "slots": 1,
            "opens_h": 6.0,
            "hours": 12.0,
            "exposure": 1.0,
            "landing_interval_min": 20.0,
            "ground_loss_per_hour": 0.002,
            "lat": 35.28,
            "lon": 40.18,
        },
    },
    "helipads": {
        "pad": {
            "pocket": "city",
            "slots": 1,
            "opens_h": 20.0,
            "hours": 8.0,
            "exposure": 2.0,
            "weather_zone": "north",
            "lat": 35.33,
            "lon": 40.14,
        },
        "pad2": {"pocket": "base", "slots": 1, "lat": 35.29, "lon": 40.17},
    },
    "drop_zones": {
        "dz": {"pocket": "city", "recovery": 0.8, "pallet_t": 0.77, "passes_per_hour": 2.0},
        "dz2": {"pocket": "base", "recovery": 0.9, "pallet_t": 2.5, "open": False},
    },
    "routes": {
        "road": {
            "a": "base",
            "b": "city",
            "capacity_t_day": 30.0,
            "transit_days": 1.0,
            "interdiction": 0.05,
        },
        "supply": {"a": "depot", "b": "base", "capacity_t_day": 2.0, "transit_days": 0.0},
    },
    "fleets": {
        "il76": {
            "mode": "airdrop",
            "aircraft": 1,
            "payload_t": 6.0,
            "cargo": {"food": 0.9, "medical": 0.1},
            "flight_h": 1.5,
            "base_h": 2.5,
            "depart_h": 6.0,
            "sorties_per_day": 1.5,
            "mission_capable": 0.85,
            "repair_days": 3.0,
            "targets": ["dz", "dz2"],
            "loss_per_sortie": 0.002,
        },
        "an26": {
            "mode": "land",
            "aircraft": 2,
            "payload_t": 3.0,
            "cargo": {"food": 0.5, "ammunition": 0.5},
            "base": "hub",
            "block_speed_kmh": 440.0,
            "ground_h": 2.0,
            "base_h": 3.0,
            "depart_h": 5.0,
            "days": ["mon", "tue", "wed", "thu", "fri"],
            "ute_h_day": 5.0,
            "mission_capable": 0.7,
            "active_to": dt.date(2016, 4, 1),
            "targets": ["runway"],
            "loss_per_sortie": 0.005,
            "replacement_days": 10.0,
        },
        "helo": {
            "mode": "helicopter",
            "aircraft": 3,
            "payload_t": 3.0,
            "cargo": {"food": 0.6, "medical": 0.1, "ammunition": 0.3},
            "base": "north",
            "block_speed_kmh": 225.0,
            "ground_h": 2.5,
            "base_h": 3.0,
            "depart_h": 21.0,
            "days": ALL_DAYS,
            "mission_capable": 0.7,
            "holding_h": 0.5,
            "active_from": dt.date(2016, 1, 20),
            "targets": ["pad", "pad2", "runway"],
            "loss_per_sortie": 0.01,
        },
        "shuttle": {
            "mode": "helicopter",
            "aircraft": 1,
            "payload_t": 2.0,
            "cargo": {"food": 1.0},
            "flight_h": 0.5,
            "ground_h": 0.5,
            "depart_h": 22.0,
            "sorties_per_day": 2.0,
            "targets": ["pad"],
            "origin": "base",
            "loss_per_sortie": 0.01,
        },
    },
    "weather": {"unflyable_share": 0.1, "mean_spell_days": 2.0},
    "siege": {
        "weapons": 300.0,
        "reference_weapons": 300.0,
        "combat_sorties_per_day": 10.0,
        "targets_per_sortie": 0.3,
        "reinforcement_per_day": 2.0,
        "effects": {"airfield_closure_per_day": 0.05, "closure_mean_days": 2.5},
    },
    "events": [
        {"date": dt.date(2016, 2, 1), "title": "Road cut", "set": {"routes.road.open": False}},
        {
            "date": dt.date(2016, 2, 10),
            "title": "Third Il-76",
            "set": {"fleets.il76.aircraft": 2, "fleets.il76.payload_t": 5.0},
        },
        {
            "date": dt.date(2016, 2, 20),
            "title": "DZ overrun, new DZ",
            "set": {"drop_zones.dz.open": False, "drop_zones.dz2.open": True},
        },
        {
            "date": dt.date(2016, 3, 1),
            "title": "Food stores burnt, second DZ lost",
            "set": {
                "pockets.city.stock_t.food": 0.0,
                "pockets.base.stock_t.food": 0.0,
                "pockets.city.civilians": 15000,
                "pockets.base.civilians": 12000,
                "routes.supply.open": False,
                "drop_zones.dz2.open": False,
            },
        },
        {
            "date": dt.date(2016, 3, 10),
            "title": "Helicopters cut back, transports moved north",
            "set": {
                "fleets.helo.aircraft": 1,
                "siege.weapons": 600.0,
                "fleets.an26.base": "north",
            },
        },
        {
            "date": dt.date(2016, 3, 15),
            "title": "Helicopters restored",
            "set": {"fleets.helo.aircraft": 2, "fleets.il76.aircraft": 2},
        },
        {
            "date": dt.date(2016, 3, 20),
            "title": "Road and DZ retaken, rainy season",
            "set": {
                "routes.road.open": True,
                "drop_zones.dz.open": True,
                "weather.unflyable_share": 0.3,
                "siege.combat_sorties_per_day": 40.0,
            },
        },
        {
            "date": dt.date(2016, 4, 5),
            "title": "Runway shut",
            "set": {"airfields.runway.open": False, "commodities.food.civilian_kg_day": 0.4},
        },
    ],
}
"""The checksum scenario (plain data; validated by :func:`scenario`)."""

REPLICATIONS = 3

PINNED: dict[str, str] = {
    "stochastic": "2fe5918b6b629eb18bb940b70568c4d6fd01f193768e98bc9c309bfd4dcfe96a",
    "deterministic": "0e4ff5387695e1963ab4f9c98fdeb5fb9a56d42061d31cb4a1d0361d4058382e",
}
"""sha256 digests of the runs below; see the module docstring to update them."""

PINNED_EVENTS: dict[str, list[int]] = {"stochastic": [1976, 2052, 2174], "deterministic": [3885]}
"""``sim_events`` of the same runs, as counted when the aircraft were SimPy processes:
the driver (:mod:`sim.model.drive`) must schedule their wakes as those processes did."""


def scenario() -> Scenario:
    """The checksum scenario, validated."""
    return Scenario.model_validate(copy.deepcopy(SCENARIO))


def digest_result(h: Any, r: RunResult) -> None:
    """Feed everything a replication produced (except the SimPy event count) into ``h``."""
    h.update(struct.pack("<qqq", r.replication, r.seed, r.n_days))
    for name in sorted(r.series):
        arr = r.series[name]
        h.update(name.encode())
        h.update(str(arr.dtype).encode())
        h.update(arr.tobytes())
    for name in sorted(r.counters):
        h.update(name.encode())
        h.update(struct.pack("<d", float(r.counters[name])))
    for key in sorted(r.balance):
        h.update("/".join(key).encode())
        for term in sorted(r.balance[key]):
            h.update(term.encode())
            h.update(struct.pack("<d", r.balance[key][term]))
    for day, title in r.events:
        h.update(struct.pack("<q", day))
        h.update(title.encode())


def results() -> dict[str, list[RunResult]]:
    """:data:`REPLICATIONS` stochastic replications and the deterministic limit."""
    base = scenario()
    return {
        "stochastic": [run_replication(base, r) for r in range(REPLICATIONS)],
        "deterministic": [run_replication(with_values(base, {"stochastic": False}), 0)],
    }


def digests(runs: dict[str, list[RunResult]] | None = None) -> dict[str, str]:
    """The digest of each label's runs (of :func:`results` unless given)."""
    out = {}
    for label, rs in (results() if runs is None else runs).items():
        h = hashlib.sha256()
        for r in rs:
            digest_result(h, r)
        out[label] = h.hexdigest()
    return out


@pytest.fixture(scope="module")
def runs() -> dict[str, list[RunResult]]:
    return results()


@pytest.fixture(scope="module")
def computed(runs: dict[str, list[RunResult]]) -> dict[str, str]:
    return digests(runs)


@pytest.mark.parametrize("label", sorted(PINNED))
def test_fixed_seed_results_are_pinned(computed: dict[str, str], label: str) -> None:
    assert computed[label] == PINNED[label], (
        f"{label} results changed; if intended, update PINNED (see the module docstring)"
    )


@pytest.mark.parametrize("label", sorted(PINNED_EVENTS))
def test_the_aircraft_are_woken_as_simpy_processes_were(
    runs: dict[str, list[RunResult]], label: str
) -> None:
    assert [r.sim_events for r in runs[label]] == PINNED_EVENTS[label]


def test_scenario_exercises_every_mechanism() -> None:
    """Guard against the checksum silently covering less than it claims."""
    r = run_replication(scenario(), 0)
    s, c = r.series, r.counters
    assert s["sorties_flown__il76"].sum() > 0 and s["dropped_t__il76"].sum() > 0
    assert s["deliveries__an26"].sum() > 0 and s["deliveries__helo"].sum() > 0
    assert s["deliveries__shuttle"].sum() > 0 and s["transferred_t__shuttle"].sum() > 0
    assert c["interdicted_t__road"] > 0
    assert s["closed__pad"].sum() > 0 and s["flyable"].min() == 0.0
    assert s["flyable__north"].min() == 0.0 and s["degraded__north"].max() == 1.0
    assert s["shortfall_t__city__food"].sum() > 0 and s["shortfall_t__base__food"].sum() > 0
    assert c["aborted_no_target__il76"] > 0 and s["aircraft_lost__shuttle"].sum() > 0
    assert c["aborted_not_mc__helo"] > 0 and c["aborted_weather__helo"] > 0
    assert s["in_transit_t__road"].max() > 0 and s["transfer_t__supply"].sum() != 0
    assert s["turnarounds__hub"].sum() > 0 and s["queue_h__hub"].sum() > 0
    assert s["turnarounds__north"].sum() > 0
    assert s["landings__pad2"].sum() > 0  # spill-over from the congested pad
    assert s["queue_h__pad"].sum() > 0 and s["queue_h__runway"].sum() > 0
    assert s["drops__dz"].sum() > 0 and s["transferred_in_t__city"].sum() > 0
    assert s["flying_h__an26"].sum() > 0 and np.nanmax(s["utilisation__an26"]) <= 24.0


if __name__ == "__main__":
    computed_runs = results()
    for label, value in digests(computed_runs).items():
        print(f'    "{label}": "{value}",')
    print({label: [r.sim_events for r in rs] for label, rs in computed_runs.items()})
