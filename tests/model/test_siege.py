"""The siege: besieger weapons, combat sorties, the threat, and no siege at all."""

from __future__ import annotations

import pytest
from model_helpers import drop_fleet, scenario

from sim.model.siege import Siege
from sim.model.streams import ExpectedStream
from sim.model.world import run_replication
from sim.scenario.schema import Siege as SiegeConfig


def test_siege_deterministic_dynamics() -> None:
    cfg = SiegeConfig(
        weapons=100,
        reinforcement_per_day=2,
        reference_weapons=50,
        combat_sorties_per_day=60,
        targets_per_sortie=0.05,
        unflyable_sortie_share=0.5,
    )
    s = Siege(cfg, ExpectedStream(0, 0, "siege"))
    s.start_day(1.0)
    assert s.theta == 2.0
    assert s.sorties_today == 60 and s.destroyed_today == 3.0
    assert s.weapons == 99.0
    s.start_day(0.0)
    assert s.sorties_today == 30 and s.weapons == pytest.approx(99.5)
    s.start_day(0.8)  # deterministic limit: the day's flyable share
    assert s.sorties_today == pytest.approx(60 * (0.8 + 0.2 * 0.5))


@pytest.mark.parametrize(
    ("theta", "e", "expected"), [(1.0, 3.0, 1.0), (2.0, 1.0, 2.0), (2.0, 0.0, 1.0), (0.0, 2.0, 0.0)]
)
def test_threat_multiplier(theta, e, expected) -> None:
    assert Siege.multiplier(theta, e) == expected


def test_without_a_siege_the_threat_is_one_and_nothing_is_zeroed() -> None:
    s = Siege(None, ExpectedStream(0, 0, "siege"))
    s.start_day(1.0)
    assert s.theta == 1.0
    assert (s.loss, s.interdiction, s.ammunition, s.closure) == (1.0, 1.0, 1.0, 0.0)
    assert s.sorties_today == 0.0


def test_a_loss_rate_applies_as_written_without_a_siege() -> None:
    """Defect fixed: a missing [siege] used to give θ = 0 and so no losses at all."""
    s = scenario(
        stochastic=False,
        drop_zones={"dz": {"pocket": "city", "recovery": 1.0}},
        fleets={"f": drop_fleet(sorties_per_day=1.0, loss_per_sortie=0.05)},
    )
    assert s.siege is None
    r = run_replication(s, 0)
    assert r.series["threat"].tolist() == [1.0] * s.calendar.n_days
    # survival after k sorties is 0.95^k: 84 daily sorties lose 1 − 0.95^84 of the aircraft
    assert r.series["aircraft_lost__f"].sum() == pytest.approx(1 - 0.95**84)


def test_interdiction_applies_as_written_without_a_siege() -> None:
    s = scenario(
        stochastic=False,
        pockets={
            "a": {"civilians": 0, "garrison": 100, "stock_t": {"food": 1000.0}},
            "b": {"civilians": 0, "garrison": 100, "stock_t": {"food": 0.0}},
        },
        routes={"r": {"a": "a", "b": "b", "capacity_t_day": 10.0, "interdiction": 0.5}},
    )
    r = run_replication(s, 0)
    assert r.counters["interdicted_t__r"] > 0
    assert r.counters["interdicted_t__r"] == pytest.approx(r.series["transfer_t__r"].sum() / 2)


def test_combat_sorties_fly_only_a_share_on_unflyable_days() -> None:
    s = scenario(
        weather={"unflyable_share": 0.3, "mean_spell_days": 2},
        siege={"weapons": 10, "combat_sorties_per_day": 50, "targets_per_sortie": 0.0},
    )
    r = run_replication(s, 0)
    bad = r.series["flyable"] == 0
    assert bad.any()
    assert r.series["combat_sorties"][bad].sum() == 0
