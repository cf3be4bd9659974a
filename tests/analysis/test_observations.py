"""Observation values per replication, and the model-vs-record table."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from sim.analysis.observations import (
    TABLE_COLUMNS,
    observation_table,
    observation_value,
    selected_fleets,
    within_tolerance,
)
from sim.scenario.schema import Observation


def obs(metric: str, frm: str = "2020-01-01", to: str = "2020-01-10", **kw) -> Observation:
    data = {
        "id": "x",
        "metric": metric,
        "from": dt.date.fromisoformat(frm),
        "to": dt.date.fromisoformat(to),
        "value": 1.0,
        "source": "test",
        **kw,
    }
    return Observation.model_validate(data)


RAMP = np.arange(10, dtype=float)  # 0, 1, ..., 9 on days 0..9


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ({}, 2 * 45.0),
        ({"fleets": ["drops"]}, 45.0),
        ({"mode": "land"}, 45.0),
        ({"mode": "helicopter"}, 0.0),
        ({"pocket": "city"}, 45.0),  # only drops deliver to the city
        ({"commodity": "ammo"}, 0.5 * 45.0),  # planes carry half ammo
        ({"commodity": "food"}, 45.0 + 0.5 * 45.0),
    ],
)
def test_delivered_selectors(fake_scenario, make_result, selector, expected):
    series = {}
    for f in fake_scenario.fleets:
        series[f"delivered_t__{f}"] = RAMP
    series["delivered_t__drops__city"] = RAMP
    series["delivered_t__planes__base"] = RAMP
    series["delivered_t__planes__city"] = np.zeros(10)
    r = make_result(fake_scenario, **series)
    o = obs("delivered_t", selector=selector)
    assert observation_value(fake_scenario, r, o) == pytest.approx(expected)


def test_window_is_inclusive(fake_scenario, make_result):
    r = make_result(fake_scenario, **{"delivered_t__drops": RAMP})
    o = obs("delivered_t", "2020-01-03", "2020-01-05", selector={"fleets": ["drops"]})
    assert observation_value(fake_scenario, r, o) == 2 + 3 + 4


def test_cargo_share_follows_the_timeline(make_result, fake_scenario_factory):
    scn = fake_scenario_factory(
        events=[
            {
                "date": dt.date(2020, 1, 6),
                "title": "Ammo only",
                "set": {"fleets.planes.cargo": {"ammo": 1.0}},
            },
        ]
    )
    r = make_result(scn, **{"delivered_t__planes": np.ones(10)})
    o = obs("delivered_t", selector={"fleets": ["planes"], "commodity": "ammo"})
    # days 0-4 half ammo, days 5-9 all ammo
    assert observation_value(scn, r, o) == pytest.approx(5 * 0.5 + 5 * 1.0)


def test_dropped(fake_scenario, make_result):
    r = make_result(fake_scenario)
    assert observation_value(fake_scenario, r, obs("dropped_t")) == 125.0  # 12.5 t × 10 days
    o = obs("dropped_t", selector={"mode": "land"})
    assert observation_value(fake_scenario, r, o) == 0.0


def test_pallets_dropped_count_the_airdrop_fleets_only(fake_scenario, make_result):
    r = make_result(fake_scenario)
    assert observation_value(fake_scenario, r, obs("pallets_dropped")) == 160.0  # 16 × 10 days
    o = obs("pallets_dropped", "2020-01-03", "2020-01-04", selector={"fleets": ["drops"]})
    assert observation_value(fake_scenario, r, o) == 32.0
    o = obs("pallets_dropped", selector={"mode": "land"})  # no pallets series: 0, not an error
    assert observation_value(fake_scenario, r, o) == 0.0


def test_sortie_counts(fake_scenario, make_result):
    r = make_result(fake_scenario, **{"aircraft_lost__planes": [0, 0, 1, 0, 0, 0, 0, 0, 0, 1]})
    assert observation_value(fake_scenario, r, obs("sorties_flown")) == 40.0
    assert (
        observation_value(fake_scenario, r, obs("deliveries", selector={"fleets": ["drops"]}))
        == 20.0
    )
    assert observation_value(fake_scenario, r, obs("aircraft_lost", to="2020-01-05")) == 1.0
    # a pocket counts the sorties that went there (planes' first target is in base)
    o = obs("sorties_flown", selector={"pocket": "base"})
    assert selected_fleets(fake_scenario, o) == ["drops", "planes"]
    assert observation_value(fake_scenario, r, o) == 20.0


@pytest.mark.parametrize(
    "metric", ["sorties_flown", "deliveries", "aircraft_lost", "dropped_t", "pallets_dropped"]
)
def test_the_pocket_selector_counts_only_what_went_to_that_pocket(
    fake_scenario_factory, make_result, metric
):
    """Issue 10: a fleet flying to two pockets; the selector must not return its total."""
    scn = fake_scenario_factory(
        drop_zones={
            "dz": {"pocket": "city", "recovery": 0.8},
            "dz2": {"pocket": "base", "recovery": 1.0},
        }
    )
    fleets = scn.fleets["drops"].model_copy(update={"targets": ["dz", "dz2"]})
    scn = scn.model_copy(update={"fleets": {**scn.fleets, "drops": fleets}})
    total = np.full(10, 4.0)
    r = make_result(
        scn,
        **{
            f"{metric}__drops": total,
            f"{metric}__drops__city": np.full(10, 3.0),
            f"{metric}__drops__base": np.full(10, 1.0),
        },
    )
    sel = {"fleets": ["drops"]}
    assert observation_value(scn, r, obs(metric, selector=sel)) == 40.0
    assert observation_value(scn, r, obs(metric, selector={**sel, "pocket": "base"})) == 10.0
    assert observation_value(scn, r, obs(metric, selector={**sel, "pocket": "city"})) == 30.0


def test_a_commodity_list_counts_their_sum(fake_scenario_factory, make_result):
    scn = fake_scenario_factory(
        commodities={
            "food": {"civilian_kg_day": 0.5, "soldier_kg_day": 1.0},
            "medical": {"civilian_kg_day": 0.0, "soldier_kg_day": 0.0, "rationed": False},
            "ammo": {"civilian_kg_day": 0.0, "soldier_kg_day": 2.0, "rationed": False},
        }
    )
    planes = scn.fleets["planes"].model_copy(
        update={"cargo": {"food": 0.85, "medical": 0.05, "ammo": 0.1}}
    )
    scn = scn.model_copy(update={"fleets": {**scn.fleets, "planes": planes}})
    r = make_result(scn)
    sel = {"fleets": ["planes"], "commodity": ["food", "medical"]}
    assert observation_value(scn, r, obs("delivered_t", selector=sel)) == pytest.approx(90.0)
    one = {"fleets": ["planes"], "commodity": "medical"}
    assert observation_value(scn, r, obs("delivered_t", selector=one)) == pytest.approx(5.0)


@pytest.mark.parametrize(
    ("how", "expected"),
    [("total", 45.0), ("mean_per_day", 4.5), ("max_day", 9.0), ("min_day", 0.0), ("day", 9.0)],
)
def test_aggregates_of_a_flow(fake_scenario, make_result, how, expected):
    r = make_result(fake_scenario, **{"delivered_t__drops": RAMP, "delivered_t__drops__city": RAMP})
    o = obs("delivered_t", selector={"fleets": ["drops"]}, aggregate=how)
    assert observation_value(fake_scenario, r, o) == expected


def test_a_one_day_figure_is_the_value_on_that_day(fake_scenario, make_result):
    r = make_result(fake_scenario, targets_destroyed=2 * RAMP)
    one_day = obs("targets_destroyed_per_day", frm="2020-01-04", to="2020-01-04", aggregate="day")
    assert observation_value(fake_scenario, r, one_day) == 6.0
    best = obs("targets_destroyed_per_day", aggregate="max_day")
    assert observation_value(fake_scenario, r, best) == 18.0
    assert observation_value(fake_scenario, r, obs("targets_destroyed_per_day")) == 9.0  # mean
    assert one_day.how == "day" and obs("targets_destroyed_per_day").how == "mean_per_day"


def test_daily_means(fake_scenario, make_result):
    r = make_result(fake_scenario, combat_sorties=RAMP, targets_destroyed=2 * RAMP)
    assert (
        observation_value(fake_scenario, r, obs("combat_sorties_per_day", to="2020-01-03")) == 1.0
    )
    assert (
        observation_value(fake_scenario, r, obs("targets_destroyed_per_day", to="2020-01-03"))
        == 2.0
    )


def test_pocket_metrics(fake_scenario, make_result):
    dos = RAMP.copy()
    dos[:5] = np.nan
    r = make_result(
        fake_scenario,
        **{
            "stock_t__city__food": RAMP,
            "days_of_supply__city__food": dos,
            "ration_level__city": [1, 1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5],
            "shortfall_t__city__food": np.ones(10),
            "shortfall_t__base__ammo": np.ones(10),
        },
    )
    sel = {"pocket": "city", "commodity": "food"}
    assert observation_value(fake_scenario, r, obs("stock_t", to="2020-01-04", selector=sel)) == 3.0
    assert observation_value(fake_scenario, r, obs("days_of_supply", selector=sel)) == 7.0
    assert math.isnan(
        observation_value(fake_scenario, r, obs("days_of_supply", to="2020-01-02", selector=sel))
    )
    assert (
        observation_value(fake_scenario, r, obs("ration_level", selector={"pocket": "city"}))
        == 0.75
    )
    assert observation_value(fake_scenario, r, obs("shortfall_t", selector=sel)) == 10.0
    assert observation_value(fake_scenario, r, obs("shortfall_t")) == 20.0
    assert (
        observation_value(fake_scenario, r, obs("shortfall_t", selector={"pocket": "base"})) == 10.0
    )


def test_within_tolerance_value_and_range():
    o = obs("delivered_t", value=100.0, tolerance=0.1)
    assert within_tolerance(o, 110.0)
    assert within_tolerance(o, 90.0)
    assert not within_tolerance(o, 110.5)
    o = obs("delivered_t", value=0.0, abs_tolerance=2.0, tolerance=0.1)
    assert within_tolerance(o, 2.0) and not within_tolerance(o, 2.1)
    o = Observation.model_validate(
        {
            "id": "r",
            "metric": "delivered_t",
            "from": "2020-01-01",
            "to": "2020-01-10",
            "range": [80.0, 120.0],
            "tolerance": 0.05,
            "source": "t",
        }
    )
    # slack = 5 % of the middle (100) = 5 at each end
    assert within_tolerance(o, 76.0) and within_tolerance(o, 125.0)
    assert not within_tolerance(o, 74.9) and not within_tolerance(o, 125.1)


def test_table(fake_scenario_factory):
    scn = fake_scenario_factory(
        observations=[
            {
                "id": "a",
                "metric": "delivered_t",
                "from": "2020-01-01",
                "to": "2020-01-10",
                "value": 100.0,
                "unit": "t",
                "source": "WFP",
            },
            {
                "id": "zero",
                "metric": "aircraft_lost",
                "from": "2020-01-01",
                "to": "2020-01-10",
                "value": 0.0,
                "abs_tolerance": 1.0,
                "unit": "aircraft",
                "source": "press",
            },
            {
                "id": "undefined",
                "metric": "days_of_supply",
                "selector": {"pocket": "city", "commodity": "food"},
                "from": "2020-01-01",
                "to": "2020-01-10",
                "value": 3.0,
                "source": "x",
            },
        ]
    )
    metrics = [
        {"obs__a": v, "obs__zero": z, "obs__undefined": math.nan}
        for v, z in zip(range(90, 111), [0] * 20 + [3], strict=True)
    ]
    rows = observation_table(scn, metrics)
    assert [list(r) for r in rows] == [list(TABLE_COLUMNS)] * 3
    a, zero, undefined = rows
    assert a["model_p50"] == 100.0
    assert a["model_p05"] == pytest.approx(91.0)
    assert a["model_p95"] == pytest.approx(109.0)
    assert a["rel_error"] == 0.0
    assert a["within_tolerance"] is True
    assert (a["from"], a["to"], a["source"], a["unit"]) == ("2020-01-01", "2020-01-10", "WFP", "t")
    assert math.isnan(zero["rel_error"])
    assert zero["within_tolerance"] is True
    assert math.isnan(undefined["model_p50"]) and undefined["within_tolerance"] is None
