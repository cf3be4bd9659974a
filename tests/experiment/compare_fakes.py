"""Stand-ins for the model in comparison tests: module-level, so they pickle into workers.

Imported as ``compare_fakes`` (this folder is on pytest's ``pythonpath``). Each runs the
real model, so a comparison made with it has the same files as one made without.
"""

from __future__ import annotations

import time

from sim.model.record import RunResult
from sim.model.world import run_replication
from sim.scenario.schema import Scenario


def slow(scenario: Scenario, replication: int, seed: int) -> RunResult:
    """The model, after 50 ms: slow enough to be stopped half-way."""
    time.sleep(0.05)
    return run_replication(scenario, replication, seed)


class StopAt:
    """The model, but Ctrl-C (``KeyboardInterrupt``) when scenario ``payload_t`` reaches
    replication ``at`` (serial runs only: it counts in the calling process)."""

    def __init__(self, payload_t: float, at: int) -> None:
        self.payload_t = payload_t
        self.at = at

    def __call__(self, scenario: Scenario, replication: int, seed: int) -> RunResult:
        if scenario.fleets["drops"].payload_t == self.payload_t and replication == self.at:
            raise KeyboardInterrupt
        return run_replication(scenario, replication, seed)
