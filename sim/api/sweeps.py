"""``siege sweep``: a parameter sweep (:mod:`sim.experiment.sweep`) into a new sweep folder
(created atomically, locked while it runs), its resumption, and its plots at the end."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.api.common import create_resumable, resolve_executor
from sim.conventions import default_workers
from sim.experiment import sweep as sweeps
from sim.experiment.executors import Executor, WarmPool, signals_held
from sim.experiment.runner import Evaluate
from sim.experiment.sweep import SweepFolderError, SweepResult, check_points, check_size
from sim.experiment.sweepfile import (
    SweepSpec,
    is_sweep_data,
    load_sweep,
    parse_param_option,
    spec_from_scenario,
)
from sim.output.folder import (
    FolderLock,
    check_subfolder,
    default_out_dir,
    never_left_running,
    rewritten_subfolder,
    settle_killed,
)
from sim.output.plots import warm_up
from sim.output.sweep_plots import plot_sweep
from sim.scenario.errors import ScenarioError
from sim.scenario.toml import read_toml

# ---- sweeps ------------------------------------------------------------------------------


def sweep_spec(
    target: str | Path,
    *,
    params: Sequence[str] = (),
    overrides: Sequence[str] = (),
    design: str | None = None,
    samples: int | None = None,
    replications: int | None = None,
    seed: int | None = None,
    evaluate: Evaluate | None = None,
) -> SweepSpec:
    """The sweep ``siege sweep`` describes: a sweep file, or a scenario file with ``params``.

    ``params`` are ``--param`` texts (``path=v1,v2`` or ``path=low:high``; a path may be
    given once), ``overrides`` ``--set`` texts; the other options override the sweep
    file's. Metric names are checked on a probe run (of ``evaluate``, default the
    model). Raises :class:`ScenarioError` for any problem; nothing is written.
    """
    parsed = [parse_param_option(text) for text in params]
    seen: set[str] = set()
    for path, _ in parsed:
        if path in seen:
            raise ScenarioError("--param", path, "is given twice; give each parameter once")
        seen.add(path)
    options: dict[str, Any] = {
        "design": design,
        "samples": samples,
        "replications": replications,
        "seed": seed,
    }
    probe = sweeps.make_probe(evaluate)
    data = read_toml(target)
    if is_sweep_data(data):
        return load_sweep(target, params=parsed, overrides=overrides, probe=probe, **options)
    if not parsed:
        raise ScenarioError(
            str(target),
            "",
            "a scenario file needs --param path=v1,v2 or "
            "--param path=low:high to sweep (or give a sweep file)",
        )
    return spec_from_scenario(target, params=parsed, overrides=overrides, probe=probe, **options)


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
    allow_large: bool = False,
) -> SweepResult:
    """Run a sweep (a spec, or a sweep file's path) into a new sweep folder; return its result.

    Before anything is written: the size is checked (:func:`~sim.experiment.sweep.check_size`),
    the design points are validated and the executor is started (``"local"``: processes,
    ``workers`` default the machine's cores; ``"dask"``: on ``scheduler``, or a local
    cluster; or an executor object). The folder, ``out_dir`` or
    ``results/<scenario>/<sweep name>-<UTC timestamp>``, is created whole with its input
    files and stays locked while the runs go; ``force`` replaces only a finished sweep
    folder. The plots are drawn at the end. ``evaluate`` replaces the model (tests).
    Ctrl-C raises :class:`~sim.experiment.sweep.SweepInterrupted` naming the folder.
    """
    if not isinstance(spec, SweepSpec):
        spec = load_sweep(spec, probe=sweeps.make_probe(evaluate))
    check_size(spec, allow_large)
    design = spec.make_design()
    check_points(spec, design.points)
    ex = resolve_executor(executor, workers, scheduler)
    try:
        out = (
            Path(out_dir)
            if out_dir is not None
            else default_out_dir(spec.base.name, prefix=f"{spec.name}-")
        )
        path, lock = create_resumable(
            out,
            "sweep",
            lambda tmp: sweeps.write_inputs(tmp, spec, design, command),
            force=force,
            unique=out_dir is None,
            what="siege sweep",
        )
        try:
            result = _run_sweep_folder(path, ex, workers, evaluate, progress, command)
        finally:
            lock.release()
    finally:
        if ex is not None and ex is not executor:
            ex.close()
    return result


def _run_sweep_folder(
    path: Path,
    ex: Executor | None,
    workers: int | None,
    evaluate: Evaluate | None,
    progress: bool,
    command: Sequence[str] | None,
    retry_failed: bool = False,
) -> SweepResult:
    """Run what the locked sweep folder ``path`` misses, then plot it; a failure or an
    interruption never leaves its manifest ``running``."""
    try:
        result = sweeps.resume(
            path,
            executor=ex,
            workers=workers,
            evaluate=evaluate,
            progress=progress,
            command=command,
            retry_failed=retry_failed,
        )
        # local runs: the plots drawn by as many processes, at most one a core (forked
        # now, their start is cheap); on Dask or a caller's executor, in this process
        cores = default_workers()
        drawing = min(cores, cores if workers is None else workers) if ex is None else 1
        plot_sweep_folder(path, drawing)
    except BaseException as err:
        never_left_running(path, err)
        raise
    return result


def resume_sweep(
    out_dir: str | Path,
    *,
    workers: int | None = None,
    executor: str | Executor = "local",
    scheduler: str | None = None,
    progress: bool = False,
    evaluate: Evaluate | None = None,
    command: Sequence[str] | None = None,
    retry_failed: bool = False,
) -> SweepResult:
    """Run what is missing in an interrupted sweep folder, then finalize and plot it.

    The folder is locked while it runs: a second process is refused with
    :class:`~sim.output.folder.FolderLockedError` naming the holder. Inputs changed
    since the sweep started (``scenario.toml``, ``sweep.toml``) are refused with
    :class:`~sim.scenario.errors.ScenarioError` naming the first change. A manifest
    left ``running`` by a killed process is put right first (``interrupted``;
    ``result.extra["killed_before"]`` says so). ``retry_failed`` runs the failed runs
    again (and only those, besides the missing ones). Resuming a complete sweep runs
    nothing and changes nothing but the manifest's sessions.
    """
    out = Path(out_dir)
    if not out.is_dir():
        raise SweepFolderError(str(out), "", "no such sweep folder")
    sweeps.load_folder(out)  # a folder that is not a sweep is refused before connecting
    check_subfolder(out / "plots")
    ex = resolve_executor(executor, workers, scheduler)
    try:
        killed = settle_killed(out)
        with FolderLock(out).acquire("siege sweep --resume"):
            result = _run_sweep_folder(
                out, ex, workers, evaluate, progress, command, retry_failed=retry_failed
            )
            result.extra["killed_before"] = killed
    finally:
        if ex is not None and ex is not executor:
            ex.close()
    return result


def plot_sweep_folder(d: Path, workers: int = 1) -> None:
    """(Re-)draw ``plots/`` of a finished sweep folder, never through a link; with two
    or more ``workers`` in a :class:`WarmPool` of that many processes (a sweep of one
    parameter draws a plot per metric: 15 for the baseline's default metrics)."""
    with rewritten_subfolder(d / "plots") as tmp:
        drawing = None
        if workers > 1:
            # matplotlib imported once, here, and inherited by the forked workers
            # (importing it in each cost a third of a second of CPU more than it saved
            # on a busy machine); a stop meanwhile waits for the import's end (raised in
            # its middle, it came out as another error)
            with signals_held():
                warm_up()
            drawing = WarmPool(workers, warm_up)  # a no-op if forked
        try:
            plot_sweep(d, tmp, executor=drawing)
        finally:
            if drawing is not None:
                drawing.close()
