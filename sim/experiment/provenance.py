"""Provenance: what ran, with which versions, from which commit, how long, when.

Every result folder records it in ``manifest.json`` (:func:`build_manifest`), so a
folder says how it was made: the folder's ``kind`` (``run``, ``sweep``...), the
siege-sim version and git commit of the code (and whether ``sim/`` had uncommitted
changes), the versions of Python and the libraries that decide the numbers, the
seed, replications and workers, the command line, the wall time in seconds and the
UTC time of writing.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import platform
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim import __version__

__all__ = ["build_manifest", "git_commit", "package_version", "session_entry", "with_session"]


def package_version(dist: str) -> str | None:
    """The installed version of the distribution ``dist``, or None if it is not installed."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def git_commit(where: Path | None = None) -> tuple[str | None, bool | None]:
    """``(commit, dirty)`` of the git checkout holding the code, or ``(None, None)``."""
    where = where or Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no", "--", "sim"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None, None
    return (head or None), bool(status)


def build_manifest(
    *,
    seed: int,
    replications: int,
    workers: int,
    wall_time_s: float,
    command: Sequence[str] | str | None,
    scenario_name: str,
    now: dt.datetime | None = None,
    kind: str = "run",
) -> dict[str, Any]:
    """The manifest of a result folder: its ``kind``, what ran, with what, how long, when.

    ``kind`` (``run``, ``sweep``...) is what ``--force`` checks before it replaces a folder.
    """
    commit, dirty = git_commit()
    now = now or dt.datetime.now(dt.UTC)
    cmd = command if isinstance(command, str) or command is None else list(command)
    return {
        "kind": kind,
        "siege_sim_version": __version__,
        "git_commit": commit,
        "git_dirty": dirty,
        "scenario": scenario_name,
        "seed": int(seed),
        "replications": int(replications),
        "workers": int(workers),
        "wall_time_s": round(float(wall_time_s), 3),
        "python": platform.python_version(),
        "simpy": package_version("simpy"),
        "numpy": package_version("numpy"),
        "scipy": package_version("scipy"),
        "pydantic": package_version("pydantic"),
        "matplotlib": package_version("matplotlib"),
        "command": cmd,
        "created_utc": now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def session_entry(
    *,
    started: dt.datetime,
    wall_time_s: float,
    runs: int,
    status: str,
    workers: int | None,
    command: Sequence[str] | str | None,
) -> dict[str, Any]:
    """One session of a resumable folder (sweep, plan, calibration, comparison) for its
    manifest's ``sessions``: when it started (UTC), how long it ran, how many runs it
    made, how it ended (``complete``, ``interrupted``, ``failed``), its workers and
    command line (a string is one word)."""
    words = [command] if isinstance(command, str) else command
    return {
        "started_utc": started.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "wall_time_s": round(wall_time_s, 3),
        "runs": runs,
        "status": status,
        "workers": workers,
        "command": list(words) if words else None,
    }


def with_session(
    manifest: Path,
    *,
    started: dt.datetime,
    t0: float,
    runs: int,
    status: str,
    workers: int | None,
    command: Sequence[str] | str | None,
) -> list[dict[str, Any]]:
    """The ``sessions`` of the manifest file ``manifest`` (none if it is missing or
    unreadable) with this session's :func:`session_entry` appended; ``t0`` is the
    session's start on :func:`time.perf_counter`."""
    try:
        old = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        old = None
    sessions = list(old.get("sessions", [])) if isinstance(old, dict) else []
    sessions.append(
        session_entry(
            started=started,
            wall_time_s=time.perf_counter() - t0,
            runs=runs,
            status=status,
            workers=workers,
            command=command,
        )
    )
    return sessions
