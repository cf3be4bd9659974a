"""The plots of a result folder, drawn from plain data (so ``siege plot`` can re-draw
them from the files alone).

=======================  ==============================================================
``days_of_supply.png``   per pocket, days of supply of each rationed commodity: median
                         line and 5–95 % band across replications; timeline events as
                         numbered dashed lines, their titles listed below; the y axis is
                         clipped (and says so) when a few days would flatten the rest
``tonnage_weekly.png``   tonnes delivered per week, stacked by fleet (weekly increments of
                         the median cumulative delivery; a last partial week is scaled
                         to a 7-day rate and drawn narrower)
``sortie_tempo.png``     airlift sorties per week per fleet; combat air sorties per day
                         with the besiegers' heavy weapons on a second axis
``rations.png``          per pocket: ration level (and what civilians actually ate), and
                         daily shortfall per commodity
``survival.png``         share of replications whose stock has not yet run out, by date
                         (Kaplan–Meier; a replication that never runs out is censored at
                         the end of the run)
``observations.png``     model p05–p95 and median beside each observed figure, divided by
                         the observed value so different units share one axis
=======================  ==============================================================

Figures are built on :class:`matplotlib.figure.Figure` (Agg canvas, no pyplot state),
so drawing is safe in any process. Inputs: the scenario, the dates, the daily
percentile arrays (series → ``3 × days``), the per-replication metric rows and the
observations table.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

import numpy as np

from sim.experiment.executors import Executor
from sim.output import layout
from sim.output.png import png_bytes
from sim.scenario.schema import Scenario, shuttle_fleets

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

PLOT_FILES: tuple[str, ...] = (
    "days_of_supply.png",
    "tonnage_weekly.png",
    "sortie_tempo.png",
    "rations.png",
    "survival.png",
    "observations.png",
)
"""The files :func:`draw_all` writes into ``plots/``."""

DPI = 110
COLORS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


KEY_COLUMNS = 2
KEY_ROW_IN = 0.17
KEY_FONT = 7.5
"""The event key: columns, inches per line, font size (points)."""

LEGEND_FLEETS = 8
"""Most legend entries for fleets: beyond it, the largest fleets and one "others"."""


def _figure(width: float, height: float) -> Figure:
    # matplotlib is imported on first use, here and in _date_axis: it takes a third of
    # a second that the commands which draw nothing (validate, schema) need not wait for
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI)
    attach_canvas(fig)
    return fig


_LAST_RENDERER: dict[tuple[int, int, float], Any] = {}
"""The renderer of the last figure drawn, by its size in pixels and DPI."""


@functools.cache
def _canvas_class() -> type[Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg  # see _figure

    class SharedCanvas(FigureCanvasAgg):
        """An Agg canvas that draws with the renderer of the last figure drawn in this
        process when it has the same size and DPI, instead of a new one.

        matplotlib caches the size of every text it measures per renderer: the 15
        plots of a sweep (one size) measure their tick labels, titles and legends once
        instead of each again, 8 % of their CPU. The pixels are the same. The canvas
        of a figure holds its pixels until a figure of its size is drawn.
        """

        def get_renderer(self) -> Any:
            w, h = self.get_width_height(physical=True)
            key = (w, h, float(self.figure.dpi))
            if self._lastKey != key:
                renderer = _LAST_RENDERER.get(key)
                if renderer is None:
                    _LAST_RENDERER.clear()  # one renderer kept: a few megabytes
                    renderer = _LAST_RENDERER[key] = RendererAgg(w, h, self.figure.dpi)
                self.renderer = renderer
                self._lastKey = key
            return self.renderer

    return SharedCanvas


def attach_canvas(fig: Figure) -> None:
    """Give ``fig`` the Agg canvas our plots are drawn on (:func:`_canvas_class`)."""
    _canvas_class()(fig)


def save(fig: Figure, path: Path) -> None:
    """Place the axes around their labels (:func:`sim.output.layout.fit`) and write the PNG.

    The figure is drawn once and written as an RGB image (its background is opaque:
    the alpha channel matplotlib writes is 255 everywhere) with matplotlib's
    ``Software`` note, by :func:`sim.output.png.png_bytes`.
    """
    from matplotlib import __version__ as mpl_version

    layout.fit(fig)
    canvas: Any = fig.canvas  # the Agg canvas of _figure
    canvas.draw()
    software = f"Matplotlib version{mpl_version}, https://matplotlib.org/"
    path.write_bytes(png_bytes(np.asarray(canvas.buffer_rgba()), {"Software": software}))


def _events_in_run(scenario: Scenario) -> list[tuple[int, dt.date, str]]:
    """``(number, date, title)`` of the events inside the calendar, in date order."""
    cal = scenario.calendar
    evs = sorted(
        (e for e in scenario.events if cal.start <= e.date <= cal.end), key=lambda e: e.date
    )
    return [(i + 1, e.date, e.title) for i, e in enumerate(evs)]


def _key_lines(events: list[tuple[int, dt.date, str]], width: int) -> list[list[str]]:
    """Each event's lines in the key: ``nn  date  title``, the title wrapped to ``width``
    characters, continuation lines indented under it."""
    out = []
    for num, date, title in events:
        head = f"{num:>2}  {date.isoformat()}  "
        wrapped = textwrap.wrap(title, max(12, width - len(head))) or [""]
        out.append([head + wrapped[0], *(" " * len(head) + w for w in wrapped[1:])])
    return out


def _columns(blocks: list[list[str]], columns: int) -> list[list[str]]:
    """Events' lines laid out in ``columns`` columns, in order, no event split."""
    total = sum(len(b) for b in blocks)
    per = max(math.ceil(total / columns), max((len(b) for b in blocks), default=0))
    cols: list[list[str]] = [[]]
    for b in blocks:
        if cols[-1] and len(cols[-1]) + len(b) > per and len(cols) < columns:
            cols.append([])
        cols[-1].extend(b)
    return cols


