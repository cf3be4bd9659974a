"""The besieging force, the combat air sorties flown against it, and the threat.

State: the besiegers' heavy weapons H (a count). Each day:

1. the threat of the day is θ = H / H_ref, and every threat effect is the
   multiplier ``max(0, 1 + e (θ − 1))`` for its elasticity ``e``
   (:meth:`Siege.multiplier`);
2. the realised combat sorties are Poisson around the planned tempo S
   (sorties/day), of which only a share ``unflyable_sortie_share`` is flown on an
   unflyable day;
3. each sortie destroys on average ``targets_per_sortie`` targets (Poisson, at most
   H) — calibrated on about 22 targets destroyed by 60–70 sorties in 24 hours;
4. H grows by ``reinforcement_per_day`` and loses what was destroyed (never < 0).

The tempo S, the reinforcement and the effect elasticities are parameters a
timeline event may change; setting ``siege.weapons`` in an event moves H itself.

Without a ``[siege]`` the threat is θ = 1 for ever: every multiplier is 1, so loss
rates, route interdiction and ammunition use apply as written; there are no combat
sorties and no shelling closures (their chance is a siege parameter). An event that
sets a siege key brings the siege in from that day.

On a day the default weather zone is unflyable only a share ``unflyable_sortie_share``
of the tempo is flown; in the deterministic limit the day's flyable share f gives
the tempo × (f + (1 − f) × that share).
"""

from __future__ import annotations

from sim.model.streams import Stream
from sim.scenario.schema import Siege as SiegeConfig


class Siege:
    """Besieger weapons, combat sorties and the threat multipliers of the day."""

    __slots__ = (
        "ammunition",
        "closure",
        "closure_mean_days",
        "closure_per_day",
        "destroyed_today",
        "e_ammunition",
        "e_closure",
        "e_interdiction",
        "e_loss",
        "exists",
        "h_ref",
        "interdiction",
        "loss",
        "reinforcement",
        "sorties_today",
        "stream",
        "targets_per_sortie",
        "tempo",
        "theta",
        "unflyable_share",
        "weapons",
    )

    def __init__(self, cfg: SiegeConfig | None, stream: Stream) -> None:
        self.stream = stream
        self.weapons = float(cfg.weapons) if cfg is not None else 0.0
        self.sorties_today = 0.0
        self.destroyed_today = 0.0
        self.configure(cfg)
        self._update_threat()

    def configure(self, cfg: SiegeConfig | None) -> None:
        """Take the siege parameters in force (H itself is state, see :meth:`set_weapons`)."""
        self.exists = cfg is not None
        if cfg is None:
            cfg = SiegeConfig()
        self.reinforcement = cfg.reinforcement_per_day
        self.h_ref = cfg.reference_weapons
        self.tempo = cfg.combat_sorties_per_day
        self.targets_per_sortie = cfg.targets_per_sortie
        self.unflyable_share = cfg.unflyable_sortie_share
        eff = cfg.effects
        self.closure_per_day = eff.airfield_closure_per_day
        self.closure_mean_days = eff.closure_mean_days
        self.e_closure = eff.closure
        self.e_loss = eff.sortie_loss
        self.e_interdiction = eff.interdiction
        self.e_ammunition = eff.ammunition

    def set_weapons(self, weapons: float) -> None:
        """Move H to a new level (an event: weapons brought in or withdrawn)."""
        self.weapons = float(weapons)

    @staticmethod
    def multiplier(theta: float, elasticity: float) -> float:
        """Effect multiplier ``max(0, 1 + e (θ − 1))``: 1 at θ = 1, proportional to θ for e = 1."""
        m = 1.0 + elasticity * (theta - 1.0)
        return m if m > 0.0 else 0.0

    def _update_threat(self) -> None:
        if not self.exists:  # no siege: θ = 1 for ever, everything as written
            self.theta = 1.0
            self.closure = 0.0
            self.loss = self.interdiction = self.ammunition = 1.0
            return
        theta = self.weapons / self.h_ref
        self.theta = theta
        x = theta - 1.0  # the multipliers of multiplier(), inlined (called every day)
        m = 1.0 + self.e_closure * x
        self.closure = self.closure_per_day * (m if m > 0.0 else 0.0)
        m = 1.0 + self.e_loss * x
        self.loss = m if m > 0.0 else 0.0
        m = 1.0 + self.e_interdiction * x
        self.interdiction = m if m > 0.0 else 0.0
        m = 1.0 + self.e_ammunition * x
        self.ammunition = m if m > 0.0 else 0.0

    def start_day(self, flyable: float) -> None:
        """Fix the day's threat (from H at dawn) and fly the day's combat sorties.

        ``flyable``: 1 or 0 for the default zone's day (its share, deterministic limit).
        """
        self._update_threat()
        if not self.exists:
            return
        share = flyable + (1.0 - flyable) * self.unflyable_share
        sorties = self.stream.poisson(self.tempo * share)
        destroyed = self.stream.poisson(sorties * self.targets_per_sortie)
        if destroyed > self.weapons:
            destroyed = self.weapons
        self.sorties_today = sorties
        self.destroyed_today = destroyed
        h = self.weapons + self.reinforcement - destroyed
        self.weapons = h if h > 0.0 else 0.0
