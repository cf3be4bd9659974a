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

The state of day ``d`` is decided when day ``d`` starts, with the parameters in
force that day, so a timeline event can change the climate mid-run. Nothing flies
from or to a place on a day its zone is unflyable; the siege's combat sorties fly
in the default zone (``[weather]``).
"""

from __future__ import annotations

import datetime as dt
from array import array

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
    """The day-by-day weather of one zone in one replication."""

    __slots__ = (
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
        "unflyable_today",
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
        self.unflyable_today = False
        n = len(month_of_day)
        self.flyable_days: array = zeros(n)  # the day's flyable value, per day
        self.degraded_days: array = zeros(n)  # the day's degraded value, per day
        self.configure(cfg)

    def configure(self, cfg: WeatherConfig) -> None:
        """Take the climate in force (at the start or after an event)."""
        self.unflyable = month_values(cfg.unflyable_share)
        self.spell = month_values(cfg.mean_spell_days)
        self.degraded_share = month_values(cfg.degraded_share)
        self.factor = cfg.degraded_landing_factor

    def step(self, day: int) -> float:
        """Decide day ``day``; returns its ``flyable`` value (1.0 or 0.0, or the expected share)."""
        m = self.month_of_day[day]
        u = self.unflyable[m]
        g = self.degraded_share[m]
        p_degraded = g / (1.0 - u) if g > 0.0 else 0.0
        if not self.stochastic:
            self.flyable = self.flyable_days[day] = 1.0 - u
            self.degraded = self.degraded_days[day] = g
            self.landing_factor = 1.0 + p_degraded * (self.factor - 1.0)
            return self.flyable
        x, y = self.stream.pair()  # the Markov step, the degraded draw
        if day == 0:
            unflyable = x < u
        elif self.unflyable_today:
            unflyable = x >= 1.0 / self.spell[m] and u > 0.0
        else:
            p = u / (1.0 - u) / self.spell[m]
            unflyable = x < (p if p < 1.0 else 1.0)
        self.unflyable_today = unflyable
        if unflyable:
            self.flyable = 0.0
            self.degraded = 0.0
            self.landing_factor = 1.0
        else:
            self.flyable = self.flyable_days[day] = 1.0
            if y < p_degraded:
                self.degraded = self.degraded_days[day] = 1.0
                self.landing_factor = self.factor
            else:
                self.degraded = 0.0
                self.landing_factor = 1.0
        return self.flyable
