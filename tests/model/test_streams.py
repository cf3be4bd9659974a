"""Named streams: reproducible, independent by name, one draw per opportunity."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.streams import BLOCK, ExpectedStream, Stream, make_stream, seed_sequence


def test_same_name_same_draws_other_name_other_draws() -> None:
    a, b, c = Stream(7, 2, "fleets:f:0:loss"), Stream(7, 2, "fleets:f:0:loss"), Stream(7, 2, "x")
    da = [a.uniform() for _ in range(100)]
    assert da == [b.uniform() for _ in range(100)]
    assert da != [c.uniform() for _ in range(100)]


def test_growing_blocks_give_the_plain_pcg64_sequence() -> None:
    s = Stream(3, 1, "weather")
    n = 3 * BLOCK + 17
    draws = [s.uniform() for _ in range(n)]
    rng = np.random.Generator(np.random.PCG64(seed_sequence(3, 1, "weather")))
    assert draws == rng.random(n).tolist()


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=60))
def test_every_trial_consumes_one_draw_whatever_its_probability(ps: list[float]) -> None:
    """CRN: the n-th trial reads the n-th uniform, whatever p the earlier trials had."""
    s, ref = Stream(5, 0, "s"), Stream(5, 0, "s")
    for p in ps:
        u = ref.uniform()
        assert s.share(p) == (1.0 if u < p else 0.0)
        assert s.bernoulli(p) == (ref.uniform() < p)


def test_a_stream_that_is_never_drawn_from_creates_no_generator() -> None:
    s = Stream(1, 0, "unused")
    assert s._rng is None
    s.uniform()
    assert s._rng is not None


def test_exponential_has_its_mean() -> None:
    s = Stream(11, 0, "e")
    x = [s.exponential(2.5) for _ in range(20_000)]
    assert np.mean(x) == pytest.approx(2.5, rel=0.03)


def test_expected_stream_replaces_draws_by_expectations() -> None:
    e = make_stream(False, 1, 0, "x")
    assert isinstance(e, ExpectedStream)
    assert e.share(0.3) == 0.3
    assert e.exponential(4.0) == 4.0
    assert e.binomial(10, 0.25) == 2.5
    assert e.poisson(3.5) == 3.5
    fired = [e.bernoulli(0.25, "k") for _ in range(8)]
    assert fired == [False, False, False, True] * 2


@given(before=st.integers(0, 1200), k=st.integers(0, 1500))
def test_uniforms_are_the_next_draws_in_order_across_blocks(before: int, k: int) -> None:
    """``uniforms(k)`` is k calls of ``uniform()``, and the stream goes on after them."""
    a, b = Stream(9, 1, "weather:x"), Stream(9, 1, "weather:x")
    for _ in range(before):
        a.uniform()
        b.uniform()
    bulk = a.uniforms(k)
    assert bulk.dtype == np.float64 and bulk.tolist() == [b.uniform() for _ in range(k)]
    assert [a.uniform() for _ in range(40)] == [b.uniform() for _ in range(40)]
