"""Every plot is drawn, as a non-empty PNG, from plain data (as ``siege plot`` would)."""

from __future__ import annotations

import datetime as dt
import io
import math

import numpy as np
from matplotlib.text import Text
from PIL import Image

from sim.analysis.metrics import replication_metrics
from sim.analysis.observations import observation_table
from sim.analysis.summary import SeriesAccumulator
from sim.experiment.executors import WarmPool
from sim.output.plots import (
    KEY_WIDTHS,
    LEGEND_FLEETS,
    PLOT_FILES,
    _draw_key,
    _events_in_run,
    _figure,
    _key,
    _key_image,
    _narrower_key,
    _pixels_at_bottom,
    draw_all,
    fleet_groups,
    plot_observations,
    plot_sortie_tempo,
    plot_survival,
    plot_tonnage_weekly,
    survival_commodities,
    survival_curve,
    survival_metrics,
    warm_up,
)

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


def test_plots_drawn_in_parallel_are_the_same_files(tmp_path, fake_scenario, make_result):
    dates, daily, metrics = _run_of(fake_scenario, make_result, n_reps=3)
    observations = observation_table(fake_scenario, metrics)
    serial = draw_all(tmp_path / "serial", fake_scenario, dates, daily, metrics, observations)
    pool = WarmPool(2, warm_up)
    try:
        parallel = draw_all(
            tmp_path / "pool", fake_scenario, dates, daily, metrics, observations, executor=pool
        )
    finally:
        pool.close()
    assert [p.name for p in parallel] == list(PLOT_FILES)
    for a, b in zip(serial, parallel, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_warming_up_with_the_scenario_draws_every_event_key_the_plots_use(
    tmp_path, fake_scenario, make_result
):
    # the drawing workers inherit the keys drawn by warm_up(scenario): KEY_WIDTHS must
    # name every width of a plot with a key, or each worker draws that key again
    assert _events_in_run(fake_scenario)
    dates, daily, metrics = _run_of(fake_scenario, make_result, n_reps=2)
    _key_image.cache_clear()
    warm_up(fake_scenario)
    warmed = _key_image.cache_info()
    assert warmed.misses == len(KEY_WIDTHS)
    draw_all(tmp_path, fake_scenario, dates, daily, metrics, observation_table(fake_scenario, []))
    assert _key_image.cache_info().misses == warmed.misses


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


def _run_of(scenario, make_result, n_reps=2, **series):
    n = scenario.calendar.n_days
    acc = SeriesAccumulator(n_reps, n)
    metrics = []
    for i in range(n_reps):
        r = make_result(scenario, replication=i, scale=1.0 + i, **series)
        acc.add(i, r)
        metrics.append(replication_metrics(scenario, r))
    dates = [scenario.calendar.start + dt.timedelta(days=d) for d in range(n)]
    return dates, acc.percentiles(), metrics


def _texts(fig) -> list[str]:
    """Every text of the figure, the event key's lines included (the key is an image,
    drawn once per process, whose label holds its text)."""
    key = [line for image in fig.images for line in image.get_label().split("\n")]
    return [t.get_text() for t in fig.findobj(Text)] + key


def test_a_54_fleet_legend_stays_inside_its_plot(tmp_path, fake_scenario_factory, make_result):
    """Issue 10: 54 fleets spilled their legend into the event key below the plot."""
    base = fake_scenario_factory()
    fleets = {f"fleet_{k:02d}": base.fleets["drops"] for k in range(54)}
    title = "A very long event title that goes on and on about what happened that day " * 2
    events = [e.model_copy(update={"title": title}) for e in base.events]
    scn = base.model_copy(update={"fleets": fleets, "events": events})
    dates, daily, _ = _run_of(scn, make_result)
    for plot in (plot_tonnage_weekly, plot_sortie_tempo):
        fig = plot(tmp_path / "p.png", scn, dates, daily)
        fig.canvas.draw()
        legends = [a.get_legend() for a in fig.axes if a.get_legend() is not None]
        legend = legends[0]
        labels = [t.get_text() for t in legend.get_texts()]
        assert len(labels) == LEGEND_FLEETS and labels[-1] == "47 other fleets", labels
        box = legend.get_window_extent()
        axes_box = legend.axes.get_window_extent()
        assert box.y0 >= axes_box.y0 - 1 and box.y1 <= axes_box.y1 + 1
        key = [t for t in _texts(fig) if t.startswith(" 1  2020-01-06")]
        assert key and len(key[0]) < 90  # wrapped, on several lines
        assert sum(1 for t in _texts(fig) if "goes on and on" in t) >= 2


def test_fleet_groups_keep_the_largest_in_their_order() -> None:
    fleets = ["a", "b", "c", "d"]
    totals = {"a": 1.0, "b": 5.0, "c": 3.0, "d": 4.0}
    assert fleet_groups(fleets, totals, limit=4) == [(f, [f]) for f in fleets]
    assert fleet_groups(fleets, totals, limit=3) == [
        ("b", ["b"]),
        ("d", ["d"]),
        ("2 other fleets", ["a", "c"]),
    ]


def test_survival_shows_every_commodity_that_ever_runs_out(tmp_path, fake_scenario, make_result):
    """Issue 10: a commodity that is not rationed (ammunition) never showed."""
    n = fake_scenario.calendar.n_days
    out = np.r_[np.full(5, 2.0), np.zeros(n - 5)]
    dates, _, metrics = _run_of(
        fake_scenario,
        make_result,
        **{"stock_t__base__ammo": out, "days_of_supply__base__ammo": out},
    )
    assert survival_commodities(fake_scenario, metrics) == {
        "city": ["food"],
        "base": ["food", "ammo"],
    }
    fig = plot_survival(tmp_path / "s.png", fake_scenario, dates, metrics)
    labels = [t.get_text() for a in fig.axes if a.get_legend() for t in a.get_legend().get_texts()]
    assert "ammo" in labels


def test_drawing_workers_get_only_the_metrics_survival_reads(tmp_path, fake_scenario, make_result):
    """Issue 8: the plots' workers were sent every metric of every replication (the
    largest part of their memory in a 10,000-replication run); the survival plot drawn
    from what they are sent now is the same file."""
    dates, _, metrics = _run_of(fake_scenario, make_result, n_reps=3)
    rows = survival_metrics(fake_scenario, metrics)
    assert len(rows) == 3
    assert set(rows[0]) == {
        k for k in metrics[0] if k.startswith(("first_stockout_day__", "min_days_of_supply__"))
    }
    assert rows[1] == {k: metrics[1][k] for k in rows[1]}
    plot_survival(tmp_path / "all.png", fake_scenario, dates, metrics)
    plot_survival(tmp_path / "sent.png", fake_scenario, dates, rows)
    assert (tmp_path / "all.png").read_bytes() == (tmp_path / "sent.png").read_bytes()


def test_a_plot_file_holds_the_pixels_drawn(tmp_path, fake_scenario, make_result):
    dates, daily, _ = _run_of(fake_scenario, make_result)
    fig = plot_sortie_tempo(tmp_path / "s.png", fake_scenario, dates, daily)
    drawn = np.asarray(fig.canvas.buffer_rgba())
    image = Image.open(tmp_path / "s.png")
    assert image.size == (drawn.shape[1], drawn.shape[0]) and image.size[0] == 11 * 110
    np.testing.assert_array_equal(np.asarray(image.convert("RGB")), drawn[:, :, :3])


def test_a_plot_drawn_after_another_of_its_size_is_the_same_file(
    tmp_path, fake_scenario, make_result
):
    # figures of one size share a renderer (and its measures of texts): what the first
    # drew must not show through in the second
    dates, daily, _ = _run_of(fake_scenario, make_result)
    empty = {k: np.full_like(v, np.nan) for k, v in daily.items()}
    plot_sortie_tempo(tmp_path / "alone.png", fake_scenario, dates, daily)
    first = plot_sortie_tempo(tmp_path / "other.png", fake_scenario, dates, empty)
    second = plot_sortie_tempo(tmp_path / "after.png", fake_scenario, dates, daily)
    assert first.canvas.get_renderer() is second.canvas.get_renderer()
    assert (tmp_path / "after.png").read_bytes() == (tmp_path / "alone.png").read_bytes()
    assert (tmp_path / "other.png").read_bytes() != (tmp_path / "alone.png").read_bytes()


def test_the_event_key_is_the_image_figimage_draws():
    rgba = np.random.default_rng(3).integers(0, 256, (40, 330, 4), dtype=np.uint8)
    rgba[:, :, 3] = 255
    drawn = []
    for put in (
        lambda fig: fig.figimage(rgba, 0, 0, origin="upper", zorder=1),
        lambda fig: _pixels_at_bottom(fig, rgba),
    ):
        fig = _figure(3, 2)
        put(fig)
        fig.canvas.draw()
        at_dpi = np.asarray(fig.canvas.buffer_rgba()).copy()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=2 * fig.dpi)  # resampled at another DPI
        drawn.append((at_dpi, np.asarray(Image.open(buf))))
    (a, a2), (b, b2) = drawn
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a2, b2)


