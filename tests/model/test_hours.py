"""Opening hours and the open clock: work counts only open hours."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.hours import EPS, OpeningHours

H = 1.0 / 24.0


def test_a_window_past_midnight() -> None:
    w = OpeningHours(20.0, 8.0)  # 20:00 to 04:00
    assert w.next_open(12 * H) == pytest.approx(20 * H)
    assert w.next_open(2 * H) == pytest.approx(2 * H)  # still open from the night before
    assert w.next_open(1 + 5 * H) == pytest.approx(1 + 20 * H)
    # 3 h of work from 03:00 on day 1: 1 h before closing, 2 h after the next opening
    pos = w.clock(1 + 3 * H)
    assert w.end(pos + 3 * H) == pytest.approx(1 + 22 * H)


def test_work_ending_at_closing_time_ends_then_and_work_starting_then_waits() -> None:
    w = OpeningHours(6.0, 12.0)
    pos = w.clock(6 * H)
    assert w.end(pos + 12 * H) == pytest.approx(18 * H)  # done at closing time
    assert w.start(pos + 12 * H) == pytest.approx(1 + 6 * H)  # not started before reopening


def test_always_open_is_plain_time() -> None:
    w = OpeningHours(0.0, 24.0)
    assert w.always
    assert (w.clock(3.7), w.start(3.7), w.end(3.7), w.next_open(3.7)) == (3.7, 3.7, 3.7, 3.7)


@settings(max_examples=200, deadline=None)
@given(
    opens=st.floats(0.0, 23.9),
    hours=st.floats(0.5, 23.5),
    t=st.floats(0.0, 30.0),
    work=st.floats(0.0, 40.0),
)
def test_the_open_clock_counts_open_hours_only(
    opens: float, hours: float, t: float, work: float
) -> None:
    w = OpeningHours(opens, hours)
    start = w.start(w.clock(t))
    assert start >= t - EPS
    assert w.next_open(t) == pytest.approx(start, abs=1e-9)
    done = w.end(w.clock(t) + work * H)
    # the open hours between start and done are exactly the work; none of it is closed time
    assert w.clock(done) - w.clock(start) == pytest.approx(work * H, abs=1e-9)
    # a day of open clock is `hours` of work, whatever the day
    assert w.clock(t + 1.0) - w.clock(t) == pytest.approx(hours * H, abs=1e-9)


@settings(max_examples=300, deadline=None)
@given(opens=st.floats(0.0, 23.9), hours=st.floats(0.5, 24.0), t=st.floats(0.0, 30.0))
def test_is_open_and_next_opening_agree_with_next_open(
    opens: float, hours: float, t: float
) -> None:
    """The quick tests the fleets use to wait for a window say what next_open says."""
    w = OpeningHours(opens, hours)
    nxt = w.next_open(t)
    if w.is_open(t):
        assert nxt == pytest.approx(t, abs=1e-9)
    else:
        assert nxt > t
        assert w.next_opening(t) == pytest.approx(nxt, abs=1e-9)
        assert w.is_open(w.next_opening(t))


def test_next_opening_is_the_next_window_from_outside_it() -> None:
    w = OpeningHours(10.0, 6.0)  # 10:00 to 16:00
    assert not w.is_open(18 * H) and w.next_opening(18 * H) == pytest.approx(1 + 10 * H)
    assert not w.is_open(1 + 9 * H) and w.next_opening(1 + 9 * H) == pytest.approx(1 + 10 * H)
    assert w.is_open(10 * H) and w.is_open(15.9 * H) and not w.is_open(16.1 * H)


@settings(max_examples=500, deadline=None)
@given(
    opens=st.floats(0.0, 23.9),
    hours=st.floats(0.5, 24.0),
    t=st.floats(0.0, 30.0),
    free=st.one_of(st.just(-float("inf")), st.floats(-1.0, 31.0)),
    work=st.one_of(st.just(0.0), st.floats(0.0, 2.0)),
)
def test_a_slot_is_clock_start_and_end_to_the_bit(
    opens: float, hours: float, t: float, free: float, work: float
) -> None:
    """slot() repeats clock(), start() and end() step for step (the bookings' one call)."""
    w = OpeningHours(opens, hours)
    pos = w.clock(t)
    if free > pos:
        pos = free
    begins = w.start(pos)
    done = w.end(pos + work) if work > 0.0 else begins
    if done < begins:
        done = begins
    assert w.slot(t, free, work) == (pos, begins, done)
    # to the bit: == would take -0.0 for 0.0
    assert [math.copysign(1.0, x) for x in w.slot(t, free, work)] == [
        math.copysign(1.0, x) for x in (pos, begins, done)
    ]
