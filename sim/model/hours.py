"""Opening hours: a daily window, and the clock of open time that runs only inside it.

A place (an airfield, a helipad, a home base) works in a daily window of ``hours``
from ``opens_h`` (it may run past midnight: 20:00 for 8 h closes at 04:00). Work
that takes a given time there — unloading for ``ground_h``, turning an aircraft
round for ``base_h``, the landing interval of a runway — counts only open hours:
an aircraft still unloading at closing time finishes after the next opening.

:class:`OpeningHours` measures this with an *open clock*: the open time elapsed
since the start of the run (in days of open time), which stands still while the
place is closed. Booking work on the open clock makes every capacity exact and
fractional: a parking place unloads ``hours ÷ ground_h`` aircraft a day, not its
floor, and a runway lands ``hours × 60 ÷ landing_interval_min`` aircraft a day.

Times are in days (1.0 = one day; day 0 starts at 00:00 of the calendar's start).
"""

from __future__ import annotations

import math

EPS = 1e-9
"""Two moments closer than this (days, about 0.1 ms) are the same moment."""


class OpeningHours:
    """A daily window of ``hours`` from ``opens_h`` (24 h: always open)."""

    __slots__ = ("always", "length", "opens")

    def __init__(self, opens_h: float, hours: float) -> None:
        self.opens = opens_h / 24.0
        self.length = hours / 24.0
        self.always = hours >= 24.0

    def clock(self, t: float) -> float:
        """Open time (days) elapsed at moment ``t``, counted from the window before day 0."""
        if self.always:
            return t
        k = math.floor(t - self.opens)  # the window that opened last, at k + opens
        elapsed = t - (k + self.opens)
        length = self.length
        return k * length + (elapsed if elapsed < length else length)

    def start(self, pos: float) -> float:
        """The moment the open clock reads ``pos``; at a window's edge, its opening.

        The moment work booked at open time ``pos`` can *start*.
        """
        if self.always:
            return pos
        length = self.length
        k = math.floor(pos / length + EPS)
        into = pos - k * length  # max(0.0, into), inlined (the hot path of every booking)
        return k + self.opens + (into if into > 0.0 else 0.0)

    def end(self, pos: float) -> float:
        """The moment the open clock reads ``pos``; at a window's edge, its closing.

        The moment work that reaches open time ``pos`` is *finished*.
        """
        if self.always:
            return pos
        length = self.length
        k = math.ceil(pos / length - EPS) - 1
        into = pos - k * length  # min(length, into), inlined
        return k + self.opens + (into if into < length else length)

    def slot(self, t: float, free: float, work: float) -> tuple[float, float, float]:
        """Book ``work`` (days of open time) for something that comes at moment ``t`` to a
        place free from open-clock time ``free`` (``-inf``: free now).

        Returns ``(pos, begins, done)``: the open-clock time the work starts, ``pos`` =
        the later of :meth:`clock` (``t``) and ``free``; the moment it begins,
        :meth:`start` (``pos``); the moment it is done, :meth:`end` (``pos + work``),
        not before it begins (``begins`` itself for no work). What a booking asks in one
        call instead of three: the three methods' arithmetic is repeated here step for
        step, so the results are the same to the bit (a property test holds them to it).
        """
        if self.always:
            pos = free if free > t else t
            return pos, pos, (pos + work if work > 0.0 else pos)
        opens = self.opens
        length = self.length
        k = math.floor(t - opens)  # clock(t)
        elapsed = t - (k + opens)
        pos = k * length + (elapsed if elapsed < length else length)
        if free > pos:
            pos = free
        k = math.floor(pos / length + EPS)  # start(pos)
        into = pos - k * length
        begins = k + opens + (into if into > 0.0 else 0.0)
        if work <= 0.0:
            return pos, begins, begins
        until = pos + work  # end(pos + work)
        k = math.ceil(until / length - EPS) - 1
        into = until - k * length
        done = k + opens + (into if into < length else length)
        return pos, begins, (begins if done < begins else done)

    def is_open(self, t: float) -> bool:
        """Whether moment ``t`` is inside the window (or within EPS of its opening)."""
        if self.always:
            return True
        x = (t - self.opens) % 1.0
        return x < self.length or x > 1.0 - EPS

    def next_opening(self, t: float) -> float:
        """The moment the next window opens after ``t`` (for a moment outside the window)."""
        return math.floor(t - self.opens) + 1.0 + self.opens

    def next_open(self, t: float) -> float:
        """The first moment at or after ``t`` inside the window."""
        if self.always:
            return t
        s = self.start(self.clock(t))
        return t if s < t + EPS else s


def reclock(positions: list[float], old: OpeningHours, new: OpeningHours) -> list[float]:
    """Open-clock positions (when places become free) moved from ``old`` hours to ``new``.

    A place free at open time ``p`` of the old window is free at the moment
    ``old.end(p)``; on the new clock that moment reads ``new.clock(old.end(p))``.
    """
    if old.opens == new.opens and old.length == new.length:
        return positions
    return [new.clock(old.end(p)) if p > 0.0 else 0.0 for p in positions]
