"""Executors: where runs execute — this process, local worker processes, or Dask.

An executor maps a task function over a stream of small tasks. The function is
called as ``fn(context, task)``: the *context* (the base scenario, the seed, what to
compute) is shipped to each worker once, the tasks (a point index, a replication
index, a few parameter values) are tiny, so shipping costs stay small and memory
stays flat however many runs there are. At most ``window`` tasks are in flight at
any moment (submitted and not yet handed back); the rest of the stream is not even
generated yet.

Two ways to get results back:

``imap(..., ordered=True)``
    in task order (``siege run``: replication 0, 1, 2, ...). A finished result waits
    only for the ones before it, and the window bounds how many can wait.
``imap(..., ordered=False)``
    as they finish (sweeps, which write each run as soon as it is done).

Implementations:

:class:`SerialExecutor`
    runs each task in this process: no start-up cost, easiest to debug, used for
    ``workers = 1``.
:class:`ProcessExecutor`
    a :class:`concurrent.futures.ProcessPoolExecutor` on the ``forkserver`` start method
    where the platform has it (``spawn`` elsewhere): no fork of a process holding
    threads or open files, and the heavy modules are imported once in the fork server.
    With ``fork=True`` (a sweep; ``siege run`` of up to 1,000 replications) the workers
    are forked from this process instead when it runs a single thread: they start at
    once, with every module it has imported (a held folder lock they close at once, see
    :class:`~sim.output.folder.FolderLock`; the objects they inherit are never
    collected there, see :func:`_gc_frozen`).
    Workers run in a process group of their own (and ignore SIGINT and SIGHUP), so
    Ctrl-C, a hang-up or a stop of the job reach only the parent, which cancels what has
    not started and lets the tasks in hand finish. Each worker also holds the read end
    of a *lifeline* pipe whose only write end is in the parent: if the parent dies
    (``kill -9``), the pipe reaches end-of-file and the worker exits at once — otherwise
    workers, which hold both ends of the pool's queues, would wait forever (and keep the
    fork server alive).
:class:`WarmPool`
    worker processes started before their work is known, so that they are ready
    (their imports done) when it comes: the plots of a run, drawn while the run
    goes on would be too late to start. Forked from this process when it runs a
    single thread (they start with every module it has imported; a process with
    threads is never forked), else from the fork server. The context travels with
    each task, as it is known only when the tasks are.
:class:`Background`
    one task started in a worker process of its own (forked likewise) while this
    process does something else: ``siege run`` of one replication runs it there while
    this process imports matplotlib.
:class:`DaskExecutor`
    a ``dask.distributed`` client on a scheduler address (or a ``LocalCluster`` it
    starts itself when none is given). The context is scattered to every worker
    once.

Whatever the executor, a task's result depends only on the context and the task,
so the results are identical; only their arrival order differs.

**Lost workers.** A worker process that dies in the middle of a task (killed by a
signal, by the kernel when memory runs out) breaks a local pool: every task in flight
fails with ``BrokenProcessPool``. The finished results are kept; the tasks that were
in flight are run again in a fresh pool, *one at a time*, so that a task which kills
its worker again is known for what it is while the others go on. A task lost
:data:`LOST_RETRIES` + 1 times is handed to the caller's ``lost(task, crashes)``,
whose return value stands for its result (a sweep records a failed run; ``siege run``
raises :class:`WorkerLostError` naming the replication). On Dask, whose scheduler already
retries a task whose worker died, the ``KilledWorker`` it ends with goes to ``lost``
at once. In this process (:class:`SerialExecutor`, one worker) nothing can survive
the death of the process itself.

**Memory.** A run moves large blocks between processes: each chunk of replications
comes back as a pickle of a few megabytes, read into arrays in the parent. glibc's
allocator raises its mmap threshold each time such a block is freed, so later blocks
of that size come from the heap, where small long-lived objects between them keep it
from shrinking: a 10,000-replication run grew by a few hundred megabytes this way.
:func:`steady_allocator` fixes the threshold (:data:`MMAP_THRESHOLD`) in this process
and, through the environment, in the fork server and every worker it forks, so
large blocks always go back to the system when freed. It also keeps up to
:data:`TRIM_THRESHOLD` of free memory at the top of the heap, where the smaller arrays
made and dropped by the thousand (the binned daily percentiles) are served again
without faulting their pages in anew. Elsewhere it does nothing.
"""

from __future__ import annotations

import atexit
import concurrent.futures as cf
import contextlib
import ctypes
import gc
import logging
import multiprocessing as mp
import os
import queue
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Literal, Protocol, get_args

from sim.conventions import default_workers, one_line
from sim.scenario.errors import ScenarioError

ExecutorName = Literal["local", "dask"]
"""Where runs execute: local processes (or this process) or a Dask cluster."""
EXECUTORS: tuple[str, ...] = get_args(ExecutorName)

TaskFn = Callable[[Any, Any], Any]
"""``fn(context, task) -> result``: module-level, so that it pickles by reference."""

