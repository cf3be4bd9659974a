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
    design.csv       the design points
    runs.csv         one row per run (a journal while running, sorted when done)
    points.csv       per point: mean, 95 % CI, p05/p50/p95 of every metric
    sensitivity.csv  Sobol' or Morris indices (those designs only)
    manifest.json    versions, design, counts, status, one entry per session
    plots/*.png      drawn by :func:`sim.output.sweep_plots.plot_sweep`

The first four are written together (into a temporary folder, then renamed) before
any run starts, and the runs are then driven from the folder's own ``sweep.toml`` —
exactly what ``--resume`` does — so a resumed sweep and an uninterrupted one compute
the same things and end with the same bytes (``manifest.json`` aside: it records
times and sessions).

Exit status of ``siege sweep``: 0 when every run succeeded; 1 when some runs failed
(they are in ``runs.csv`` with their error, the sweep itself completed — a script
must not mistake it for a clean result); 2 for bad input (nothing written); 130
when interrupted (resume with ``siege sweep --resume DIR``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.conventions import default_workers, fmt, json_text
from sim.experiment import store
from sim.experiment.executors import Executor, make_executor
from sim.experiment.runner import Evaluate, RunTask, SweepContext, default_evaluate, execute
from sim.experiment.sweepfile import (
    SweepSpec,
    is_sweep_data,
    load_sweep,
    parse_param_option,
    read_toml,
    resolved_toml,
    spec_from_scenario,
)
from sim.scenario.errors import ScenarioError
from sim.scenario.schema import Scenario

__all__ = ["SweepResult", "main_sweep", "resume", "start", "sweep"]


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


class SweepFolderError(ScenarioError):
    """The folder given to ``--resume`` is not a resumable sweep."""


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
    from sim.scenario.load import with_values

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


def default_out(spec: SweepSpec) -> Path:
    """``results/<scenario name>/<sweep name>-<UTC timestamp>`` (a name only: the folder
    is reserved when it is created, ``-2``... if taken)."""
    from sim.output.folder import default_out_dir

    return default_out_dir(spec.base.name, prefix=f"{spec.name}-")


def start(
    spec: SweepSpec,
    out_dir: str | Path | None = None,
    *,
    force: bool = False,
    command: Sequence[str] | None = None,
) -> Path:
    """Check every design point, then create the sweep folder with its input files.

    Raises :class:`ScenarioError` (bad design point) or
    :class:`~sim.output.folder.InputError` (the folder may not be written) before
    anything is written. ``force`` replaces only a sweep folder nobody is running.
    """
    out, lock = _start(spec, out_dir, force=force, command=command)
    lock.release()
    return out


def _start(
    spec: SweepSpec,
    out_dir: str | Path | None,
    *,
    force: bool,
    command: Sequence[str] | None,
) -> tuple[Path, Any]:
    """:func:`start`, returning the folder and its lock, still held (for :func:`resume`)."""
    from sim.output.folder import FolderLock, OutputExistsError, ResultFolder
    from sim.scenario.load import dump_toml

    design = spec.make_design()
    check_points(spec, design.points)
    out = Path(out_dir) if out_dir is not None else default_out(spec)
    try:
        folder = ResultFolder(out, "sweep", force=force, unique=out_dir is None)
        folder.open()
    except OutputExistsError as err:
        if out.is_dir() and not force and str(err).endswith("(use --force to replace it)"):
            raise OutputExistsError(
                f"{out}: already exists (use --force to replace it, or --resume {out} to finish it)"
            ) from None
        raise
    lock = None
    try:
        tmp = folder.tmp
        # The lock is taken inside the temporary folder and stays held across the rename,
        # so nobody can resume the new sweep before this process has run it.
        lock = FolderLock(tmp).acquire("siege sweep")
        (tmp / store.SCENARIO_TOML).write_text(dump_toml(spec.base), encoding="utf-8")
        (tmp / store.SWEEP_TOML).write_text(resolved_toml(spec), encoding="utf-8")
        (tmp / store.DESIGN_CSV).write_text(
            store.design_text(spec.paths, design.points), encoding="utf-8"
        )
        (tmp / store.RUNS_CSV).write_text(
            store.csv_line(store.runs_header(spec.metrics)), encoding="utf-8"
        )
        manifest = _manifest(spec, len(design), status="running", command=command)
        (tmp / store.MANIFEST_JSON).write_text(json_text(manifest), encoding="utf-8")
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
    lock.folder = path
    lock.path = path / lock.path.name
    return path, lock


# ---- running what is missing -----------------------------------------------------------


def _tasks(
    points: Sequence[Sequence[Any]], replications: int, done: Mapping[tuple[int, int], str]
) -> Iterator[RunTask]:
    for i, pt in enumerate(points):
        for r in range(replications):
            if (i, r) not in done:
                yield RunTask(i, r, tuple(pt))


def load_folder(out: Path) -> tuple[SweepSpec, Any]:
    """The spec and design of a sweep folder, checked against its ``design.csv``."""
    sweep_file = out / store.SWEEP_TOML
    if not out.is_dir():
        raise SweepFolderError(str(out), "", "no such sweep folder")
    if not sweep_file.is_file() or not (out / store.DESIGN_CSV).is_file():
        raise SweepFolderError(str(out), "", "not a sweep folder (no sweep.toml or design.csv)")
    spec = load_sweep(sweep_file)
    design = spec.make_design()
    expected = store.design_text(spec.paths, design.points)
    if (out / store.DESIGN_CSV).read_text(encoding="utf-8") != expected:
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
    lock: Any = None,
) -> SweepResult:
    """Run every (point, replication) missing from the folder's ``runs.csv``; finalize.

    ``executor`` defaults to local processes (``workers``, default: the machine's
    cores; one worker runs in this process). The folder is locked while it runs: a
    second process is refused with :class:`~sim.output.folder.FolderLockedError`
    naming the holder. ``lock`` is a lock already held on the folder (a new sweep).
    """
    from sim.output.folder import FolderLock

    out = Path(out_dir)
    if lock is None:
        if not out.is_dir():
            raise SweepFolderError(str(out), "", "no such sweep folder")
        lock = FolderLock(out).acquire("siege sweep --resume")
    try:
        return _resume(
            out,
            executor=executor,
            workers=workers,
            evaluate=evaluate,
            progress=progress,
            command=command,
        )
    finally:
        lock.release()


def _resume(
    out: Path,
    *,
    executor: Executor | None,
    workers: int | None,
    evaluate: Evaluate | None,
    progress: bool,
    command: Sequence[str] | None,
) -> SweepResult:
    """:func:`resume` once the folder's lock is held."""
    t0 = time.perf_counter()
    started = dt.datetime.now(dt.UTC)
    spec, design = load_folder(out)
    header = store.runs_header(spec.metrics)
    runs_path = out / store.RUNS_CSV
    try:
        done = store.read_journal(runs_path, header, len(design), spec.replications)
    except ValueError as err:
        raise SweepFolderError(str(runs_path), "", str(err).split(": ", 1)[-1]) from None
    clean = store.journal_text(header, done, order=list(done))
    if not runs_path.exists() or runs_path.read_text(encoding="utf-8") != clean:
        store.atomic_write(runs_path, clean)  # drop a torn last line before appending

    total = len(design) * spec.replications
    missing = total - len(done)
    own_executor = executor is None
    if executor is None:
        n = default_workers() if workers is None else workers
        executor = make_executor("local", workers=max(1, min(n, missing)))
    context = SweepContext(
        base=spec.base,
        seed=spec.seed,
        paths=spec.paths,
        metrics=spec.metrics,
        evaluate=evaluate,
        source=spec.source,
    )
    ran = failed_now = 0
    first_error = ""
    bar = _progress(total, len(done), progress)
    try:
        with store.Journal(runs_path) as journal:
            rows = executor.imap(
                execute, context, _tasks(design.points, spec.replications, done), ordered=False
            )
            for row in rows:
                journal.append(store.run_line(row, spec.seed, len(spec.metrics)))
                ran += 1
                if row.error:
                    failed_now += 1
                    first_error = first_error or row.error
                    bar.set_postfix_str(f"{failed_now} failed", refresh=False)
                bar.update(1)
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
    from sim.output.sweep_plots import plot_sweep

    plot_sweep(out)
    return SweepResult(
        out, len(design), spec.replications, failed, ran, time.perf_counter() - t0, first_error
    )


def finalize(out: Path, spec: SweepSpec, design: Any) -> int:
    """Sorted ``runs.csv``, ``points.csv`` and ``sensitivity.csv``; returns the failed runs."""
    header = store.runs_header(spec.metrics)
    runs_path = out / store.RUNS_CSV
    done = store.read_journal(runs_path, header, len(design), spec.replications)
    total = len(design) * spec.replications
    if len(done) != total:
        raise RuntimeError(f"{runs_path}: {total - len(done)} of {total} runs are missing")
    runs_text = store.journal_text(header, done)
    if runs_path.read_text(encoding="utf-8") != runs_text:
        store.atomic_write(runs_path, runs_text)
    sens = spec.design in ("sobol", "morris")
    points_text, means, matrix, failed = store.summarize_runs(
        runs_text, spec.metrics, spec.paths, design.points, spec.replications, keep_matrix=sens
    )
    store.atomic_write(out / store.POINTS_CSV, points_text)
    if sens:
        from sim.analysis import sensitivity as sa

        if spec.design == "sobol":
            rows = sa.sobol_table(design.problem(), spec.metrics, means, matrix, spec.seed)
            columns = sa.SOBOL_COLUMNS
        else:
            from sim.experiment.designs import MORRIS_LEVELS

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


def _first_error(runs_path: Path, n_metrics: int) -> str:
    for line in runs_path.read_text(encoding="utf-8").split("\n")[1:-1]:
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
    from sim.output.files import build_manifest

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
    from importlib.metadata import PackageNotFoundError, version

    try:
        m["salib"] = version("SALib")
    except PackageNotFoundError:  # pragma: no cover - SALib is a dependency
        m["salib"] = None
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
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        old = {}
    wall = time.perf_counter() - t0
    sessions = list(old.get("sessions", []))
    sessions.append(
        {
            "started_utc": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "wall_time_s": round(wall, 3),
            "runs": ran,
            "status": status,
            "workers": workers,
            "command": list(command) if command else None,
        }
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
    from tqdm import tqdm

    return tqdm(
        total=total,
        initial=initial,
        unit="run",
        desc="sweep",
        file=sys.stderr,
        dynamic_ncols=True,
        smoothing=0.1,
    )


# ---- public entry points ---------------------------------------------------------------


def sweep(
    spec: SweepSpec | str | Path,
    out_dir: str | Path | None = None,
    *,
    workers: int | None = None,
    executor: str | Executor = "local",
    scheduler: str | None = None,
    force: bool = False,
    progress: bool = False,
    evaluate: Evaluate | None = None,
    command: Sequence[str] | None = None,
) -> SweepResult:
    """Run a sweep (a spec, or a sweep file's path) into ``out_dir``; return its result.

    ``executor``: ``"local"`` (processes; ``workers`` default the machine's cores),
    ``"dask"`` (``scheduler`` address; a local cluster if none), or an executor
    object. ``evaluate`` replaces the model (tests).
    """
    if not isinstance(spec, SweepSpec):
        spec = load_sweep(spec, probe=make_probe(evaluate))
    out, lock = _start(spec, out_dir, force=force, command=command)
    ex = (
        executor
        if not isinstance(executor, str)
        else (make_executor("dask", workers, scheduler) if executor == "dask" else None)
    )
    try:
        return resume(
            out,
            executor=ex,
            workers=workers,
            evaluate=evaluate,
            progress=progress,
            command=command,
            lock=lock,
        )
    finally:
        if isinstance(executor, str) and ex is not None:
            ex.close()


_DESIGN_OPTIONS = ("param", "design", "samples", "replications", "seed", "set", "target")


def spec_from_args(args: argparse.Namespace, evaluate: Evaluate | None = None) -> SweepSpec:
    """The sweep described by ``siege sweep`` options (a sweep file or a scenario)."""
    target = getattr(args, "target", None)
    if not target:
        raise ScenarioError(
            "siege sweep",
            "",
            "give a sweep file, or a scenario file with --param path=v1,v2 (or --resume DIR)",
        )
    params = [parse_param_option(t) for t in (getattr(args, "param", None) or [])]
    overrides = tuple(getattr(args, "set", None) or ())
    options = {k: getattr(args, k, None) for k in ("design", "samples", "replications", "seed")}
    probe = make_probe(evaluate)
    data = read_toml(Path(target), str(target))
    if is_sweep_data(data):
        return load_sweep(target, params=params, overrides=overrides, probe=probe, **options)
    if not params:
        raise ScenarioError(
            str(target),
            "",
            "a scenario file needs --param path=v1,v2 or "
            "--param path=low:high to sweep (or give a sweep file)",
        )
    return spec_from_scenario(target, params=params, overrides=overrides, probe=probe, **options)


def main_sweep(args: argparse.Namespace) -> int:
    """``siege sweep``: run or resume a sweep; print a summary; return the exit status."""
    quiet = bool(getattr(args, "quiet", False))
    progress = not quiet and sys.stderr.isatty()
    command = getattr(args, "command_line", None)
    workers = getattr(args, "workers", None)
    kind = getattr(args, "executor", None) or "local"
    scheduler = getattr(args, "scheduler", None)
    if scheduler and kind != "dask":
        raise ScenarioError("--scheduler", "", "needs --executor dask")
    resume_dir = getattr(args, "resume", None)
    lock = None
    if resume_dir:
        given = [k for k in _DESIGN_OPTIONS if getattr(args, k, None)]
        if given:
            opt = "target" if given[0] == "target" else f"--{given[0]}"
            raise ScenarioError(
                "--resume",
                "",
                f"{opt} cannot be given with --resume: the "
                "sweep is read from the folder's sweep.toml",
            )
        if getattr(args, "out", None):
            raise ScenarioError("--resume", "", "--out cannot be given with --resume")
    else:
        spec = spec_from_args(args)
        out, lock = _start(
            spec,
            getattr(args, "out", None),
            force=bool(getattr(args, "force", False)),
            command=command,
        )
        resume_dir = str(out)
    executor = make_executor(kind, workers, scheduler) if kind == "dask" else None
    try:
        result = resume(
            resume_dir,
            executor=executor,
            workers=workers,
            progress=progress,
            command=command,
            lock=lock,
        )
    except KeyboardInterrupt:
        print(
            f"\ninterrupted: the finished runs are in {resume_dir}/runs.csv; continue with"
            f"\n  siege sweep --resume {resume_dir}",
            file=sys.stderr,
        )
        return 130
    finally:
        if executor is not None:
            executor.close()
    print(summary_text(result, quiet))
    return 0 if result.failed == 0 else 1


def summary_text(result: SweepResult, quiet: bool = False) -> str:
    """The lines ``siege sweep`` prints at the end."""
    if quiet:
        lines = [str(result.out_dir)]
    else:
        lines = [
            f"sweep: {result.points} points × {result.replications} replications = "
            f"{result.runs} runs ({result.ran} run now, {result.wall_time_s:.1f} s), "
            f"{result.failed} failed",
            f"results: {result.out_dir}",
        ]
    if result.failed:
        lines.append(
            f"{result.failed} of {result.runs} runs failed (see the error column of "
            f"{result.out_dir / store.RUNS_CSV}); first: {result.first_error}"
        )
    return "\n".join(lines)
