"""Replications in parallel: identical to serial, in replication order, whatever
workers die on the way (or an error naming the replication that kills them)."""

from __future__ import annotations

import secrets
from pathlib import Path

import numpy as np
import pytest
import sweep_fakes
from hypothesis import given
from hypothesis import strategies as st

from sim.experiment.executors import WorkerLostError, warm_start_context
from sim.experiment.packed import PackedResults, Placed
from sim.experiment.replicate import chunk_size, iter_replications, split_chunks
from sim.experiment.slots import SharedSlots
from sim.model.record import RunResult
from sim.scenario.load import load_scenario


def _same(a: RunResult, b: RunResult) -> bool:
    return (
        a.replication == b.replication
        and a.seed == b.seed
        and a.series.keys() == b.series.keys()
        and all(np.array_equal(a.series[k], b.series[k], equal_nan=True) for k in a.series)
        and a.counters == b.counters
        and a.balance == b.balance
        and a.events == b.events
    )


def test_two_workers_give_the_serial_results_in_order(tiny_path: Path) -> None:
    scenario = load_scenario(tiny_path)
    serial = list(iter_replications(scenario, 7, seed=3, workers=1))
    parallel = list(iter_replications(scenario, 7, seed=3, workers=2))
    assert [r.replication for r in parallel] == list(range(7))
    assert all(_same(a, b) for a, b in zip(serial, parallel, strict=True))
    # and the replications differ from each other (the streams are per replication)
    assert not _same(serial[0], serial[1])


def test_more_workers_than_replications(tiny_path: Path) -> None:
    scenario = load_scenario(tiny_path)
    assert [r.replication for r in iter_replications(scenario, 1, seed=3, workers=4)] == [0]
    assert list(iter_replications(scenario, 0, seed=3, workers=2)) == []


@pytest.fixture
def placed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many blocks came back placed in shared slots (``SharedSlots.take`` watched)."""
    seen: list[int] = []
    take = SharedSlots.take

    def watched(self: SharedSlots, packed: PackedResults) -> PackedResults:
        seen.append(sum(isinstance(b, Placed) for b in packed.blocks))
        return take(self, packed)

    monkeypatch.setattr(SharedSlots, "take", watched)
    return seen


@pytest.mark.parametrize("fork", [False, True])
def test_chunked_tasks_give_the_serial_results_in_order(
    tiny_path: Path, fork: bool, placed: list[int]
) -> None:
    """From the fork server's workers (results through the pool's pipe) or from workers
    forked here (series through shared slots: every block placed; a process with
    threads, e.g. left by an earlier test, does not fork, and sends them as before)."""
    forks = fork and warm_start_context().get_start_method() == "fork"
    scenario = load_scenario(tiny_path)
    assert chunk_size(37, 2) == 4  # 37 replications go out in chunks of 4 (the last of 1)
    serial = list(iter_replications(scenario, 37, seed=9, workers=1))
    parallel = list(iter_replications(scenario, 37, seed=9, workers=2, fork=fork))
    assert [r.replication for r in parallel] == list(range(37))
    assert all(_same(a, b) for a, b in zip(serial, parallel, strict=True))
    assert sum(placed) == (37 if forks else 0)


def test_chunk_size_keeps_every_worker_busy() -> None:
    assert chunk_size(7, 2) == 1
    assert chunk_size(16, 2) == 2
    assert chunk_size(1000, 2) == 4
    assert chunk_size(1000, 64) == 3


@given(st.integers(0, 50), st.integers(1, 300), st.integers(2, 8))
def test_chunks_cover_the_replications_in_order_and_end_one_by_one(
    first: int, replications: int, workers: int
) -> None:
    chunks = split_chunks(first, replications, workers)
    assert [r for c in chunks for r in c] == list(range(first, first + replications))
    size = chunk_size(replications, workers)
    assert all(1 <= len(c) <= size for c in chunks)
    ones = min(replications, workers * size) if size > 1 else replications
    assert all(len(c) == 1 for c in chunks[len(chunks) - ones :])


def test_two_hundred_replications_on_two_workers_end_with_eight_singles() -> None:
    sizes = [len(c) for c in split_chunks(0, 200, 2)]
    assert sizes == [4] * 48 + [1] * 8


@pytest.mark.parametrize("fork", [False, True])
def test_a_worker_killed_once_changes_nothing(tiny_path: Path, fork: bool) -> None:
    scenario = load_scenario(tiny_path)
    seed = secrets.randbelow(2**31)  # a fresh marker: replication 3 dies the first time
    marker = sweep_fakes.died_marker(seed, 3)
    try:
        serial = list(iter_replications(scenario, 37, seed=seed, workers=1))
        parallel = list(
            iter_replications(
                scenario,
                37,
                seed=seed,
                workers=2,
                run_fn=sweep_fakes.replication_dies_once,
                fork=fork,
            )
        )
        assert marker.exists()  # it did die
    finally:
        marker.unlink(missing_ok=True)
    assert [r.replication for r in parallel] == list(range(37))
    assert all(_same(a, b) for a, b in zip(serial, parallel, strict=True))


@pytest.mark.parametrize("fork", [False, True])
def test_a_replication_that_keeps_killing_its_worker_is_named(tiny_path: Path, fork: bool) -> None:
    scenario = load_scenario(tiny_path)
    run = iter_replications(
        scenario, 37, seed=9, workers=2, run_fn=sweep_fakes.replication_3_dies, fork=fork
    )
    with pytest.raises(WorkerLostError) as err:
        list(run)
    assert str(err.value) == (
        "replication 3 of tiny: the worker process running it died 3 times "
        "(killed by a signal, or out of memory?)"
    )
