"""The files and the console table of a comparison folder, from hand-built pairs."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from sim.analysis.paired import paired_difference
from sim.experiment.compare import COLUMNS, OptionResult, comparison_rows
from sim.output.comparison import (
    format_comparison,
    read_comparison_csv,
    read_daily_diff_csv,
    write_comparison_csv,
    write_daily_diff_csv,
)


def options() -> list[OptionResult]:
    band = np.array([[-1.0, 0.0, 2.5], [0.0, 1.0, 3.0], [1.0, 2.0, np.nan]])
    return [
        OptionResult(
            "more",
            {
                "delivered_t": paired_difference([10.0, 12.0, 11.0], [15.0, 16.0, 16.5]),
                "aircraft_lost": paired_difference([0.0, 1.0, 0.0], [0.0, 1.0, 0.0]),
                "obs__x": paired_difference([1.0, 2.0, 3.0], [2.0, 3.0, 4.0]),
            },
            {"days_of_supply__town__food": band},
        ),
        OptionResult(
            "less",
            {"delivered_t": paired_difference([10.0, 12.0, 11.0], [9.0, 12.5, 10.0])},
            {"stock_t__town__food": band * 10},
        ),
    ]


def test_comparison_csv_round_trip(tmp_path):
    rows = comparison_rows("ref", options())
    write_comparison_csv(tmp_path / "c.csv", rows)
    text = (tmp_path / "c.csv").read_text()
    assert text.splitlines()[0] == ",".join(COLUMNS)
    back = read_comparison_csv(tmp_path / "c.csv")
    assert [(r["scenario"], r["metric"]) for r in back] == [
        ("more", "delivered_t"),
        ("more", "aircraft_lost"),
        ("more", "obs__x"),
        ("less", "delivered_t"),
    ]
    assert back[0]["diff_mean"] == float(f"{rows[0]['diff_mean']:.10g}")  # 10 digits
    assert back[0]["verdict"] == "better"
    assert back[1]["verdict"] == "identical" and math.isinf(back[1]["variance_reduction"])
    assert back[2]["better"] == "neither" and math.isnan(back[2]["share_better"])


def test_daily_diff_round_trip(tmp_path):
    write_daily_diff_csv(tmp_path / "d.csv", dt.date(2020, 1, 30), options())
    lines = (tmp_path / "d.csv").read_text().splitlines()
    assert lines[0].startswith("scenario,date,days_of_supply__town__food_p05")
    assert lines[1].startswith("more,2020-01-30,-1,0,1,,,")  # stock not in "more": blank
    assert len(lines) == 1 + 2 * 3
    dates, diffs = read_daily_diff_csv(tmp_path / "d.csv")
    assert dates == [dt.date(2020, 1, 30), dt.date(2020, 1, 31), dt.date(2020, 2, 1)]
    np.testing.assert_array_equal(
        diffs["more"]["days_of_supply__town__food"],
        options()[0].daily["days_of_supply__town__food"],
    )
    assert set(diffs["less"]) == {"stock_t__town__food"}


def test_console_table_puts_decisive_differences_first():
    rows = comparison_rows("ref", options())
    text = format_comparison(rows, replications=3, seed=1, labels=["ref", "more", "less"])
    assert "reference: ref" in text
    more = text.split("more − ref")[1].split("less − ref")[0]
    assert "1 decisive differences, 1 metrics identical" in more
    assert "delivered_t" in more and "obs__x" not in more and "aircraft_lost" not in more
    assert "(1 more metrics in comparison.csv)" in more
    less = text.split("less − ref")[1]
    assert "no clear difference" in less
