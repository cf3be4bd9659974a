"""Weather zones: each day is unflyable, degraded or fine, from a monthly climatology.

A zone's climate gives, for each month, the long-run share ``u`` of unflyable days,
the mean length ``L`` of an unflyable spell (days) and the share ``g`` of all days
that are flyable but *degraded*. Each day, with the parameters of that day's month:

* unflyable days follow a two-state Markov chain: an unflyable day is followed by
  another with probability ``1 − 1/L`` (0 in a month with ``u = 0``); a flyable day
  turns unflyable with probability ``u / (1 − u) / L`` (capped at 1: a share above one
  half cannot come with one-day spells); day 0 is drawn from the stationary share ``u``;
* a flyable day is degraded with probability ``g / (1 − u)``, so that degraded days
  are a share ``g`` of all days; on a degraded day every runway in the zone needs
  its landing interval × ``degraded_landing_factor``.

Every day consumes exactly two uniforms of the zone's stream (the Markov step and
the degraded draw), whatever the day turns out to be.

In the deterministic limit (``stochastic = false``) a day is not drawn: its
``flyable`` value is the month's expected share ``1 − u`` (aircraft carry it as a
weight, see :mod:`sim.model.airlift`), ``degraded`` the month's share ``g``, and
the landing factor its expectation on a flyable day, ``1 + g / (1 − u) × (F − 1)``.

The days are decided ahead, in bulk: when the zone is built, its stream's two
uniforms of every day of the run are drawn at once (the same draws, in the same
order, as two per day) and every day is judged with the climate in force
(:meth:`WeatherZone.plan`). A timeline event that changes the climate on day ``d``
calls :meth:`WeatherZone.configure` before day ``d`` is stepped, and the days from
``d`` on are judged again with the new climate from the state of day ``d − 1`` and
the same draws: the result is what deciding each day at its start with the
parameters in force that day gives, so an event can change the climate mid-run.
:meth:`WeatherZone.step` then only reads the day's values. Nothing flies
from or to a place on a day its zone is unflyable; the siege's combat sorties fly
in the default zone (``[weather]``).
"""

from __future__ import annotations

import datetime as dt
import math
from array import array
from bisect import bisect_right

import numpy as np

from sim.model.record import zeros
from sim.model.streams import Stream
from sim.scenario.schema import Weather as WeatherConfig
from sim.scenario.schema import month_values


def month_of_day(start: dt.date, n_days: int) -> list[int]:
    """The month (0 = January … 11) of each of ``n_days`` days from ``start``.

    Filled a month at a time (a replication has hundreds of days, a few dozen months).
    """
    out: list[int] = []
    day = start
    while len(out) < n_days:
        first_of_next = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        k = min((first_of_next - day).days, n_days - len(out))
        out += [day.month - 1] * k
        day = first_of_next
    return out


