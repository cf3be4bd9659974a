"""Places booked first come, first served: the heap gives the times a scan in order gives.

The places are interchangeable, so what must hold is that every booking sees the
same first free time, and the pool the same free times, as a scan of numbered places
that takes the smallest time (the lowest number on ties) would.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sim.model.places import Places

# Few distinct times, so that ties (several places free at once) are common.
times = st.sampled_from([0.0, 0.25, 0.5, 1.0, 1.5])


def scan_first(free: list[float]) -> int:
    """The place a scan in order picks: the smallest time, the lowest number on ties."""
    return min(range(len(free)), key=lambda i: (free[i], i))


@given(
    free=st.lists(times, min_size=1, max_size=12),
    holds=st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.5]), max_size=40),
)
def test_takes_the_time_a_scan_in_order_takes(free: list[float], holds: list[float]) -> None:
    places = Places(free)
    ref = list(free)
    for hold in holds:
        i = scan_first(ref)
        assert places.first() == ref[i]
        ref[i] += hold
        places.take(places.first() + hold)
        assert places.free_times() == sorted(ref, reverse=True)
        assert len(places) == len(ref)


@given(free=st.lists(times, min_size=1, max_size=12), n=st.integers(1, 15))
def test_resized_keeps_the_busiest_places(free: list[float], n: int) -> None:
    resized = Places(free).resized(n)
    assert len(resized) == n
    kept = free if n == len(free) else (sorted(free, reverse=True) + [0.0] * n)[:n]
    assert resized.free_times() == sorted(kept, reverse=True)


def test_new_places_are_free_at_once() -> None:
    places = Places([0.0, 0.0])
    places.take(0.5)
    assert places.free_times() == [0.5, 0.0]
    assert places.first() == 0.0
    places.take(0.25)  # the other place, free first
    assert places.free_times() == [0.5, 0.25]
    assert places.first() == 0.25
