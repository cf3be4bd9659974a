"""Replication results packed for the trip from a worker process back to ``siege run``.

A replication's :class:`~sim.model.record.RunResult` holds its daily series as a dict of
some two hundred small arrays (219 series of 871 days, 1.5 MB, in the Deir ez-Zor
baseline). Pickled as they are, every array is a separate object to write in the
worker and to rebuild in the parent: about 1 ms each way a replication, on the
parent's side while both workers compute. :func:`pack` puts each replication's series
into one ``series × days`` block of doubles (a single copy in the pickle) beside the
names, sent once for consecutive replications with the same series;
:meth:`PackedResults.unpack` gives the results back, each series a row of its
replication's block (nothing copied, the values identical to the bit).

A replication whose series are not all one-dimensional float64 arrays of one length
(or a run function's result that is not a :class:`~sim.model.record.RunResult`)
travels as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from sim.model.record import RunResult


@dataclass(frozen=True)
class Placed:
    """Where a worker put a replication's block instead of sending it
    (:mod:`sim.experiment.slots`): ``offset`` bytes into slot ``slot``, a ``shape`` array
    of doubles."""

    slot: int
    offset: int
    shape: tuple[int, int]


Stacker = Callable[[list[np.ndarray], int], "np.ndarray | Placed"]
"""``stacker(series values, n_days)``: a replication's block, or where it was put."""


def stack(values: list[np.ndarray], n_days: int) -> np.ndarray:
    """A replication's series as one ``series × days`` block of doubles."""
    return np.stack(values) if values else np.zeros((0, n_days))


@dataclass(frozen=True)
class PackedResults:
    """Consecutive replications' results with their series packed (see the module).

    ``shells[i]`` is result ``i`` without its series when ``blocks[i]`` is an array (its
    series are the rows of ``blocks[i]``, named by ``names[i]``), else result ``i``
    whole (``blocks[i]`` is None, ``names[i]`` empty). A block may also be
    :class:`Placed` in a slot of shared memory, to be taken out before unpacking
    (:meth:`sim.experiment.slots.SharedSlots.take`).
    """

    shells: tuple[RunResult, ...]
    names: tuple[tuple[str, ...], ...]
    blocks: tuple[np.ndarray | Placed | None, ...]

    def unpack(self) -> list[RunResult]:
        """The results, in order, as they were packed."""
        out: list[RunResult] = []
        for shell, names, block in zip(self.shells, self.names, self.blocks, strict=True):
            if block is None:
                out.append(shell)
            elif isinstance(block, Placed):
                raise TypeError("a block placed in a shared slot is taken out before unpacking")
            else:
                out.append(replace(shell, series=dict(zip(names, block, strict=True))))
        return out


def pack(results: Sequence[RunResult], stacker: Stacker = stack) -> PackedResults:
    """``results`` packed: each one's series as one block (when they are all float64
    arrays of one length; ``stacker`` makes it, or puts it in a shared slot), the names
    shared by consecutive results that have the same."""
    shells: list[RunResult] = []
    names: list[tuple[str, ...]] = []
    blocks: list[np.ndarray | Placed | None] = []
    last: tuple[str, ...] = ()
    for result in results:
        values = list(result.series.values()) if isinstance(result, RunResult) else [None]
        if not _packable(values):
            shells.append(result)
            names.append(())
            blocks.append(None)
            continue
        keys = tuple(result.series)
        if keys == last:
            keys = last  # the same object: pickled once
        last = keys
        shells.append(replace(result, series={}))
        names.append(keys)
        blocks.append(stacker(values, result.n_days))
    return PackedResults(tuple(shells), tuple(names), tuple(blocks))


def _packable(values: Sequence[object]) -> bool:
    """Whether series ``values`` stack into one float64 block without a change."""
    if not all(isinstance(v, np.ndarray) and v.ndim == 1 and v.dtype == np.float64 for v in values):
        return False
    return len({v.shape for v in values if isinstance(v, np.ndarray)}) <= 1
