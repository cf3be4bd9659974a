"""Parameter sweeps: design points × replications, streamed to a resumable folder.

A sweep runs every design point of a :class:`~sim.experiment.sweepfile.SweepSpec`
``replications`` times. Replication ``r`` of every point uses root seed ``seed`` and
replication index ``r`` — the same named random streams — so differences between
points are not noise (common random numbers). Each run's metrics go to ``runs.csv``
as soon as it finishes; nothing else about a run is kept, so memory stays flat
however many runs there are.

The folder (see :mod:`sim.experiment.store` for the tables)::

    scenario.toml    the resolved base scenario
    sweep.toml       the resolved sweep (base = "scenario.toml"): --resume reads it
    inputs.json      the fingerprint of both: a resume with other inputs is refused
    design.csv       the design points
    runs.csv         one row per run (a journal while running, sorted when done)
    points.csv       per point: mean, 95 % CI, p05/p50/p95 of every metric
    sensitivity.csv  Sobol' or Morris indices (those designs only)
    manifest.json    versions, design, counts, status, one entry per session
    plots/*.png      drawn afterwards by :func:`sim.output.sweep_plots.plot_sweep`

:func:`write_inputs` writes the first five (and the manifest) into a folder the
caller made; the caller (:func:`sim.api.sweep`) makes that folder atomically and
locks it. :func:`resume` then drives the runs from the folder's own ``sweep.toml`` —
exactly what ``--resume`` does — so a resumed sweep and an uninterrupted one compute
the same things and end with the same bytes (``manifest.json`` aside: it records
times and sessions). Nothing here creates, locks or plots a folder: the caller holds
the folder's lock while :func:`resume` runs.
"""

from __future__ import annotations

import datetime as dt
import signal
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.analysis import frames
from sim.analysis import sensitivity as sa
from sim.conventions import csv_line, default_workers, fmt, json_text, signal_of
from sim.experiment import fingerprint, store
from sim.experiment.designs import MORRIS_LEVELS, Design
from sim.experiment.executors import Executor, make_executor
from sim.experiment.provenance import build_manifest, package_version, with_session
from sim.experiment.runner import (
    Evaluate,
    RunTask,
    SweepContext,
    default_evaluate,
    execute,
    lost_row,
)
from sim.experiment.sweepfile import SweepSpec, load_sweep, resolved_data, resolved_toml
from sim.scenario.errors import ScenarioError
from sim.scenario.limits import MAX_POINTS, MAX_REPLICATIONS, MAX_RUNS, MAX_SAMPLES, too_large
from sim.scenario.load import dump_toml, with_values
from sim.scenario.schema import Scenario
from sim.scenario.timeline import timeline_steps

__all__ = [
    "SweepFolderError",
    "SweepInterrupted",
    "SweepResult",
    "check_points",
    "check_size",
    "load_folder",
    "make_probe",
    "resume",
    "write_inputs",
]


@dataclass
class SweepResult:
    """What a sweep session did."""

    out_dir: Path
    points: int
    replications: int
    failed: int
    ran: int
    wall_time_s: float
    first_error: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def runs(self) -> int:
        """Runs in the whole sweep."""
        return self.points * self.replications

    def to_frame(self) -> Any:
        """``points.csv`` (per point: values, runs, each metric's mean, interval and
        percentiles) as a pandas DataFrame (the optional extra ``siege-sim[pandas]``)."""
        return frames.csv_frame(self.out_dir / store.POINTS_CSV)

    def runs_frame(self) -> Any:
        """``runs.csv``: one row per run (point, replication, metrics), as a DataFrame."""
        return frames.csv_frame(self.out_dir / store.RUNS_CSV)


