"""Slots of memory shared with forked workers: a chunk's daily series come back to
``siege run`` without a trip through the pool's pipe.

A replication of the Deir ez-Zor baseline carries 1.5 MB of daily series (215 series ×
871 days of doubles); a chunk of four, 6 MB. Through the pool's pipe that block is
copied into the pickle, written to the pipe 64 kB at a time, read back by the parent's
pool thread into a growing buffer and copied again out of it: 0.5–0.6 s of the parent's
CPU and 0.4 s of the workers' for 200 replications, while both workers compute and
the three processes share two cores.

:class:`SharedSlots` is one anonymous shared mapping made by the parent *before* its
workers fork (they inherit it; nothing is named in ``/dev/shm``, nothing outlives the
processes that map it), cut into :attr:`~SharedSlots.count` slots of
:data:`SLOT_BYTES` each. The parent gives every task a slot; the worker writes each
replication's ``series × days`` block into that slot (:meth:`SharedSlots.pack`) and
sends back only where it put them (:class:`~sim.experiment.packed.Placed`); the parent
copies each block out (:meth:`SharedSlots.take`) before the slot is given to another
task. Pages are
touched, hence counted in a process's resident memory, only as far as a slot is
filled.

The mapping cannot be sent to a process that is not forked: pickled, it arrives
*detached* (:attr:`SharedSlots.attached` false), and the worker packs its blocks into
its result as before (:mod:`sim.experiment.packed`). So does a block that does not fit
in what is left of its slot.
"""

from __future__ import annotations

import mmap
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from sim.experiment.packed import PackedResults, Placed, pack, stack
from sim.model.record import RunResult

SLOT_BYTES = 32 * 2**20
"""Room in each slot (bytes of address space; memory only as far as it is written): a
chunk of four replications of up to 1,000 series of 1,000 days. Blocks beyond it travel
in the result."""


class SharedSlots:
    """``count`` slots of ``slot_bytes`` in one anonymous shared mapping (see the module
    docstring). Made in the parent before the workers fork."""

    def __init__(self, count: int, slot_bytes: int = SLOT_BYTES) -> None:
        self.count = count
        self.slot_bytes = slot_bytes
        self._map: mmap.mmap | None = mmap.mmap(-1, count * slot_bytes) if count else None

    @property
    def attached(self) -> bool:
        """Whether this process maps the slots (false once pickled: see the module)."""
        return self._map is not None

    def __reduce__(self) -> tuple[Any, ...]:
        return (SharedSlots, (0, self.slot_bytes))  # detached: a mapping does not pickle

    def _array(self, place: Placed) -> np.ndarray:
        assert self._map is not None
        rows, days = place.shape
        start = place.slot * self.slot_bytes + place.offset
        flat = np.frombuffer(self._map, dtype=np.float64, count=rows * days, offset=start)
        return flat.reshape(place.shape)

    def pack(self, slot: int, results: Sequence[RunResult]) -> PackedResults:
        """Worker side: ``results`` packed (:func:`~sim.experiment.packed.pack`), each
        block written into slot ``slot`` and replaced by its :class:`Placed`, as far as
        they fit (the others travel in the result); all of them when detached."""
        if self._map is None:
            return pack(results)
        offset = 0

        def put(values: list[np.ndarray], n_days: int) -> np.ndarray | Placed:
            nonlocal offset
            days = values[0].size if values else n_days
            nbytes = len(values) * days * 8
            if not values or offset + nbytes > self.slot_bytes:
                return stack(values, n_days)
            place = Placed(slot, offset, (len(values), days))
            np.stack(values, out=self._array(place))
            offset += nbytes
            return place

        return pack(results, put)

    def take(self, packed: PackedResults) -> PackedResults:
        """Parent side: ``packed`` with every :class:`Placed` block copied out of its slot
        (the slot may then be written again)."""
        if not any(isinstance(b, Placed) for b in packed.blocks):
            return packed
        blocks = tuple(self._array(b).copy() if isinstance(b, Placed) else b for b in packed.blocks)
        return replace(packed, blocks=blocks)


def slot_tasks(chunks: Sequence[range], slots: SharedSlots | None) -> list[Any]:
    """The pool's tasks for ``chunks``: ``(chunk, slot)``, the slots taken in turn, when
    there are slots; else the chunks themselves."""
    if slots is None:
        return list(chunks)
    return [(chunk, i % slots.count) for i, chunk in enumerate(chunks)]
