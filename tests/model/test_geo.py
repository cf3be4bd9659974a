"""Great-circle distances."""

from __future__ import annotations

import pytest

from sim.model.geo import great_circle_km


def test_known_distances() -> None:
    # Amman Marka – Deir ez-Zor airbase, 534 km by the research notes (±5 km)
    assert great_circle_km(31.973, 35.992, 35.285, 40.176) == pytest.approx(534, abs=8)
    # a quarter of the equator
    assert great_circle_km(0.0, 0.0, 0.0, 90.0) == pytest.approx(10_007.5, rel=1e-3)
    assert great_circle_km(10.0, 20.0, 10.0, 20.0) == 0.0