def _figure_with_key(width: float, height: float, scenario: Scenario) -> tuple[Figure, Any]:
    """A figure and the (sub)figure to draw in; numbered events are listed below it, each
    title wrapped to its column's width (long titles take several lines, never overlap).

    The list is the same under every plot of a run: it is drawn once per process and
    size (:func:`_key_image`) and placed as an image, its label holding the text.
    """
    key = _key(width, scenario)
    if key is None:
        fig = _figure(width, height)
        return fig, fig
    key_h, cols = key
    fig = _figure(width, height + key_h)
    main, _below = _two(fig.subfigures(2, 1, height_ratios=[height, key_h]))
    image = _pixels_at_bottom(fig, _key_image(width, key_h, cols))
    image.set_label("\n".join([KEY_HEADING, *(line for col in cols for line in col)]))
    return fig, main


def _pixels_at_bottom(fig: Figure, rgba: np.ndarray) -> Any:
    """Put ``rgba`` (pixels, rows from the top) in the bottom left corner of ``fig``,
    as ``fig.figimage(rgba, origin="upper")`` would, but copied as they are.

    A figure image is resampled on every draw, though at the figure's own DPI
    nothing changes: a fifth of a second per hundred keys. At another DPI (a user's
    ``savefig(dpi=...)``) it is resampled as any figure image.
    """
    from matplotlib.image import FigureImage  # see _figure
    from matplotlib.transforms import IdentityTransform

    class Pixels(FigureImage):
        def make_image(
            self, renderer: Any, magnification: float = 1.0, unsampled: bool = False
        ) -> Any:
            if renderer.dpi != fig.dpi or magnification != 1.0 or unsampled:
                return super().make_image(renderer, magnification, unsampled)
            return upward, 0.0, 0.0, IdentityTransform()

    upward = np.ascontiguousarray(rgba[::-1])  # what Agg's draw_image takes: rows from the bottom
    image: Any = Pixels(fig, origin="upper", zorder=1)
    image.set_array(rgba)
    fig.images.append(image)
    image._remove_method = fig.images.remove
    fig.stale = True
    return image


KEY_HEADING = "Timeline events (dashed lines):"

KEY_WIDTHS: tuple[float, ...] = (11, 12)
"""The widths (inches) of the run's plots that list the events below them: the
event key is drawn once per width (:func:`warm_up`)."""


def _key(width: float, scenario: Scenario) -> tuple[float, tuple[tuple[str, ...], ...]] | None:
    """The event key of a plot ``width`` inches wide: its height (inches) and its
    columns of lines; None when no event falls inside the run."""
    events = _events_in_run(scenario)
    if not events:
        return None
    chars = int(width / KEY_COLUMNS * 72.0 / (KEY_FONT * 0.6)) - 2  # monospace: 0.6 em
    cols = _columns(_key_lines(events, chars), KEY_COLUMNS)
    rows = max(len(c) for c in cols)
    return KEY_ROW_IN * rows + 0.3, tuple(tuple(c) for c in cols)


_KEYS_DRAWN: dict[tuple[float, tuple[tuple[str, ...], ...]], list[tuple[float, np.ndarray]]] = {}
"""The keys drawn in this process, by height and lines: ``(width, pixels)``."""


@functools.lru_cache(maxsize=8)
def _key_image(width: float, key_h: float, cols: tuple[tuple[str, ...], ...]) -> np.ndarray:
    """The event key, ``width`` × ``key_h`` inches, as RGBA pixels (rows from the top).

    Its text would cost a quarter of each plot's drawing, for the same pixels every time.
    A key with the same lines as a wider one already drawn is cut out of it, column by
    column (:func:`_narrower_key`): its text, 75 ms, is drawn once for both widths.
    """
    drawn = _KEYS_DRAWN.setdefault((key_h, cols), [])
    for wider, pixels in drawn:
        cut = _narrower_key(wider, width, pixels)
        if cut is not None:
            return cut
    pixels = _draw_key(width, key_h, cols)
    drawn.append((width, pixels))
    return pixels


