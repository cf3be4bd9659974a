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
    a :class:`concurrent.futures.ProcessPoolExecutor` on the ``forkserver`` start
    method where the platform has it (``spawn`` elsewhere): no fork of a process
    holding threads or open files, and the heavy modules are imported once in the
    fork server. Workers ignore SIGINT, so Ctrl-C reaches only the parent, which
    cancels what has not started. Each worker also holds the read end of a
    *lifeline* pipe whose only write end is in the parent: if the parent dies
    (``kill -9``), the pipe reaches end-of-file and the worker exits at once —
    otherwise workers, which hold both ends of the pool's queues, would wait forever
    (and keep the fork server alive).
:class:`DaskExecutor`
    a ``dask.distributed`` client on a scheduler address (or a ``LocalCluster`` it
    starts itself when none is given). The context is scattered to every worker
    once.

Whatever the executor, a task's result depends only on the context and the task,
so the results are identical; only their arrival order differs.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
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


class Executor(Protocol):
    """Maps ``fn(context, task)`` over tasks; see the module docstring."""

    workers: int

    def imap(
        self, fn: TaskFn, context: Any, tasks: Iterable[Any], *, ordered: bool
    ) -> Iterator[Any]:
        """Results of ``fn(context, task)`` for every task, in task or finishing order."""
        ...

    def close(self) -> None:
        """Release workers and connections."""
        ...


class SerialExecutor:
    """Runs every task in this process, in order."""

    workers = 1

    def imap(
        self, fn: TaskFn, context: Any, tasks: Iterable[Any], *, ordered: bool = True
    ) -> Iterator[Any]:
        """Results of ``fn(context, task)``, one task at a time."""
        for task in tasks:
            yield fn(context, task)

    def close(self) -> None:
        """Nothing to release."""


# ---- local processes -------------------------------------------------------------------

_CONTEXTS: dict[int, Any] = {}
"""Worker side: the context of each pool this process serves (keyed by a token)."""


def _init_worker(token: int, context: Any, lifeline: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _CONTEXTS[token] = context
    threading.Thread(
        target=_watch_parent, args=(lifeline,), daemon=True, name="siege-lifeline"
    ).start()


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
    """The multiprocessing start method used: ``forkserver`` if available, else ``spawn``."""
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(list(PRELOAD))
        return ctx
    return mp.get_context("spawn")


class ProcessExecutor:
    """A pool of ``workers`` local processes; a fresh pool per :meth:`imap` call, or,
    with ``keep``, one pool kept for consecutive calls with the same context (a
    calibration runs many small batches) until :meth:`close`."""

    def __init__(self, workers: int, window: int | None = None, keep: bool = False) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = workers
        self.window = window or 2 * workers
        self.keep = keep
        self._kept: tuple[Any, int, cf.ProcessPoolExecutor, Any, Any] | None = None

    def _pool(self, context: Any) -> tuple[int, cf.ProcessPoolExecutor, Any, Any]:
        if self._kept is not None and self._kept[0] is context:
            return self._kept[1:]
        self.close()
        token = id(context) ^ os.getpid()
        ctx = mp_context()
        lifeline, keep_alive = ctx.Pipe(duplex=False)
        pool = cf.ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(token, context, lifeline),
        )
        if self.keep:
            self._kept = (context, token, pool, lifeline, keep_alive)
        return token, pool, lifeline, keep_alive

    def imap(
        self, fn: TaskFn, context: Any, tasks: Iterable[Any], *, ordered: bool
    ) -> Iterator[Any]:
        """Results of ``fn(context, task)`` computed in worker processes."""
        token, pool, lifeline, keep_alive = self._pool(context)
        try:
            yield from _drive(
                lambda t: pool.submit(_call_in_worker, fn, token, t), tasks, self.window, ordered
            )
        finally:
            if not self.keep:
                _shut(pool, lifeline, keep_alive)

    def close(self) -> None:
        """Shut down a kept pool (pools of plain :meth:`imap` calls are already closed)."""
        if self._kept is not None:
            _, _, pool, lifeline, keep_alive = self._kept
            self._kept = None
            _shut(pool, lifeline, keep_alive)


