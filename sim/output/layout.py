"""Figure layout: axes placed around their labels without drawing the figure first.

matplotlib's constrained layout finds room for titles, tick labels and axis labels by
drawing the whole figure (every tick, every text) once to measure it, and then again
to save it: a third of what one of our plots costs. :func:`fit` places the axes of a
figure from estimates that need no draw, so that saving draws it once:

- the width of the y tick labels: the locator's ticks inside the view limits,
  formatted as they will be and measured with their font (the labels of a
  categorical axis, such as the observations plot's, are measured the same way);
- the height of a title, axis label, x tick label row or suptitle: its font size
  (points) × its lines × :data:`LINE`, plus matplotlib's own pads (tick length and
  pad, ``axes.labelpad``, ``axes.titlepad``);
- :data:`PAD` (the constrained layout's own pad) around every axes.

Every grid of axes in the figure or one of its subfigures (a
:class:`~matplotlib.gridspec.GridSpec`) is fitted to its container: its margins hold
the largest decoration on each outer edge, the gaps between rows (columns) the
largest that meet there. Twin axes (``twinx``) share their grid cell and count on the
side their labels are on. Axes that are switched off (a text panel) fill their cell.
Sizes are in inches unless a name says points (1 pt = 1/72 in).

matplotlib is imported by the caller (:mod:`sim.output.plots` imports it on first use);
its objects are typed ``Any`` here because the placement reads a few attributes its
type stubs do not describe (the left and right titles, the automatic title position).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, NamedTuple

PAD = 0.04167
"""Space (inches) left around each axes and its decorations, and at the figure edge."""
LINE = 1.25
"""Height of a line of text, as a multiple of its font size."""
SUPTITLE_Y = 0.98
"""Where matplotlib puts a (sub)figure's suptitle: its top, as a fraction of the height."""


class Extent(NamedTuple):
    """Room (inches) an axes' decorations take on each side of it."""

    left: float
    right: float
    top: float
    bottom: float


def _text_height(artist: Any) -> float:
    """Height (inches) of a text artist's lines, 0 if it shows nothing."""
    text = str(artist.get_text())
    if not text or not artist.get_visible():
        return 0.0
    return (text.count("\n") + 1) * float(artist.get_fontsize()) * LINE / 72.0


def _tick_font(axis: Any) -> Any:
    """The font of the axis's tick labels (what ``tick_params`` or ``set_ticks`` set)."""
    return axis.majorTicks[0].label1.get_fontproperties()


def _tick_room(axis: Any, rc_axis: str) -> float:
    """Tick length plus the pad between tick and label (inches)."""
    from matplotlib import rcParams

    params = axis.get_tick_params()
    rc: Any = rcParams  # its stubs take only literal keys
    size = params.get("length", rc[f"{rc_axis}.major.size"])
    pad = params.get("pad", rc[f"{rc_axis}.major.pad"])
    return (float(size) + float(pad)) / 72.0


def _tick_labels(axis: Any, renderer: Any, font: Any) -> tuple[float, bool]:
    """Width (inches) of the widest major tick label the axis will show, and whether
    its formatter adds an offset text (``1e6``) at the end of the axis."""
    from matplotlib import cbook

    lo, hi = sorted(axis.get_view_interval())
    slack = 1e-9 * max(1.0, abs(lo), abs(hi))
    locs = [x for x in axis.get_major_locator()() if lo - slack <= x <= hi + slack]
    if not locs:
        return 0.0, False
    formatter = axis.get_major_formatter()
    widest = 0.0
    for s in formatter.format_ticks(locs):
        if s:
            w = renderer.get_text_width_height_descent(s, font, ismath=cbook.is_math_text(s))[0]
            widest = max(widest, float(w))
    offset = getattr(formatter, "get_offset", lambda: "")()
    return widest / float(renderer.dpi), bool(offset)


