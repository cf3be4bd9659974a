"""``siege calibrate``: ABC-SMC calibration of the parameters a calibration file declares
uncertain (:mod:`sim.experiment.calibrate`) into a calibration folder, resumable."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from sim.api.common import create_resumable, redraw_folder, resolve_executor
from sim.experiment import calibrate as calibrating
from sim.experiment.calibfile import CalibrationSpec, load_calibration
from sim.experiment.calibfile import check_size as check_calibration_size
from sim.experiment.calibrate import CalibrationFolderError, CalibrationResult
from sim.experiment.executors import Executor
from sim.experiment.runner import Evaluate
from sim.output.calibration_plots import plot_calibration
from sim.output.calibration_summary import generation_line
from sim.output.folder import (
    FolderLock,
    check_subfolder,
    default_out_dir,
    folder_kind,
    never_left_running,
    rewritten_subfolder,
    settle_killed,
)

# ---- calibrations ------------------------------------------------------------------------


def calibration_spec(path: str | Path, allow_large: bool = False) -> CalibrationSpec:
    """Read and check a calibration file and its budget; nothing runs, nothing is written."""
    spec = load_calibration(path)
    check_calibration_size(spec, allow_large)
    return spec


def calibrate(
    spec: CalibrationSpec | str | Path,
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
) -> CalibrationResult:
    """Run a calibration (a spec, or a calibration file's path) into a new folder.

    Checked before anything is written: the file, its budget (unless ``allow_large``)
    and the executor (a Dask scheduler is reached first). The folder, ``out_dir`` or
    ``results/<scenario>/<calibration name>-<UTC timestamp>``, is created whole with its
    input files and stays locked while the runs go; ``force`` replaces only a
    calibration folder. The plots are drawn at the end. ``progress`` prints a line per
    generation on stderr. Ctrl-C raises
    :class:`~sim.experiment.calibrate.CalibrationInterrupted` naming the folder, which
    :func:`resume_calibration` finishes with the same bytes.
    """
    if not isinstance(spec, CalibrationSpec):
        spec = load_calibration(spec)
    check_calibration_size(spec, allow_large)
    ex = resolve_executor(executor, workers, scheduler)
    try:
        out = (
            Path(out_dir)
            if out_dir is not None
            else default_out_dir(spec.base.name, prefix=f"{spec.name}-")
        )
        path, lock = create_resumable(
            out,
            "calibration",
            lambda tmp: calibrating.write_inputs(tmp, spec, command),
            force=force,
            unique=out_dir is None,
            what="siege calibrate",
        )
        try:
            return _run_calibration(path, ex, workers, progress, evaluate, command)
        except BaseException as err:
            never_left_running(path, err)
            raise
        finally:
            lock.release()
    finally:
        if ex is not None and ex is not executor:
            ex.close()


def resume_calibration(
    out_dir: str | Path,
    *,
    workers: int | None = None,
    executor: str | Executor = "local",
    scheduler: str | None = None,
    progress: bool = False,
    evaluate: Evaluate | None = None,
    command: Sequence[str] | None = None,
) -> CalibrationResult:
    """Finish an interrupted calibration folder (or replay a finished one, running
    nothing): the same files as an uninterrupted calibration. Locked while it runs; a
    folder whose inputs changed is refused."""
    out = Path(out_dir)
    if not out.is_dir():
        raise CalibrationFolderError(str(out), "", "no such calibration folder")
    if folder_kind(out) != "calibration":
        raise CalibrationFolderError(
            str(out), "", "not a calibration folder (see its manifest.json)"
        )
    calibrating.load_folder(out)  # refused before a scheduler is contacted
    check_subfolder(out / "plots")
    ex = resolve_executor(executor, workers, scheduler)
    try:
        killed = settle_killed(out)
        with FolderLock(out).acquire("siege calibrate --resume"):
            try:
                result = _run_calibration(out, ex, workers, progress, evaluate, command)
            except BaseException as err:
                never_left_running(out, err)
                raise
            result.extra["killed_before"] = killed
            return result
    finally:
        if ex is not None and ex is not executor:
            ex.close()


def _run_calibration(
    path: Path,
    executor: Executor | None,
    workers: int | None,
    progress: bool,
    evaluate: Evaluate | None,
    command: Sequence[str] | None,
) -> CalibrationResult:
    def show(g: calibrating.Generation) -> None:
        print(f"  {generation_line(g)}", file=sys.stderr, flush=True)

    result = calibrating.calibrate(
        path,
        executor=executor,
        workers=workers,
        evaluate=evaluate,
        command=command,
        on_generation=show if progress else None,
    )
    with rewritten_subfolder(path / "plots") as tmp:
        plot_calibration(path, tmp)
    return result


def redraw_calibration_plots(result_dir: Path | str) -> Path:
    """Re-draw ``plots/`` of a finished calibration folder from its files alone."""
    return redraw_folder(
        result_dir,
        "calibration",
        calibrating.POSTERIOR_CSV,
        "not a finished calibration folder (no posterior.csv)",
        plot_calibration,
    )