def _shut(pool: cf.ProcessPoolExecutor, lifeline: Any, keep_alive: Any) -> None:
    pool.shutdown(wait=True, cancel_futures=True)
    keep_alive.close()  # only now: the workers have exited cleanly
    lifeline.close()


def _first_done(futures: Iterable[Any]) -> set[Any]:
    done, _ = cf.wait(list(futures), return_when=cf.FIRST_COMPLETED)
    return set(done)


def _drive(
    submit: Callable[[Any], Any],
    tasks: Iterable[Any],
    window: int,
    ordered: bool,
    first_done: Callable[[Iterable[Any]], set[Any]] = _first_done,
) -> Iterator[Any]:
    """Keep ``window`` futures in flight; yield their results in task or finishing order.

    ``first_done(futures)`` blocks until at least one is done and returns the done ones
    (``concurrent.futures.wait`` by default; Dask futures need Dask's own ``wait``).
    """
    it = iter(tasks)
    pending: deque[cf.Future] = deque()
    exhausted = False

    def refill() -> None:
        nonlocal exhausted
        while not exhausted and len(pending) < window:
            try:
                task = next(it)
            except StopIteration:
                exhausted = True
                return
            pending.append(submit(task))

    try:
        refill()
        while pending:
            if ordered:
                fut = pending.popleft()
            else:
                done = first_done(pending)
                fut = next(f for f in pending if f in done)  # earliest submitted first
                pending.remove(fut)
            result = fut.result()
            refill()
            yield result
    finally:
        for fut in pending:
            fut.cancel()


# ---- Dask ------------------------------------------------------------------------------


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
        try:
            # imported here: distributed costs a third of a second and only Dask runs need it
            from distributed import Client, LocalCluster
        except ImportError as err:  # pragma: no cover - depends on the installation
            raise ScenarioError(
                "--executor", "", "dask needs dask.distributed: pip install 'siege-sim[dask]'"
            ) from err
        self._cluster = None
        self._own_client = client is None
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
                n_workers=workers or default_workers(), threads_per_worker=1, processes=True
            )
            self.client = Client(self._cluster)
        n = sum(w.get("nthreads", 1) for w in self.client.scheduler_info()["workers"].values())
        self.workers = max(1, n)
        self.window = window or 2 * self.workers

    def imap(
        self, fn: TaskFn, context: Any, tasks: Iterable[Any], *, ordered: bool
    ) -> Iterator[Any]:
        """Results of ``fn(context, task)`` computed on the cluster's workers."""
        from distributed import wait  # see __init__

        def first_done(futures: Iterable[Any]) -> set[Any]:
            return set(wait(list(futures), return_when="FIRST_COMPLETED").done)

        [ctx] = self.client.scatter([context], broadcast=True, hash=False)
        yield from _drive(
            lambda t: self.client.submit(_dask_call, fn, ctx, t, pure=False),
            tasks,
            self.window,
            ordered,
            first_done,
        )

    def close(self) -> None:
        """Close the client (and the local cluster, if this executor started one)."""
        if self._own_client:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(
    kind: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    timeout_s: float = 30.0,
    keep: bool = False,
) -> Executor:
    """``local`` (processes; serial for one worker) or ``dask`` (on ``scheduler``, reached
    within ``timeout_s`` seconds). ``keep``: local processes stay up between calls with
    the same context (see :class:`ProcessExecutor`)."""
    if kind == "dask":
        return DaskExecutor(scheduler=scheduler, workers=workers, timeout_s=timeout_s)
    if kind != "local":
        raise ValueError(f"unknown executor {kind!r} (known: {', '.join(EXECUTORS)})")
    n = default_workers() if workers is None else workers
    return SerialExecutor() if n <= 1 else ProcessExecutor(n, keep=keep)
