"""Designs: sizes, bounds, decoding into scenario values, determinism."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from sim.experiment.designs import Parameter, n_points, round_sig, sample

REC = Parameter("drop_zones.field.recovery", low=0.5, high=0.9)
AIR = Parameter("fleets.drops.aircraft", values=(1, 2, 3))
N_INT = Parameter("fleets.planes.aircraft", low=1, high=4, integer=True)
DATE = Parameter("events[0].date", low=dt.date(2016, 1, 1), high=dt.date(2016, 1, 10))


def test_grid_is_the_full_factorial_first_parameter_slowest() -> None:
    d = sample("grid", (AIR, REC), 3, seed=0)
    assert len(d) == 9 == n_points("grid", 2, 3, [3, 3])
    assert d.points[:4] == ((1, 0.5), (1, 0.7), (1, 0.9), (2, 0.5))
    assert d.x.shape == (9, 2)


def test_grid_levels_of_whole_numbers_and_dates_are_rounded_and_unique() -> None:
    assert N_INT.levels(4) == [1, 2, 3, 4]
    assert N_INT.levels(10) == [1, 2, 3, 4]  # no repeats on a narrow range
    assert DATE.levels(2) == [dt.date(2016, 1, 1), dt.date(2016, 1, 10)]


@pytest.mark.parametrize("n", [5, 16, 50])
def test_lhs_is_stratified_within_bounds(n: int) -> None:
    d = sample("lhs", (REC, N_INT, DATE), n, seed=3)
    assert len(d) == n
    rec = np.array([p[0] for p in d.points])
    assert rec.min() >= 0.5 and rec.max() <= 0.9
    # one point in each of the n equal slices of the range (Latin hypercube)
    bins = np.floor((d.x[:, 0] - 0.5) / 0.4 * n).astype(int)
    assert sorted(bins) == list(range(n))
    assert {p[1] for p in d.points} <= {1, 2, 3, 4}
    assert all(dt.date(2016, 1, 1) <= p[2] <= dt.date(2016, 1, 10) for p in d.points)


def test_integer_range_gives_every_whole_number_the_same_share() -> None:
    d = sample("lhs", (N_INT,), 400, seed=1)
    counts = np.bincount([p[0] for p in d.points])[1:]
    assert list(counts) == [100, 100, 100, 100]


def test_list_values_decode_by_index() -> None:
    assert [AIR.decode(x) for x in (0.0, 0.99, 1.0, 2.999, 3.0)] == [1, 1, 2, 3, 3]
    days = Parameter("fleets.drops.days", values=(["mon"], ["mon", "thu"]))
    assert days.decode(1.5) == ["mon", "thu"]


def test_floats_are_rounded_to_ten_significant_digits() -> None:
    d = sample("lhs", (REC,), 8, seed=2)
    for (v,) in d.points:
        assert v == round_sig(v) and float(format(v, ".10g")) == v


@pytest.mark.parametrize("design,n,expected", [("sobol", 8, 8 * 5), ("morris", 6, 6 * 4)])
def test_sobol_and_morris_sizes(design: str, n: int, expected: int) -> None:
    d = sample(design, (REC, N_INT, AIR), n, seed=5)
    assert len(d) == expected == n_points(design, 3, n, [])
    assert d.x.shape == (expected, 3)
    lo = np.array([0.5, 1.0, 0.0])
    hi = np.array([0.9, 5.0, 3.0])
    assert np.all(d.x >= lo) and np.all(d.x <= hi)


def test_morris_trajectories_move_one_parameter_at_a_time() -> None:
    d = sample("morris", (REC, N_INT, AIR), 4, seed=5)
    for t in range(4):
        block = d.x[t * 4 : (t + 1) * 4]
        changed = (np.abs(np.diff(block, axis=0)) > 1e-12).sum(axis=1)
        assert list(changed) == [1, 1, 1]


@pytest.mark.parametrize("design", ["lhs", "sobol", "morris"])
def test_designs_are_deterministic_in_the_seed(design: str) -> None:
    a = sample(design, (REC, N_INT), 8, seed=7)
    b = sample(design, (REC, N_INT), 8, seed=7)
    c = sample(design, (REC, N_INT), 8, seed=8)
    assert a.points == b.points
    assert np.array_equal(a.x, b.x)
    assert a.points != c.points


def test_unknown_design() -> None:
    with pytest.raises(ValueError, match="unknown design"):
        sample("taguchi", (REC,), 4, seed=0)
