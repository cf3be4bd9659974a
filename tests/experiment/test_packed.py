"""Packed results: a chunk of replications crosses to the parent and comes back the same,
to the bit, each replication's series in one block."""

from __future__ import annotations

import pickle

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sim.experiment.packed import pack
from sim.model.record import RunResult

DAYS = 5

_values = hnp.arrays(np.float64, DAYS, elements=st.floats(allow_nan=True, allow_infinity=True))
_series = st.dictionaries(st.sampled_from(["a", "b__x", "c", "queue_h__y"]), _values, max_size=4)


def _result(r: int, series: dict[str, np.ndarray]) -> RunResult:
    return RunResult(
        replication=r,
        seed=7,
        n_days=DAYS,
        series=series,
        counters={"interdicted_t__road": float(r)},
        balance={("city", "food"): {"initial": 1.0}},
        events=[(r, "event")],
        sim_events=10 + r,
    )


def _identical(a: RunResult, b: RunResult) -> bool:
    """Equal in every field, the series in the same order and bit for bit (NaN too)."""
    return (
        (a.replication, a.seed, a.n_days, a.counters, a.balance, a.events, a.sim_events)
        == (b.replication, b.seed, b.n_days, b.counters, b.balance, b.events, b.sim_events)
        and list(a.series) == list(b.series)
        and all(
            a.series[k].dtype == b.series[k].dtype
            and a.series[k].tobytes() == b.series[k].tobytes()
            for k in a.series
        )
    )


@settings(max_examples=50, deadline=None)
@given(st.lists(_series, min_size=1, max_size=4))
def test_a_pickled_pack_unpacks_to_the_same_results(chunk: list[dict[str, np.ndarray]]) -> None:
    results = [_result(r, s) for r, s in enumerate(chunk)]
    back = pickle.loads(pickle.dumps(pack(results), protocol=pickle.HIGHEST_PROTOCOL)).unpack()
    assert len(back) == len(results)
    assert all(_identical(a, b) for a, b in zip(results, back, strict=True))


def test_each_replication_is_one_block_and_the_names_go_once() -> None:
    series = {"a": np.arange(DAYS, dtype=float), "b": np.ones(DAYS)}
    packed = pack([_result(0, dict(series)), _result(1, dict(series))])
    assert [b.shape for b in packed.blocks if b is not None] == [(2, DAYS), (2, DAYS)]
    assert packed.names[0] is packed.names[1]  # one tuple: pickled once
    assert all(shell.series == {} for shell in packed.shells)
    # a replication's series are rows of its own block, not of another's
    first, second = packed.unpack()
    assert first.series["a"].base is not second.series["a"].base


def test_series_that_do_not_stack_travel_as_they_are() -> None:
    odd = [
        {"a": np.arange(DAYS)},  # integers: stacking would make them doubles
        {"a": np.ones(DAYS), "b": np.ones(DAYS + 1)},  # two lengths
        {"a": np.ones((1, DAYS))},  # not one-dimensional
    ]
    results = [_result(r, s) for r, s in enumerate(odd)]
    packed = pack(results)
    assert packed.blocks == (None, None, None)
    back = packed.unpack()
    assert all(a is b for a, b in zip(results, back, strict=True))
    assert back[0].series["a"].dtype == np.arange(DAYS).dtype


def test_a_result_of_another_kind_travels_as_it_is() -> None:
    assert pack([{"metric": 1.0}]).unpack() == [{"metric": 1.0}]  # type: ignore[list-item]
