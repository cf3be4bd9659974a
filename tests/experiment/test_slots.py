"""Shared slots: series written by a worker, taken out by the parent, the same to the bit."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from sim.experiment.packed import Placed, pack
from sim.experiment.slots import SharedSlots, slot_tasks
from sim.model.record import RunResult


def _result(r: int, series: int = 3, days: int = 5) -> RunResult:
    rng = np.random.default_rng(r)
    values = {f"s{i}": rng.normal(size=days) for i in range(series)}
    values["s0"][1] = np.nan
    return RunResult(
        replication=r,
        seed=r + 100,
        n_days=days,
        series=values,
        counters={"sorties": float(r)},
        balance={},
        events=[],
        sim_events=r,
    )


def _same(a: RunResult, b: RunResult) -> bool:
    return (
        a.replication == b.replication
        and list(a.series) == list(b.series)
        and all(a.series[k].tobytes() == b.series[k].tobytes() for k in a.series)
        and a.counters == b.counters
    )


def test_a_forked_worker_puts_the_series_and_the_parent_takes_them_back() -> None:
    results = [_result(r) for r in range(3)]
    slots = SharedSlots(2, slot_bytes=4096)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: its blocks into slot 1, where they are through a pipe
        try:
            os.write(write, pickle.dumps(slots.pack(1, results)))
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        packed = pickle.loads(pipe.read())
    os.waitpid(pid, 0)
    assert all(isinstance(b, Placed) and b.slot == 1 for b in packed.blocks)
    with pytest.raises(TypeError):
        packed.unpack()
    taken = slots.take(packed)
    slots.pack(1, [_result(7)] * 3)  # the slot written again: what was taken stays
    assert all(_same(a, b) for a, b in zip(results, taken.unpack(), strict=True))


def test_blocks_that_do_not_fit_travel_in_the_result() -> None:
    results = [_result(r) for r in range(3)]  # 3 series × 5 days: 120 bytes each
    slots = SharedSlots(1, slot_bytes=250)
    packed = slots.pack(0, results)
    kinds = [type(b) for b in packed.blocks]
    assert kinds == [Placed, Placed, np.ndarray]
    assert [b.offset for b in packed.blocks if isinstance(b, Placed)] == [0, 120]
    assert all(_same(a, b) for a, b in zip(results, slots.take(packed).unpack(), strict=True))


def test_slots_pickle_detached_and_then_pack_as_before() -> None:
    results = [_result(r) for r in range(2)]
    detached = pickle.loads(pickle.dumps(SharedSlots(3)))
    assert not detached.attached
    packed = detached.pack(0, results)
    assert all(isinstance(b, np.ndarray) for b in packed.blocks)
    plain = pack(results)
    assert all(
        a.tobytes() == b.tobytes()
        for a, b in zip(packed.blocks, plain.blocks, strict=True)
        if isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
    )
    assert detached.take(packed) is packed


def test_a_result_that_does_not_pack_is_left_whole() -> None:
    odd = _result(0)
    odd.series["short"] = np.zeros(2)  # not one length: not packed, not placed
    slots = SharedSlots(1)
    packed = slots.pack(0, [odd, _result(1)])
    assert packed.blocks[0] is None and isinstance(packed.blocks[1], Placed)
    back = slots.take(packed).unpack()
    assert back[0] is packed.shells[0] and _same(back[0], odd)
    assert _same(back[1], _result(1))


def test_tasks_take_the_slots_in_turn() -> None:
    chunks = [range(i, i + 1) for i in range(7)]
    assert slot_tasks(chunks, None) == chunks
    assert [slot for _, slot in slot_tasks(chunks, SharedSlots(3, slot_bytes=8))] == [
        0,
        1,
        2,
        0,
        1,
        2,
        0,
    ]
