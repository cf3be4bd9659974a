"""Pairing replications of scenarios run on common random numbers (``siege compare``)."""

from __future__ import annotations

import csv
import datetime as dt

import numpy as np
import pytest

import sim
from sim.experiment.compare import (
    COLUMNS,
    Pairing,
    check_calendars,
    comparison_rows,
    decisive_first,
    labels_for,
    main_series,
)
from sim.scenario.errors import ScenarioError

LANDING = """\
name = "strip"
seed = 3
replications = 30

[calendar]
start = 2020-01-01
end = 2020-02-29

[commodities.food]
civilian_kg_day = 0.5
soldier_kg_day = 1.0

[pockets.town]
civilians = 1000
stock_t = { food = 5.0 }

[airfields.strip]
pocket = "town"
slots = 10

[fleets.planes]
mode = "land"
aircraft = 3
payload_t = 4.0
cargo = { food = 1.0 }
flight_h = 1.0
ground_h = 1.0
mission_capable = 0.7
targets = ["strip"]

[weather]
unflyable_share = 0.2
mean_spell_days = 3.0
"""


def fake_pairing(fake_scenario, make_result, scale: float, reps: int = 4):
    pairing = Pairing(fake_scenario, reps, "ref")
    pairing.start("ref", fake_scenario)
    for r in range(reps):
        res = make_result(fake_scenario, replication=r, scale=1.0 + r)
        pairing.add(r, res, {"delivered_t": 10.0 * (1 + r), "aircraft_lost": 0.0})
    assert pairing.finish() is None
    pairing.start("opt", fake_scenario)
    for r in range(reps):
        res = make_result(fake_scenario, replication=r, scale=(1.0 + r) * scale)
        pairing.add(r, res, {"delivered_t": 10.0 * (1 + r) * scale, "aircraft_lost": 1.0})
    return pairing, pairing.finish()


def test_pairing_with_hand_built_results(fake_scenario, make_result):
    pairing, opt = fake_pairing(fake_scenario, make_result, scale=2.0)
    assert opt.label == "opt" and pairing.options == [opt]
    d = opt.metrics["delivered_t"]
    assert d.mean == pytest.approx(25.0) and d.share_higher == 1.0
    # cumulative delivery per fleet: 10 t × scale per day, paired difference 10 t × (1 + r)
    cum = opt.daily["cumulative_delivered_t__drops"]
    assert cum.shape == (3, fake_scenario.calendar.n_days)
    np.testing.assert_allclose(cum[1], np.median([10, 20, 30, 40]) * np.arange(1, 11))
    assert "days_of_supply__base__food" in opt.daily  # stock defined, difference 0
    rows = comparison_rows("ref", pairing.options)
    assert [r["metric"] for r in rows] == ["delivered_t", "aircraft_lost"]
    assert set(rows[0]) == set(COLUMNS)
    assert rows[0]["verdict"] == "better" and rows[1]["verdict"] == "worse"
    assert rows[1]["share_worse"] == 1.0
    assert next(r["metric"] for r in decisive_first(rows)) == "delivered_t"


def test_pairing_refuses_out_of_order_and_incomplete(fake_scenario, make_result):
    pairing = Pairing(fake_scenario, 2, "ref")
    with pytest.raises(RuntimeError):
        pairing.add(0, make_result(fake_scenario), {})
    pairing.start("ref", fake_scenario)
    with pytest.raises(ValueError, match="out of order"):
        pairing.add(1, make_result(fake_scenario), {})
    pairing.add(0, make_result(fake_scenario), {"x": 1.0})
    with pytest.raises(ValueError, match="not every replication"):
        pairing.finish()


def test_labels_and_main_series(fake_scenario):
    assert labels_for(["a", "b", "a", "a"]) == ["a", "b", "a-2", "a-3"]
    names = main_series(fake_scenario)
    assert "days_of_supply__city__food" in names and "ration_level__base" in names
    assert "cumulative_delivered_t__planes" in names


def test_different_calendars_are_refused(fake_scenario_factory):
    a = fake_scenario_factory()
    b = fake_scenario_factory(
        calendar={"start": dt.date(2020, 1, 1), "end": dt.date(2020, 1, 12)},
        observations=[],
    )
    check_calendars([a, a], ["a.toml", "a.toml"])
    with pytest.raises(ScenarioError) as err:
        check_calendars([a, b], ["a.toml", "b.toml"])
    assert str(err.value).startswith("b.toml: calendar: runs 2020-01-01 to 2020-01-12")


@pytest.fixture
def landing(tmp_path):
    path = tmp_path / "strip.toml"
    path.write_text(LANDING)
    return sim.load_scenario(path)


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_known_effect_paired_interval_is_narrower(landing, tmp_path):
    """A payload 25 % larger scales every replication's tonnage by exactly 1.25: the
    sorties (weather, mission-capable draws) are the same on common random numbers."""
    option = landing.model_copy(
        update={
            "name": "bigger",
            "fleets": {"planes": landing.fleets["planes"].model_copy(update={"payload_t": 5.0})},
        }
    )
    result = sim.compare([landing, option], tmp_path / "cmp", replications=30, plots=False)
    ref = np.array([m["delivered_t"] for m in result.runsets[0].metrics])
    opt = np.array([m["delivered_t"] for m in result.runsets[1].metrics])
    np.testing.assert_allclose(opt, 1.25 * ref)
    assert ref.std() > 0  # the tonnage does vary between replications
    row = next(r for r in result.rows if r["metric"] == "delivered_t")
    assert row["diff_mean"] == pytest.approx(0.25 * ref.mean())
    assert row["diff_ci95_low"] <= 0.25 * ref.mean() <= row["diff_ci95_high"]
    paired = row["diff_ci95_high"] - row["diff_ci95_low"]
    unpaired = row["unpaired_ci95_high"] - row["unpaired_ci95_low"]
    assert paired < unpaired / 5
    assert row["variance_reduction"] == pytest.approx(41.0)
    assert row["share_better"] == 1.0 and row["verdict"] == "better"


def test_a_scenario_compared_with_itself_gives_exact_zeros(landing, tmp_path):
    result = sim.compare([landing, landing], tmp_path / "self", replications=6, workers=2)
    assert result.labels == ["strip", "strip-2"]
    rows = _rows(result.path / "comparison.csv")
    assert rows and {r["scenario"] for r in rows} == {"strip-2"}
    for r in rows:
        assert r["verdict"] in ("identical", ""), r
        if r["n"] != "0" and r["diff_mean"] != "":
            assert float(r["diff_mean"]) == 0.0
            assert float(r["diff_ci95_low"]) == 0.0 == float(r["diff_ci95_high"])
    with open(result.path / "daily_diff.csv", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        body = list(reader)
    assert header[:2] == ["scenario", "date"] and len(body) == landing.calendar.n_days
    cells = [c for row in body for c in row[2:] if c != ""]
    assert cells and all(float(c) == 0.0 for c in cells)
    for label in result.labels:
        assert (result.path / "runs" / label / "daily.csv").is_file()
    assert sorted(p.name for p in (result.path / "plots").iterdir()) == [
        "days_of_supply_diff.png",
        "forest.png",
        "survival.png",
    ]
    sim.redraw_comparison_plots(result.path)


def test_compare_needs_two_scenarios(landing, tmp_path):
    with pytest.raises(ValueError):
        sim.compare([landing], tmp_path / "one")
    assert not (tmp_path / "one").exists()