class SweepFolderError(ScenarioError):
    """The folder given to ``--resume`` is not a resumable sweep."""


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM, SIGHUP) during :func:`resume`: the finished runs are in the
    folder's ``runs.csv``.

    ``out_dir`` is the folder to resume (``siege sweep --resume DIR``); ``signum`` the
    signal that stopped it.
    """

    def __init__(self, out_dir: Path, signum: int = signal.SIGINT) -> None:
        super().__init__(str(out_dir))
        self.out_dir = out_dir
        self.signum = int(signum)


# ---- building a new sweep folder -------------------------------------------------------


def make_probe(evaluate: Evaluate | None) -> Any:
    """A probe run of the base scenario (replication 0): the metric names it gives."""

    def probe(base: Scenario) -> Mapping[str, float] | None:
        try:
            return (evaluate or default_evaluate)(base, 0, base.seed)
        except Exception:  # the runs will record the error; names cannot be checked
            return None

    return probe


MAX_CHECKED = 512
"""Design points validated before anything is written (evenly spaced when more)."""


def check_points(
    spec: SweepSpec, points: Sequence[Sequence[Any]], limit: int = MAX_CHECKED
) -> None:
    """Design points must give valid scenarios (else ScenarioError, nothing written).

    Each parameter's own values or range ends are checked when the spec is built; this
    checks combinations: every point of a design of up to ``limit`` points, else
    ``limit`` evenly spaced ones (validation costs milliseconds a point). A point left
    unchecked that turns out invalid is a failed run, recorded with its error.
    """
    n = len(points)
    chosen = (
        range(n) if n <= limit else sorted({round(k * (n - 1) / (limit - 1)) for k in range(limit)})
    )
    for i in chosen:
        pt = points[i]
        try:
            with_values(spec.base, dict(zip(spec.paths, pt, strict=True)), source=spec.source)
        except ScenarioError as err:
            shown = ", ".join(f"{p}={fmt(v)}" for p, v in zip(spec.paths, pt, strict=True))
            raise ScenarioError(
                err.file, err.path, f"{err.message} (design point {i}: {shown})"
            ) from None


def check_size(spec: SweepSpec, allow_large: bool = False) -> None:
    """Refuse a sweep too large to be meant, before its design is built (unless
    ``allow_large``): more than :data:`~sim.scenario.limits.MAX_SAMPLES` samples,
    :data:`~sim.scenario.limits.MAX_REPLICATIONS` replications,
    :data:`~sim.scenario.limits.MAX_POINTS` design points or
    :data:`~sim.scenario.limits.MAX_RUNS` runs."""
    if allow_large:
        return
    for message in (
        too_large("samples", spec.samples, MAX_SAMPLES),
        too_large("replications", spec.replications, MAX_REPLICATIONS),
    ):
        if message:
            raise ScenarioError(spec.source, "", message)
    n = spec.n_points()
    for message in (
        too_large("design points", n, MAX_POINTS),
        too_large("runs (design points × replications)", n * spec.replications, MAX_RUNS),
    ):
        if message:
            raise ScenarioError(spec.source, "", message)


def write_inputs(
    folder: Path, spec: SweepSpec, design: Design, command: Sequence[str] | None = None
) -> None:
    """Write a new sweep's input files into the empty ``folder``: ``scenario.toml``,
    ``sweep.toml``, ``inputs.json`` (their fingerprint), ``design.csv``, the header of
    ``runs.csv`` and ``manifest.json`` (status ``running``)."""
    (folder / store.SCENARIO_TOML).write_text(dump_toml(spec.base), encoding="utf-8")
    (folder / store.SWEEP_TOML).write_text(resolved_toml(spec), encoding="utf-8")
    fingerprint.record(folder, inputs_fingerprint(spec))
    (folder / store.DESIGN_CSV).write_text(
        store.design_text(spec.paths, design.points), encoding="utf-8"
    )
    (folder / store.RUNS_CSV).write_text(
        csv_line(store.runs_header(spec.metrics)), encoding="utf-8"
    )
    manifest = _manifest(spec, len(design), status="running", command=command)
    (folder / store.MANIFEST_JSON).write_text(json_text(manifest), encoding="utf-8")


# ---- running what is missing -----------------------------------------------------------


def _tasks(
    points: Sequence[Sequence[Any]], replications: int, done: Mapping[tuple[int, int], str]
) -> Iterator[RunTask]:
    for i, pt in enumerate(points):
        for r in range(replications):
            if (i, r) not in done:
                yield RunTask(i, r, tuple(pt))


def inputs_fingerprint(spec: SweepSpec) -> fingerprint.Fingerprint:
    """The fingerprint of a sweep's resolved inputs (see :mod:`sim.experiment.fingerprint`)."""
    return fingerprint.fingerprint(
        {
            store.SWEEP_TOML: fingerprint.settings_values(resolved_data(spec)),
            store.SCENARIO_TOML: fingerprint.scenario_values(spec.base),
        }
    )


