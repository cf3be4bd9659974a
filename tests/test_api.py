"""The public API a notebook user calls: ``sim.load_scenario``, ``sim.run``, ``sim.write_run``."""

from __future__ import annotations

import gc
import sys
import tracemalloc

import numpy as np
import pytest

import sim
from sim.analysis.observations import TABLE_COLUMNS
from sim.output.folder import InputError, OutputExistsError


@pytest.fixture
def scenario(tmp_path, tiny_toml):
    path = tmp_path / "tiny.toml"
    path.write_text(tiny_toml)
    return sim.load_scenario(path)


def test_run_returns_plain_data(scenario):
    rs = sim.run(scenario, replications=3)
    assert (rs.replications, rs.seed, rs.workers) == (3, scenario.seed, 1)
    assert rs.scenario.replications == 3 and rs.scenario.seed == scenario.seed
    assert rs.replication_ids == [0, 1, 2] and len(rs.seeds) == 3
    assert len(rs.metrics) == 3 and list(rs.metrics[0]) == list(rs.metrics[2])
    assert rs.dates[0] == scenario.calendar.start and len(rs.dates) == 90
    assert list(rs.daily) == sorted(rs.daily)
    assert all(a.shape == (3, 90) for a in rs.daily.values())
    assert "days_of_supply__town__food" in rs.daily
    assert "cumulative_delivered_t__drops" in rs.daily
    assert set(rs.summary) == set(rs.metrics[0])
    assert rs.summary["delivered_t"]["n"] == 3
    assert [list(r) for r in rs.observations] == [list(TABLE_COLUMNS)]
    # metrics agree with the series they summarise
    total = rs.daily["cumulative_delivered_t__drops"][:, -1]
    assert total[0] <= rs.summary["delivered_t"]["median"] <= total[2]


def test_a_runs_memory_does_not_grow_by_more_than_a_row_of_doubles_a_replication(scenario):
    """Issue 8: what a run keeps per replication is its metrics (the daily percentiles
    have a fixed size): one array of doubles each, not a dict of float objects."""
    row = sim.run(scenario, replications=1).metrics[0]
    row_bytes = sys.getsizeof(row) + sys.getsizeof(getattr(row, "_values", None))

    def kept(replications: int) -> int:
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            rs = sim.run(scenario, replications=replications)
            gc.collect()
            assert len(rs.metrics) == replications  # the run is alive while measured
            return tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()

    kept(20)  # the first traced run also traces what is allocated once (caches)
    per_replication = (kept(120) - kept(20)) / 100  # what any run keeps once cancels
    # the row, its replication number and seed in two lists, and the noise of what a run
    # leaves in caches (a few kB a run, up to 150 bytes a replication here): under
    # twice the row; a dict of the same metrics kept 2.1 kB a replication
    assert per_replication < 2 * row_bytes, (per_replication, row_bytes, len(row))


def test_defaults_come_from_the_scenario(scenario):
    rs = sim.run(scenario.model_copy(update={"replications": 2}))
    assert rs.replications == 2 and rs.seed == 5


def test_workers_do_not_change_results(scenario):
    one = sim.run(scenario, replications=3, seed=2, workers=1)
    two = sim.run(scenario, replications=3, seed=2, workers=2)
    np.testing.assert_array_equal(
        [list(m.values()) for m in one.metrics], [list(m.values()) for m in two.metrics]
    )
    for k in one.daily:
        np.testing.assert_array_equal(one.daily[k], two.daily[k])


@pytest.mark.parametrize("kw", [{"replications": 0}, {"seed": -1}, {"workers": 0}])
def test_bad_arguments(scenario, kw):
    with pytest.raises(ValueError):
        sim.run(scenario, **kw)


def test_write_run_and_redraw(scenario, tmp_path):
    rs = sim.run(scenario, replications=2)
    out = sim.write_run(rs, tmp_path / "r", command="notebook", plots=False)
    assert out == tmp_path / "r"
    assert (out / "daily.csv").is_file() and not (out / "plots").exists()
    with pytest.raises(OutputExistsError):
        sim.write_run(rs, out)
    sim.redraw_plots(out)
    assert len(list((out / "plots").glob("*.png"))) == 6
    with pytest.raises(InputError):
        sim.redraw_plots(tmp_path)


def test_lazy_exports():
    assert callable(sim.run) and callable(sim.load_scenario) and callable(sim.write_run)
    with pytest.raises(AttributeError):
        _ = sim.no_such_thing


def test_results_offer_pandas_frames(scenario, tmp_path):
    pd = pytest.importorskip("pandas")
    runset = sim.run(scenario, replications=3, seed=2)
    m = runset.to_frame()
    assert list(m.index) == [0, 1, 2] and m.columns[0] == "seed"
    assert m.loc[1, "delivered_t"] == runset.metrics[1]["delivered_t"]
    daily = runset.daily_frame()
    assert set(daily["series"]) == set(runset.daily)
    assert len(daily) == len(runset.daily) * scenario.calendar.n_days
    first = daily[daily["series"] == "stock_t__town__food"].iloc[0]
    assert first["p50"] == runset.daily["stock_t__town__food"][1][0]
    assert first["date"] == pd.Timestamp(scenario.calendar.start)
    assert list(runset.observations_frame().index) == [o.id for o in scenario.observations]
    assert (
        runset.summary_frame().loc["delivered_t", "mean"] == runset.summary["delivered_t"]["mean"]
    )
    cmp = sim.compare([scenario, scenario], tmp_path / "cmp", replications=2, plots=False)
    assert len(cmp.to_frame()) == len(cmp.rows)
    both = cmp.metrics_frame()
    assert list(both["scenario"].unique()) == cmp.labels and len(both) == 4
    assert "scenario" in cmp.daily_diff_frame().columns
    (tmp_path / "sw").mkdir()
    (tmp_path / "sw" / "points.csv").write_text("point,x,runs\n0,1.5,2\n")
    (tmp_path / "sw" / "runs.csv").write_text("point,replication,seed,m,error\n0,0,1,2.5,\n")
    result = sim.api.SweepResult(tmp_path / "sw", 1, 1, 0, 1, 0.0)
    assert result.to_frame()["x"].tolist() == [1.5]
    assert result.runs_frame()["m"].tolist() == [2.5]