PRELOAD: tuple[str, ...] = (
    "sim.experiment.runner",
    "sim.scenario.load",
    "sim.model.world",
    "sim.analysis.metrics",
)
"""Modules the fork server imports once, so forked workers start warm."""


MMAP_THRESHOLD = 128 * 1024
"""Bytes from which glibc serves an allocation by its own mapping, returned to the
system when freed (its default start; fixed so that it no longer grows)."""

_M_MMAP_THRESHOLD = -3
"""``mallopt``'s parameter number for the threshold (``<malloc.h>``)."""

TRIM_THRESHOLD = 2 * 1024 * 1024
"""Bytes of free memory glibc keeps at the top of its heap rather than handing them
back to the system at once (its default, 128 kB, is fixed along with the mmap
threshold). The daily percentiles' accumulator counts a replication in blocks of
arrays under :data:`MMAP_THRESHOLD` (:data:`sim.analysis.binned.BLOCK`), some ten
alive at a time: with 128 kB kept, their memory went back to the system and was
faulted in again, block after block (counting 200 replications of the baseline: 1.42 s
of CPU against 1.05 s). A bounded amount per heap: memory stays flat."""

_M_TRIM_THRESHOLD = -1
"""``mallopt``'s parameter number for the trim threshold (``<malloc.h>``)."""

_ALLOCATOR: tuple[tuple[str, int, int], ...] = (
    ("MALLOC_MMAP_THRESHOLD_", _M_MMAP_THRESHOLD, MMAP_THRESHOLD),
    ("MALLOC_TRIM_THRESHOLD_", _M_TRIM_THRESHOLD, TRIM_THRESHOLD),
)
"""What :func:`steady_allocator` sets: environment variable, ``mallopt`` parameter, value."""


def steady_allocator() -> bool:
    """Fix glibc's mmap threshold at :data:`MMAP_THRESHOLD` and its trim threshold at
    :data:`TRIM_THRESHOLD` in this process and in the processes it starts afterwards
    (see "Memory" above); True if this process's allocator took the mmap threshold. A
    threshold the user set (``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``) is
    kept; with the first of them set, nothing is changed."""
    if "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    settings = [(var, param, value) for var, param, value in _ALLOCATOR if var not in os.environ]
    for var, _, value in settings:
        os.environ[var] = str(value)  # read at start by glibc (the fork server)
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to fix
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    took = [bool(mallopt(param, value)) for _, param, value in settings]
    return took[0]


LostFn = Callable[[Any, int], Any]
"""``lost(task, crashes) -> result``: what stands for the result of a task whose worker
process died ``crashes`` times (or raise)."""

LOST_RETRIES = 2
"""How many times a task whose worker process died is run again, alone in a fresh
pool, before it is given up (handed to ``lost``)."""


class WorkerLostError(RuntimeError):
    """A task kept killing the worker process that ran it (see the module docstring)."""


def lost_reason(crashes: int) -> str:
    """Why a task was given up after its worker process died ``crashes`` times."""
    times = "once" if crashes == 1 else f"{crashes} times"
    return f"the worker process running it died {times} (killed by a signal, or out of memory?)"


def raise_lost(task: Any, crashes: int) -> Any:
    """The default ``lost``: raise :class:`WorkerLostError` naming the task."""
    raise WorkerLostError(f"task {task!r}: {lost_reason(crashes)}")


class Executor(Protocol):
    """Maps ``fn(context, task)`` over tasks; see the module docstring."""

    workers: int

    def imap(
        self,
        fn: TaskFn,
        context: Any,
        tasks: Iterable[Any],
        *,
        ordered: bool,
        lost: LostFn = raise_lost,
    ) -> Iterator[Any]:
        """Results of ``fn(context, task)`` for every task, in task or finishing order;
        ``lost`` gives the result of a task whose worker process kept dying."""
        ...

    def close(self) -> None:
        """Release workers and connections."""
        ...


class SerialExecutor:
    """Runs every task in this process, in order."""

    workers = 1

    def imap(
        self,
        fn: TaskFn,
        context: Any,
        tasks: Iterable[Any],
        *,
        ordered: bool = True,
        lost: LostFn = raise_lost,
    ) -> Iterator[Any]:
        """Results of ``fn(context, task)``, one task at a time (in this process: ``lost``
        is never called)."""
        for task in tasks:
            yield fn(context, task)

    def close(self) -> None:
        """Nothing to release."""


# ---- local processes -------------------------------------------------------------------

TO_THE_PARENT: tuple[signal.Signals, ...] = (signal.SIGHUP, signal.SIGTERM)
"""Signals to the process group that the parent alone handles (with SIGINT, which the
fork server ignores by itself)."""

_CONTEXTS: dict[int, Any] = {}
"""Worker side: the context of each pool this process serves (keyed by a token)."""


