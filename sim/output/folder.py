"""Result folders: written whole or not at all, never replacing what is not ours.

A command that writes a result folder (``siege run``, ``siege sweep``, ...) goes
through :class:`ResultFolder`:

1. **Refuse dangerous targets** before anything runs: the root folder, the home
   folder, the working folder or any folder that contains it, and a project's root
   folder (one holding ``.git`` or ``pyproject.toml``) are never a target
   (:func:`protected_reason`).
2. **Reserve** the target: a new target is created at once, exclusively and empty, so
   a second process asking for the same folder is refused at its start (and a default
   name taken meanwhile moves on to ``-2``, ``-3``...). An existing target is refused
   unless ``force`` is given, and ``force`` replaces only a result folder of the same
   kind (its ``manifest.json`` says so), never a symbolic link, a file, a folder of
   the user's, or a folder another siege process holds (:class:`FolderLock`).
3. **Write** into a hidden temporary sibling, ``.<name>.tmp-<pid>-<hex>``, in the same
   parent (so the final rename stays on one file system).
4. **Commit**: the temporary folder is renamed onto the empty reservation (the rename
   fails, and nothing is touched, if anything appeared in it meanwhile: the results then
   go to a free sibling name and :class:`OutputChangedError` says where), or, with
   ``force``, the old folder is swapped out only now that the new one is complete, and
   deleted.

On failure or interruption the temporary folder, the empty reservation and any parent
folders created for it are removed. Temporary folders left by a killed process (its
pid no longer runs on this machine) are removed the next time a folder is written into
the same parent (:func:`stale_temporaries`), with the empty reservation they belonged to.

The default location is ``results/<scenario name>/<UTC timestamp>/`` relative to the
working directory, the timestamp written ``YYYYMMDDTHHMMSSZ``.

A resumable folder's manifest says whether it is ``running``, ``interrupted`` or
``complete``. A process killed outright (``kill -9``) cannot say so; but its lock went
with it, so whoever next reads the folder (a resume, a plot: :func:`settle_killed`,
:func:`folder_status`) sees a ``running`` folder that nobody holds, rewrites it
``interrupted`` and says so.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import re
import secrets
import shutil
import socket
import types
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sim.conventions import InputError, json_text
from sim.experiment.store import atomic_write

MANIFEST = "manifest.json"
LOCK_FILE = ".siege.lock"
"""Lock file of a folder a siege process is working in (sweeps, calibrations)."""

_TMP = re.compile(r"^\.(?P<name>.+)\.(?:tmp|old)-(?P<pid>\d+)-[0-9a-f]{8}$")


class OutputExistsError(InputError):
    """The target result folder exists and may not be replaced."""


class OutputChangedError(InputError):
    """The reserved target changed during the run; the results went to another folder."""

    def __init__(self, message: str, written_to: Path) -> None:
        super().__init__(message)
        self.written_to = written_to


class FolderLockedError(InputError):
    """Another siege process is working in the folder."""


def utc_stamp(now: dt.datetime | None = None) -> str:
    """``YYYYMMDDTHHMMSSZ`` of ``now`` (UTC; the current time if omitted)."""
    now = now or dt.datetime.now(dt.UTC)
    return now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def default_out_dir(
    scenario_name: str,
    now: dt.datetime | None = None,
    root: Path | str = "results",
    prefix: str = "",
) -> Path:
    """``<root>/<scenario name>/<prefix><UTC timestamp>``: the default result folder.

    Only a name: :class:`ResultFolder` with ``unique=True`` reserves it, moving on to
    ``-2``, ``-3``... if another process took it first.
    """
    return Path(root) / scenario_name / f"{prefix}{utc_stamp(now)}"


# ---- what may be a target ---------------------------------------------------------------


def protected_reason(target: Path | str) -> str | None:
    """Why ``target`` may never be a result folder (replaced or written into), or None."""
    real = Path(target).resolve()
    if real == Path(real.anchor):
        return "is the root folder"
    if real == Path.home().resolve():
        return "is the home folder"
    cwd = Path.cwd().resolve()
    if real == cwd:
        return "is the working folder"
    if real in cwd.parents:
        return "contains the working folder"
    for marker in (".git", "pyproject.toml"):
        if (real / marker).exists():
            return f"is a project's root folder (it holds {marker})"
    return None


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The folder's ``manifest.json`` as a dict, or None if missing or unreadable."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def folder_kind(folder: Path) -> str | None:
    """``run``, ``sweep``, ... as the folder's manifest says; None if not a siege folder.

    Run folders written before manifests named their kind count as ``run``.
    """
    if folder.is_symlink() or not folder.is_dir():
        return None
    manifest = read_manifest(folder)
    if manifest is None or "siege_sim_version" not in manifest:
        return None
    kind = manifest.get("kind", "run")
    return kind if isinstance(kind, str) else None


RUNNING = "running"
INTERRUPTED = "interrupted"
FAILED = "failed"


def set_status(folder: Path, status: str, only_if: str | None = RUNNING) -> bool:
    """Rewrite the ``status`` of ``folder``'s manifest (atomically), if it is
    ``only_if`` (None: whatever it is); whether it was rewritten."""
    manifest = read_manifest(folder)
    if manifest is None or (only_if is not None and manifest.get("status") != only_if):
        return False
    manifest["status"] = status
    try:
        atomic_write(folder / MANIFEST, json_text(manifest))
    except OSError:
        return False
    return True


def never_left_running(folder: Path, stop: BaseException) -> None:
    """On the way out of work in a locked resumable folder (``stop`` ends it): a
    manifest still ``running`` becomes ``interrupted`` (Ctrl-C, a signal) or ``failed``."""
    set_status(folder, INTERRUPTED if isinstance(stop, KeyboardInterrupt) else FAILED)


def settle_killed(folder: Path) -> bool:
    """Put right the manifest of a folder whose process was killed: ``running``, but
    nobody holds its lock (killed with ``kill -9``, or the machine stopped). It is
    rewritten ``interrupted``; returns whether it was."""
    manifest = read_manifest(folder)
    if manifest is None or manifest.get("status") != RUNNING:
        return False
    lock = FolderLock(folder)
    try:
        lock.acquire("siege (putting right the status of a folder)")
    except InputError:  # held (really running), or the folder cannot be locked
        return False
    try:
        return set_status(folder, INTERRUPTED)
    finally:
        lock.release()


def folder_status(folder: Path) -> str | None:
    """The status of a resumable folder (sweep, plan) as its manifest records it, a
    killed process's ``running`` put right first (:func:`settle_killed`). None if the
    manifest records none."""
    settle_killed(folder)
    manifest = read_manifest(folder)
    status = manifest.get("status") if manifest else None
    return status if isinstance(status, str) else None


def check_target(out: Path, kind: str, force: bool) -> None:
    """Raise :class:`InputError` unless ``out`` may become a ``kind`` folder.

    ``out`` is free, or ``force`` is given and ``out`` is an unlocked ``kind`` folder.
    """
    reason = protected_reason(out)
    if reason:
        raise OutputExistsError(f"{out}: refused as an output folder: it {reason}")
    if not (out.exists() or out.is_symlink()):
        return
    if not force:
        raise OutputExistsError(f"{out}: already exists (use --force to replace it)")
    if out.is_symlink():
        raise OutputExistsError(f"{out}: is a symbolic link; --force replaces only a folder")
    if not out.is_dir():
        raise OutputExistsError(f"{out}: exists and is not a folder")
    found = folder_kind(out)
    if found != kind:
        what = f"a {found} folder" if found else "not a folder written by siege"
        raise OutputExistsError(
            f"{out}: is {what}; --force replaces only a {kind} folder written by siege"
        )
    holder = FolderLock(out).holder()
    if holder:
        raise FolderLockedError(f"{out}: in use by {holder}; --force cannot replace it now")


# ---- locks --------------------------------------------------------------------------------


class FolderLock:
    """An advisory lock on a folder (``flock`` on its ``.siege.lock`` file).

    The operating system releases the lock when its holder exits, however it exits,
    so a lock is never stale: a lock file that is not locked is free, and if it still
    names a holder (one that died without releasing it), :attr:`stale` says so. The
    file names the holder (command, pid, host, start time) so that a refusal can say
    who holds the folder. Processes forked from the fork server do not inherit it; a
    process forked from the holder (a worker of a sweep's pool) closes its copy of the
    lock file at once (:func:`_close_locks_in_child`), so that the lock never outlives
    the holder: a killed holder's folder is free as soon as it is dead.
    """

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_FILE
        self._fd: int | None = None
        self.stale = ""

    def holder(self) -> str:
        """Who holds the lock now, or ``""`` if nobody does (or there is no lock file)."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return ""
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return _read_holder(fd) or "another siege process"
            fcntl.flock(fd, fcntl.LOCK_UN)
            return ""
        finally:
            os.close(fd)

    def acquire(self, what: str = "siege") -> FolderLock:
        """Take the lock or raise :class:`FolderLockedError` naming its holder."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise InputError(
                f"{self.folder}: cannot lock the folder: {err.strerror or err}"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd) or "another siege process"
            os.close(fd)
            raise FolderLockedError(
                f"{self.folder}: in use by {holder}; wait for it to finish or stop it"
            ) from None
        self.stale = _read_holder(fd)
        info = (
            f"{what} (pid {os.getpid()} on {socket.gethostname()}, "
            f"since {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M:%S')} UTC)"
        )
        os.ftruncate(fd, 0)
        os.pwrite(fd, info.encode("utf-8"), 0)
        self._fd = fd
        _HELD.add(self)
        return self

    def release(self) -> None:
        """Give the lock back (the file stays, empty: a lock file is never deleted)."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        os.close(self._fd)  # closing releases the flock
        self._fd = None
        _HELD.discard(self)

    def moved_to(self, folder: Path | str) -> None:
        """The locked folder was renamed to ``folder`` (the lock, on the open file, stays held)."""
        self.folder = Path(folder)
        self.path = self.folder / LOCK_FILE

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def __enter__(self) -> FolderLock:
        return self if self.held else self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


_HELD: weakref.WeakSet[FolderLock] = weakref.WeakSet()
"""The locks this process holds."""


def _close_locks_in_child() -> None:
    """In a process just forked: close the copies of the held locks' files. The lock
    stays with the parent (a ``flock`` belongs to the open file, which the parent keeps
    open); the child must not keep it after the parent is gone."""
    for lock in list(_HELD):
        if lock._fd is not None:
            with contextlib.suppress(OSError):
                os.close(lock._fd)
            lock._fd = None
    _HELD.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_locks_in_child)