def extent(ax: Any, renderer: Any) -> Extent:
    """The room ``ax``'s titles, tick labels and axis labels need outside it.

    As a side effect, an axes with nothing between it and its title gets its title
    placed once and for all: matplotlib need not measure the axes again while drawing
    to lift the title over it (a third of a draw).
    """
    if not ax.axison:
        return Extent(0.0, 0.0, 0.0, 0.0)
    left = right = top = bottom = 0.0
    y = ax.yaxis
    if y.get_visible():
        yp = y.get_tick_params()
        ticks = _tick_room(y, "ytick")
        if yp.get("labelleft") or yp.get("labelright"):
            font = _tick_font(y)
            width, offset = _tick_labels(y, renderer, font)
            ticks += width
            if offset:  # written above the axis, where the title would go
                top += font.get_size_in_points() * LINE / 72.0
        label = _text_height(y.label)
        label += y.labelpad / 72.0 if label else 0.0
        if yp.get("left") or yp.get("labelleft"):
            left += ticks
        if yp.get("right") or yp.get("labelright"):
            right += ticks
        if y.get_label_position() == "left":
            left += label
        else:
            right += label
    x = ax.xaxis
    if x.get_visible():
        xp = x.get_tick_params()
        row = _tick_room(x, "xtick")
        if xp.get("labelbottom") or xp.get("labeltop"):
            row += _tick_font(x).get_size_in_points() * LINE / 72.0
        label = _text_height(x.label)
        from matplotlib.dates import ConciseDateFormatter

        concise = isinstance(x.get_major_formatter(), ConciseDateFormatter)
        if not label and xp.get("labelbottom") and concise:
            # a concise date axis writes its offset (a year, a month) where a label goes
            label = _tick_font(x).get_size_in_points() * LINE / 72.0
        label += x.labelpad / 72.0 if label else 0.0
        if xp.get("bottom") or xp.get("labelbottom"):
            bottom += row
        if xp.get("top") or xp.get("labeltop"):
            top += row
        if x.get_label_position() == "bottom":
            bottom += label
        else:
            top += label
    title = max(_text_height(t) for t in (ax.title, ax._left_title, ax._right_title))
    if title:
        from matplotlib import rcParams

        if not top:
            ax._autotitlepos = False
        top += title + float(rcParams["axes.titlepad"]) / 72.0
    return Extent(left, right, top, bottom)


def _suptitle_room(container: Any, height: float) -> float:
    title = getattr(container, "_suptitle", None)
    if title is None or not title.get_text():
        return 0.0
    return (1.0 - SUPTITLE_Y) * height + _text_height(title) + PAD


def fit(fig: Any) -> None:
    """Place every gridded axes of ``fig`` (and of its subfigures) around its decorations.

    Call it once everything is drawn in the figure, just before saving; the figure
    must have no layout engine (see the module docstring).
    """
    renderer = fig.canvas.get_renderer()
    grids: dict[Any, list[Any]] = defaultdict(list)
    for ax in fig.get_axes():
        spec = ax.get_subplotspec()
        if spec is not None:
            grids[spec.get_topmost_subplotspec().get_gridspec()].append(ax)
    for grid, axes in grids.items():
        _fit_grid(grid, axes, renderer)


def _fit_grid(grid: Any, axes: list[Any], renderer: Any) -> None:
    container = grid.figure
    if container is None:
        return
    dpi = float(container.get_figure(root=True).dpi)
    width, height = container.bbox.width / dpi, container.bbox.height / dpi
    nrows, ncols = grid.get_geometry()
    left = right = top = bottom = 0.0
    inner_h = [0.0, 0.0]  # largest bottom above a gap, largest top below one
    inner_w = [0.0, 0.0]  # largest right before a gap, largest left after one
    for ax in axes:
        spec = ax.get_subplotspec().get_topmost_subplotspec()
        e = extent(ax, renderer)
        rows, cols = spec.rowspan, spec.colspan
        if cols.start == 0:
            left = max(left, e.left)
        else:
            inner_w[1] = max(inner_w[1], e.left)
        if cols.stop == ncols:
            right = max(right, e.right)
        else:
            inner_w[0] = max(inner_w[0], e.right)
        if rows.start == 0:
            top = max(top, e.top)
        else:
            inner_h[1] = max(inner_h[1], e.top)
        if rows.stop == nrows:
            bottom = max(bottom, e.bottom)
        else:
            inner_h[0] = max(inner_h[0], e.bottom)
    top += _suptitle_room(container, height)
    left, right, top, bottom = (v + PAD for v in (left, right, top, bottom))
    gap_h = sum(inner_h) + 2 * PAD
    gap_w = sum(inner_w) + 2 * PAD
    cell_h = (height - top - bottom - (nrows - 1) * gap_h) / nrows
    cell_w = (width - left - right - (ncols - 1) * gap_w) / ncols
    if cell_h <= 0 or cell_w <= 0:
        return  # no room for the decorations: leave matplotlib's default placement
    grid.update(
        left=left / width,
        right=1.0 - right / width,
        bottom=bottom / height,
        top=1.0 - top / height,
        hspace=gap_h / cell_h,
        wspace=gap_w / cell_w,
    )
    for ax in axes:  # GridSpec.update moves only the axes of pyplot's figures
        ax.set_position(ax.get_subplotspec().get_position(ax.get_figure(root=False)))