def _init_worker(
    token: int,
    context: Any,
    lifeline: Any,
    keep_alive: Any = None,
    warm: Callable[[], None] | None = None,
) -> None:
    # Ctrl-C, a hang-up or a stop (SIGTERM to the job) go to the whole process group:
    # the parent alone handles them (it stops the pool and cleans up). So a worker
    # leaves the group, and goes on with the task in hand until the parent closes the
    # pool or the lifeline; a worker killed while it sends a result would leave the
    # pool waiting for the rest of the message. SIGTERM keeps its default: the pool
    # itself terminates its workers with it when one of them died (until here a worker
    # ignores it, as the fork server does: one the pool meant to end before this point
    # reads the pool's "stop" instead and exits).
    os.setpgid(0, 0)
    for sig in (signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _CONTEXTS[token] = context
    if keep_alive is not None:
        keep_alive.close()  # forked: this copy of the write end must not keep us alive
    threading.Thread(
        target=_watch_parent, args=(lifeline,), daemon=True, name="siege-lifeline"
    ).start()
    if warm is not None:
        warm()


def _watch_parent(lifeline: Any) -> None:
    """Block until the parent closes (or loses) the lifeline, then end this worker."""
    try:
        while True:
            lifeline.recv_bytes()
    except (EOFError, OSError):
        pass
    os._exit(70)


def _call_in_worker(fn: TaskFn, token: int, task: Any) -> Any:
    return fn(_CONTEXTS[token], task)


def mp_context() -> mp.context.BaseContext:
    """The multiprocessing start method used: ``forkserver`` if available, else ``spawn``.

    The fork server (and the resource tracker it starts) is started here, with Ctrl-C
    and a hang-up ignored: they reach the whole process group, and these helpers must
    outlive them while the parent cleans up. Their standard error, and the workers',
    is the null device (``SIEGE_DEBUG=1`` keeps it): a worker's errors come back to the
    parent with its results, and a helper caught by a stop in the middle of its work
    would otherwise print tracebacks after the command's last line.
    """
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(list(PRELOAD))
        _start_fork_server()
        return ctx
    return mp.get_context("spawn")


def _start_fork_server() -> None:
    """Start the fork server now if it is not running: with SIGINT, SIGHUP and SIGTERM
    ignored (inherited through its ``exec``; only the main thread can change signal
    handlers) and, unless ``SIEGE_DEBUG`` is set, with its standard error (which the
    resource tracker and the workers inherit) on the null device.

    A stop of the job (any of these signals to its process group) must not end the
    fork server: the pool would take the end of its pipes for the death of every worker
    and break (printing a traceback) while the parent cleans up. The fork server still
    ends with the parent (the end of its pipe from the parent): :func:`_end_helpers`
    sees to it at exit."""
    if threading.current_thread() is not threading.main_thread():
        return
    from multiprocessing import forkserver  # the module of the start method chosen above

    global _ENDING_REGISTERED
    if not _ENDING_REGISTERED:
        atexit.register(_end_helpers)
        _ENDING_REGISTERED = True

    if _fork_server_running():
        return  # (the stop signals are not set aside: one that came meanwhile was lost)
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, *TO_THE_PARENT)}
    stderr = None if os.environ.get("SIEGE_DEBUG") else _quiet_stderr()
    try:
        forkserver.ensure_running()
    finally:
        if stderr is not None:
            os.dup2(stderr, 2)
            os.close(stderr)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _fork_server_running() -> bool:
    """Whether the fork server this process started is running (looked at without
    reaping it: a dead one is left for ``ensure_running`` to find and replace).

    Every pool asks for the fork server (:func:`mp_context`), a plan or a calibration
    many times a second; while the stop signals were set to be ignored around
    ``ensure_running``, a SIGTERM or Ctrl-C that came was lost and the command ran on
    to its end. (The standard library keeps the server's pid in a private attribute,
    read here with care: False if it is not found.)"""
    from multiprocessing import forkserver

    pid = getattr(getattr(forkserver, "_forkserver", None), "_forkserver_pid", None)
    if not isinstance(pid, int):
        return False
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
    except (OSError, AttributeError):  # not our child any more, or no waitid here
        return False


_ENDING_REGISTERED = False

HELPER_GRACE_S = 2.0
"""How long :func:`_end_helpers` waits for each helper process to end."""


def _end_helpers() -> None:
    """At exit: end the fork server and the resource tracker, and reap them.

    Both are children of this process that end by themselves when their pipe from it
    closes, but only once it has exited, and then stay behind in the command's process
    group (as zombies, until the system reaps them) for a second or more: a shell
    script or a job runner waiting for the group saw ``siege sweep`` linger. The fork
    server, which only forks workers (all gone by now) and ignores SIGTERM, is killed
    (its own shut-down, a whole interpreter's, took 0.2 s); the resource tracker is
    asked to stop as at exit (its pipe closed), so that it still cleans up, and given
    up to :data:`HELPER_GRACE_S` seconds. (The standard library keeps the two in
    private attributes, read here with care: nothing is done for one not found.)"""
    from multiprocessing import forkserver, resource_tracker

    helpers = (
        (getattr(forkserver, "_forkserver", None), "_forkserver_alive_fd", "_forkserver_pid"),
        (getattr(resource_tracker, "_resource_tracker", None), "_fd", "_pid"),
    )
    for kill, (helper, fd_name, pid_name) in zip((True, False), helpers, strict=True):
        fd, pid = getattr(helper, fd_name, None), getattr(helper, pid_name, None)
        if not isinstance(fd, int) or not isinstance(pid, int):
            continue
        setattr(helper, fd_name, None)
        setattr(helper, pid_name, None)
        with contextlib.suppress(OSError):
            os.close(fd)
        if kill:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + HELPER_GRACE_S
        while True:
            try:
                if os.waitpid(pid, os.WNOHANG)[0] or time.monotonic() > deadline:
                    break
            except ChildProcessError:
                break
            time.sleep(0.002)


