"""Replications of one scenario.

Replication ``r`` of a run with root seed ``seed`` draws every random number from
streams derived from ``(seed, r, component name)``, so its result does not depend on
how many workers run or in which order they finish. Results are yielded in
replication order.
"""

from __future__ import annotations

from collections.abc import Iterator

from sim.model.record import RunResult
from sim.model.world import run_replication
from sim.scenario.schema import Scenario


def iter_replications(
    scenario: Scenario, replications: int, seed: int, workers: int = 1
) -> Iterator[RunResult]:
    """Yield the results of replications ``0 .. replications-1`` in order."""
    for r in range(replications):
        yield run_replication(scenario, r, seed)
