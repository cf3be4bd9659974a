"""Result files: columns exactly as the contract, deterministic bytes, round trips."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.analysis.observations import TABLE_COLUMNS
from sim.conventions import fmt
from sim.output import files


def test_daily_csv_columns_and_round_trip(tmp_path):
    pct = {
        "stock_t__city__food": np.array([[1.0, 2.0], [1.5, 2.5], [2.0, 3.0]]),
        "besieger_weapons": np.array([[10.0, 11.0], [10.0, 11.0], [10.0, 11.0]]),
        "days_of_supply__city__ammo": np.full((3, 2), np.nan),
    }
    path = tmp_path / "daily.csv"
    files.write_daily_csv(path, dt.date(2016, 2, 28), pct)
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == [
        "date",
        "besieger_weapons_p05",
        "besieger_weapons_p50",
        "besieger_weapons_p95",
        "days_of_supply__city__ammo_p05",
        "days_of_supply__city__ammo_p50",
        "days_of_supply__city__ammo_p95",
        "stock_t__city__food_p05",
        "stock_t__city__food_p50",
        "stock_t__city__food_p95",
    ]
    assert rows[1] == ["2016-02-28", "10", "10", "10", "", "", "", "1", "1.5", "2"]
    assert rows[2][0] == "2016-02-29"
    dates, back = files.read_daily_csv(path)
    assert dates == [dt.date(2016, 2, 28), dt.date(2016, 2, 29)]
    assert sorted(back) == sorted(pct)
    for k in pct:
        np.testing.assert_array_equal(back[k], pct[k])
    # the same input gives the same bytes
    first = path.read_bytes()
    files.write_daily_csv(path, dt.date(2016, 2, 28), dict(reversed(list(pct.items()))))
    assert path.read_bytes() == first


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=3, max_size=3),
        min_size=1,
        max_size=4,
    )
)
def test_number_lines_write_what_fmt_writes(rows):
    """The row-at-a-time formatting of daily.csv gives fmt's cells, byte for byte
    (NaN empty, no -0, ten significant digits, inf as inf)."""
    table = np.array(rows, dtype=float)
    expected = [",".join(fmt(float(v)) for v in row) for row in table]
    assert list(files.number_lines(table)) == expected


def test_replications_csv(tmp_path):
    path = tmp_path / "replications.csv"
    metrics = [
        {"delivered_t": 1.5, "first_stockout_day__c__f": math.nan},
        {"delivered_t": 2.0, "first_stockout_day__c__f": 4.0},
    ]
    files.write_replications_csv(path, [0, 1], [9, 9], metrics)
    text = path.read_text()
    assert text == ("replication,seed,delivered_t,first_stockout_day__c__f\n0,9,1.5,\n1,9,2,4\n")
    back = files.read_replications_csv(path)
    assert back[1] == {
        "replication": 1.0,
        "seed": 9.0,
        "delivered_t": 2.0,
        "first_stockout_day__c__f": 4.0,
    }
    assert math.isnan(back[0]["first_stockout_day__c__f"])


def test_summary_json_nulls(tmp_path):
    path = tmp_path / "summary.json"
    files.write_summary_json(path, {"x": {"mean": math.nan, "p05": np.float64(1.0), "n": 3}})
    assert json.loads(path.read_text()) == {"x": {"mean": None, "p05": 1.0, "n": 3}}


def test_observations_csv(tmp_path):
    row = {
        "id": "a",
        "metric": "delivered_t",
        "aggregate": "total",
        "from": "2016-01-01",
        "to": "2016-02-01",
        "observed": 2060.0,
        "unit": "t",
        "model_p05": 1900.0,
        "model_p50": 2000.0,
        "model_p95": 2100.5,
        "rel_error": -60 / 2060,
        "within_tolerance": True,
        "source": "WFP, 2016",
        "role": "validation",
    }
    path = tmp_path / "observations.csv"
    files.write_observations_csv(
        path, [row, {**row, "id": "b", "rel_error": math.nan, "within_tolerance": None}]
    )
    lines = path.read_text().splitlines()
    assert lines[0] == ",".join(TABLE_COLUMNS)
    assert lines[0] == (
        "id,metric,from,to,observed,unit,model_p05,model_p50,model_p95,"
        "rel_error,within_tolerance,source,aggregate,role"
    )
    assert lines[1] == (
        "a,delivered_t,2016-01-01,2016-02-01,2060,t,1900,2000,2100.5,"
        '-0.02912621359,true,"WFP, 2016",total,validation'
    )
    back = files.read_observations_csv(path)
    assert back[0]["within_tolerance"] is True and back[1]["within_tolerance"] is None
    assert back[0]["model_p95"] == 2100.5 and math.isnan(back[1]["rel_error"])
    assert back[0]["role"] == "validation"
