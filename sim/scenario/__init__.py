"""Scenario files: the schema, reading, loading (``extends``, ``--set``) and validation.

- :mod:`sim.scenario.schema` — the file format as pydantic models
- :mod:`sim.scenario.toml` — the one TOML reader; command-line TOML literals
- :mod:`sim.scenario.paths` — dotted key paths (``fleets.wfp.payload_t``)
- :mod:`sim.scenario.load` — TOML file + ``--set`` overrides → validated Scenario;
  :func:`~sim.scenario.load.with_values` for sweeps; :func:`~sim.scenario.load.dump_toml`
- :mod:`sim.scenario.timeline` — dated events → the parameter steps of a run
- :mod:`sim.scenario.limits` — sizes refused unless asked for
- :mod:`sim.scenario.errors` — one-line ``FILE: dotted.path: message`` input errors
"""
