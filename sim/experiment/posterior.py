"""Posterior draws for ``siege run --posterior DIR``: bands with parameter uncertainty.

A calibration folder's ``posterior.csv`` holds the final population of parameter sets
and their weights. A run over the posterior gives replication ``i`` the parameter set
of draw ``i``: draws are made with replacement, each particle with its weight's
chance, from the named stream ``posterior:draws`` of the run's seed — so the same
seed gives the same draws, whatever the workers — and replication ``i`` keeps its
own random streams (root seed, index ``i``). The percentile bands of such a run then
hold both the spread of the fitted parameters and the replication noise.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.analysis.abc import resample
from sim.conventions import csv_dicts
from sim.experiment.calibfile import CalibParameter, load_calibration
from sim.experiment.calibrate import CALIBRATION_TOML, POSTERIOR_CSV
from sim.model.record import RunResult
from sim.model.streams import seed_sequence
from sim.model.world import run_replication
from sim.scenario.errors import ScenarioError
from sim.scenario.load import with_values
from sim.scenario.schema import Scenario

STREAM = "posterior:draws"


@dataclass(frozen=True)
class Posterior:
    """The final population of a calibration: the paths, each particle's values, weights."""

    folder: str
    paths: tuple[str, ...]
    values: tuple[tuple[Any, ...], ...]
    weights: tuple[float, ...]

    def draws(self, n: int, seed: int) -> list[int]:
        """The particles of replications ``0 .. n-1`` (by weight, stream ``posterior:draws``)."""
        rng = np.random.default_rng(seed_sequence(seed, 0, STREAM))
        return resample(rng, self.weights, n)


def _cell(p: CalibParameter, text: str) -> Any:
    if p.kind == "date":
        return dt.date.fromisoformat(text)
    if p.kind == "int":
        return int(text)
    return float(text)


def read_posterior(folder: str | Path) -> Posterior:
    """The posterior of a finished calibration folder; :class:`ScenarioError` (``--posterior``)
    if it is not one."""
    d = Path(folder)
    if not (d / CALIBRATION_TOML).is_file() or not (d / POSTERIOR_CSV).is_file():
        raise ScenarioError(
            "--posterior",
            "",
            f"{d}: not a finished calibration folder (no {CALIBRATION_TOML} or {POSTERIOR_CSV})",
        )
    spec = load_calibration(d / CALIBRATION_TOML)
    try:
        with open(d / POSTERIOR_CSV, newline="", encoding="utf-8") as fh:
            rows = list(csv_dicts(fh))
        values = tuple(tuple(_cell(p, r[p.path]) for p in spec.parameters) for r in rows)
        weights = tuple(float(r["weight"]) for r in rows)
    except (OSError, KeyError, ValueError, TypeError, csv.Error) as err:
        raise ScenarioError(
            "--posterior", "", f"{d / POSTERIOR_CSV}: not a posterior table ({err})"
        ) from None
    if not rows or not sum(weights) > 0 or min(weights) < 0:
        raise ScenarioError("--posterior", "", f"{d / POSTERIOR_CSV}: no particles with weight")
    return Posterior(str(folder), spec.paths, values, weights)


def check_draws(scenario: Scenario, posterior: Posterior, particles: Sequence[int]) -> None:
    """Every drawn parameter set must give a valid scenario (else ScenarioError)."""
    for i in sorted(set(particles)):
        try:
            with_values(scenario, dict(zip(posterior.paths, posterior.values[i], strict=True)))
        except ScenarioError as err:
            raise ScenarioError(
                "--posterior", err.path, f"particle {i} of {posterior.folder}: {err.message}"
            ) from None


@dataclass(frozen=True)
class PosteriorRun:
    """Runs replication ``i`` with the parameter set ``values[i]`` (a run function for
    :func:`sim.experiment.replicate.iter_replications`; it pickles to worker processes)."""

    paths: tuple[str, ...]
    values: tuple[tuple[Any, ...], ...]

    def __call__(self, scenario: Scenario, replication: int, seed: int) -> RunResult:
        """One replication of ``scenario`` with its drawn parameters."""
        drawn = with_values(
            scenario, dict(zip(self.paths, self.values[replication], strict=True)), "--posterior"
        )
        return run_replication(drawn, replication, seed)
