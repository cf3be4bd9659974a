"""The result folder, written all at once or not at all.

A run's files are first written into a temporary sibling of the target folder
(``.<name>.tmp-XXXXXXXX`` in the same parent, so the final rename stays on one file
system) and renamed into place only when every file is complete. If anything fails on
the way, the temporary folder, and any parent folders created for it, are removed:
no half-written result folder is ever left behind. An existing folder is never
replaced unless ``force`` is given; it is then swapped out only after the new one is
complete.

The default location is ``results/<scenario name>/<UTC timestamp>/`` relative to the
working directory, the timestamp written ``YYYYMMDDTHHMMSSZ``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path


class InputError(Exception):
    """Bad input that is not a scenario-file problem (the CLI exits 2 with this message)."""


class OutputExistsError(InputError):
    """The target result folder exists and ``force`` was not given."""


def utc_stamp(now: dt.datetime | None = None) -> str:
    """``YYYYMMDDTHHMMSSZ`` of ``now`` (UTC; the current time if omitted)."""
    now = now or dt.datetime.now(dt.UTC)
    return now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def default_out_dir(
    scenario_name: str, now: dt.datetime | None = None, root: Path | str = "results"
) -> Path:
    """``<root>/<scenario name>/<UTC timestamp>``; ``-2``, ``-3``... appended if taken."""
    base = Path(root) / scenario_name / utc_stamp(now)
    candidate, k = base, 1
    while candidate.exists():
        k += 1
        candidate = base.with_name(f"{base.name}-{k}")
    return candidate


def check_writable(out_dir: Path | str, force: bool) -> None:
    """Raise :class:`OutputExistsError` if ``out_dir`` exists and ``force`` is false."""
    out = Path(out_dir)
    if (out.exists() or out.is_symlink()) and not force:
        raise OutputExistsError(f"{out}: already exists (use --force to replace it)")
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"{out}: exists and is not a folder")


@contextlib.contextmanager
def atomic_folder(out_dir: Path | str, force: bool = False) -> Iterator[Path]:
    """Yield a temporary folder; on success it becomes ``out_dir``, on failure it vanishes.

    Raises :class:`OutputExistsError` before creating anything if ``out_dir`` exists and
    ``force`` is false.
    """
    out = Path(out_dir)
    check_writable(out, force)
    created = _make_parents(out.parent)
    tmp: Path | None = None
    try:
        tmp = _fresh_dir(out.parent, f".{out.name}.tmp-")
        yield tmp
        if out.exists():  # force: swap the old folder out only now
            old = _fresh_dir(out.parent, f".{out.name}.old-")
            os.replace(out, old / out.name)
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
        tmp = None
    except BaseException:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        for parent in reversed(created):
            with contextlib.suppress(OSError):
                parent.rmdir()  # only if still empty
        raise


def _fresh_dir(parent: Path, prefix: str) -> Path:
    """A new, empty folder ``parent/<prefix><8 hex digits>`` (permissions per the umask)."""
    for _ in range(100):
        candidate = parent / f"{prefix}{secrets.token_hex(4)}"
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"{parent}: cannot create a temporary folder {prefix}*")


def _make_parents(parent: Path) -> list[Path]:
    """Create ``parent`` and its missing ancestors; return those created, outermost first."""
    missing: list[Path] = []
    p = parent
    while not p.exists():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    missing.reverse()
    parent.mkdir(parents=True, exist_ok=True)
    return missing