def load_folder(out: Path) -> tuple[SweepSpec, Design]:
    """The spec and design of a sweep folder, checked against the inputs it started with
    (``inputs.json``; :class:`~sim.scenario.errors.ScenarioError` naming the first
    change) and against its ``design.csv``."""
    sweep_file = out / store.SWEEP_TOML
    if not out.is_dir():
        raise SweepFolderError(str(out), "", "no such sweep folder")
    if not sweep_file.is_file() or not (out / store.DESIGN_CSV).is_file():
        raise SweepFolderError(str(out), "", "not a sweep folder (no sweep.toml or design.csv)")
    spec = load_sweep(sweep_file)
    try:
        fingerprint.check(out, inputs_fingerprint(spec), "sweep")
    except ScenarioError as err:
        raise SweepFolderError(err.file, err.path, err.message) from None
    design = spec.make_design()
    expected = store.design_text(spec.paths, design.points)
    if (out / store.DESIGN_CSV).read_bytes() != expected.encode("utf-8"):
        raise SweepFolderError(
            str(out / store.DESIGN_CSV), "", "does not match sweep.toml (was either file edited?)"
        )
    return spec, design


def resume(
    out_dir: str | Path,
    *,
    executor: Executor | None = None,
    workers: int | None = None,
    evaluate: Evaluate | None = None,
    progress: bool = False,
    command: Sequence[str] | None = None,
    retry_failed: bool = False,
) -> SweepResult:
    """Run every (point, replication) missing from the folder's ``runs.csv``; finalize.

    The caller holds the folder's lock. ``executor`` defaults to local processes
    (``workers``, default: the machine's cores; one worker runs in this process).
    ``retry_failed`` runs the failed runs again too (their rows are dropped first).
    Inputs changed since the sweep started are refused (:func:`load_folder`).
    Ctrl-C (or SIGTERM, SIGHUP: :class:`~sim.conventions.Terminated`) records the
    session as interrupted and raises :class:`SweepInterrupted`.
    """
    out = Path(out_dir)
    if not out.is_dir():
        raise SweepFolderError(str(out), "", "no such sweep folder")
    t0 = time.perf_counter()
    started = dt.datetime.now(dt.UTC)
    spec, design = load_folder(out)
    if fingerprint.recorded(out) is None:  # a folder from before fingerprints: from now on
        fingerprint.record(out, inputs_fingerprint(spec))
    header = store.runs_header(spec.metrics)
    runs_path = out / store.RUNS_CSV
    try:
        done = store.read_journal(runs_path, header, len(design), spec.replications)
    except ValueError as err:
        raise SweepFolderError(str(runs_path), "", str(err).split(": ", 1)[-1]) from None
    if retry_failed:
        done = {k: line for k, line in done.items() if not _failed(line, len(spec.metrics))}
    # drop a torn last line (and, to retry them, the failed runs) before appending
    store.rewrite_journal(runs_path, store.journal_text(header, done, order=list(done)))

    total = len(design) * spec.replications
    missing = total - len(done)
    own_executor = executor is None
    if executor is None:
        n = default_workers() if workers is None else workers
        # forked from this process (which runs one thread here: the progress bar has
        # no monitor thread) rather than from a fork server started for it: 0.6 s less
        executor = make_executor("local", workers=max(1, min(n, missing)), fork=True)
    context = SweepContext(
        base=spec.base,
        seed=spec.seed,
        paths=spec.paths,
        metrics=spec.metrics,
        evaluate=evaluate,
        source=spec.source,
        timeline=tuple(timeline_steps(spec.base)) if not spec.paths else (),
    )
    ran = failed_now = 0
    first_error = ""
    bar = _progress(total, len(done), progress)
    try:
        with store.Journal(runs_path) as journal:
            rows = executor.imap(
                execute,
                context,
                _tasks(design.points, spec.replications, done),
                ordered=False,
                lost=lost_row,
            )
            for row in rows:
                journal.append(store.run_line(row, spec.seed, len(spec.metrics)))
                ran += 1
                if row.error:
                    failed_now += 1
                    first_error = first_error or row.error
                    bar.set_postfix_str(f"{failed_now} failed", refresh=False)
                bar.update(1)
    except KeyboardInterrupt as stop:
        bar.close()
        _update_manifest(out, spec, len(design), "interrupted", started, t0, ran, command)
        raise SweepInterrupted(out, signal_of(stop)) from None
    except BaseException:
        bar.close()
        _update_manifest(out, spec, len(design), "interrupted", started, t0, ran, command)
        raise
    finally:
        if own_executor:
            executor.close()
    bar.close()
    failed = finalize(out, spec, design)
    if not first_error and failed:
        first_error = _first_error(out / store.RUNS_CSV, len(spec.metrics))
    _update_manifest(
        out,
        spec,
        len(design),
        "complete",
        started,
        t0,
        ran,
        command,
        failed=failed,
        workers=executor.workers,
    )
    return SweepResult(
        out, len(design), spec.replications, failed, ran, time.perf_counter() - t0, first_error
    )


