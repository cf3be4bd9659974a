"""Places booked first come, first served: runways, parking places, loading slots.

A pool of identical places (the runways of an airfield, its parking places, a base's
loading slots), each known by the open-clock time it is free again
(:mod:`sim.model.hours`). An aircraft takes the place free first — among places free
at the same time, the one with the lowest number — and holds it until a time it
books. Only that place changes, so the pool is a binary heap of (free time, place
number): the place free first is at the top, on ties the lowest number, which is the
same place a scan of the places in order would pick, at a cost that grows with the
logarithm of the places rather than with their number (a large airlift's bases have
hundreds of loading slots).
"""

from __future__ import annotations

from heapq import heapify, heapreplace


class Places:
    """``n`` places, each free from an open-clock time (days of open time)."""

    __slots__ = ("heap",)

    def __init__(self, free: list[float]) -> None:
        """Places free from the times ``free`` (place ``i`` from ``free[i]``)."""
        heap = [(t, i) for i, t in enumerate(free)]
        heapify(heap)
        self.heap = heap

    def __len__(self) -> int:
        return len(self.heap)

    def first(self) -> float:
        """When the place free first is free (open-clock time)."""
        return self.heap[0][0]

    def take(self, until: float) -> None:
        """The place free first is held until open-clock time ``until``."""
        heap = self.heap
        heapreplace(heap, (until, heap[0][1]))

    def free_times(self) -> list[float]:
        """When each place is free, in the order of their numbers."""
        out = [0.0] * len(self.heap)
        for t, i in self.heap:
            out[i] = t
        return out

    def resized(self, n: int) -> Places:
        """``n`` places: new ones free at once; fewer keep the busiest (still in use)."""
        free = self.free_times()
        if n == len(free):
            return self
        return Places((sorted(free, reverse=True) + [0.0] * n)[:n])
