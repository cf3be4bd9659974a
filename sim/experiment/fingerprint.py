"""Input fingerprints: what a resumable folder was started with, so that a resume runs
nothing else.

A sweep or plan folder keeps its inputs as files (``scenario.toml``, and ``sweep.toml``
or ``plan.toml``) that ``--resume`` reads back. Were one of them edited in between, a
resume would mix runs of the old inputs with runs of the new ones in one table (or
drop rows: fewer replications). So the folder also records, in ``inputs.json``, the
*fingerprint* of its resolved inputs: for each file, every value that decides the runs
as a flat ``dotted.path → text`` table, and one SHA-256 over them all. A resume
computes the fingerprint of the files as they are now and refuses any difference,
naming the first one, e.g. ``sweep.toml: seed: changed since the sweep started (was 5,
now 6)``.

The values are the *resolved* ones (defaults written out, ``extends`` applied), so
rewriting a file in another layout that means the same is no change. Keys that only
label the results (a sweep's ``name``, ``title``, ``description`` and ``labels``) are
left out: they may change between sessions.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sim.conventions import fmt, json_text
from sim.experiment.store import atomic_write
from sim.scenario.errors import ScenarioError
from sim.scenario.load import dump_toml
from sim.scenario.paths import Segment, format_path
from sim.scenario.schema import Scenario

INPUTS_JSON = "inputs.json"
"""The file of a resumable folder that holds its fingerprint."""

LABEL_KEYS: frozenset[str] = frozenset({"name", "title", "description", "labels"})
"""Top-level keys of a sweep file that only label the results (left out)."""

Fingerprint = dict[str, Any]
"""``{"sha256": hex, "files": {file name: {dotted path: value text}}}``."""


def flat_values(data: Mapping[str, Any]) -> dict[str, str]:
    """Every leaf of ``data`` as ``dotted.path → text`` (:func:`~sim.conventions.fmt`).

    Tables and arrays of tables are walked (``events[3].date``); an array of plain
    values is one leaf (``levels → [0.75, 0.5]``).
    """
    out: dict[str, str] = {}

    def walk(prefix: tuple[Segment, ...], value: Any) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                walk((*prefix, str(k)), v)
        elif isinstance(value, list) and any(isinstance(v, Mapping) for v in value):
            for i, v in enumerate(value):
                walk((*prefix, i), v)
        else:
            out[format_path(prefix)] = fmt(value)

    walk((), data)
    return out


def scenario_values(scenario: Scenario) -> dict[str, str]:
    """The resolved scenario as ``dotted.path → text`` (what ``scenario.toml`` says)."""
    return flat_values(tomllib.loads(dump_toml(scenario)))


def settings_values(data: Mapping[str, Any]) -> dict[str, str]:
    """A resolved sweep or plan file's settings, the labelling keys left out."""
    return flat_values({k: v for k, v in data.items() if k not in LABEL_KEYS})


def fingerprint(files: Mapping[str, Mapping[str, str]]) -> Fingerprint:
    """The fingerprint of the inputs ``{file name: {dotted path: value text}}``."""
    plain = {name: dict(values) for name, values in files.items()}
    canonical = json.dumps(plain, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return {"sha256": hashlib.sha256(canonical.encode("utf-8")).hexdigest(), "files": plain}


def record(folder: Path, current: Fingerprint) -> None:
    """Write ``inputs.json`` into ``folder`` (atomically)."""
    atomic_write(folder / INPUTS_JSON, json_text(current))


def recorded(folder: Path) -> Fingerprint | None:
    """The fingerprint ``folder`` recorded, or None for a folder from before they were
    recorded; raises :class:`ScenarioError` if ``inputs.json`` cannot be read."""
    path = folder / INPUTS_JSON
    if not (path.exists() or path.is_symlink()):
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = data["files"]
        if not isinstance(data["sha256"], str) or not isinstance(files, dict):
            raise TypeError("malformed")
        for values in files.values():
            if not isinstance(values, dict):
                raise TypeError("malformed")
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else "malformed"
        raise ScenarioError(
            str(path), "", f"cannot read the record of the folder's inputs ({reason})"
        ) from None
    return {"sha256": data["sha256"], "files": files}


def check(folder: Path, current: Fingerprint, what: str) -> bool:
    """Refuse with :class:`ScenarioError` if ``folder``'s inputs are not those it recorded.

    ``what`` names the folder's kind in the message (``sweep``, ``plan``). Returns False
    when the folder records no fingerprint (a folder from an older version), True when
    it matches.
    """
    old = recorded(folder)
    if old is None:
        return False
    if old["sha256"] == current["sha256"]:
        return True
    advice = f"a resume runs only the {what}'s own inputs: undo the change, or start a new {what}"
    for name in [*old["files"], *(n for n in current["files"] if n not in old["files"])]:
        was = old["files"].get(name, {})
        now = current["files"].get(name, {})
        for path in [*was, *(p for p in now if p not in was)]:
            if was.get(path) != now.get(path):
                before = _shown(was.get(path))
                after = _shown(now.get(path))
                raise ScenarioError(
                    str(folder / name),
                    path,
                    f"changed since the {what} started (was {before}, now {after}); {advice}",
                )
    raise ScenarioError(
        str(folder / INPUTS_JSON), "", f"does not match the {what}'s inputs (was it edited?)"
    )


def _shown(text: str | None) -> str:
    if text is None:
        return "not set"
    if text == "":
        return "empty"
    return text if len(text) <= 60 else text[:57] + "..."
