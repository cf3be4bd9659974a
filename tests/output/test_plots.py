"""Every plot is drawn, as a non-empty PNG, from plain data (as ``siege plot`` would)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from sim.analysis.metrics import replication_metrics
from sim.analysis.observations import observation_table
from sim.analysis.summary import SeriesAccumulator
from sim.output.plots import PLOT_FILES, draw_all, survival_curve

PNG = b"\x89PNG\r\n\x1a\n"


def test_draw_all(tmp_path, fake_scenario, make_result):
    n = fake_scenario.calendar.n_days
    acc = SeriesAccumulator(3, n)
    metrics = []
    for i in range(3):
        r = make_result(
            fake_scenario,
            replication=i,
            scale=1.0 + i,
            **{
                "stock_t__city__food": np.linspace(5, 0, n),
                "days_of_supply__city__food": np.linspace(5, 0, n),
            },
        )
        acc.add(i, r)
        metrics.append(replication_metrics(fake_scenario, r))
    dates = [fake_scenario.calendar.start + dt.timedelta(days=d) for d in range(n)]
    paths = draw_all(
        tmp_path / "plots",
        fake_scenario,
        dates,
        acc.percentiles(),
        metrics,
        observation_table(fake_scenario, metrics),
    )
    assert [p.name for p in paths] == list(PLOT_FILES)
    for p in paths:
        data = p.read_bytes()
        assert data.startswith(PNG) and len(data) > 5000, p.name


def test_draw_all_without_fleets_or_observations(tmp_path, fake_scenario_factory, make_result):
    scn = fake_scenario_factory(fleets={}, observations=[], drop_zones={}, airfields={})
    r = make_result(scn)
    acc = SeriesAccumulator(1, scn.calendar.n_days)
    acc.add(0, r)
    dates = [scn.calendar.start + dt.timedelta(days=d) for d in range(scn.calendar.n_days)]
    paths = draw_all(tmp_path, scn, dates, acc.percentiles(), [replication_metrics(scn, r)], [])
    assert all(p.stat().st_size > 1000 for p in paths)


def test_survival_curve():
    curve = survival_curve([2.0, math.nan, 0.0, 5.0], 6)
    np.testing.assert_allclose(curve, [0.75, 0.75, 0.5, 0.5, 0.5, 0.25])
    np.testing.assert_allclose(survival_curve([math.nan, math.nan], 3), [1.0, 1.0, 1.0])