def _narrower_key(wider: float, width: float, pixels: np.ndarray) -> np.ndarray | None:
    """The key ``width`` inches wide cut out of the same key drawn ``wider`` inches wide
    (``pixels``), or None when its columns would not fall on the same fractions of a
    pixel (FreeType places glyphs to 1/64 of a pixel), so would not be the same pixels.

    Each column of text starts at the same place within its column's strip in both;
    the lines were wrapped to fit the narrower column.
    """
    big_w, small_w = float(wider * DPI), float(width * DPI)
    if wider <= width or not big_w.is_integer() or not small_w.is_integer():
        return None
    pad = layout.PAD * DPI
    starts = []
    for col in range(KEY_COLUMNS):
        small_x = pad + col / KEY_COLUMNS * (small_w - 2 * pad)
        big_x = pad + col / KEY_COLUMNS * (big_w - 2 * pad)
        small_q, big_q = round(64 * small_x), round(64 * big_x)
        if small_q % 64 != big_q % 64:
            return None
        starts.append((0 if col == 0 else small_q // 64, big_q // 64 - small_q // 64))
    out = np.empty((pixels.shape[0], int(small_w), 4), dtype=np.uint8)
    ends = [start for start, _ in starts[1:]] + [int(small_w)]
    for (start, shift), end in zip(starts, ends, strict=True):
        out[:, start:end] = pixels[:, start + shift : end + shift]
    return out


def _draw_key(width: float, key_h: float, cols: tuple[tuple[str, ...], ...]) -> np.ndarray:
    """The event key drawn: :func:`_key_image`."""
    fig = _figure(width, key_h)
    pad_w, pad_h = layout.PAD / width, layout.PAD / key_h
    ax = fig.add_axes((pad_w, pad_h, 1.0 - 2 * pad_w, 1.0 - 2 * pad_h))
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.text(0.0, 1.0, KEY_HEADING, fontsize=8, fontweight="bold", va="top", transform=ax.transAxes)
    rows = max(len(c) for c in cols)
    for col, lines in enumerate(cols):
        for row, line in enumerate(lines):
            ax.text(
                col / KEY_COLUMNS,
                1.0 - (row + 1) / (rows + 1),
                line,
                fontsize=KEY_FONT,
                va="top",
                transform=ax.transAxes,
                family="monospace",
                clip_on=True,
            )
    canvas: Any = fig.canvas
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


def _two(pair: Any) -> tuple[Any, Any]:
    """The two subfigures of ``subfigures(2, 1)`` (an array; the stubs say one or an array)."""
    return pair[0], pair[1]


def _dates(dates: Sequence[dt.date] | dt.date) -> Any:
    """Dates as matplotlib takes them: as they are (it converts them; its stubs want numbers)."""
    return dates


def _date_axis(ax: Axes) -> None:
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter  # see _figure

    loc = AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(loc))
    ax.grid(True, alpha=0.3)


def _band(
    ax: Axes,
    dates: Sequence[dt.date],
    arr: np.ndarray,
    label: str,
    color: str,
    band: bool = True,
    **kw: Any,
) -> None:
    if band:
        ax.fill_between(_dates(dates), arr[0], arr[2], color=color, alpha=0.2, linewidth=0)
    ax.plot(_dates(dates), arr[1], color=color, label=label, linewidth=1.4, **kw)


def _bars(
    ax: Axes,
    starts: Sequence[dt.date],
    widths: np.ndarray,
    heights: np.ndarray,
    bottoms: np.ndarray,
    label: str,
    color: str,
) -> None:
    """Bars from each date ``starts[i]`` (``widths[i]`` days wide), ``heights[i]`` tall
    on ``bottoms[i]``: what ``ax.bar(..., align="edge")`` draws, as one collection
    instead of a patch per bar (a tenth of the cost for the hundreds of weeks of a run).
    """
    from matplotlib.collections import PolyCollection  # see _figure

    ax.xaxis.update_units(starts)  # the x axis takes dates, as ax.bar would make it
    x0 = np.asarray(ax.convert_xunits(list(starts)), dtype=float)
    x1 = x0 + np.asarray(widths, dtype=float)
    y0 = np.asarray(bottoms, dtype=float)
    y1 = y0 + np.asarray(heights, dtype=float)
    corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    verts = np.stack([np.stack(c, axis=1) for c in corners], axis=1)  # bar × corner × (x, y)
    bars = PolyCollection(
        list(verts), facecolors=color, edgecolors="none", linewidths=0, label=label
    )
    bars.sticky_edges.y.append(0.0)  # the y axis starts at 0, as under ax.bar
    ax.add_collection(bars)
    ax.autoscale_view()


def _events(ax: Axes, scenario: Scenario, titles: bool) -> None:
    """Dashed lines at the events; with ``titles``, their key numbers inside the top edge.

    Events within 6 % of the run of the first of a group share one label (``7–11``).
    """
    events = _events_in_run(scenario)
    if events:  # one collection, not a line per event: the same look, less to draw
        ax.vlines(
            _dates([date for _, date, _ in events]),
            0.0,
            1.0,
            transform=ax.get_xaxis_transform(),
            linestyles="--",
            colors="0.35",
            linewidth=0.8,
        )
    if not titles or not events:
        return
    span = max(1, (scenario.calendar.end - scenario.calendar.start).days)
    clusters: list[list[tuple[int, dt.date]]] = []
    for num, date, _ in events:
        if clusters and (date - clusters[-1][0][1]).days < span * 0.06:
            clusters[-1].append((num, date))
        else:
            clusters.append([(num, date)])
    for group in clusters:
        first, last = group[0][0], group[-1][0]
        label = (
            str(first)
            if first == last
            else (f"{first},{last}" if last == first + 1 else f"{first}–{last}")
        )
        # near the right edge the label ends at the group's last line instead
        near_end = (scenario.calendar.end - group[-1][1]).days < span * 0.08
        anchor = group[-1][1] if near_end else group[0][1]
        ax.annotate(
            label,
            xy=(anchor, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(-2 if near_end else 2, -2),
            textcoords="offset points",
            ha="right" if near_end else "left",
            va="top",
            fontsize=7,
            color="0.15",
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
        )


def _rationed(scenario: Scenario) -> list[str]:
    names = [c for c, spec in scenario.commodities.items() if spec.rationed]
    return names or list(scenario.commodities)


def _smooth(arr: np.ndarray, days: int = 7) -> np.ndarray:
    """Centred running mean over ``days`` days of each row (NaN-aware, edges shortened)."""
    out = np.empty_like(arr, dtype=float)
    half = days // 2
    for i, row in enumerate(np.atleast_2d(arr)):
        ok = np.isfinite(row)
        vals = np.where(ok, row, 0.0)
        c = np.concatenate([[0.0], np.cumsum(vals)])
        n = np.concatenate([[0], np.cumsum(ok)])
        idx = np.arange(row.size)
        lo = np.clip(idx - half, 0, row.size)
        hi = np.clip(idx + half + 1, 0, row.size)
        cnt = n[hi] - n[lo]
        with np.errstate(invalid="ignore", divide="ignore"):
            out[i] = np.where(cnt > 0, (c[hi] - c[lo]) / cnt, np.nan)
    return out


def _inhabited(scenario: Scenario, daily: Mapping[str, np.ndarray]) -> list[str]:
    """Pockets with people in them at some point (all pockets if none has)."""
    names = []
    for p, pocket in scenario.pockets.items():
        heads = [daily.get(f"civilians__{p}"), daily.get(f"garrison__{p}")]
        peak = max(
            (float(np.nanmax(h[1])) for h in heads if h is not None and np.isfinite(h[1]).any()),
            default=None,
        )
        if peak is None:
            peak = pocket.civilians + pocket.garrison
        if peak > 0:
            names.append(p)
    return names or list(scenario.pockets)


def _has_data(arr: np.ndarray | None) -> TypeGuard[np.ndarray]:
    return arr is not None and bool(np.isfinite(arr[1]).any())


def _weekly(
    dates: Sequence[dt.date], daily: Mapping[str, np.ndarray], name: str
) -> tuple[list[dt.date], np.ndarray, np.ndarray]:
    """Weekly rate (per 7 days) of a per-day series: week starts, rates, days per week.

    Uses the median of the running total (``cumulative_<name>``) when present, so
    sparse events are not lost to daily medians of zero; otherwise sums the daily
    medians. A last, partial week is scaled to a 7-day rate.
    """
    n = len(dates)
    starts = list(range(0, n, 7))
    cum = daily.get(f"cumulative_{name}")
    if cum is not None:
        c = np.nan_to_num(cum[1])
    else:
        c = np.cumsum(np.nan_to_num(daily[name][1])) if name in daily else np.zeros(n)
    rates, lengths = [], []
    for s in starts:
        e = min(s + 7, n) - 1
        total = c[e] - (c[s - 1] if s > 0 else 0.0)
        lengths.append(e - s + 1)
        rates.append(total * 7.0 / (e - s + 1))
    return [dates[s] for s in starts], np.array(rates), np.array(lengths)


def fleet_groups(
    fleets: Sequence[str], totals: Mapping[str, float], limit: int = LEGEND_FLEETS
) -> list[tuple[str, list[str]]]:
    """``(label, fleets)`` to draw: every fleet alone when there are at most ``limit``;
    else the ``limit − 1`` largest by ``totals`` alone (in the given order) and the rest
    as one group, ``"N other fleets"``, so a legend never outgrows its plot."""
    if len(fleets) <= limit:
        return [(f, [f]) for f in fleets]
    ranked = sorted(fleets, key=lambda f: (-totals.get(f, 0.0), list(fleets).index(f)))
    top = set(ranked[: limit - 1])
    rest = [f for f in fleets if f not in top]
    return [(f, [f]) for f in fleets if f in top] + [(f"{len(rest)} other fleets", rest)]


def _final_median(daily: Mapping[str, np.ndarray], name: str) -> float:
    """The median running total at the end (or the sum of the daily medians)."""
    cum = daily.get(f"cumulative_{name}")
    if cum is not None:
        return float(np.nan_to_num(cum[1])[-1])
    arr = daily.get(name)
    return float(np.nansum(arr[1])) if arr is not None else 0.0


def _weekly_sum(
    dates: Sequence[dt.date], daily: Mapping[str, np.ndarray], names: Sequence[str]
) -> tuple[list[dt.date], np.ndarray, np.ndarray]:
    """:func:`_weekly` of several series, added up."""
    weeks, total, days = _weekly(dates, daily, names[0])
    for name in names[1:]:
        total = total + _weekly(dates, daily, name)[1]
    return weeks, total, days


def _robust_top(values: np.ndarray) -> float | None:
    """A y limit that keeps a few extreme days from flattening the rest, or None.

    Clips at 1.3 × the 97th percentile of the values when a handful of days (a
    relief convoy, a huge initial stock) would otherwise stretch the axis more
    than that.
    """
    v = values[np.isfinite(values)]
    if v.size == 0:
        return None
    limit = 1.3 * float(np.percentile(v, 97.0))
    return limit if limit > 0 and float(v.max()) > 1.05 * limit else None


def _zero_based(ax: Axes) -> None:
    """y from 0; a sensible range when everything plotted is 0."""
    top = ax.dataLim.y1
    if not np.isfinite(top) or top <= 0:
        ax.set_ylim(0.0, 1.0)
    else:
        ax.set_ylim(bottom=0.0)


def _message(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])


def plot_days_of_supply(
    path: Path, scenario: Scenario, dates: Sequence[dt.date], daily: Mapping[str, np.ndarray]
) -> None:
    pockets = _inhabited(scenario, daily)
    fig, main = _figure_with_key(11, 2.8 * len(pockets) + 0.8, scenario)
    axes = main.subplots(len(pockets), 1, sharex=True, squeeze=False)[:, 0]
    for i, (ax, p) in enumerate(zip(axes, pockets, strict=True)):
        drawn = []
        for j, c in enumerate(_rationed(scenario)):
            arr = daily.get(f"days_of_supply__{p}__{c}")
            if _has_data(arr):
                _band(ax, dates, arr, c, COLORS[j % len(COLORS)])
                drawn.append(arr[2])
        for t in scenario.pockets[p].rations.thresholds_days:
            ax.axhline(t, color="0.6", linewidth=0.6, linestyle=":")
        _events(ax, scenario, titles=i == 0)
        ax.set_ylabel("days of supply (days)")
        ax.set_ylim(bottom=0)
        title = f"{p}: days of supply (median, 5–95 % band; dotted: ration thresholds)"
        top = _robust_top(np.concatenate(drawn)) if drawn else None
        if top is not None:
            ax.set_ylim(0.0, top)
            title += "; y axis clipped"
        ax.set_title(title, fontsize=10, loc="left")
        if drawn:
            ax.legend(loc="best", fontsize=8, framealpha=0.7)
        _date_axis(ax)
    axes[-1].set_xlabel("date")
    main.suptitle(f"{scenario.name}: days of supply per pocket")
    save(fig, path)


def plot_tonnage_weekly(
    path: Path, scenario: Scenario, dates: Sequence[dt.date], daily: Mapping[str, np.ndarray]
) -> Figure:
    """Tonnes brought from outside per week, stacked by fleet (at most
    :data:`LEGEND_FLEETS` entries); what shuttles moved between pockets is a line
    apart, never stacked with the deliveries."""
    fig, main = _figure_with_key(11, 4.5, scenario)
    ax = main.subplots()
    shuttles = set(shuttle_fleets(scenario))
    air = [f for f in scenario.fleets if f not in shuttles]
    totals = {f: _final_median(daily, f"delivered_t__{f}") for f in air}
    bottom: np.ndarray | None = None
    for j, (label, group) in enumerate(fleet_groups(air, totals)):
        weeks, tot, days = _weekly_sum(dates, daily, [f"delivered_t__{f}" for f in group])
        if bottom is None:
            bottom = np.zeros_like(tot)
        _bars(ax, weeks, days - 0.8, tot, bottom, label, COLORS[j % len(COLORS)])
        bottom = bottom + tot
    if shuttles:
        names = [f"transferred_t__{f}" for f in scenario.fleets if f in shuttles]
        weeks, moved, _ = _weekly_sum(dates, daily, names)
        ax.step(
            [*weeks, dates[-1] + dt.timedelta(days=1)],
            [*moved, moved[-1]],
            where="post",
            color="black",
            linewidth=1.2,
            label="moved between pockets by shuttles (not stacked)",
        )
    if bottom is None and not shuttles:
        _message(ax, "no fleets in this scenario")
    else:
        _events(ax, scenario, titles=True)
        ax.legend(
            loc="upper left",
            fontsize=8,
            ncols=2 if len(ax.get_legend_handles_labels()[0]) > 5 else 1,
        )
        _date_axis(ax)
        ax.set_xlabel("week starting")
    ax.set_ylabel("delivered (t / week)")
    ax.set_title(
        f"{scenario.name}: tonnes delivered from outside per week by fleet "
        "(median across replications)"
    )
    save(fig, path)
    return fig


def plot_sortie_tempo(
    path: Path, scenario: Scenario, dates: Sequence[dt.date], daily: Mapping[str, np.ndarray]
) -> Figure:
    fig, main = _figure_with_key(11, 6.5, scenario)
    top, bottom = main.subplots(2, 1, sharex=True)
    fleets = list(scenario.fleets)
    totals = {f: _final_median(daily, f"sorties_flown__{f}") for f in fleets}
    for j, (label, group) in enumerate(fleet_groups(fleets, totals)):
        weeks, tot, _ = _weekly_sum(dates, daily, [f"sorties_flown__{f}" for f in group])
        # repeat the last rate to the end of the run so the last week shows
        top.step(
            [*weeks, dates[-1] + dt.timedelta(days=1)],
            [*tot, tot[-1]],
            where="post",
            label=label,
            color=COLORS[j % len(COLORS)],
        )
    if scenario.fleets:
        top.legend(loc="upper left", fontsize=8, ncols=2 if len(fleets) > 5 else 1)
    _events(top, scenario, titles=True)
    top.set_ylabel("airlift sorties / week")
    _zero_based(top)
    top.set_title("Airlift sorties flown per week by fleet (median)", fontsize=10, loc="left")
    _date_axis(top)
    combat = daily.get("combat_sorties")
    if combat is not None:
        _band(bottom, dates, combat, "combat air sorties", COLORS[3])
    bottom.set_ylabel("combat sorties / day")
    _zero_based(bottom)
    weapons = daily.get("besieger_weapons")
    twin = bottom.twinx()
    if weapons is not None:
        _band(twin, dates, weapons, "besiegers' heavy weapons", "0.3", linestyle="--")
    twin.set_ylabel("besiegers' heavy weapons (count)")
    _zero_based(twin)
    handles = bottom.get_legend_handles_labels()
    h2 = twin.get_legend_handles_labels()
    if handles[0] or h2[0]:
        bottom.legend(handles[0] + h2[0], handles[1] + h2[1], loc="upper left", fontsize=8)
    _events(bottom, scenario, titles=False)
    bottom.set_title(
        "Combat air sorties per day and besieging force (median, 5–95 % band)",
        fontsize=10,
        loc="left",
    )
    bottom.set_xlabel("date")
    _date_axis(bottom)
    main.suptitle(f"{scenario.name}: sortie tempo")
    save(fig, path)
    return fig


def plot_rations(
    path: Path, scenario: Scenario, dates: Sequence[dt.date], daily: Mapping[str, np.ndarray]
) -> None:
    pockets = _inhabited(scenario, daily)
    fig, main = _figure_with_key(12, 2.8 * len(pockets) + 0.8, scenario)
    axes = main.subplots(len(pockets), 2, sharex=True, squeeze=False)
    for i, p in enumerate(pockets):
        left, right = axes[i]
        lvl = daily.get(f"ration_level__{p}")
        if lvl is not None:
            _band(left, dates, lvl, "ration level in force (median, 5–95 %)", COLORS[0])
        for who, color in (("civilian", COLORS[1]), ("garrison", COLORS[2])):
            eaten = daily.get(f"{who}_ration__{p}")
            if _has_data(eaten):
                _band(
                    left,
                    dates,
                    _smooth(eaten),
                    f"eaten by {who}s (7-day mean of median)",
                    color,
                    band=False,
                    linestyle="--",
                )
        left.set_ylim(-0.02, 1.05)
        left.set_ylabel("ration (× full)")
        left.set_title(f"{p}: ration level", fontsize=10, loc="left")
        left.legend(loc="best", fontsize=7, framealpha=0.7)
        _events(left, scenario, titles=i == 0)
        _date_axis(left)
        for j, c in enumerate(scenario.commodities):
            arr = daily.get(f"shortfall_t__{p}__{c}")
            if _has_data(arr) and np.nanmax(arr[2]) > 0:
                _band(right, dates, _smooth(arr), c, COLORS[j % len(COLORS)])
        right.set_ylabel("shortfall (t / day)")
        right.set_title(
            f"{p}: unmet ration demand (7-day mean of median, 5–95 %)", fontsize=10, loc="left"
        )
        _zero_based(right)
        if right.get_legend_handles_labels()[0]:
            right.legend(loc="upper left", fontsize=8)
        _events(right, scenario, titles=i == 0)
        _date_axis(right)
    axes[-1][0].set_xlabel("date")
    axes[-1][1].set_xlabel("date")
    main.suptitle(f"{scenario.name}: rations and shortfall")
    save(fig, path)


def survival_curve(first_days: Sequence[float], n_days: int) -> np.ndarray:
    """Share of replications still stocked at the end of each day ``0 .. n_days-1``.

    ``first_days`` are first stock-out day indices, NaN for "never" (censored at the end
    of the run). With every replication followed to the same end, Kaplan–Meier reduces
    to the share whose stock-out day is later than the day.
    """
    v = np.asarray(first_days, dtype=float)
    if v.size == 0:
        return np.full(n_days, np.nan)
    days = np.arange(n_days)
    out = np.isnan(v)[None, :] | (v[None, :] > days[:, None])
    share: np.ndarray = out.mean(axis=1)
    return share


def survival_commodities(
    scenario: Scenario, replications: Sequence[Mapping[str, float]]
) -> dict[str, list[str]]:
    """Per pocket, the commodities whose survival is drawn: the rationed ones it has a
    demand for, and every commodity that runs out there in any replication (city
    ammunition, say, though it is not rationed)."""
    out: dict[str, list[str]] = {}
    rationed = set(_rationed(scenario))
    for p in scenario.pockets:
        keep = []
        for c in scenario.commodities:
            demand = any(
                math.isfinite(r.get(f"min_days_of_supply__{p}__{c}", math.nan))
                for r in replications
            )
            ran_out = any(
                math.isfinite(r.get(f"first_stockout_day__{p}__{c}", math.nan))
                for r in replications
            )
            if ran_out or (demand and c in rationed):
                keep.append(c)
        out[p] = keep
    return out


def survival_metrics(
    scenario: Scenario, replications: Sequence[Mapping[str, float]]
) -> list[dict[str, float]]:
    """Of each replication's metrics, the ones :func:`plot_survival` reads (first
    stock-out day and lowest days of supply, per pocket and commodity): what drawing
    workers are sent, a few dozen bytes a replication rather than every metric."""
    keys = [
        f"{prefix}__{p}__{c}"
        for p in scenario.pockets
        for c in scenario.commodities
        for prefix in ("first_stockout_day", "min_days_of_supply")
    ]
    return [{k: r[k] for k in keys if k in r} for r in replications]


def plot_survival(
    path: Path,
    scenario: Scenario,
    dates: Sequence[dt.date],
    replications: Sequence[Mapping[str, float]],
) -> Figure:
    commodities = survival_commodities(scenario, replications)
    pockets = [p for p in scenario.pockets if commodities[p]] or list(scenario.pockets)
    fig, main = _figure_with_key(11, 2.6 * len(pockets) + 0.8, scenario)
    axes = main.subplots(len(pockets), 1, sharex=True, squeeze=False)[:, 0]
    for i, (ax, p) in enumerate(zip(axes, pockets, strict=True)):
        for j, c in enumerate(scenario.commodities):
            key = f"first_stockout_day__{p}__{c}"
            vals = [r[key] for r in replications if key in r]
            if c not in commodities[p] or not vals:
                continue
            curve = survival_curve(vals, len(dates))
            ax.step(dates, curve, where="post", label=c, color=COLORS[j % len(COLORS)])
        ax.set_ylim(-0.03, 1.03)
        ax.set_ylabel("share not yet out")
        ax.set_title(
            f"{p}: share of replications with stock left (n = {len(replications)})",
            fontsize=10,
            loc="left",
        )
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="lower left", fontsize=8)
        _events(ax, scenario, titles=i == 0)
        _date_axis(ax)
    axes[-1].set_xlabel("date")
    main.suptitle(f"{scenario.name}: survival of stocks (first stock-out date)")
    save(fig, path)
    return fig


