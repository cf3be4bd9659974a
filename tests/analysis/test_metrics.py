"""Per-replication metrics on hand-built RunResults with known answers."""

from __future__ import annotations

import math
import pickle
import sys

import numpy as np
import pytest
from model_helpers import drop_fleet, scenario  # tests/model is on pytest's pythonpath

from sim.analysis.metrics import (
    MetricRow,
    MetricRows,
    first_stockout_day,
    is_never_metric,
    person_days_below,
    replication_metrics,
)
from sim.model.world import run_replication


def test_names_and_order_are_the_contract(fake_scenario, make_result):
    m = replication_metrics(fake_scenario, make_result(fake_scenario))
    keys = list(m)
    assert keys[:3] == ["delivered_t", "delivered_t__drops", "delivered_t__planes"]
    expected_some = [
        "received_t__city",
        "received_t__base",
        "sorties_flown__drops",
        "sorties_aborted__planes",
        "deliveries__drops",
        "aircraft_lost__drops",
        "aircraft_lost__planes",
        "aircraft_lost",
        "first_stockout_day__city__food",
        "first_stockout_day__base__ammo",
        "stockout__city__food",
        "person_days_below_full__city",
        "person_days_below_half__base",
        "person_days_below_full",
        "person_days_below_half",
        "min_days_of_supply__city__food",
        "shortfall_t__base__ammo",
        "combat_sorties_per_day",
        "targets_destroyed",
        "obs__drops_total",
    ]
    for k in expected_some:
        assert k in m, k
    assert keys[-1] == "obs__drops_total"
    assert keys.index("aircraft_lost") > keys.index("aircraft_lost__planes")
    # deterministic: the same input gives the same keys and values
    again = replication_metrics(fake_scenario, make_result(fake_scenario))
    assert list(again) == keys
    np.testing.assert_array_equal(list(again.values()), list(m.values()))


def test_totals(fake_scenario, make_result):
    r = make_result(fake_scenario, **{"aircraft_lost__planes": [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]})
    m = replication_metrics(fake_scenario, r)
    assert m["delivered_t__drops"] == 100.0
    assert m["delivered_t"] == 200.0
    assert m["received_t__city"] == 100.0
    assert m["received_t__base"] == 100.0
    assert m["sorties_flown__planes"] == 20.0
    assert m["sorties_aborted__drops"] == 10.0
    assert m["aircraft_lost__planes"] == 2.0
    assert m["aircraft_lost"] == 2.0
    assert m["combat_sorties_per_day"] == 3.0
    assert m["targets_destroyed"] == 10.0
    assert m["obs__drops_total"] == 100.0


def test_first_stockout_needs_demand(fake_scenario, make_result):
    stock = [5, 4, 3, 0.5, 0, 0, 2, 0, 0, 0]
    dos = [5, 4, 3, 0.5, 0, 0, 2, 0, 0, 0]
    r = make_result(
        fake_scenario,
        **{
            "stock_t__city__food": stock,
            "days_of_supply__city__food": dos,
            # no demand (NaN days of supply): no stock-out
            "stock_t__city__ammo": np.zeros(10),
            "days_of_supply__city__ammo": np.full(10, np.nan),
            # demand and nothing in stock: out on day 0
            "stock_t__base__ammo": np.zeros(10),
            "days_of_supply__base__ammo": np.zeros(10),
        },
    )
    m = replication_metrics(fake_scenario, r)
    assert m["first_stockout_day__city__food"] == 4.0
    assert m["stockout__city__food"] == 1.0
    assert math.isnan(m["first_stockout_day__city__ammo"])
    assert m["stockout__city__ammo"] == 0.0
    assert m["first_stockout_day__base__ammo"] == 0.0
    assert math.isnan(m["first_stockout_day__base__food"])
    assert m["stockout__base__food"] == 0.0
    assert m["min_days_of_supply__city__food"] == 0.0
    assert math.isnan(m["min_days_of_supply__city__ammo"])


def test_first_stockout_threshold():
    assert first_stockout_day(np.array([1.0, 2e-6, 5e-7]), np.array([1.0, 1.0, 0.0])) == 2.0
    assert math.isnan(first_stockout_day(np.array([1.0, 2e-6]), np.array([1.0, 1.0])))


def test_person_days_below(fake_scenario, make_result):
    civ_r = [1, 1, 0.75, 0.75, 0.5, 0.49, 1, 1, 1, 1]
    gar_r = [1, 1, 1, 1, 1, 0.4, 0.4, 1, 1, 1 - 1e-12]
    r = make_result(
        fake_scenario, **{"civilian_ration__city": civ_r, "garrison_ration__city": gar_r}
    )
    m = replication_metrics(fake_scenario, r)
    # below full: civilians on days 2,3,4,5 (4 × 1000); garrison days 5,6 (2 × 100)
    assert m["person_days_below_full__city"] == 4 * 1000 + 2 * 100
    # below half: civilians day 5 only (0.5 is not below half); garrison days 5, 6
    assert m["person_days_below_half__city"] == 1000 + 2 * 100
    # base has no civilians (NaN ration counts as fine), garrison on full rations
    assert m["person_days_below_full__base"] == 0.0
    assert m["person_days_below_full"] == 4200.0
    assert m["person_days_below_half"] == 1200.0


