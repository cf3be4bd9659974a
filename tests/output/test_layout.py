"""The layout without a pre-draw: every label inside the figure, nothing overlapping."""

from __future__ import annotations

import datetime as dt

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sim.output import layout


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _inside(fig: Figure) -> None:
    """Every axes with everything it draws (ticks in view, labels, titles, legends) and
    every figure text lie inside the figure."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [(ax.get_title(loc="left") or "axes", ax.get_tightbbox(renderer)) for ax in fig.axes]
    boxes += [(t.get_text(), t.get_window_extent(renderer)) for t in fig.texts if t.get_text()]
    for sub in fig.subfigs:
        boxes += [(t.get_text(), t.get_window_extent(renderer)) for t in sub.texts if t.get_text()]
    for name, box in boxes:
        assert box.x0 >= -1 and box.x1 <= fig.bbox.x1 + 1, name
        assert box.y0 >= -1 and box.y1 <= fig.bbox.y1 + 1, name


def _no_overlap_with_axes(fig: Figure) -> None:
    """What one axes draws outside itself never runs into another axes (twins aside)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        if not ax.axison:
            continue
        texts = [ax.title, ax._left_title, ax.xaxis.label, ax.yaxis.label]
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            texts += [
                t.label1
                for t in axis.get_major_ticks()
                if t.label1.get_visible() and lo <= t.get_loc() <= hi
            ]
        for other in fig.axes:
            if other is ax or other.bbox.bounds == ax.bbox.bounds or not other.axison:
                continue
            for t in texts:
                if t.get_text() and t.get_visible():
                    box = t.get_window_extent(renderer)
                    assert not box.overlaps(other.bbox), (t.get_text(), other.get_title())


def test_stacked_date_panels_with_twin_and_suptitle():
    fig = _figure(9, 6)
    top, bottom = fig.subplots(2, 1, sharex=True)
    days = [dt.date(2016, 1, 1) + dt.timedelta(days=d) for d in range(400)]
    top.plot(days, np.linspace(0, 25_000, 400))
    top.set_ylabel("tonnes (t)")
    top.set_title("Upper panel title", fontsize=10, loc="left")
    bottom.plot(days, np.linspace(0, 1, 400))
    bottom.set_ylabel("share")
    bottom.set_title("Lower panel title", fontsize=10, loc="left")
    bottom.set_xlabel("date")
    twin = bottom.twinx()
    twin.plot(days, np.linspace(0, 900, 400))
    twin.set_ylabel("count (right)")
    fig.suptitle("A figure title")
    layout.fit(fig)
    _inside(fig)
    _no_overlap_with_axes(fig)
    # the grid fills the figure: no more than about an inch lost on any side
    for ax in (top, bottom):
        pos = ax.get_position()
        assert pos.x0 < 1.2 / 9 and pos.x1 > 1 - 1.2 / 9


def test_long_categorical_labels_are_measured():
    fig = _figure(8, 3)
    ax = fig.subplots()
    labels = ["short", "a rather long label for an observation (with its unit)"]
    ax.plot([1.0, 2.0], [0, 1], "o")
    ax.set_yticks(range(2), labels, fontsize=8)
    layout.fit(fig)
    _inside(fig)
    width = fig.canvas.get_renderer().get_text_width_height_descent(
        labels[1], ax.yaxis.majorTicks[0].label1.get_fontproperties(), ismath=False
    )[0]
    left_px = ax.get_position().x0 * fig.bbox.width
    assert width < left_px < width + 40  # the label's width, and little more


def test_two_columns_and_a_text_panel_in_subfigures():
    fig = _figure(10, 7)
    main, below = fig.subfigures(2, 1, height_ratios=[5, 2])
    axes = main.subplots(2, 2, sharex=True)
    for ax in axes.flat:
        ax.plot(np.arange(50), np.arange(50) ** 2)
        ax.set_ylabel("value (units)")
        ax.set_title("a panel", fontsize=10, loc="left")
    main.suptitle("Main title")
    key = below.subplots()
    key.set_axis_off()
    key.text(0.0, 1.0, "a key line", va="top", transform=key.transAxes)
    layout.fit(fig)
    _inside(fig)
    _no_overlap_with_axes(fig)
    # the text panel fills its subfigure (less the pad)
    pos = key.get_position()
    assert pos.x0 < 0.01 and pos.x1 > 0.99


def test_an_offset_text_gets_room_above_the_axes():
    fig = _figure(6, 3)
    ax = fig.subplots()
    ax.plot([0, 1], [1e7, 3e7])
    ax.set_title("millions")
    layout.fit(fig)
    _inside(fig)
    fig.canvas.draw()
    offset = ax.yaxis.get_offset_text()
    assert offset.get_text()
    renderer = fig.canvas.get_renderer()
    assert not offset.get_window_extent(renderer).overlaps(ax.title.get_window_extent(renderer))