def _divided_by(d: float) -> Callable[[float], float]:
    def x(v: float) -> float:
        return v / d

    return x


def _one_plus_divided_by(d: float) -> Callable[[float], float]:
    def x(v: float) -> float:
        return 1.0 + v / d

    return x


def plot_observations(
    path: Path, scenario: Scenario, observations: Sequence[Mapping[str, Any]]
) -> Figure:
    rows = list(observations)
    fig = _figure(10, max(2.5, 0.45 * len(rows) + 1.5))
    ax = fig.subplots()
    if not rows:
        _message(ax, "no observations in this scenario")
        ax.set_title(f"{scenario.name}: model vs observed")
        save(fig, path)
        return fig
    from matplotlib.collections import PolyCollection  # see _figure

    specs = {o.id: o for o in scenario.observations}
    labels = []
    spans: list[list[tuple[float, float]]] = []  # tolerance, a rectangle a row
    ranges: list[tuple[int, float, float]] = []  # (row, low, high) of observed ranges
    ticks: list[tuple[float, int]] = []  # observed values
    models: dict[bool, list[tuple[float, int, float, float]]] = {True: [], False: []}
    for y, row in enumerate(rows):
        observed = float(row["observed"])
        spec = specs.get(row["id"])
        unit = row.get("unit") or ""
        slack = (
            max(spec.tolerance * abs(spec.observed), spec.abs_tolerance)
            if spec is not None
            else 0.0
        )
        if observed != 0 and math.isfinite(observed):
            x = _divided_by(observed)
            labels.append(f"{row['id']} ({unit})" if unit else str(row["id"]))
        else:
            # nothing to divide by: 1 + value ÷ scale, the tolerance spanning ±0.1
            scale = slack / 0.1 if slack > 0 else 1.0
            x = _one_plus_divided_by(scale)
            labels.append(f"{row['id']} (observed 0; shown 1 + value/{scale:g} {unit})")
        if spec is not None:
            lo, hi = spec.range if spec.range is not None else (observed, observed)
            spans.append([(x(lo - slack), y - 0.3), (x(hi + slack), y - 0.3)])
            spans[-1] += [(x(hi + slack), y + 0.3), (x(lo - slack), y + 0.3)]
            if spec.range is not None:
                ranges.append((y, x(lo), x(hi)))
        ticks.append((x(observed), y))
        p05, p50, p95 = (float(row[k]) for k in ("model_p05", "model_p50", "model_p95"))
        if math.isfinite(p50):
            below, above = max(0.0, x(p50) - x(p05)), max(0.0, x(p95) - x(p50))
            models[bool(row.get("within_tolerance"))].append((x(p50), y, below, above))
    # one artist per kind of mark, not one per row (a fifth of this plot's cost); rows
    # do not overlap, and within a row the marks stack as before: tolerance, range,
    # record, model bar, model dot
    if spans:
        ax.add_collection(PolyCollection(spans, facecolors="0.85", linewidths=0))
    if ranges:
        range_y, los, his = zip(*ranges, strict=True)
        ax.hlines(range_y, los, his, colors="0.2", linewidth=4, alpha=0.5, capstyle="projecting")
    tick_x, tick_y = zip(*ticks, strict=True)
    ax.plot(tick_x, tick_y, linestyle="none", marker="|", markersize=16, color="black")
    for ok, color in ((True, COLORS[2]), (False, COLORS[3])):
        if models[ok]:
            xs, ys, minus, plus = zip(*models[ok], strict=True)
            ax.errorbar(xs, ys, xerr=[minus, plus], fmt="o", color=color, capsize=4)
    ax.set_yticks(range(len(rows)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.axvline(1.0, color="0.5", linewidth=0.8)
    ax.set_xlabel("model ÷ observed (1 = the record)")
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_title(
        f"{scenario.name}: model vs historical record\n"
        "model: median (dot) and 5–95 % (bar), green = within tolerance, red = not\n"
        "record: black tick (range: dark bar), grey = tolerance",
        fontsize=9,
    )
    save(fig, path)
    return fig


@dataclass(frozen=True)
class PlotInputs:
    """What the plots of a run are drawn from: plain data, shipped to drawing workers."""

    scenario: Scenario
    dates: list[dt.date]
    daily: Mapping[str, np.ndarray]
    replications: Sequence[Mapping[str, float]]
    observations: Sequence[Mapping[str, Any]]


DRAW_ORDER: tuple[str, ...] = (
    "rations.png",
    "sortie_tempo.png",
    "days_of_supply.png",
    "survival.png",
    "observations.png",
    "tonnage_weekly.png",
)
""":data:`PLOT_FILES` the costliest first (four panels, two, ...), so that workers
drawing in parallel finish together."""


def draw_one(inputs: PlotInputs, path: Path) -> Path:
    """Draw the plot ``path.name`` (one of :data:`PLOT_FILES`) into ``path``."""
    s, dates, daily = inputs.scenario, inputs.dates, inputs.daily
    name = path.name
    if name == "days_of_supply.png":
        plot_days_of_supply(path, s, dates, daily)
    elif name == "tonnage_weekly.png":
        plot_tonnage_weekly(path, s, dates, daily)
    elif name == "sortie_tempo.png":
        plot_sortie_tempo(path, s, dates, daily)
    elif name == "rations.png":
        plot_rations(path, s, dates, daily)
    elif name == "survival.png":
        plot_survival(path, s, dates, inputs.replications)
    elif name == "observations.png":
        plot_observations(path, s, inputs.observations)
    else:
        raise ValueError(f"no plot is called {name!r} (known: {', '.join(PLOT_FILES)})")
    return path


def warm_up(scenario: Scenario | None = None) -> None:
    """Import what drawing needs and load its fonts (about a third of a second); with a
    ``scenario``, draw the event key of its plots too (:data:`KEY_WIDTHS`: 75 ms each, or
    once for both when their lines are the same).

    Done before the drawing workers are forked, they inherit all of it instead of each
    doing it again.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
    from matplotlib.collections import PolyCollection  # noqa: F401
    from matplotlib.dates import AutoDateLocator  # noqa: F401
    from matplotlib.figure import Figure  # noqa: F401
    from matplotlib.font_manager import FontProperties, findfont, get_font

    for prop in (
        FontProperties(),
        FontProperties(weight="bold"),
        FontProperties(family="monospace"),
    ):
        get_font(findfont(prop))
    if scenario is not None:
        for width in sorted(KEY_WIDTHS, reverse=True):  # the narrower may be cut out
            key = _key(width, scenario)
            if key is not None:
                _key_image(width, *key)


def draw_all(
    plots_dir: Path,
    scenario: Scenario,
    dates: Sequence[dt.date],
    daily: Mapping[str, np.ndarray],
    replications: Sequence[Mapping[str, float]],
    observations: Sequence[Mapping[str, Any]],
    executor: Executor | None = None,
) -> list[Path]:
    """Draw every plot of :data:`PLOT_FILES` into ``plots_dir`` (created); return the paths.

    With an ``executor`` (:class:`~sim.experiment.executors.WarmPool`, say) the plots
    are drawn in its workers, in parallel; the files are the same.
    """
    plots_dir = Path(plots_dir)
    plots_dir.mkdir(parents=True, exist_ok=True)
    rows = survival_metrics(scenario, replications)
    inputs = PlotInputs(scenario, list(dates), daily, rows, observations)
    tasks = [plots_dir / n for n in DRAW_ORDER]
    if executor is None or executor.workers < 2:
        for path in tasks:
            draw_one(inputs, path)
    else:
        for _ in executor.imap(draw_one, inputs, tasks, ordered=False):
            pass
    return [plots_dir / n for n in PLOT_FILES]