def test_observations_plot_marks_every_row_inside_the_figure(
    tmp_path, fake_scenario_factory, make_result
):
    base = fake_scenario_factory()
    spec = base.observations[0]
    observations = [
        spec,
        spec.model_copy(update={"id": "a_range", "value": None, "range": (50.0, 80.0)}),
        spec.model_copy(update={"id": "none_seen", "value": 0.0, "abs_tolerance": 5.0}),
        spec.model_copy(update={"id": "far_off", "value": 1e6}),
    ]
    scn = base.model_copy(update={"observations": observations})
    _, _, metrics = _run_of(scn, make_result, n_reps=3)
    rows = observation_table(scn, metrics)
    fig = plot_observations(tmp_path / "o.png", scn, rows)
    ax = fig.axes[0]
    (spans,) = [c for c in ax.collections if type(c).__name__ == "PolyCollection"]
    assert len(spans.get_paths()) == len(rows)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == len(rows) and labels[1].startswith("a_range")
    assert "observed 0" in labels[2]
    dots = [line for line in ax.lines if line.get_marker() == "o"]
    assert sum(len(line.get_xdata()) for line in dots) == len(rows)
    renderer = fig.canvas.get_renderer()
    for text in [ax.title, ax.xaxis.label, *ax.get_yticklabels()]:
        box = text.get_window_extent(renderer)
        assert box.x0 >= 0 and box.x1 <= fig.bbox.x1 and box.y0 >= 0, text.get_text()
        assert box.y1 <= fig.bbox.y1, text.get_text()


def test_a_key_cut_from_a_wider_one_is_the_key_drawn_at_its_width(fake_scenario):
    wide, narrow = max(KEY_WIDTHS), min(KEY_WIDTHS)
    key = _key(narrow, fake_scenario)
    assert key is not None and key == _key(wide, fake_scenario)  # short titles
    _key_image.cache_clear()
    _key_image(wide, *key)
    cut = _key_image(narrow, *key)  # cut out of the wide one, not drawn
    np.testing.assert_array_equal(cut, _draw_key(narrow, *key))
    # no cut where the columns would start at other fractions of a pixel
    assert _narrower_key(wide, narrow + 0.05, _draw_key(wide, *key)) is None
