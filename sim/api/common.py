"""What the commands of the API share: reading a result folder's files with one clear
line for a damaged one, creating a resumable folder, reaching an executor, and refusing
to plot a folder that is still being written or never finished."""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Callable, Iterator
from pathlib import Path

from sim.conventions import InputError, one_line
from sim.experiment.executors import Executor, make_executor
from sim.output.folder import (
    FolderLock,
    OutputExistsError,
    create_locked,
    folder_kind,
    folder_status,
    rewritten_subfolder,
)
from sim.scenario.errors import ScenarioError

_UNREADABLE = (
    OSError,
    UnicodeDecodeError,
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    StopIteration,
    csv.Error,
)
"""What reading a damaged (or foreign) file of a result folder raises."""


@contextlib.contextmanager
def reading(path: Path, what: str) -> Iterator[None]:
    """Turn a failure to read ``path`` as ``what`` into one :class:`InputError` line."""
    try:
        yield
    except InputError:
        raise
    except FileNotFoundError as err:
        raise InputError(f"{err.filename or path}: missing") from None
    except _UNREADABLE as err:
        raise InputError(f"{path}: not {what} ({_reason(err)})") from None


def _reason(err: BaseException) -> str:
    if isinstance(err, StopIteration):
        return "empty file"
    if isinstance(err, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(err, OSError):
        where = f"{err.filename}: " if err.filename else ""
        return f"{where}{err.strerror or err}"
    if isinstance(err, KeyError):
        return f"no {err}"
    return one_line(f"{type(err).__name__}: {err}")


def create_resumable(
    out: Path, kind: str, write: Callable[[Path], None], *, force: bool, unique: bool, what: str
) -> tuple[Path, FolderLock]:
    """:func:`~sim.output.folder.create_locked` for a resumable folder (sweep, plan,
    calibration): an existing folder of the same kind is refused with a hint to
    ``--resume`` it."""
    try:
        return create_locked(out, kind, write, force=force, unique=unique, what=what)
    except OutputExistsError:
        if folder_kind(out) == kind and not force:
            raise OutputExistsError(
                f"{out}: already exists (use --force to replace it, or --resume {out} to finish it)"
            ) from None
        raise


SCHEDULER_TIMEOUT_S = 10.0
"""How long to try to reach a Dask scheduler before refusing the address, seconds."""


def resolve_executor(
    executor: str | Executor, workers: int | None, scheduler: str | None
) -> Executor | None:
    """The executor to run on: an object as given, a Dask client (connected now, so a
    scheduler that cannot be reached is refused before anything is written), or None
    for local processes (sized by :func:`sim.experiment.sweep.resume`)."""
    if not isinstance(executor, str):
        return executor
    if executor == "local":
        if scheduler:
            raise ScenarioError("--scheduler", "", "needs --executor dask")
        return None
    return make_executor(executor, workers, scheduler, timeout_s=SCHEDULER_TIMEOUT_S)


def check_finished(d: Path, kind: str, last_file: str, command: str | None = None) -> None:
    """Refuse to plot a sweep, plan or calibration that a process still works in, or that
    did not finish (its status put right first if its process was killed:
    :func:`folder_status`); ``command`` resumes it (``siege COMMAND --resume``, default
    ``kind``)."""
    status = folder_status(d)
    if status == "running":
        holder = FolderLock(d).holder() or "another siege process"
        raise InputError(f"{d}: the {kind} is still running ({holder}); plot it when it is done")
    if status in ("interrupted", "failed") and not (d / last_file).is_file():
        raise InputError(
            f"{d}: the {kind} did not finish (its manifest says {status}); "
            f"finish it with: siege {command or kind} --resume {d}"
        )


def redraw_folder(
    result_dir: Path | str,
    kind: str,
    needed: str,
    refusal: str,
    draw: Callable[[Path, Path], object],
) -> Path:
    """Re-draw ``plots/`` of a finished folder of ``kind`` from its files alone (``draw``
    of the folder into a fresh ``plots/``); return the folder.

    Raises :class:`~sim.conventions.InputError` (``"<folder>: <refusal>"``) unless the
    folder is of that kind (its manifest says so) and holds its file ``needed``."""
    d = Path(result_dir)
    if folder_kind(d) != kind or not (d / needed).is_file():
        raise InputError(f"{d}: {refusal}")
    with rewritten_subfolder(d / "plots") as tmp:
        draw(d, tmp)
    return d
