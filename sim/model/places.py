"""Places booked first come, first served: runways, parking places, loading slots.

A pool of identical places (the runways of an airfield, its parking places, a base's
loading slots), each known by the open-clock time it is free again
(:mod:`sim.model.hours`). An aircraft takes the place free first and holds it until a
time it books. The places are interchangeable: what happens next depends only on
*when* places are free (the multiset of their free times), never on which place is
which, so the pool is a binary heap of those times alone — the earliest at the top,
found in O(1) and replaced in O(log n) — not a list scanned in place order (a large
airlift's bases have hundreds of loading slots). Keeping bare floats rather than
(time, place number) pairs makes each comparison of the heap a float comparison.
"""

from __future__ import annotations

from heapq import heapify, heapreplace


class Places:
    """``n`` interchangeable places, each free from an open-clock time (days of open time)."""

    __slots__ = ("heap",)

    def __init__(self, free: list[float]) -> None:
        """Places free from the times ``free`` (one place per entry)."""
        heap = list(free)
        heapify(heap)
        self.heap = heap

    def __len__(self) -> int:
        return len(self.heap)

    def first(self) -> float:
        """When the place free first is free (open-clock time)."""
        return self.heap[0]

    def take(self, until: float) -> None:
        """The place free first is held until open-clock time ``until``."""
        heapreplace(self.heap, until)

    def free_times(self) -> list[float]:
        """When each place is free, latest first (the places are interchangeable)."""
        return sorted(self.heap, reverse=True)

    def resized(self, n: int) -> Places:
        """``n`` places: new ones free at once; fewer keep the busiest (still in use)."""
        if n == len(self.heap):
            return self
        return Places((self.free_times() + [0.0] * n)[:n])