def finalize(out: Path, spec: SweepSpec, design: Design) -> int:
    """Sorted ``runs.csv``, ``points.csv`` and ``sensitivity.csv``; returns the failed runs."""
    header = store.runs_header(spec.metrics)
    runs_path = out / store.RUNS_CSV
    done = store.read_journal(runs_path, header, len(design), spec.replications)
    total = len(design) * spec.replications
    if len(done) != total:
        raise RuntimeError(f"{runs_path}: {total - len(done)} of {total} runs are missing")
    runs_text = store.journal_text(header, done)
    store.rewrite_journal(runs_path, runs_text)
    sens = spec.design in ("sobol", "morris")
    points_text, means, matrix, failed = store.summarize_runs(
        runs_text, spec.metrics, spec.paths, design.points, spec.replications, keep_matrix=sens
    )
    store.atomic_write(out / store.POINTS_CSV, points_text)
    if sens:
        if spec.design == "sobol":
            rows = sa.sobol_table(design.problem(), spec.metrics, means, matrix, spec.seed)
            columns = sa.SOBOL_COLUMNS
        else:
            rows = sa.morris_table(
                design.problem(),
                design.x,
                spec.metrics,
                means,
                matrix,
                spec.seed,
                num_levels=MORRIS_LEVELS,
            )
            columns = sa.MORRIS_COLUMNS
        store.atomic_write(out / store.SENSITIVITY_CSV, store.sensitivity_text(rows, columns))
    return failed


def _failed(line: str, n_metrics: int) -> bool:
    """Whether a ``runs.csv`` line records a failed run."""
    return bool(store.parse_run_line(line, n_metrics)[3])


def _first_error(runs_path: Path, n_metrics: int) -> str:
    for line in runs_path.read_text(encoding="utf-8", errors="replace").split("\n")[1:-1]:
        error = store.parse_run_line(line, n_metrics)[3]
        if error:
            return error
    return ""


# ---- manifest and progress -------------------------------------------------------------


def _manifest(
    spec: SweepSpec,
    n_points: int,
    *,
    status: str,
    command: Sequence[str] | None,
    workers: int | None = None,
    wall_time_s: float = 0.0,
) -> dict[str, Any]:
    m = build_manifest(
        kind="sweep",
        seed=spec.seed,
        replications=spec.replications,
        workers=workers or 0,
        wall_time_s=wall_time_s,
        command=list(command) if command else None,
        scenario_name=spec.base.name,
    )
    m.update(
        {
            "sweep": spec.name,
            "design": spec.design,
            "samples": spec.samples,
            "parameters": list(spec.paths),
            "metrics": list(spec.metrics),
            "points": n_points,
            "runs": n_points * spec.replications,
            "status": status,
            "sessions": [],
        }
    )
    m["salib"] = package_version("SALib")
    return m


def _update_manifest(
    out: Path,
    spec: SweepSpec,
    n_points: int,
    status: str,
    started: dt.datetime,
    t0: float,
    ran: int,
    command: Sequence[str] | None,
    failed: int | None = None,
    workers: int | None = None,
) -> None:
    path = out / store.MANIFEST_JSON
    sessions = with_session(
        path,
        started=started,
        t0=t0,
        runs=ran,
        status=status,
        workers=workers,
        command=command,
    )
    m = _manifest(
        spec,
        n_points,
        status=status,
        command=command,
        workers=workers,
        wall_time_s=sum(s.get("wall_time_s", 0.0) for s in sessions),
    )
    m["sessions"] = sessions
    if failed is not None:
        m["failed"] = failed
    store.atomic_write(path, json_text(m))


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, s: str, refresh: bool = True) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, initial: int, show: bool) -> Any:
    if not show:
        return _NoBar()
    from tqdm import tqdm  # only for a terminal: 40 ms of start-up otherwise

    return _monitorless(tqdm)(
        total=total,
        initial=initial,
        unit="run",
        desc="sweep",
        file=sys.stderr,
        dynamic_ncols=True,
        smoothing=0.1,
    )


def _monitorless(bar: Any) -> Any:
    """The tqdm class ``bar`` without its monitor thread (``monitor_interval = 0``): it
    only watches for bars that stopped refreshing, and a process with a thread cannot
    fork its workers (:class:`~sim.experiment.executors.ProcessExecutor`)."""
    return type("SweepBar", (bar,), {"monitor_interval": 0})