def _quiet_stderr() -> int | None:
    """Point file descriptor 2 at the null device; the old one (to restore), or None."""
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:
        return None
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    os.close(null)
    return saved


def signals_held() -> contextlib.AbstractContextManager[None]:
    """Hold SIGINT, SIGTERM and SIGHUP back (in the main thread) until the block ends;
    one that came meanwhile is delivered then.

    For what a stop must not cut in two: a pool starting a worker, a look at a future
    (see :func:`first_done`), or an import (a stop raised in the middle of one can come
    out as another error: Python turns an exception in a class's ``__set_name__`` into
    a ``RuntimeError``). Threads started in the block inherit the mask, so a signal
    keeps coming to the main thread: a pool's threads start there."""
    return _stop_signals(signal.SIG_BLOCK)


def signals_let_in() -> contextlib.AbstractContextManager[None]:
    """Within :func:`signals_held`: let the stop signals in until the block ends (a
    wait that a stop may end)."""
    return _stop_signals(signal.SIG_UNBLOCK)


@contextlib.contextmanager
def _stop_signals(how: int) -> Iterator[None]:
    """The stop signals blocked or unblocked (``how``) in the main thread for the block,
    then the mask as it was (elsewhere, or where masks do not exist, nothing)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "pthread_sigmask"
    ):
        yield
        return
    # the mask as it was is read first: a signal pending from before is raised as the
    # mask changes (at the end of that call), and the ``finally`` must still undo it
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, ())
    try:
        signal.pthread_sigmask(how, {signal.SIGINT, *TO_THE_PARENT})
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextlib.contextmanager
def _gc_frozen(forking: bool) -> Iterator[None]:
    """While a pool forks its workers: every object the garbage collector tracks moved
    to its permanent generation (:func:`gc.freeze`), then back, so that this process's
    collections go on as before and a forked worker never traverses what it inherited.

    A collection of the oldest generation writes into every object it visits, so a
    forked worker that ran one copied the pages of all of this process's objects: a
    worker drawing three of a run's plots spent 0.12 s of its 0.75 s of CPU in that one
    collection. Nothing is done if objects are frozen already (by the user of a
    notebook, say): they stay so."""
    if not forking or gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class _Pool:
    """A process pool serving one context; replaced whole, with its lifeline, when a
    worker died (the token stays)."""

    def __init__(
        self,
        workers: int,
        context: Any,
        start: mp.context.BaseContext | None = None,
        warm: Callable[[], None] | None = None,
    ) -> None:
        self.workers = workers
        self.context = context
        self.token = id(context) ^ os.getpid()
        self._mp = start or mp_context()
        self._warm = warm
        self.lifeline, self.keep_alive = self._mp.Pipe(duplex=False)
        self.executor = self._new()

    def _new(self) -> cf.ProcessPoolExecutor:
        forked = self._mp.get_start_method() == "fork"  # a forked worker holds keep_alive too
        return cf.ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=self._mp,
            initializer=_init_worker,
            initargs=(
                self.token,
                self.context,
                self.lifeline,
                self.keep_alive if forked else None,
                self._warm,
            ),
        )

    def recovery(self, retries: int, lost: LostFn) -> Recovery:
        """How :func:`_drive` survives a worker of this pool dying."""
        return Recovery(
            is_lost=lambda err: isinstance(err, BrokenProcessPool),
            restart=self.restart,
            retries=retries,
            whole_pool=True,
            lost=lost,
        )

    def submit(self, fn: TaskFn, task: Any) -> cf.Future[Any]:
        """Run ``fn(context, task)`` in a worker. A submission may start a worker
        process: Ctrl-C and the other stop signals wait until it is done, so that no
        process is left half-started (it would print a traceback) when they stop us."""
        with signals_held(), _gc_frozen(self._mp.get_start_method() == "fork"):
            return self.executor.submit(_call_in_worker, fn, self.token, task)

    def restart(self) -> None:
        """A fresh pool in place of a broken one.

        The broken pool's workers are ended first by closing their lifeline: the pool
        ends them with SIGTERM and waits for them, and one that missed it (a worker
        still starting ignores it, as the fork server does) would run on, send a result
        nobody reads and keep the pool waiting for ever. The new pool gets a new one.
        """
        with signals_held():
            self.keep_alive.close()
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.lifeline.close()
            self.lifeline, self.keep_alive = self._mp.Pipe(duplex=False)
            self.executor = self._new()

    def shut(self) -> None:
        """Shut the pool down and let the workers go: cancel what waits, wait for what
        runs. A stop signal that comes meanwhile is held until it is done (a stop raised
        in the pool's own code could leave a lock its thread needs held for ever)."""
        with signals_held():
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.keep_alive.close()  # only now: the workers have exited cleanly
            self.lifeline.close()


class ProcessExecutor:
    """A pool of ``workers`` local processes; a fresh pool per :meth:`imap` call, or,
    with ``keep``, one pool kept for consecutive calls with the same context (a
    calibration runs many small batches) until :meth:`close`. A pool whose worker
    died is replaced (see the module docstring, "Lost workers").

    ``fork``: the workers are forked from this process when it runs one thread
    (:func:`warm_start_context`), else from the fork server. A fork costs about 10 ms
    against about 0.4 s for starting the fork server, which imports our modules anew
    (measured on 2 cores, with bytecode); a run pays that before its first result.
    """

    def __init__(
        self,
        workers: int,
        window: int | None = None,
        keep: bool = False,
        retries: int = LOST_RETRIES,
        fork: bool = False,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = workers
        self.window = window or 2 * workers
        self.keep = keep
        self.retries = retries
        self.fork = fork
        self._kept: _Pool | None = None
        self._open: list[_Pool] = []  # the pools of imap calls not finished

    def _pool(self, context: Any) -> _Pool:
        if self._kept is not None and self._kept.context is context:
            return self._kept
        self._close_kept()
        pool = _Pool(self.workers, context, warm_start_context() if self.fork else None)
        if self.keep:
            self._kept = pool
        return pool

    def imap(
        self,
        fn: TaskFn,
        context: Any,
        tasks: Iterable[Any],
        *,
        ordered: bool,
        lost: LostFn = raise_lost,
    ) -> Iterator[Any]:
        """Results of ``fn(context, task)`` computed in worker processes."""
        pool = self._pool(context)
        if not self.keep:
            self._open.append(pool)
        try:
            yield from _drive(
                lambda t: pool.submit(fn, t),
                tasks,
                self.window,
                ordered,
                recovery=pool.recovery(self.retries, lost),
            )
        finally:
            if not self.keep:
                self._shut_open(pool)

    def close(self) -> None:
        """Shut down a kept pool, and the pool of every :meth:`imap` call not finished.

        A stop (Ctrl-C) that comes while the caller, not the generator, runs leaves the
        generator suspended: its own clean-up waits until it is collected, which a
        reference cycle put off past the interpreter's exit, where the standard
        library waited for ever for the pool's idle workers (``siege run`` hung after
        a Ctrl-C about once in ten). Callers close the executor in a ``finally``."""
        for pool in list(self._open):
            self._shut_open(pool)
        self._close_kept()

    def _shut_open(self, pool: _Pool) -> None:
        if pool in self._open:
            self._open.remove(pool)
            pool.shut()

    def _close_kept(self) -> None:
        if self._kept is not None:
            pool, self._kept = self._kept, None
            pool.shut()


def first_done(futures: Iterable[Any]) -> set[Any]:
    """The futures among ``futures`` that are done, waiting until one is.

    A stop signal (Ctrl-C, SIGTERM, a hang-up) can only interrupt the wait itself.
    ``concurrent.futures.wait`` takes each future's lock in Python code; the
    ``KeyboardInterrupt`` of a Ctrl-C raised between taking a lock and the ``try``
    that releases it left the lock held for ever, and the pool's thread, which takes
    it to store the result, blocked: shutting the pool down then waited for ever (a
    ``siege sweep`` stopped by Ctrl-C hung, about once in 15 tries with a large
    window). Here every look at a future is made with the stop signals held
    (:func:`signals_held`); the wait is on a queue, in C, that each future's
    done-callback feeds (from the pool's thread), and a signal interrupts it
    cleanly."""
    futures = list(futures)
    arrivals: queue.SimpleQueue[Any] = queue.SimpleQueue()
    with signals_held():
        done = {f for f in futures if f.done()}
        if not done:
            for f in futures:
                f.add_done_callback(arrivals.put)  # (at once if it is done by now)
    while not done:
        arrivals.get()  # the only place a stop signal is let in
        with signals_held():
            done = {f for f in futures if f.done()}
    return done


@dataclass(frozen=True)
class Recovery:
    """How :func:`_drive` survives the death of a worker process.

    ``is_lost(error)`` tells a lost worker from an error of the task; ``restart()``
    replaces a broken pool; a lost task is run again alone up to ``retries`` times,
    then ``lost(task, crashes)`` stands for its result. ``whole_pool``: a loss fails
    every task in flight (a local pool), not only its own (Dask).
    """

    is_lost: Callable[[BaseException], bool]
    restart: Callable[[], None]
    retries: int
    whole_pool: bool
    lost: LostFn


_PENDING = object()


class _Entry:
    """A task in flight: its future, how often its worker died, its result once known."""

    __slots__ = ("crashes", "future", "task", "value")

    def __init__(self, task: Any, future: Any) -> None:
        self.task = task
        self.future = future
        self.crashes = 0
        self.value: Any = _PENDING


def _drive(
    submit: Callable[[Any], Any],
    tasks: Iterable[Any],
    window: int,
    ordered: bool,
    first_done: Callable[[Iterable[Any]], set[Any]] = first_done,
    recovery: Recovery | None = None,
) -> Iterator[Any]:
    """Keep ``window`` futures in flight; yield their results in task or finishing order.

    ``first_done(futures)`` blocks until at least one is done and returns the done ones
    (:func:`first_done` by default; Dask futures need Dask's own ``wait``). Futures are
    only looked at once done, with the stop signals held: a stop comes out of a wait,
    or at the end of a look, never in the middle of the futures' own code.
    With ``recovery``, tasks whose worker died are run again (see :class:`Recovery`).
    """
    it = iter(tasks)
    pending: deque[_Entry] = deque()
    exhausted = False
    if recovery is not None:
        submit = _submitting(submit, recovery)

    def refill() -> None:
        nonlocal exhausted
        while not exhausted and len(pending) < window:
            try:
                task = next(it)
            except StopIteration:
                exhausted = True
                return
            pending.append(_Entry(task, submit(task)))

    def next_ready() -> _Entry:
        if ordered:
            first_done([pending[0].future])
            return pending[0]
        ready = next((e for e in pending if e.value is not _PENDING), None)
        if ready is not None:
            return ready
        done = first_done([e.future for e in pending])
        return next(e for e in pending if e.future in done)  # earliest submitted first

    try:
        with signals_held():
            refill()
        while pending:
            entry = next_ready()  # done, or holding its result already
            with signals_held():
                if entry.value is _PENDING:
                    error = entry.future.exception()
                    if error is not None and recovery is not None and recovery.is_lost(error):
                        _recover(pending, submit, recovery, first_done)
                        continue
                    entry.value = entry.future.result()  # an error of the task is raised
                pending.remove(entry)
                refill()
            yield entry.value
    finally:
        with signals_held():
            for entry in pending:
                if entry.value is _PENDING:
                    entry.future.cancel()


def _submitting(submit: Callable[[Any], Any], recovery: Recovery) -> Callable[[Any], Any]:
    """``submit`` that returns a failed future instead of raising when the pool is
    already broken (a worker died since the last look), so that the task is recovered
    like those in flight."""

    def start(task: Any) -> Any:
        try:
            return submit(task)
        except Exception as err:
            if not recovery.is_lost(err):
                raise
            failed: cf.Future[Any] = cf.Future()
            failed.set_exception(err)
            return failed

    return start


def _recover(
    pending: Iterable[_Entry],
    submit: Callable[[Any], Any],
    recovery: Recovery,
    first_done: Callable[[Iterable[Any]], set[Any]],
) -> None:
    """After a lost worker: keep what finished, run each lost task again alone.

    Called with the stop signals held (see :func:`_drive`); they are let in only while
    it waits for a future (``first_done``), so a Ctrl-C still ends a long retry."""
    lost: list[_Entry] = []
    for entry in pending:
        if entry.value is not _PENDING:
            continue
        if recovery.whole_pool:
            _settle(entry.future, first_done)  # a broken pool fails every future it holds, soon
        elif not entry.future.done():
            continue
        error = entry.future.exception()
        if error is None:
            entry.value = entry.future.result()
        elif recovery.is_lost(error):
            entry.crashes += 1
            lost.append(entry)
    if recovery.whole_pool:
        recovery.restart()
    for entry in lost:
        while entry.crashes <= recovery.retries:
            future = submit(entry.task)
            _settle(future, first_done)
            error = future.exception()
            if error is None or not recovery.is_lost(error):
                entry.future = future  # a result, or an error of the task: raised in turn
                break
            entry.crashes += 1
            recovery.restart()
        else:
            entry.value = recovery.lost(entry.task, entry.crashes)


def _settle(future: Any, first_done: Callable[[Iterable[Any]], set[Any]]) -> None:
    """Wait for ``future`` with the stop signals let in (the caller holds them)."""
    if future.done():
        return
    with signals_let_in():
        first_done([future])


# ---- warm workers ----------------------------------------------------------------------


def _nothing(_: Any, __: Any) -> None:
    """A first task: it makes the pool start its workers now."""


def _apply(_: Any, call: tuple[TaskFn, Any, Any]) -> Any:
    """A task that carries its own context: ``call`` is ``(fn, context, task)``."""
    fn, context, task = call
    return fn(context, task)


def warm_start_context() -> mp.context.BaseContext:
    """``fork`` when this process runs one thread and the platform forks, else
    :func:`mp_context`: forking a process with threads can copy a lock some thread
    holds (a notebook has several; the ``siege`` command has one until its pools start)."""
    if threading.active_count() == 1 and "fork" in mp.get_all_start_methods():
        return mp.get_context("fork")
    return mp_context()


class WarmPool:
    """``workers`` processes started at once, each calling ``warm()`` (imports, fonts)
    while this process goes on; :meth:`imap` then ships the context with every task.

    A :class:`_Pool` (its workers leave the stop signals to this process and die with
    it; a dead one is replaced) started by :func:`warm_start_context`.
    :meth:`close` shuts them down.
    """

    def __init__(self, workers: int, warm: Callable[[], None] | None = None) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = workers
        self.window = 2 * workers
        self._pool = _Pool(workers, None, warm_start_context(), warm)
        for _ in range(workers):  # start every worker now (a fork pool starts them all)
            self._pool.submit(_nothing, None)

    def imap(
        self,
        fn: TaskFn,
        context: Any,
        tasks: Iterable[Any],
        *,
        ordered: bool,
        lost: LostFn = raise_lost,
    ) -> Iterator[Any]:
        """Results of ``fn(context, task)`` computed in the warm workers; a worker that
        dies is replaced and its tasks run again, as by :class:`ProcessExecutor`."""
        yield from _drive(
            lambda t: self._pool.submit(_apply, (fn, context, t)),
            tasks,
            self.window,
            ordered,
            recovery=self._pool.recovery(LOST_RETRIES, lost),
        )

    def close(self) -> None:
        """Shut the workers down (waiting for what runs; cancelling what waits)."""
        self._pool.shut()


class Background:
    """One task, ``fn(context, task)``, started now in a worker process of its own while
    this process goes on with something else; :meth:`result` waits for its result.

    The worker is forked from this process when it runs a single thread (it starts at
    once, with every module imported here, and the context is inherited rather than
    sent), else started from the fork server (:func:`warm_start_context`). It is a
    one-worker :class:`_Pool`: it leaves the stop signals to this process, dies with it,
    and a task whose worker died is run again (up to :data:`LOST_RETRIES` times, then
    ``lost``), as by :class:`ProcessExecutor`. Once :meth:`result` or :meth:`close`
    has returned, the pool's threads are gone: this process runs one thread again (if
    it did before) and may fork.
    """

    def __init__(self, fn: TaskFn, context: Any, task: Any) -> None:
        self._fn = fn
        self._task = task
        self._pool = _Pool(1, context, warm_start_context())
        self._started: list[cf.Future[Any]] = [self._pool.submit(fn, task)]

    def _submit(self, task: Any) -> cf.Future[Any]:
        """The future submitted at the start, then (a worker died) a new submission."""
        return self._started.pop() if self._started else self._pool.submit(self._fn, task)

    def result(self, lost: LostFn = raise_lost) -> Any:
        """Wait for the task; return its result (or raise its error) and shut the worker
        down."""
        try:
            recovery = self._pool.recovery(LOST_RETRIES, lost)
            return next(_drive(self._submit, [self._task], 1, True, recovery=recovery))
        finally:
            self.close()

    def close(self) -> None:
        """Shut the worker down (waiting for the task if it runs)."""
        self._pool.shut()


class Beside:
    """``fn(*args)`` started now in a thread of this process while this thread goes on;
    :meth:`result` waits for it and ends the thread (:meth:`close` alone, on the way
    out of an error).

    For work that mostly waits or runs in NumPy (writing tables, bootstraps), where a
    process would cost more than it saves. The thread starts with the stop signals held
    (:func:`signals_held`), so it inherits the mask and a Ctrl-C keeps coming to this
    thread; the wait lets one in only where it is safe (:func:`first_done`). Once
    :meth:`result` or :meth:`close` has returned, the thread is gone: a process that ran
    one thread before may fork again.
    """

    def __init__(self, name: str, fn: Callable[..., Any], *args: Any) -> None:
        with signals_held():
            self._pool = cf.ThreadPoolExecutor(1, thread_name_prefix=name)
            self._future = self._pool.submit(fn, *args)

    def result(self) -> Any:
        """Wait for the call; its result (or its error, raised) once the thread is gone."""
        try:
            first_done([self._future])
            with signals_held():
                return self._future.result()
        finally:
            self.close()

    def close(self) -> None:
        """End the thread (waiting for the call if it runs)."""
        with signals_held():
            self._pool.shutdown()


# ---- Dask ------------------------------------------------------------------------------


def dask_setup(worker: Any) -> None:
    """Run by each worker of a local Dask cluster as it starts (Dask's preload hook).

    The worker ignores Ctrl-C and a hang-up, as the workers of a :class:`ProcessExecutor`
    do: the terminal sends them to every process of its group, and the parent alone
    decides what a stop means (it closes the cluster, and each nanny stops its worker).
    A stop in the second or so while a worker starts, before this runs, still ends that
    worker (and it prints its traceback): Dask starts its workers as new interpreters."""
    for sig in (signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)


def _dask_call(fn: TaskFn, context: Any, task: Any) -> Any:
    return fn(context, task)


class DaskExecutor:
    """Runs tasks on a Dask distributed cluster (``pip install 'siege-sim[dask]'``).

    ``scheduler`` is the scheduler's address (``tcp://host:8786``); an existing
    :class:`distributed.Client` may be passed instead. With neither, a
    ``LocalCluster`` of ``workers`` single-threaded processes is started and closed
    with the executor. A scheduler that cannot be reached within ``timeout_s``
    seconds is refused with :class:`~sim.scenario.errors.ScenarioError` (``--scheduler``).
    """

    def __init__(
        self,
        scheduler: str | None = None,
        workers: int | None = None,
        client: Any = None,
        window: int | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self._cluster = None
        self._own_client = client is None
        try:
            # Started with the stop signals held: the threads of Dask's event loop, and
            # the worker processes they start, inherit the mask. So a Ctrl-C, which the
            # terminal sends to every process of the group, stops this process alone,
            # which then closes the cluster (a worker killed by it would have lost its
            # scattered data and filled the screen with Dask's errors); and a cluster is
            # never left half started. A stop that came meanwhile is raised when the
            # block ends, and the half-made executor is closed.
            with signals_held():
                self._connect(scheduler, workers, client, timeout_s)
        except BaseException:
            self.close()
            raise
        n = sum(w.get("nthreads", 1) for w in self.client.scheduler_info()["workers"].values())
        self.workers = max(1, n)
        self.window = window or 2 * self.workers

    def _connect(
        self, scheduler: str | None, workers: int | None, client: Any, timeout_s: float
    ) -> None:
        """Set ``client`` (and ``_cluster`` when a local one is started)."""
        try:
            # imported here: distributed costs a third of a second and only Dask runs need it
            from distributed import Client, LocalCluster
        except ImportError as err:  # pragma: no cover - depends on the installation
            raise ScenarioError(
                "--executor", "", "dask needs dask.distributed: pip install 'siege-sim[dask]'"
            ) from err

        if client is not None:
            self.client = client
        elif scheduler:
            try:
                self.client = Client(scheduler, timeout=timeout_s)
            except (OSError, TimeoutError, ValueError) as err:
                reason = one_line(str(err)) or type(err).__name__
                raise ScenarioError(
                    "--scheduler",
                    "",
                    f"cannot reach a Dask scheduler at {scheduler!r} within {timeout_s:g} s "
                    f"({reason})",
                ) from None
        else:
            self._cluster = LocalCluster(
                n_workers=workers or default_workers(),
                threads_per_worker=1,
                processes=True,
                preload=[__name__],  # each worker runs dask_setup() as it starts
            )
            self.client = Client(self._cluster)

    def imap(
        self,
        fn: TaskFn,
        context: Any,
        tasks: Iterable[Any],
        *,
        ordered: bool,
        lost: LostFn = raise_lost,
    ) -> Iterator[Any]:
        """Results of ``fn(context, task)`` computed on the cluster's workers; a task
        whose workers kept dying (Dask's ``KilledWorker``) goes to ``lost``."""
        from distributed import KilledWorker, wait  # see __init__

        def first_done(futures: Iterable[Any]) -> set[Any]:
            return set(wait(list(futures), return_when="FIRST_COMPLETED").done)

        recovery = Recovery(
            is_lost=lambda err: isinstance(err, KilledWorker),
            restart=lambda: None,
            retries=0,  # the scheduler has retried it already
            whole_pool=False,
            lost=lost,
        )
        [ctx] = self.client.scatter([context], broadcast=True, hash=False)
        yield from _drive(
            lambda t: self.client.submit(_dask_call, fn, ctx, t, pure=False),
            tasks,
            self.window,
            ordered,
            first_done,
            recovery,
        )

    def close(self) -> None:
        """Close the client (and the local cluster, if this executor started one).

        A local cluster closes with Dask's logs silenced: closed by a stop in the middle
        of a task or of sending the context, it logs the work it drops, as errors,
        which are not the user's to act on (the run's own message says what was kept)."""
        client = getattr(self, "client", None)
        local = self._cluster is not None
        with _logs_silenced(DASK_LOGGERS) if local else contextlib.nullcontext():
            if self._own_client and client is not None:
                client.close()
            if self._cluster is not None:
                self._cluster.close()


DASK_LOGGERS = ("distributed", "tornado", "asyncio")
"""The loggers a closing local Dask cluster writes to."""


@contextlib.contextmanager
def _logs_silenced(names: Iterable[str]) -> Iterator[None]:
    """The named loggers and their children (those with a level of their own too) say
    nothing until the block ends."""
    prefixes = tuple(f"{name}." for name in names)
    known = [n for n in logging.root.manager.loggerDict if n.startswith(prefixes)]
    loggers = [logging.getLogger(name) for name in (*names, *known)]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def make_executor(
    kind: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    timeout_s: float = 30.0,
    keep: bool = False,
    fork: bool = False,
) -> Executor:
    """``local`` (processes; serial for one worker) or ``dask`` (on ``scheduler``, reached
    within ``timeout_s`` seconds). ``keep``: local processes stay up between calls with
    the same context; ``fork``: forked from this process when safe (see
    :class:`ProcessExecutor`)."""
    if kind == "dask":
        return DaskExecutor(scheduler=scheduler, workers=workers, timeout_s=timeout_s)
    if kind != "local":
        raise ValueError(f"unknown executor {kind!r} (known: {', '.join(EXECUTORS)})")
    n = default_workers() if workers is None else workers
    return SerialExecutor() if n <= 1 else ProcessExecutor(n, keep=keep, fork=fork)
