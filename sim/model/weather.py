"""Flyable and unflyable days: a two-state Markov chain.

With stationary unflyable share ``u`` and mean unflyable spell ``L`` days, an
unflyable day is followed by another with probability ``1 − 1/L`` and a flyable
day turns unflyable with probability ``u / (1 − u) / L`` (capped at 1: a share
above one half cannot come with one-day spells). Day 0 is drawn from the
stationary distribution. Nothing flies on an unflyable day, airlift or combat
(the siege keeps a share of its tempo, see :mod:`sim.model.siege`).

The state of day ``d`` is decided when day ``d`` starts, with the parameters in
force that day, so a timeline event can change the climate mid-run.
"""

from __future__ import annotations

from sim.model.streams import Stream
from sim.scenario.schema import Weather as WeatherConfig


class Weather:
    """The day-by-day weather of one replication."""

    __slots__ = ("flyable", "markov", "mean_spell_days", "stream", "unflyable_share")

    def __init__(self, cfg: WeatherConfig, stream: Stream) -> None:
        self.stream = stream
        self.flyable = True
        # The deterministic limit keeps only the long-run share, not the spells.
        self.markov = type(stream) is Stream
        self.configure(cfg)

    def configure(self, cfg: WeatherConfig) -> None:
        """Take the climate parameters in force (at the start or after an event)."""
        self.unflyable_share = cfg.unflyable_share
        self.mean_spell_days = cfg.mean_spell_days

    def step(self, day: int) -> bool:
        """Decide whether day ``day`` is flyable; returns it and keeps it in ``flyable``."""
        u = self.unflyable_share
        if u <= 0.0:
            self.flyable = True
            return True
        if day == 0 or not self.markov:
            unflyable = self.stream.bernoulli(u, "weather")
        elif self.flyable:
            unflyable = self.stream.bernoulli(
                min(1.0, u / (1.0 - u) / self.mean_spell_days), "weather"
            )
        else:
            unflyable = not self.stream.bernoulli(1.0 / self.mean_spell_days, "weather_end")
        self.flyable = not unflyable
        return self.flyable