def test_person_days_below_changing_headcount():
    civ = np.array([100.0, 80.0, 60.0])
    assert (
        person_days_below(
            civ, np.array([0.4, 0.4, 1.0]), np.zeros(3), np.full(3, np.nan), level=0.5
        )
        == 180.0
    )


def test_shortfall_sum(fake_scenario, make_result):
    r = make_result(
        fake_scenario, **{"shortfall_t__city__food": [0, 0, 1.5, 2.5, 0, 0, 0, 0, 0, 1]}
    )
    assert replication_metrics(fake_scenario, r)["shortfall_t__city__food"] == 5.0


def test_never_metrics():
    assert is_never_metric("first_stockout_day__city__food")
    assert not is_never_metric("min_days_of_supply__city__food")


def test_shuttle_tonnage_is_a_transfer_not_a_delivery() -> None:
    """Issue 10: delivered_t double-counted what a shuttle carried between pockets."""
    s = scenario(
        stochastic=False,
        pockets={
            "city": {"civilians": 1000, "stock_t": {"food": 500.0}},
            "base": {"civilians": 100, "stock_t": {"food": 10.0}},
        },
        drop_zones={"dz": {"pocket": "city", "recovery": 1.0}},
        helipads={"pad": {"pocket": "base"}},
        fleets={
            "il76": drop_fleet(sorties_per_day=0.5),
            "heli": {
                "mode": "helicopter",
                "aircraft": 1,
                "payload_t": 2.0,
                "cargo": {"food": 1.0},
                "flight_h": 0.5,
                "ground_h": 0.5,
                "targets": ["pad"],
                "origin": "city",
                "sorties_per_day": 1.0,
            },
        },
    )
    r = run_replication(s, 0)
    m = replication_metrics(s, r)
    assert m["transferred_t"] == m["transferred_t__heli"] > 100.0
    assert m["delivered_t__heli"] == 0.0
    assert m["delivered_t"] == m["delivered_t__il76"]
    assert m["delivered_t"] == pytest.approx(m["received_t__city"] + m["received_t__base"])
    assert m["transferred_in_t__base"] == pytest.approx(m["transferred_t"])
    assert "transferred_t__il76" not in m


def test_a_metric_row_reads_back_the_dict_it_was_made_of_bit_for_bit() -> None:
    """Issue 8: a run keeps its replications' metrics as compact rows; they must read
    exactly as the dicts they replace (same order, same floats, NaN and -0.0 kept)."""
    m = {"b": 1.5, "a": math.nan, "c": -0.0, "d": 1e-310, "e": math.inf}
    row = MetricRows()(m)
    assert isinstance(row, MetricRow)
    assert list(row) == list(m) and len(row) == len(m)
    assert [math.copysign(1, v) for v in row.values()] == [math.copysign(1, v) for v in m.values()]
    for k, v in m.items():
        got = row[k]
        assert type(got) is float
        assert got == v or (math.isnan(got) and math.isnan(v))
    assert "a" in row and "z" not in row and row.get("z", 7.0) == 7.0
    assert dict(pickle.loads(pickle.dumps(row))).keys() == m.keys()
    with pytest.raises(KeyError):
        row["z"]


def test_rows_of_one_run_share_their_names_and_other_values_stay_dicts() -> None:
    compact = MetricRows()
    first, second = compact({"x": 1.0, "y": 2.0}), compact({"x": 3.0, "y": 4.0})
    assert first == {"x": 1.0, "y": 2.0} and second == {"x": 3.0, "y": 4.0}
    assert first._index is second._index  # one index for the run
    other = compact({"y": 5.0, "x": 6.0})  # another order: an index of its own
    assert list(other) == ["y", "x"] and other._index is not first._index
    mixed = {"x": 1.0, "n": 3}  # an int would come back a float: kept as it is
    assert compact(mixed) is mixed


def test_a_rows_memory_is_a_fraction_of_the_dicts() -> None:
    """The baseline's 112 metrics took about 16 kB a replication as dicts; a row holds
    an array of doubles and shares its names."""
    m = {f"metric_{i}__pocket__commodity": float(i) for i in range(112)}
    compact = MetricRows()
    compact(m)
    row = compact(dict(m))
    assert isinstance(row, MetricRow)
    as_dict = sys.getsizeof(m) + sum(sys.getsizeof(v) + sys.getsizeof(k) for k, v in m.items())
    as_row = sys.getsizeof(row) + sys.getsizeof(row._values)
    assert as_row < 1100 and as_row * 8 < as_dict