class WeatherZone:
    """The day-by-day weather of one zone in one replication.

    ``flyable``, ``degraded`` and ``landing_factor`` hold the values of the day last
    stepped; ``flyable_days`` and ``degraded_days`` the values of every day, decided
    ahead by :meth:`plan` (a day not yet stepped may still be decided again by an event).
    """

    __slots__ = (
        "_draws",
        "_factor_plan",
        "_next",
        "degraded",
        "degraded_days",
        "degraded_share",
        "factor",
        "flyable",
        "flyable_days",
        "landing_factor",
        "month_of_day",
        "name",
        "spell",
        "stochastic",
        "stream",
        "unflyable",
    )

    def __init__(
        self,
        name: str,
        cfg: WeatherConfig,
        stream: Stream,
        month_of_day: list[int],
        stochastic: bool,
    ) -> None:
        self.name = name
        self.stream = stream
        self.stochastic = stochastic
        self.month_of_day = month_of_day
        self.flyable = 1.0  # 1/0 (or the expected share in the deterministic limit)
        self.degraded = 0.0
        self.landing_factor = 1.0
        n = len(month_of_day)
        # Day d's Markov-step draw in column 0, its degraded draw in column 1.
        self._draws = stream.uniforms(2 * n).reshape(n, 2) if stochastic and n else None
        self._next = 0  # the first day not yet stepped
        self._factor_plan: list[float] = [1.0] * n  # the day's landing factor
        self.flyable_days: array[float] = zeros(n)  # the day's flyable value, per day
        self.degraded_days: array[float] = zeros(n)  # the day's degraded value, per day
        self.configure(cfg)

    def configure(self, cfg: WeatherConfig) -> None:
        """Take the climate in force (at the start or after an event): the days not yet
        stepped are decided again with it."""
        self.unflyable = month_values(cfg.unflyable_share)
        self.spell = month_values(cfg.mean_spell_days)
        self.degraded_share = month_values(cfg.degraded_share)
        self.factor = cfg.degraded_landing_factor
        self.plan(self._next)

    def plan(self, start: int) -> None:
        """Decide every day from ``start`` to the end with the climate in force.

        Day ``d`` reads only its own two draws and the state of day ``d − 1``, with the
        thresholds of its month: an unflyable spell goes on while the Markov draw is
        at least ``1/L`` (and ``u > 0``); a flyable day turns unflyable when the draw
        is below ``min(1, u/(1 − u)/L)``; day 0 is unflyable when the draw is below
        ``u``; a flyable day is degraded when its second draw is below ``g/(1 − u)``.
        The thresholds are computed once per month with the same arithmetic as a
        day-by-day decision, so the days are the same to the bit.
        """
        n = len(self.month_of_day)
        if start >= n:
            return
        u_m, spell_m, g_m, factor = self.unflyable, self.spell, self.degraded_share, self.factor
        p_degraded = [g / (1.0 - u) if g > 0.0 else 0.0 for u, g in zip(u_m, g_m, strict=True)]
        if not self.stochastic:  # the month's expectations (no draws)
            fly_m = [1.0 - u for u in u_m]
            factor_m = [1.0 + p * (factor - 1.0) for p in p_degraded]
            for d in range(start, n):
                m = self.month_of_day[d]
                self.flyable_days[d] = fly_m[m]
                self.degraded_days[d] = g_m[m]
                self._factor_plan[d] = factor_m[m]
            return
        assert self._draws is not None
        months = np.array(self.month_of_day[start:], dtype=np.intp)
        x = self._draws[start:, 0]
        y = self._draws[start:, 1]
        # per month: a spell goes on at x >= stay; a flyable day turns at x < begin
        stay = [1.0 / s if u > 0.0 else math.inf for u, s in zip(u_m, spell_m, strict=True)]
        begin = []
        for u, s in zip(u_m, spell_m, strict=True):
            p = u / (1.0 - u) / s
            begin.append(p if p < 1.0 else 1.0)
        goes_on = x >= np.array(stay)[months]
        turns = x < np.array(begin)[months]
        if start == 0:
            unflyable = bool(x[0] < u_m[self.month_of_day[0]])
        else:
            previous = self.flyable_days[start - 1] == 0.0  # day start − 1 unflyable
            unflyable = bool(goes_on[0] if previous else turns[0])
        # The chain, one run of days at a time: from an unflyable day, the spell lasts
        # up to the first later day whose draw ends it; from a flyable day, fine days
        # last up to the first later day whose draw starts a spell.
        ends = np.flatnonzero(~goes_on).tolist()
        begins = np.flatnonzero(turns).tolist()
        m = len(x)
        bad = np.zeros(m, dtype=bool)
        i = 0
        while i < m:
            after = ends if unflyable else begins
            k = bisect_right(after, i)
            j = after[k] if k < len(after) else m
            if unflyable:
                bad[i:j] = True
            i, unflyable = j, not unflyable
        degraded = ~bad & (y < np.array(p_degraded)[months])
        fly = np.where(bad, 0.0, 1.0)
        deg = np.where(degraded, 1.0, 0.0)
        self._factor_plan[start:] = np.where(degraded, factor, 1.0).tolist()
        self.flyable_days[start:] = array("d", fly.tobytes())
        self.degraded_days[start:] = array("d", deg.tobytes())

    def step(self, day: int) -> float:
        """Make day ``day`` the current day; returns its ``flyable`` value (1.0 or 0.0, or
        the expected share). Days are stepped in order; an event between two steps
        re-plans the days after the last one stepped."""
        self._next = day + 1
        self.degraded = self.degraded_days[day]
        self.landing_factor = self._factor_plan[day]
        self.flyable = f = self.flyable_days[day]
        return f
