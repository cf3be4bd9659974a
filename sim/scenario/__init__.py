"""Scenario files: the schema, loading (``extends``, ``--set``) and validation.

The public names are imported lazily (PEP 562), so that ``python -m
sim.scenario.load`` runs without importing the module twice.

- :func:`load_scenario` — TOML file + ``--set`` overrides → validated Scenario
- :func:`with_values` — a Scenario with dotted paths set to new values (sweeps)
- :func:`dump_toml` — the fully resolved Scenario as TOML text
- :func:`timeline` — the dated events applied cumulatively (:class:`TimelineStep`)
- :class:`ScenarioError` — one-line ``FILE: dotted.path: message`` input errors
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Scenario": "sim.scenario.schema",
    "check_references": "sim.scenario.schema",
    "json_schema": "sim.scenario.schema",
    "ScenarioError": "sim.scenario.errors",
    "TimelineStep": "sim.scenario.load",
    "dump_toml": "sim.scenario.load",
    "load_scenario": "sim.scenario.load",
    "timeline": "sim.scenario.load",
    "with_values": "sim.scenario.load",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sim.scenario' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