def _read_holder(fd: int) -> str:
    try:
        return os.pread(fd, 4096, 0).decode("utf-8", errors="replace").strip()
    except OSError:
        return ""


# ---- the folder ---------------------------------------------------------------------------


class ResultFolder:
    """Reserve, write into a temporary sibling, commit: see the module docstring.

    Use as a context manager; write into :attr:`tmp`; after a clean exit the folder is
    at :attr:`path`. ``unique`` (default names): a name taken by someone else moves on
    to ``-2``, ``-3``... instead of failing. ``kind`` is what the manifest of the
    folder says (``run``, ``sweep``...), checked before ``force`` replaces a folder.
    """

    def __init__(
        self, out: Path | str, kind: str, *, force: bool = False, unique: bool = False
    ) -> None:
        self.path = Path(out)
        self.kind = kind
        self.force = force
        self.unique = unique
        self.tmp = Path()
        self._reserved = False
        self._created: list[Path] = []
        self._replace = False

    # -- enter ---------------------------------------------------------------------

    def __enter__(self) -> ResultFolder:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()

    def open(self) -> None:
        """Check and reserve the target, create the temporary folder."""
        base = self.path
        if base.parent.is_dir():
            remove_stale_temporaries(base.parent)
        k = 1
        while True:
            check = self.force and not self.unique
            try:
                check_target(self.path, self.kind, force=check)
            except OutputExistsError:
                if not self.unique or protected_reason(self.path):
                    raise
                k += 1
                self.path = base.with_name(f"{base.name}-{k}")
                continue
            self._created = _make_parents(self.path.parent)
            if self.path.exists():  # force: an existing folder of our kind, replaced at commit
                self._replace = True
                break
            try:
                self.path.mkdir()
            except FileExistsError:
                if not self.unique:
                    raise OutputExistsError(
                        f"{self.path}: already exists (another process created it just now)"
                    ) from None
                k += 1
                self.path = base.with_name(f"{base.name}-{k}")
                continue
            except OSError as err:
                self._drop_parents()
                raise InputError(
                    f"{self.path}: cannot create the folder: {err.strerror or err}"
                ) from None
            self._reserved = True
            break
        try:
            self.tmp = _fresh_dir(self.path.parent, f".{self.path.name}.tmp-{os.getpid()}-")
        except OSError as err:
            self.abort()
            raise InputError(
                f"{self.path.parent}: cannot write a folder there: {err.strerror or err}"
            ) from None

    # -- exit ----------------------------------------------------------------------

    def commit(self) -> Path:
        """Put the complete temporary folder in place; return the final path."""
        out, tmp = self.path, self.tmp
        if self._replace:
            # Swap out the old folder only now that the new one is complete.
            check_target(out, self.kind, force=True)
            old = out.parent / f".{out.name}.old-{os.getpid()}-{secrets.token_hex(4)}"
            os.rename(out, old)
            os.rename(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
            return out
        try:
            os.rename(tmp, out)  # onto the empty reservation; fails if anything appeared in it
        except OSError as err:
            if err.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
                raise
            alt = _free_sibling(out)
            os.rename(tmp, alt)
            self.path = alt
            raise OutputChangedError(
                f"{out}: changed while the run was going ({_what_appeared(out)}), so it was "
                f"left untouched; the results are in {alt}",
                alt,
            ) from None
        return out

    def abort(self) -> None:
        """Remove the temporary folder, the empty reservation and created parents."""
        if self.tmp != Path() and self.tmp.exists():
            shutil.rmtree(self.tmp, ignore_errors=True)
        if self._reserved:
            with contextlib.suppress(OSError):
                self.path.rmdir()  # only if still empty: never what someone put there
        self._drop_parents()

    def _drop_parents(self) -> None:
        for parent in reversed(self._created):
            with contextlib.suppress(OSError):
                parent.rmdir()  # only if still empty


def create_locked(
    out: Path | str,
    kind: str,
    write: Callable[[Path], None],
    *,
    force: bool = False,
    unique: bool = False,
    what: str = "siege",
) -> tuple[Path, FolderLock]:
    """Create a resumable result folder holding what ``write(tmp)`` puts in it; locked.

    The lock is taken inside the temporary folder and stays held across the rename, so
    nobody can resume the new folder before this process has worked in it. Returns the
    final path and the held :class:`FolderLock` (release it when done). Raises
    :class:`InputError` (and leaves nothing behind) if the folder may not be written.
    """
    folder = ResultFolder(out, kind, force=force, unique=unique)
    folder.open()
    lock: FolderLock | None = None
    try:
        lock = FolderLock(folder.tmp).acquire(what)
        write(folder.tmp)
    except BaseException:
        if lock is not None:
            lock.release()
        folder.abort()
        raise
    try:
        path = folder.commit()
    except BaseException:
        lock.release()
        raise
    lock.moved_to(path)
    return path, lock


@contextlib.contextmanager
def atomic_folder(
    out_dir: Path | str, kind: str = "run", force: bool = False, unique: bool = False
) -> Iterator[Path]:
    """Yield a temporary folder that becomes ``out_dir`` on success (see :class:`ResultFolder`)."""
    with ResultFolder(out_dir, kind, force=force, unique=unique) as folder:
        yield folder.tmp


def check_subfolder(path: Path | str) -> None:
    """Raise :class:`InputError` unless ``path`` is a real folder or nothing: what
    :func:`rewritten_subfolder` may replace (checked early, before work that would be
    lost)."""
    target = Path(path)
    if target.is_symlink():
        raise InputError(f"{target}: is a symbolic link; refusing to write through it")
    if target.exists() and not target.is_dir():
        raise InputError(f"{target}: exists and is not a folder")


@contextlib.contextmanager
def rewritten_subfolder(path: Path | str) -> Iterator[Path]:
    """Yield a temporary folder that replaces the subfolder ``path`` (e.g. ``plots``) when done.

    Only a real folder (or nothing) is replaced: a symbolic link or a file at ``path``
    is refused, so nothing is ever written through a link.
    """
    target = Path(path)
    check_subfolder(target)
    try:
        tmp = _fresh_dir(target.parent, f".{target.name}.tmp-{os.getpid()}-")
    except OSError as err:
        raise InputError(f"{target.parent}: cannot write there: {err.strerror or err}") from None
    try:
        yield tmp
        if target.exists():
            old = target.parent / f".{target.name}.old-{os.getpid()}-{secrets.token_hex(4)}"
            os.rename(target, old)
            os.rename(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# ---- stale temporaries --------------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale_temporaries(parent: Path | str) -> list[Path]:
    """Hidden temporary folders in ``parent`` left by siege processes that no longer run."""
    found: list[Path] = []
    try:
        entries = list(Path(parent).iterdir())
    except OSError:
        return found
    for entry in entries:
        m = _TMP.match(entry.name)
        if m and entry.is_dir() and not entry.is_symlink() and not _pid_alive(int(m["pid"])):
            found.append(entry)
    return sorted(found)


def remove_stale_temporaries(parent: Path | str) -> list[Path]:
    """Clean up after siege processes killed while writing into ``parent``.

    A stale temporary folder is removed, with the empty reservation it belonged to. A
    stale ``.old-`` folder is a result folder that a killed ``--force`` was swapping
    out: it is put back if nothing took its place, else removed. Returns the stale
    folders found.
    """
    found = stale_temporaries(parent)
    for stale in found:
        m = _TMP.match(stale.name)
        target = stale.parent / m["name"] if m else None
        if target is not None and ".old-" in stale.name:
            if not (target.exists() or target.is_symlink()):
                with contextlib.suppress(OSError):
                    os.rename(stale, target)  # the swap never finished: restore the old folder
                    continue
            shutil.rmtree(stale, ignore_errors=True)
            continue
        shutil.rmtree(stale, ignore_errors=True)
        if target is not None and target.is_dir() and not target.is_symlink():
            with contextlib.suppress(OSError):
                target.rmdir()  # the empty reservation; never a folder with content
    return found


# ---- helpers ------------------------------------------------------------------------------


def _free_sibling(out: Path) -> Path:
    """A new, reserved-by-nobody sibling name ``<name>-2``, ``-3``... (not created)."""
    k = 2
    while True:
        candidate = out.with_name(f"{out.name}-{k}")
        if not (candidate.exists() or candidate.is_symlink()):
            return candidate
        k += 1


def _what_appeared(out: Path) -> str:
    if out.is_symlink() or not out.is_dir():
        return "it was replaced by something else"
    names = sorted(p.name for p in out.iterdir())[:3]
    return f"{', '.join(names)} appeared in it" if names else "it was replaced"


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
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        for made in reversed(missing):
            with contextlib.suppress(OSError):
                made.rmdir()
        raise InputError(f"{parent}: cannot create the folder: {err.strerror or err}") from None
    return missing
