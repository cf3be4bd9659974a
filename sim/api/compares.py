"""``siege compare``: scenarios run on common random numbers and compared with the first,
replication by replication; a comparison folder, resumable after an interruption."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.analysis import frames
from sim.api.common import create_resumable, redraw_folder
from sim.api.runs import RunSet, check_replications, run, write_run_files
from sim.conventions import json_text, signal_of
from sim.experiment import compare as comparing
from sim.experiment import compare_store
from sim.experiment.provenance import build_manifest, with_session
from sim.experiment.store import atomic_write
from sim.model.record import RunResult
from sim.output import comparison as comparison_files
from sim.output import files
from sim.output.compare_plots import plot_comparison
from sim.output.folder import (
    FolderLock,
    default_out_dir,
    folder_kind,
    read_manifest,
    rewritten_subfolder,
)
from sim.scenario.schema import Scenario

# ---- compare ----------------------------------------------------------------------------


@dataclass
class Comparison:
    """The outcome of :func:`compare` or :func:`resume_compare`.

    ``labels`` name the scenarios (reference first; a repeated name gets ``-2``...);
    ``rows`` are the rows of ``comparison.csv`` (see
    :data:`sim.experiment.compare.COLUMNS`); ``runsets`` each scenario's own run, as
    :func:`run` gives it; ``path`` the comparison folder. ``ran`` replications were run
    in this session, ``reused`` taken from the folder's journal (a resumed comparison).
    """

    path: Path
    labels: list[str]
    seed: int
    replications: int
    rows: list[dict[str, Any]]
    runsets: list[RunSet]
    wall_time_s: float
    ran: int = 0
    reused: int = 0

    def to_frame(self) -> Any:
        """The rows of ``comparison.csv`` as a pandas DataFrame."""
        return frames.records_frame(self.rows)

    def metrics_frame(self) -> Any:
        """Every scenario's metrics per replication, one above the other, with a
        ``scenario`` column (its label): paired rows share ``replication``."""
        pd = frames.pandas()
        parts = [
            r.metrics_frame().assign(scenario=label)
            for label, r in zip(self.labels, self.runsets, strict=True)
        ]
        return pd.concat(parts)

    def daily_diff_frame(self) -> Any:
        """``daily_diff.csv`` (paired daily differences' percentiles) as a DataFrame."""
        return frames.csv_frame(self.path / comparison_files.DAILY_DIFF_CSV)


def compare(
    scenarios: Sequence[Scenario],
    out_dir: Path | str | None = None,
    *,
    replications: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    force: bool = False,
    progress: bool = False,
    sources: Sequence[str] | None = None,
    command: Sequence[str] | str | None = None,
    plots: bool = True,
    allow_large: bool = False,
    run_fn: Callable[[Scenario, int, int], RunResult] | None = None,
) -> Comparison:
    """Run every scenario on the same seed and replications; compare each with the first.

    Defaults: the first scenario's seed and replications. ``sources`` name the files
    the scenarios came from (for error messages and the manifest). The folder (default
    ``results/<first scenario's name>/compare-<UTC timestamp>``) holds
    ``comparison.csv``, ``daily_diff.csv``, each scenario's run folder under
    ``runs/<label>/``, ``plots/`` and ``manifest.json``, with the inputs
    (``compare.toml``, ``scenarios/``). It is created at the start and locked while the
    comparison runs; each replication is kept as it finishes
    (:mod:`sim.experiment.compare_store`), so an interrupted comparison (which raises
    :class:`~sim.experiment.compare_store.CompareInterrupted` on Ctrl-C) is finished by
    :func:`resume_compare`. Raises :class:`~sim.scenario.errors.ScenarioError` when the
    calendars differ and ``ValueError`` for fewer than two scenarios or a bad count,
    before anything is written. ``plots=False`` leaves out every plot (the
    comparison's and the runs'), for speed. More replications than the limit are
    refused unless ``allow_large``. ``run_fn`` replaces the model (tests; see :func:`run`).
    """
    scenarios = list(scenarios)
    if len(scenarios) < 2:
        raise ValueError(f"compare needs at least two scenarios, got {len(scenarios)}")
    sources = list(sources) if sources is not None else [s.name for s in scenarios]
    reference = scenarios[0]
    reps = check_replications(replications, reference, allow_large)
    root = reference.seed if seed is None else int(seed)
    if root < 0:
        raise ValueError(f"seed must be non-negative, got {root}")
    spec = compare_store.make_spec(scenarios, sources, reps, root)

    def write(tmp: Path) -> None:
        compare_store.write_inputs(tmp, spec)
        manifest = _compare_manifest(spec, "running", [], command, workers)
        files.write_json(tmp / "manifest.json", manifest)

    out = (
        Path(out_dir) if out_dir is not None else default_out_dir(reference.name, prefix="compare-")
    )
    path, lock = create_resumable(
        out, "comparison", write, force=force, unique=out_dir is None, what="siege compare"
    )
    return _run_compare(path, lock, workers, progress, command, plots, run_fn)


def resume_compare(
    out_dir: Path | str,
    *,
    workers: int = 1,
    progress: bool = False,
    command: Sequence[str] | str | None = None,
    plots: bool = True,
    run_fn: Callable[[Scenario, int, int], RunResult] | None = None,
) -> Comparison:
    """Finish the interrupted comparison in ``out_dir``: reuse every replication its
    journal kept, run the missing ones, and write the files an uninterrupted comparison
    writes (byte for byte, ``manifest.json`` aside).

    Refused with :class:`~sim.experiment.compare_store.CompareFolderError` when the
    folder is not a comparison, or its inputs changed since it began (the files are
    named); with its subclass :class:`~sim.experiment.compare_store.CompareAlreadyCompleteError`
    when it is complete already (nothing is run or changed); and with
    :class:`~sim.output.folder.FolderLockedError` while another process works in it.
    """
    out = Path(out_dir)
    if not out.is_dir():
        raise compare_store.CompareFolderError(str(out), "", "no such comparison folder")
    if folder_kind(out) != "comparison":
        raise compare_store.CompareFolderError(
            str(out), "", "not a comparison folder (see its manifest.json)"
        )
    lock = FolderLock(out).acquire("siege compare --resume")
    try:
        manifest = read_manifest(out) or {}
        if manifest.get("status", "complete") == "complete":
            raise compare_store.CompareAlreadyCompleteError(
                str(out),
                "",
                "the comparison is complete: nothing to resume (siege plot re-draws its plots)",
            )
        compare_store.load_spec(out, check=True)
    except BaseException:
        lock.release()
        raise
    return _run_compare(out, lock, workers, progress, command, plots, run_fn)


def _run_compare(
    path: Path,
    lock: FolderLock,
    workers: int,
    progress: bool,
    command: Sequence[str] | str | None,
    plots: bool,
    run_fn: Callable[[Scenario, int, int], RunResult] | None,
) -> Comparison:
    """Run the comparison of a locked comparison folder from its own files (new or
    resumed); write its files; remove the journal."""
    t0 = time.perf_counter()
    started = dt.datetime.now(dt.UTC)
    ran = 0
    try:
        spec = compare_store.load_spec(path)
        reused = compare_store.open_journal(path, spec)
        labels, reps = list(spec.labels), spec.replications
        pairing = comparing.Pairing(spec.reference, reps, labels[0])
        runsets: list[RunSet] = []
        try:
            for label, scenario in zip(labels, spec.scenarios, strict=True):
                pairing.start(label, scenario)
                runset = run(
                    scenario,
                    reps,
                    spec.seed,
                    workers,
                    progress=progress,
                    on_result=pairing.add,
                    allow_large=True,  # the size was checked when the comparison began
                    run_fn=compare_store.JournalledRun(str(path), label, run_fn),
                )
                pairing.finish()
                runsets.append(runset)
            rows = _write_comparison(path, spec, pairing, runsets, command, plots)
        except KeyboardInterrupt as stop:
            ran = max(0, compare_store.kept(path, spec) - reused)
            _compare_session(path, spec, "interrupted", started, t0, ran, command, workers)
            raise compare_store.CompareInterrupted(path, signal_of(stop)) from None
        except BaseException:
            ran = max(0, compare_store.kept(path, spec) - reused)
            _compare_session(path, spec, "failed", started, t0, ran, command, workers)
            raise
        ran = len(labels) * reps - reused
        _compare_session(path, spec, "complete", started, t0, ran, command, workers)
        compare_store.remove_journal(path)
    finally:
        lock.release()
    wall = time.perf_counter() - t0
    return Comparison(path, labels, spec.seed, reps, rows, runsets, wall, ran, reused)


def _write_comparison(
    path: Path,
    spec: compare_store.CompareSpec,
    pairing: comparing.Pairing,
    runsets: Sequence[RunSet],
    command: Sequence[str] | str | None,
    plots: bool,
) -> list[dict[str, Any]]:
    """Write the files of a finished comparison (each run folder and ``plots/`` whole,
    atomically); return the rows of ``comparison.csv``."""
    runs = path / comparison_files.RUNS_DIR
    runs.mkdir(exist_ok=True)
    for label, runset in zip(spec.labels, runsets, strict=True):
        with rewritten_subfolder(runs / label) as tmp:
            write_run_files(runset, tmp, command=command, plots=plots)
    rows = comparing.comparison_rows(spec.labels[0], pairing.options)
    comparison_files.write_comparison_csv(path / comparison_files.COMPARISON_CSV, rows)
    comparison_files.write_daily_diff_csv(
        path / comparison_files.DAILY_DIFF_CSV, spec.reference.calendar.start, pairing.options
    )
    if plots:
        with rewritten_subfolder(path / "plots") as tmp:
            plot_comparison(path, tmp)
    return rows


def _compare_manifest(
    spec: compare_store.CompareSpec,
    status: str,
    sessions: list[dict[str, Any]],
    command: Sequence[str] | str | None,
    workers: int,
) -> dict[str, Any]:
    m = build_manifest(
        kind="comparison",
        seed=spec.seed,
        replications=spec.replications,
        workers=workers,
        wall_time_s=sum(float(s.get("wall_time_s", 0.0)) for s in sessions),
        command=command,
        scenario_name=spec.reference.name,
    )
    m["reference"] = spec.labels[0]
    m["scenarios"] = [
        {"label": label, "name": s.name, "source": src}
        for label, s, src in zip(spec.labels, spec.scenarios, spec.sources, strict=True)
    ]
    m["status"] = status
    m["sessions"] = sessions
    return m


def _compare_session(
    path: Path,
    spec: compare_store.CompareSpec,
    status: str,
    started: dt.datetime,
    t0: float,
    ran: int,
    command: Sequence[str] | str | None,
    workers: int,
) -> None:
    """Record a session (and the folder's status) in ``manifest.json``."""
    sessions = with_session(
        path / "manifest.json",
        started=started,
        t0=t0,
        runs=ran,
        status=status,
        workers=workers,
        command=command,
    )
    manifest = _compare_manifest(spec, status, sessions, command, workers)
    atomic_write(path / "manifest.json", json_text(manifest))


def redraw_comparison_plots(result_dir: Path | str) -> Path:
    """Re-draw ``plots/`` of a comparison folder from its files alone; return the folder.

    Raises :class:`~sim.conventions.InputError` if ``result_dir`` is not one.
    """
    return redraw_folder(
        result_dir,
        "comparison",
        comparison_files.COMPARISON_CSV,
        "not a comparison folder",
        plot_comparison,
    )
