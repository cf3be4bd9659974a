"""Places booked first come, first served: the heap picks the place a scan in order picks."""

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
def test_takes_the_place_a_scan_in_order_takes(free: list[float], holds: list[float]) -> None:
    places = Places(free)
    ref = list(free)
    for hold in holds:
        i = scan_first(ref)
        assert places.first() == ref[i]
        assert places.heap[0][1] == i  # the same place, not only the same time
        ref[i] += hold
        places.take(places.first() + hold)
        assert places.free_times() == ref


@given(free=st.lists(times, min_size=1, max_size=12), n=st.integers(1, 15))
def test_resized_keeps_the_busiest_places(free: list[float], n: int) -> None:
    resized = Places(free).resized(n)
    assert len(resized) == n
    kept = free if n == len(free) else (sorted(free, reverse=True) + [0.0] * n)[:n]
    assert resized.free_times() == kept


def test_new_places_are_free_at_once() -> None:
    places = Places([0.0, 0.0])
    places.take(0.5)
    assert places.free_times() == [0.5, 0.0]
    places.take(0.25)  # place 1, free first
    assert places.free_times() == [0.5, 0.25]
    assert places.first() == 0.25
