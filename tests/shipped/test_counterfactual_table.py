"""The counterfactual table of scenarios/deir_ez_zor/README.md and the tool that makes it.

Fast tests check the formatting, the parsing back and a tiny real run. The slow test
regenerates the table with a different seed and checks that every median in the
README lies inside the fresh run's 90 % interval (and that the stock-out cells
agree), i.e. that the published table is reproducible, not a lucky draw.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pytest

from tools import counterfactual_table as ct  # the repository root is on pytest's pythonpath


def test_format_number_and_parse_cell_round_trip() -> None:
    values = np.arange(101, dtype=float) * 100.0
    cell = ct.format_number(values, 0)
    assert cell == "5,000 [500 – 9,500]"
    assert ct.parse_cell(cell) == (500.0, 5000.0, 9500.0)
    assert ct.parse_cell("-1.5 [-2.0 – 0.3]") == (-2.0, -1.5, 0.3)
    assert ct.parse_cell("never (0 %)") is None
    assert ct.parse_cell("—") is None


def test_format_stockout_counts_never_as_later_than_any_day() -> None:
    start = dt.date(2015, 5, 1)
    assert ct.format_stockout(start, np.full(20, np.nan)) == "never (0 %)"
    days = np.array([10.0] * 15 + [np.nan] * 5)
    assert ct.format_stockout(start, days) == "2015-05-11 [2015-05-11 – never] (75%)"
    days = np.array([10.0] * 5 + [np.nan] * 15)
    assert ct.format_stockout(start, days).startswith("never [2015-05-11 – never]")


def test_replace_block_keeps_the_rest_of_the_text() -> None:
    text = f"intro\n{ct.START_MARK}\nold\n{ct.END_MARK}\noutro\n"
    out = ct.replace_block(text, "new\n")
    assert out == f"intro\n{ct.START_MARK}\nnew\n{ct.END_MARK}\noutro\n"
    with pytest.raises(ValueError):
        ct.replace_block("no markers", "x")


def test_a_tiny_real_run_gives_a_table_that_parses_back() -> None:
    results = ct.build(replications=3, seed=5, names=("baseline", "no_wfp"))
    text = ct.markdown(results, 3, 5, today=dt.date(2020, 1, 1))
    assert "on 2020-01-01: 3 replications per scenario, root seed 5" in text
    rows = ct.parse_table(text)
    assert set(rows) == {"baseline", "no_wfp"}
    assert rows["baseline"]["below_half_delta_m"] == "—"
    base = ct.parse_cell(rows["baseline"]["delivered_t"])
    no_wfp = ct.parse_cell(rows["no_wfp"]["delivered_t"])
    assert base is not None and no_wfp is not None
    assert no_wfp[1] < base[1]  # the WFP drops are a large share of what was delivered
    # Common random numbers: the paired difference of the baseline with itself is 0.
    assert np.all(results[0].values["below_half_delta_m"] == 0.0)


def test_the_readme_holds_a_table_for_every_scenario() -> None:
    text = ct.README.read_text(encoding="utf-8")
    assert ct.START_MARK in text and ct.END_MARK in text
    block = text[text.index(ct.START_MARK) : text.index(ct.END_MARK)]
    rows = ct.parse_table(block)
    assert list(rows) == list(ct.SCENARIOS)
    m = re.search(r"(\d+) replications per scenario", block)
    assert m is not None and int(m.group(1)) >= 200


@pytest.mark.slow
def test_the_readme_table_matches_a_fresh_run_within_its_intervals() -> None:
    text = ct.README.read_text(encoding="utf-8")
    published = ct.parse_table(text[text.index(ct.START_MARK) : text.index(ct.END_MARK)])
    seed = ct.DEFAULT_SEED + 1  # a fresh draw, not the published one
    fresh = ct.parse_table(ct.markdown(ct.build(200, seed, workers=2), 200, seed))
    problems = []
    for name, cells in published.items():
        for key, cell in cells.items():
            new = fresh[name][key]
            old_num, new_num = ct.parse_cell(cell), ct.parse_cell(new)
            if old_num is None or new_num is None:
                same_kind = cell.split(" ")[0] == new.split(" ")[0] or (
                    cell[:4].isdigit() and new[:4].isdigit()
                )
                if not same_kind:
                    problems.append(f"{name}/{key}: README {cell!r}, fresh {new!r}")
                continue
            lo, _, hi = new_num
            if not lo <= old_num[1] <= hi:
                problems.append(
                    f"{name}/{key}: README median {old_num[1]} outside fresh [{lo}, {hi}]"
                )
    assert problems == []
