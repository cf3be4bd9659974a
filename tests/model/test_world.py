"""A whole replication: mass balance over random scenarios, streams, reproducibility."""

from __future__ import annotations

import datetime as dt
import gc
import weakref

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from model_helpers import drop_fleet, scenario

from sim.model import world as world_mod
from sim.model.record import MassBalanceError, check_mass_balance
from sim.model.world import run_replication
from sim.scenario.schema import Scenario

share = st.floats(0.0, 1.0)
pos = st.floats(0.1, 50.0)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """Random valid scenarios: 1–3 pockets, routes, every fleet mode, shuttles, bases,
    weather zones, capacities, budgets, losses with replacement, with and without a
    siege, events that change fleets and shut a field."""
    n_pockets = draw(st.integers(1, 3))
    pockets = [f"p{i}" for i in range(n_pockets)]
    commodities = {
        "food": {
            "civilian_kg_day": draw(st.floats(0.0, 1.0)),
            "soldier_kg_day": draw(st.floats(0.0, 3.0)),
        },
        "ammo": {
            "civilian_kg_day": 0.0,
            "soldier_kg_day": draw(st.floats(0.0, 5.0)),
            "rationed": False,
            "threat_scaled": True,
        },
    }
    pk = {
        p: {
            "civilians": draw(st.integers(0, 5000)),
            "garrison": draw(st.integers(0, 500)),
            "stock_t": {"food": draw(st.floats(0, 200)), "ammo": draw(st.floats(0, 50))},
            "rations": draw(
                st.sampled_from(
                    [
                        {},
                        {"thresholds_days": [20.0, 5.0], "levels": [0.6, 0.3]},
                    ]
                )
            )
            | {"garrison_priority": draw(st.booleans())},
        }
        for p in pockets
    }
    zones = {"z": {"unflyable_share": draw(st.floats(0, 0.5)), "degraded_share": 0.2,
                   "degraded_landing_factor": 2.0}}  # fmt: skip
    zone = st.sampled_from([None, "z"])
    airfields = {
        f"af{i}": {
            "pocket": p,
            "slots": draw(st.integers(1, 3)),
            "runways": draw(st.integers(1, 2)),
            "landing_interval_min": draw(st.sampled_from([0.0, 10.0, 45.0])),
            "opens_h": draw(st.floats(0, 23.9)),
            "hours": draw(st.floats(1, 24)),
            "exposure": draw(st.floats(0, 2)),
            "ground_loss_per_hour": draw(st.sampled_from([0.0, 0.01])),
            "weather_zone": draw(zone),
            "lat": 35.0 + i * 0.1,
            "lon": 40.0,
        }
        for i, p in enumerate(pockets)
    }
    dzs = {
        f"dz{i}": {
            "pocket": p,
            "recovery": draw(share),
            "pallet_t": draw(st.floats(0.2, 2)),
            "passes_per_hour": draw(st.sampled_from([None, 0.5, 4.0])),
            "weather_zone": draw(zone),
            "lat": 35.0,
            "lon": 40.0 + i * 0.1,
        }
        for i, p in enumerate(pockets)
    }
    bases = {
        "home": {
            "lat": 34.0,
            "lon": 38.0,
            "loading_slots": draw(st.sampled_from([None, 1, 2])),
            "opens_h": draw(st.floats(0, 23.9)),
            "hours": draw(st.floats(2, 24)),
            "weather_zone": draw(zone),
        }
    }
    fleets = {}
    for i in range(draw(st.integers(0, 3))):
        mode = draw(st.sampled_from(["land", "airdrop", "helicopter"]))
        targets = list(dzs) if mode == "airdrop" else list(airfields)
        based = draw(st.booleans())
        fleets[f"f{i}"] = {
            "mode": mode,
            "aircraft": draw(st.integers(0, 4)),
            "payload_t": draw(pos),
            "cargo": {"food": 0.5, "ammo": 0.5},
            "base": "home" if based else None,
            "flight_h": None if based else draw(st.floats(0.2, 6)),
            "block_speed_kmh": 400.0,
            "ground_h": draw(st.floats(0, 3)),
            "base_h": draw(st.floats(0, 3)),
            "sorties_per_day": draw(st.sampled_from([None, 0.5, 1.0, 3.0])),
            "ute_h_day": draw(st.sampled_from([None, 4.0, 12.0])),
            "mission_capable": draw(share),
            "repair_days": draw(st.floats(0.2, 5.0)),
            "holding_h": draw(st.floats(0.0, 3.0)),
            "targets": draw(st.lists(st.sampled_from(targets), min_size=1, max_size=2)),
            "loss_per_sortie": draw(st.floats(0, 0.05)),
            "replacement_days": draw(st.sampled_from([None, 3.0])),
            "origin": draw(st.sampled_from([None, *pockets])),
        }
    routes = {}
    if n_pockets > 1:
        routes["r"] = {
            "a": pockets[0],
            "b": pockets[1],
            "capacity_t_day": draw(pos),
            "transit_days": draw(st.floats(0, 3)),
            "interdiction": draw(share),
        }
    events = [
        {
            "date": dt.date(2016, 2, 1),
            "title": "change",
            "set": {"siege.weapons": draw(st.floats(0, 300))},
        }
    ]
    if routes:
        events.append(
            {"date": dt.date(2016, 2, 10), "title": "cut", "set": {"routes.r.open": False}}
        )
    for f in fleets:
        events.append(
            {
                "date": dt.date(2016, 1, draw(st.integers(2, 28))),
                "title": f"{f} changes",
                "set": {f"fleets.{f}.aircraft": draw(st.integers(0, 4))},
            }
        )
    events.append(
        {"date": dt.date(2016, 2, 15), "title": "field shut", "set": {"airfields.af0.open": False}}
    )
    siege = {
        "weapons": draw(st.floats(0, 200)),
        "reference_weapons": 100.0,
        "reinforcement_per_day": draw(st.floats(0, 3)),
        "combat_sorties_per_day": draw(st.floats(0, 70)),
        "targets_per_sortie": draw(st.floats(0, 0.5)),
        "effects": {
            "airfield_closure_per_day": draw(st.floats(0, 0.3)),
            "closure_mean_days": draw(st.floats(1, 4)),
        },
    }
    return Scenario.model_validate(
        {
            "name": "prop",
            "seed": draw(st.integers(0, 2**32)),
            "stochastic": draw(st.booleans()),
            "calendar": {"start": dt.date(2016, 1, 1), "end": dt.date(2016, 3, 1)},
            "commodities": commodities,
            "pockets": pk,
            "airfields": airfields,
            "drop_zones": dzs,
            "fleets": fleets,
            "routes": routes,
            "weather": {
                "unflyable_share": draw(st.floats(0, 0.5)),
                "mean_spell_days": draw(st.floats(1, 5)),
            },
            "weather_zones": zones,
            "bases": bases,
            "siege": draw(st.sampled_from([None, siege])),
            "events": events,
        }
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_mass_balance_holds_for_random_scenarios(s: Scenario) -> None:
    """Every tonne accounted for: pockets, air cargo (lost with aircraft, not recovered,
    flown home, diverted), shuttles and convoys (the ledger raises on any leak)."""
    r = run_replication(s, 0)  # raises MassBalanceError on any leak
    c = r.counters
    assert c["air_sent_t"] == pytest.approx(
        c["air_arrived_t"] + c["air_under_way_t"] + c["air_lost_in_flight_t"]
        + c["air_not_recovered_t"] + c["air_returned_t"], abs=1e-6
    )  # fmt: skip
    assert c["air_diverted_t"] <= c["air_arrived_t"] + 1e-9
    for (p, c), t in r.balance.items():
        assert t["final"] >= 0.0
        assert r.series[f"stock_t__{p}__{c}"][-1] == t["final"]
        assert t["consumed"] == pytest.approx(r.series[f"consumed_t__{p}__{c}"].sum(), abs=1e-6)
    for name, arr in r.series.items():
        assert arr.shape == (s.calendar.n_days,), name


def test_mass_balance_violation_is_an_error() -> None:
    bad = {
        ("city", "food"): {
            "initial": 10.0,
            "delivered": 5.0,
            "transferred_in": 0.0,
            "consumed": 3.0,
            "transferred_out": 0.0,
            "lost": 0.0,
            "final": 12.5,
        }
    }
    with pytest.raises(MassBalanceError, match="city/food"):
        check_mass_balance(bad)


def test_a_leak_in_the_model_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    original = world_mod.Pocket.consume

    def leaky(self, ammunition, out):  # eats without booking it
        before = list(self.consumed)
        original(self, ammunition, out)
        self.consumed[:] = before

    monkeypatch.setattr(world_mod.Pocket, "consume", leaky)
    with pytest.raises(MassBalanceError):
        run_replication(scenario(), 0)


def test_an_aircraft_cycle_that_fails_stops_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """The driver resumes the cycles itself: an error raised in a cycle ends the run
    at once, as raised, its traceback leading to where it was raised."""

    def broken(self, ac):
        raise ZeroDivisionError("a bug in the cycle")

    monkeypatch.setattr(world_mod.Fleet, "take_off", broken)
    with pytest.raises(ZeroDivisionError, match="a bug in the cycle") as err:
        run_replication(_stochastic(), 0)
    assert err.traceback[-1].name == "broken"
    assert any(entry.name == "fly" for entry in err.traceback)


def _stochastic() -> Scenario:
    return scenario(
        drop_zones={"dz": {"pocket": "city", "recovery": 0.7}},
        fleets={"f": drop_fleet(mission_capable=0.8, aircraft=2)},
        weather={"unflyable_share": 0.2, "mean_spell_days": 2},
        siege={"weapons": 50, "combat_sorties_per_day": 20, "targets_per_sortie": 0.1},
    )


def test_same_seed_same_result_different_seed_different() -> None:
    s = _stochastic()
    a, b, c = run_replication(s, 0, 11), run_replication(s, 0, 11), run_replication(s, 0, 12)
    for k in a.series:
        np.testing.assert_array_equal(a.series[k], b.series[k])
    assert any(not np.array_equal(a.series[k], c.series[k]) for k in a.series)
    d = run_replication(s, 1, 11)
    assert not np.array_equal(a.series["delivered_t__f"], d.series["delivered_t__f"])


def test_streams_are_named_so_adding_a_fleet_does_not_reshuffle_the_weather() -> None:
    s = _stochastic()
    data = s.model_dump(by_alias=True)
    data["airfields"] = {"strip": {"pocket": "city"}}
    data["fleets"]["extra"] = {
        "mode": "land",
        "aircraft": 3,
        "payload_t": 5.0,
        "cargo": {"food": 1.0},
        "flight_h": 1.0,
        "mission_capable": 0.5,
        "targets": ["strip"],
    }
    bigger = Scenario.model_validate(data)
    a, b = run_replication(s, 0, 5), run_replication(bigger, 0, 5)
    for k in (
        "flyable",
        "combat_sorties",
        "besieger_weapons",
        "sorties_flown__f",
        "delivered_t__f",
    ):
        np.testing.assert_array_equal(a.series[k], b.series[k])


def test_events_are_recorded_with_their_day() -> None:
    s = scenario(
        events=[
            {"date": "2016-01-14", "title": "Ten days in", "set": {"pockets.city.civilians": 10}}
        ]
    )
    r = run_replication(s, 0)
    assert r.events == [(10, "Ten days in")]
    assert r.series["civilians__city"][9] == 1000 and r.series["civilians__city"][10] == 10


def test_event_sets_a_stock_level() -> None:
    s = scenario(
        events=[
            {
                "date": "2016-01-14",
                "title": "Relief convoy",
                "set": {"pockets.city.stock_t.food": 5000.0},
            }
        ]
    )
    r = run_replication(s, 0)
    assert r.series["stock_t__city__food"][10] == pytest.approx(5000.0 - 0.5)
    assert r.balance[("city", "food")]["delivered"] == pytest.approx(5000.0 - (1000 - 10 * 0.5))


def test_a_finished_world_is_freed_at_once() -> None:
    """No reference cycle holds a finished world (its record is large): sweeps stay flat.

    (SimPy's Environment is a small reference cycle of its own; it is emptied at the end.)
    """
    s = scenario(
        drop_zones={"dz": {"pocket": "city", "recovery": 0.9}},
        fleets={"f": drop_fleet(aircraft=3, mission_capable=0.8, sorties_per_day=1.0)},
        routes={},
    )
    gc.disable()
    try:
        world = world_mod.World(s, 0, 1)
        world.run()
        ref = weakref.ref(world)
        assert len(world.env._queue) == 0
        del world
        assert ref() is None
    finally:
        gc.enable()


def test_a_pocket_emptied_then_filled_by_events_eats_only_while_it_has_people() -> None:
    """The world skips consume() for an idle pocket: its zeros and NaN ratios must come
    from the event that emptied it, and eating must resume with the event that fills it."""
    s = scenario(
        pockets={
            "city": {
                "civilians": 1000,
                "stock_t": {"food": 1000.0},
                "rations": {"thresholds_days": [10.0], "levels": [0.5]},
            }
        },
        events=[
            {"date": dt.date(2016, 1, 14), "title": "gone", "set": {"pockets.city.civilians": 0}},
            {"date": dt.date(2016, 1, 24), "title": "back", "set": {"pockets.city.civilians": 500}},
        ],
    )
    r = run_replication(s, 0)
    eaten, ratio = r.series["consumed_t__city__food"], r.series["civilian_ration__city"]
    assert (eaten[:10] > 0).all() and (eaten[10:20] == 0).all() and (eaten[20:] > 0).all()
    assert not np.isnan(ratio[:10]).any() and np.isnan(ratio[10:20]).all()
    assert not np.isnan(ratio[20:]).any()
