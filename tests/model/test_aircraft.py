"""One aircraft: breakdowns in calendar time, the flying-hour budget, the service log."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.model.aircraft import Aircraft, FlyingHours, Maintenance
from sim.model.streams import Stream


def test_breakdowns_last_repair_days_and_leave_mc_of_the_time_up() -> None:
    m = Maintenance(Stream(1, 0, "fleets:f:0:maintenance"), 0.8, 3.0)
    times = np.arange(0.0, 50_000.0, 0.25)
    up = m.up_at(times)
    assert up.mean() == pytest.approx(0.8, abs=0.02)
    downs = np.diff(np.concatenate([[0], (up == 0).astype(int), [0]]))
    lengths = (np.flatnonzero(downs == -1) - np.flatnonzero(downs == 1)) * 0.25
    assert lengths.mean() == pytest.approx(3.0, rel=0.08)


def test_next_up_is_the_end_of_the_breakdown() -> None:
    m = Maintenance(Stream(2, 0, "m"), 0.5, 2.0)
    for t in np.linspace(0.0, 200.0, 801):
        u = m.next_up(float(t))
        assert u >= t
        assert m.is_up(u) and (u == t) == m.is_up(float(t))


def test_periods_do_not_depend_on_when_they_are_asked_for() -> None:
    a, b = Maintenance(Stream(3, 0, "m"), 0.7, 1.5), Maintenance(Stream(3, 0, "m"), 0.7, 1.5)
    b.next_up(500.0)  # draws far ahead first
    times = np.arange(0.0, 400.0, 0.1)
    assert [a.is_up(float(t)) for t in times] == b.up_at(times).astype(bool).tolist()


def test_always_or_never_fit_to_fly() -> None:
    assert Maintenance(Stream(1, 0, "m"), 1.0, 2.0).next_up(5.0) == 5.0
    assert Maintenance(Stream(1, 0, "m"), 0.0, 2.0).next_up(5.0) == math.inf


def test_a_new_rate_applies_after_the_period_under_way() -> None:
    m = Maintenance(Stream(5, 0, "m"), 0.5, 2.0)
    m.next_up(100.0)
    drawn = len(m.bounds)
    m.configure(0.9, 2.0, now=10.0)
    assert len(m.bounds) < drawn and m.bounds[-1] > 10.0


def test_the_budget_holds_one_sortie_and_refills_at_the_ute_rate() -> None:
    b = FlyingHours()
    assert b.affordable(0.0, 4.0) == 0.0  # no budget: always
    b.configure(8.0, 4.0)  # 8 h a day, a sortie of 4 h
    assert b.affordable(0.0, 4.0) == 0.0  # starts full
    b.spend(0.0, 4.0)
    assert b.affordable(0.1, 4.0) == pytest.approx(0.5)  # 4 h at 8 h a day
    b.spend(0.5, 5.0)  # a diversion: more than the sortie, the budget goes to -1 h
    assert b.affordable(0.5, 4.0) == pytest.approx(0.5 + 5.0 / 8.0)
    b.pause(1.0, 3.0)  # 3 h at day 1, then grounded two days: nothing accrues
    assert b.affordable(3.0, 4.0) == pytest.approx(3.0 + 1.0 / 8.0)
    b.spend(10.0, 0.0)
    assert b.level == pytest.approx(4.0)  # never more than one sortie saved up


def test_the_service_log_gives_the_weight_in_service_at_each_day_end() -> None:
    ac = Aircraft(0, (Stream(1, 0, "a"), Stream(1, 0, "b"), Stream(1, 0, "c"), Stream(1, 0, "d")))
    ac.service += [(0.0, 1.0), (2.5, 0.0), (4.0, 1.0), (4.0, 0.6)]
    # a change at midnight (4.0) counts from the day it starts (day 4, ending at 5.0)
    assert ac.in_service(np.arange(1.0, 7.0)).tolist() == [1.0, 1.0, 0.0, 0.0, 0.6, 0.6]


def test_unchanged_rates_keep_the_periods_drawn() -> None:
    """An event that leaves MC and repair_days alone must not reshuffle breakdowns."""
    a, b = Maintenance(Stream(6, 0, "m"), 0.7, 2.0), Maintenance(Stream(6, 0, "m"), 0.7, 2.0)
    a.next_up(300.0)
    b.next_up(300.0)
    b.configure(0.7, 2.0, now=10.0)
    assert a.bounds == b.bounds


def test_up_now_judges_as_the_periods_drawn_and_remembers_the_up_period() -> None:
    m = Maintenance(Stream(4, 0, "m"), 0.6, 2.0)
    ref = Maintenance(Stream(4, 0, "m"), 0.6, 2.0)
    hits = 0
    for t in np.arange(0.0, 300.0, 0.05):
        t = float(t)
        remembered = m.up_from <= t < m.up_to
        up = remembered or m.up_now(t)
        hits += remembered
        assert up == (ref.next_up(t) <= t)
        if up:  # remembered now (or, when just drawn by next_up(), at the next question)
            assert (m.up_from <= t < m.up_to) or (m.up_now(t) and m.up_from <= t < m.up_to)
    assert hits > 1000  # the remembered period answered most questions


def test_the_up_period_remembered_is_forgotten_when_the_rates_change() -> None:
    """configure() cuts the periods drawn after ``now``: one remembered from beyond is gone."""
    m = Maintenance(Stream(7, 0, "m"), 0.5, 2.0)
    m.next_up(200.0)
    t = next(float(x) for x in np.arange(50.0, 200.0, 0.05) if m.up_now(float(x)))
    old = (m.up_from, m.up_to)
    m.configure(0.05, 20.0, now=10.0)  # mostly broken down from the period after day 10 on
    ref = Maintenance(Stream(7, 0, "m"), 0.5, 2.0)
    ref.next_up(200.0)
    ref.configure(0.05, 20.0, now=10.0)
    times = [float(x) for x in np.arange(t, old[1], 0.01)]
    want = [ref.next_up(x) <= x for x in times]
    assert not all(want)  # the old up period is no longer all up
    assert [(m.up_from <= x < m.up_to) or m.up_now(x) for x in times] == want
