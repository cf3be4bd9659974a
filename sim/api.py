"""The public API: what the ``siege`` command calls, and what a notebook user calls.

>>> import sim
>>> scenario = sim.load_scenario("scenarios/deir_ez_zor/baseline.toml")  # doctest: +SKIP
>>> runset = sim.run(scenario, replications=20, seed=1)                   # doctest: +SKIP
>>> runset.summary["delivered_t"]["median"]                               # doctest: +SKIP
>>> sim.write_run(runset, "results/my_run")                               # doctest: +SKIP

:func:`run` runs the replications and reduces them to plain data (:class:`RunSet`):
per-replication metrics, daily percentile bands, the metric summary and the
observations table. :func:`write_run` writes a :class:`RunSet` as a result folder
(see :mod:`sim.output.files`); :func:`redraw_plots` re-draws a folder's plots from its
files alone. Masses are in tonnes, times in days.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.experiment import compare as comparing
from sim.experiment import plan as planning
from sim.experiment import plan_store
from sim.experiment.executors import make_executor
from sim.experiment.runner import Evaluate
from sim.experiment.store import atomic_write, csv_line
from sim.model.record import RunResult
from sim.output import comparison as comparison_files
from sim.output.compare_plots import plot_comparison
from sim.output.files import build_manifest, write_json
from sim.output.folder import (
    FolderLock,
    InputError,
    OutputExistsError,
    ResultFolder,
    create_locked,
    default_out_dir,
    folder_kind,
    read_manifest,
    rewritten_subfolder,
)
from sim.output.plan_plots import plot_plan
from sim.output.plan_summary import format_plan as _format_plan
from sim.scenario.load import dump_toml, load_scenario
from sim.scenario.schema import Scenario

__all__ = [
    "Comparison",
    "PlanResult",
    "RunSet",
    "compare",
    "format_plan",
    "load_scenario",
    "plan",
    "redraw_comparison_plots",
    "redraw_plan_plots",
    "redraw_plots",
    "resume_plan",
    "run",
    "run_to_folder",
    "write_run",
    "write_run_files",
]


@dataclass
class RunSet:
    """The outcome of a run of many replications, as plain data.

    ``scenario`` carries the seed and number of replications actually used.
    ``metrics[i]`` are the metrics of replication ``replication_ids[i]`` (seed
    ``seeds[i]``, as reported by the model). ``daily`` maps each series name (sorted)
    to a ``3 × n_days`` array of its p05, p50 and p95 across replications.
    ``summary`` maps each metric to its statistics; ``observations`` is the model vs
    record table (rows keyed by :data:`sim.analysis.observations.TABLE_COLUMNS`).
    """

    scenario: Scenario
    seed: int
    replications: int
    workers: int
    replication_ids: list[int]
    seeds: list[int]
    metrics: list[dict[str, float]]
    daily: dict[str, np.ndarray]
    summary: dict[str, dict[str, Any]]
    observations: list[dict[str, Any]]
    wall_time_s: float = 0.0
    sim_events: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def start(self) -> dt.date:
        """Date of day 0."""
        return self.scenario.calendar.start

    @property
    def dates(self) -> list[dt.date]:
        """The date of every simulated day."""
        n = self.scenario.calendar.n_days
        return [self.start + dt.timedelta(days=d) for d in range(n)]


def run(
    scenario: Scenario,
    replications: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    progress: bool = False,
    on_result: Callable[[int, RunResult, dict[str, float]], None] | None = None,
) -> RunSet:
    """Run ``replications`` replications (default: the scenario's) from root ``seed``.

    The results do not depend on ``workers``. ``progress`` shows a progress bar on
    stderr. ``on_result(index, result, metrics)`` is called with every replication, in
    order, as it arrives (``siege compare`` pairs them this way). Raises ``ValueError``
    for a non-positive count and lets the model's errors (e.g.
    :class:`~sim.model.record.MassBalanceError`) through.
    """
    from sim.analysis.metrics import replication_metrics
    from sim.analysis.observations import observation_table
    from sim.analysis.summary import SeriesAccumulator, summarize_metrics
    from sim.experiment.replicate import iter_replications

    reps = scenario.replications if replications is None else int(replications)
    root = scenario.seed if seed is None else int(seed)
    if reps < 1:
        raise ValueError(f"replications must be at least 1, got {reps}")
    if root < 0:
        raise ValueError(f"seed must be non-negative, got {root}")
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    scenario = scenario.model_copy(update={"replications": reps, "seed": root})

    t0 = time.perf_counter()
    acc = SeriesAccumulator(reps, scenario.calendar.n_days)
    ids: list[int] = []
    seeds: list[int] = []
    metrics: list[dict[str, float]] = []
    sim_events = 0
    results = iter_replications(scenario, reps, root, workers=workers)
    if progress:
        from tqdm import tqdm

        results = tqdm(
            results, total=reps, file=sys.stderr, unit="rep", desc=scenario.name, leave=False
        )
    for i, result in enumerate(results):
        acc.add(i, result)
        ids.append(int(result.replication))
        seeds.append(int(result.seed))
        metrics.append(replication_metrics(scenario, result))
        sim_events += int(result.sim_events)
        if on_result is not None:
            on_result(i, result, metrics[-1])
    daily = acc.percentiles()
    return RunSet(
        scenario=scenario,
        seed=root,
        replications=reps,
        workers=workers,
        replication_ids=ids,
        seeds=seeds,
        metrics=metrics,
        daily=daily,
        summary=summarize_metrics(metrics),
        observations=observation_table(scenario, metrics),
        wall_time_s=time.perf_counter() - t0,
        sim_events=sim_events,
    )


def write_run(
    runset: RunSet,
    out_dir: Path | str | None = None,
    force: bool = False,
    command: Sequence[str] | str | None = None,
    plots: bool = True,
) -> Path:
    """Write ``runset`` as a result folder; return its path.

    ``out_dir`` defaults to ``results/<scenario name>/<UTC timestamp>`` (``-2``... if
    taken). The folder appears complete or not at all; an existing one is replaced only
    with ``force``, and only if it is a run folder (else
    :class:`~sim.output.folder.OutputExistsError`). ``command`` is recorded in the
    manifest.
    """
    from sim.output.folder import ResultFolder, default_out_dir

    out = Path(out_dir) if out_dir is not None else default_out_dir(runset.scenario.name)
    with ResultFolder(out, "run", force=force, unique=out_dir is None) as folder:
        write_run_files(runset, folder.tmp, command=command, plots=plots)
    return folder.path


def run_to_folder(
    scenario: Scenario,
    out_dir: Path | str | None = None,
    *,
    replications: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    force: bool = False,
    progress: bool = False,
    command: Sequence[str] | str | None = None,
) -> tuple[RunSet, Path]:
    """Reserve the result folder, run the replications, write the folder; ``(runset, path)``.

    The folder is reserved before the first replication runs, so a folder that cannot
    be written (it exists, is protected, its parent is a file...) is refused at once
    with :class:`~sim.output.folder.InputError`, and two runs into the same folder never
    both succeed.
    """
    from sim.output.folder import ResultFolder, default_out_dir

    out = Path(out_dir) if out_dir is not None else default_out_dir(scenario.name)
    with ResultFolder(out, "run", force=force, unique=out_dir is None) as folder:
        runset = run(scenario, replications, seed, workers, progress=progress)
        write_run_files(runset, folder.tmp, command=command)
    return runset, folder.path


def write_run_files(
    runset: RunSet,
    folder: Path,
    command: Sequence[str] | str | None = None,
    plots: bool = True,
) -> None:
    """Write the files of a run folder into the existing, empty ``folder``."""
    from sim.output import files
    from sim.scenario.load import dump_toml

    (folder / "scenario.toml").write_text(dump_toml(runset.scenario), encoding="utf-8")
    files.write_daily_csv(folder / "daily.csv", runset.start, runset.daily)
    files.write_replications_csv(
        folder / "replications.csv", runset.replication_ids, runset.seeds, runset.metrics
    )
    files.write_summary_json(folder / "summary.json", runset.summary)
    files.write_observations_csv(folder / "observations.csv", runset.observations)
    if plots:
        from sim.output.plots import draw_all

        draw_all(
            folder / "plots",
            runset.scenario,
            runset.dates,
            runset.daily,
            runset.metrics,
            runset.observations,
        )
    manifest = files.build_manifest(
        seed=runset.seed,
        replications=runset.replications,
        workers=runset.workers,
        wall_time_s=runset.wall_time_s,
        command=command,
        scenario_name=runset.scenario.name,
    )
    files.write_json(folder / "manifest.json", manifest)


def redraw_plots(result_dir: Path | str) -> Path:
    """Re-draw ``plots/`` of a finished run folder from its files alone; return the folder.

    Raises :class:`~sim.output.folder.InputError` if ``result_dir`` is not a run folder.
    """
    from sim.output import files
    from sim.output.folder import InputError, rewritten_subfolder
    from sim.output.plots import draw_all

    d = Path(result_dir)
    needed = ("scenario.toml", "daily.csv", "replications.csv", "observations.csv")
    missing = [n for n in needed if not (d / n).is_file()]
    if missing:
        raise InputError(f"{d}: not a run folder (missing {', '.join(missing)})")
    scenario = load_scenario(d / "scenario.toml")
    dates, daily = files.read_daily_csv(d / "daily.csv")
    metrics = files.read_replications_csv(d / "replications.csv")
    observations = files.read_observations_csv(d / "observations.csv")
    with rewritten_subfolder(d / "plots") as tmp:
        draw_all(tmp, scenario, dates, daily, metrics, observations)
    return d


# ---- compare ----------------------------------------------------------------------------


@dataclass
class Comparison:
    """The outcome of :func:`compare`.

    ``labels`` name the scenarios (reference first; a repeated name gets ``-2``...);
    ``rows`` are the rows of ``comparison.csv`` (see
    :data:`sim.experiment.compare.COLUMNS`); ``runsets`` each scenario's own run, as
    :func:`run` gives it; ``path`` the comparison folder.
    """

    path: Path
    labels: list[str]
    seed: int
    replications: int
    rows: list[dict[str, Any]]
    runsets: list[RunSet]
    wall_time_s: float


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
) -> Comparison:
    """Run every scenario on the same seed and replications; compare each with the first.

    Defaults: the first scenario's seed and replications. ``sources`` name the files
    the scenarios came from (for error messages and the manifest). The folder (default
    ``results/<first scenario's name>/compare-<UTC timestamp>``) holds
    ``comparison.csv``, ``daily_diff.csv``, each scenario's run folder under
    ``runs/<label>/``, ``plots/`` and ``manifest.json``; it is written whole or not at
    all. Raises :class:`~sim.scenario.errors.ScenarioError` when the calendars differ
    and ``ValueError`` for fewer than two scenarios or a bad count. ``plots=False``
    leaves out every plot (the comparison's and the runs'), for speed.
    """
    scenarios = list(scenarios)
    if len(scenarios) < 2:
        raise ValueError(f"compare needs at least two scenarios, got {len(scenarios)}")
    names = [s.name for s in scenarios]
    sources = list(sources) if sources is not None else names
    comparing.check_calendars(scenarios, sources)
    labels = comparing.labels_for(names)
    reference = scenarios[0]
    reps = reference.replications if replications is None else int(replications)
    root = reference.seed if seed is None else int(seed)
    if reps < 1:
        raise ValueError(f"replications must be at least 1, got {reps}")
    t0 = time.perf_counter()
    out = (
        Path(out_dir) if out_dir is not None else default_out_dir(reference.name, prefix="compare-")
    )
    runsets: list[RunSet] = []
    with ResultFolder(out, "comparison", force=force, unique=out_dir is None) as folder:
        pairing = comparing.Pairing(reference, reps, labels[0])
        runs = folder.tmp / comparison_files.RUNS_DIR
        runs.mkdir()
        for label, scenario in zip(labels, scenarios, strict=True):
            pairing.start(label, scenario)
            runset = run(scenario, reps, root, workers, progress=progress, on_result=pairing.add)
            pairing.finish()
            (runs / label).mkdir()
            write_run_files(runset, runs / label, command=command, plots=plots)
            runsets.append(runset)
        rows = comparing.comparison_rows(labels[0], pairing.options)
        comparison_files.write_comparison_csv(folder.tmp / comparison_files.COMPARISON_CSV, rows)
        comparison_files.write_daily_diff_csv(
            folder.tmp / comparison_files.DAILY_DIFF_CSV, reference.calendar.start, pairing.options
        )
        wall = time.perf_counter() - t0
        manifest = build_manifest(
            kind="comparison",
            seed=root,
            replications=reps,
            workers=workers,
            wall_time_s=wall,
            command=command,
            scenario_name=reference.name,
        )
        manifest["reference"] = labels[0]
        manifest["scenarios"] = [
            {"label": label, "name": s.name, "source": src}
            for label, s, src in zip(labels, scenarios, sources, strict=True)
        ]
        write_json(folder.tmp / "manifest.json", manifest)
        if plots:
            plot_comparison(folder.tmp)
    return Comparison(folder.path, labels, root, reps, rows, runsets, wall)


def redraw_comparison_plots(result_dir: Path | str) -> Path:
    """Re-draw ``plots/`` of a comparison folder from its files alone; return the folder.

    Raises :class:`~sim.output.folder.InputError` if ``result_dir`` is not one.
    """
    d = Path(result_dir)
    if folder_kind(d) != "comparison" or not (d / comparison_files.COMPARISON_CSV).is_file():
        raise InputError(f"{d}: not a comparison folder")
    with rewritten_subfolder(d / "plots") as tmp:
        plot_comparison(d, tmp)
    return d


# ---- plan -------------------------------------------------------------------------------


@dataclass
class PlanResult:
    """The outcome of :func:`plan` or :func:`resume_plan`.

    ``outcome.answer`` is the value found (None when the goal cannot be met in the
    range, ``outcome.reason`` says why); ``outcome.trace`` every candidate evaluated.
    ``ran`` runs were made in this session, ``reused`` taken from the folder's journal.
    """

    path: Path
    spec: planning.PlanSpec
    outcome: planning.PlanOutcome
    ran: int
    reused: int
    wall_time_s: float


def plan(
    scenario: Scenario,
    vary: str,
    goal: str,
    out_dir: Path | str | None = None,
    *,
    confidence: float = 0.95,
    replications: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    force: bool = False,
    progress: bool = False,
    command: Sequence[str] | None = None,
    evaluate: Evaluate | None = None,
) -> PlanResult:
    """Find the least (or most) of one parameter for which ``goal`` holds.

    ``vary`` is ``PATH=LOW:HIGH`` (or ``PATH=LOW:HIGH:STEP``), ``goal`` is
    ``METRIC OP VALUE [and ...]`` (see :mod:`sim.experiment.plan` and
    :mod:`sim.analysis.goals`). ``replications`` caps the replications per candidate
    (default: the scenario's); ``seed`` defaults to the scenario's. Bad input raises
    :class:`~sim.scenario.errors.ScenarioError` before anything is written. The folder
    (default ``results/<scenario name>/plan-<UTC timestamp>``) is locked while the plan
    runs; an interrupted plan raises
    :class:`~sim.experiment.plan_store.PlanInterrupted` and is finished by
    :func:`resume_plan`. ``evaluate`` replaces the model (tests).
    """
    spec = planning.make_spec(
        scenario, vary, goal, confidence=confidence, replications=replications, seed=seed
    )

    def write(tmp: Path) -> None:
        (tmp / plan_store.SCENARIO_TOML).write_text(dump_toml(spec.base), encoding="utf-8")
        (tmp / plan_store.PLAN_TOML).write_text(plan_store.plan_toml(spec), encoding="utf-8")
        (tmp / plan_store.RUNS_CSV).write_text(
            csv_line(plan_store.runs_header(spec)), encoding="utf-8"
        )
        write_json(tmp / "manifest.json", _plan_manifest(spec, "running", [], command, workers))

    out = Path(out_dir) if out_dir is not None else default_out_dir(scenario.name, prefix="plan-")
    try:
        path, lock = create_locked(
            out, "plan", write, force=force, unique=out_dir is None, what="siege plan"
        )
    except OutputExistsError:
        if folder_kind(out) == "plan" and not force:
            raise OutputExistsError(
                f"{out}: already exists (use --force to replace it, or --resume {out} to finish it)"
            ) from None
        raise
    return _run_plan(path, lock, workers, progress, command, evaluate)


def resume_plan(
    out_dir: Path | str,
    *,
    workers: int = 1,
    progress: bool = False,
    command: Sequence[str] | None = None,
    evaluate: Evaluate | None = None,
) -> PlanResult:
    """Finish (or replay) the plan in ``out_dir``: reuse every run of its journal, run
    what is missing, and write the same files an uninterrupted plan writes."""
    out = Path(out_dir)
    if not out.is_dir():
        raise plan_store.PlanFolderError(str(out), "", "no such plan folder")
    if folder_kind(out) != "plan":
        raise plan_store.PlanFolderError(str(out), "", "not a plan folder (see its manifest.json)")
    lock = FolderLock(out).acquire("siege plan --resume")
    return _run_plan(out, lock, workers, progress, command, evaluate)


def _run_plan(
    path: Path,
    lock: FolderLock,
    workers: int,
    progress: bool,
    command: Sequence[str] | None,
    evaluate: Evaluate | None,
) -> PlanResult:
    """Run the plan of a locked plan folder, from its own files (new or resumed)."""
    t0 = time.perf_counter()
    started = dt.datetime.now(dt.UTC)
    try:
        spec = plan_store.load_plan(path)
        executor = make_executor("local", workers)

        def show(e: planning.Evaluation) -> None:
            if progress:
                print(f"  {_evaluation_line(spec, e)}", file=sys.stderr, flush=True)

        journal = plan_store.RunJournal(path, spec, executor, evaluate)
        try:
            with journal:
                outcome = planning.search(spec, journal, on_evaluation=show)
        except KeyboardInterrupt:
            _plan_session(path, spec, "interrupted", started, t0, journal.ran, command, workers)
            raise plan_store.PlanInterrupted(path) from None
        except BaseException:
            _plan_session(path, spec, "failed", started, t0, journal.ran, command, workers)
            raise
        finally:
            executor.close()
        plan_store.write_results(path, spec, outcome, journal)
        with rewritten_subfolder(path / "plots") as tmp:
            plot_plan(path, tmp)
        _plan_session(path, spec, "complete", started, t0, journal.ran, command, workers)
    finally:
        lock.release()
    return PlanResult(path, spec, outcome, journal.ran, journal.reused, time.perf_counter() - t0)


def _evaluation_line(spec: planning.PlanSpec, e: planning.Evaluation) -> str:
    """One candidate in words: value, replications, each goal's estimate and bound."""
    parts = [
        f"{j.goal.metric} {j.estimate:.4g} ({j.goal.side} bound {j.bound:.4g})"
        for j in e.judgements
    ]
    verdict = e.verdict if e.verdict != "undecided" else "undecided, counted as not met"
    return f"{spec.vary.path} = {e.value}: {verdict} after {e.replications} replications; " + (
        "; ".join(parts)
    )


def _plan_manifest(
    spec: planning.PlanSpec,
    status: str,
    sessions: list[dict[str, Any]],
    command: Sequence[str] | None,
    workers: int,
) -> dict[str, Any]:
    m = build_manifest(
        kind="plan",
        seed=spec.seed,
        replications=spec.replications,
        workers=workers,
        wall_time_s=sum(float(s.get("wall_time_s", 0.0)) for s in sessions),
        command=list(command) if command else None,
        scenario_name=spec.base.name,
    )
    m.update(
        {
            "parameter": spec.vary.path,
            "goal": spec.goal_text,
            "confidence": spec.confidence,
            "status": status,
            "sessions": sessions,
        }
    )
    return m


def _plan_session(
    path: Path,
    spec: planning.PlanSpec,
    status: str,
    started: dt.datetime,
    t0: float,
    ran: int,
    command: Sequence[str] | None,
    workers: int,
) -> None:
    """Record a session (and the folder's status) in ``manifest.json``."""
    old = read_manifest(path) or {}
    sessions = list(old.get("sessions", []))
    sessions.append(
        {
            "started_utc": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "wall_time_s": round(time.perf_counter() - t0, 3),
            "runs": ran,
            "status": status,
            "workers": workers,
            "command": list(command) if command else None,
        }
    )
    manifest = _plan_manifest(spec, status, sessions, command, workers)
    atomic_write(path / "manifest.json", json.dumps(manifest, indent=2) + "\n")


def format_plan(result: PlanResult) -> str:
    """The summary ``siege plan`` prints: the answer and every candidate evaluated."""
    return _format_plan(
        result.spec,
        result.outcome,
        out_dir=str(result.path),
        ran=result.ran,
        reused=result.reused,
        wall_time_s=result.wall_time_s,
    )


def redraw_plan_plots(result_dir: Path | str) -> Path:
    """Re-draw ``plots/`` of a complete plan folder from its files alone."""
    d = Path(result_dir)
    if folder_kind(d) != "plan" or not (d / plan_store.PLAN_JSON).is_file():
        raise InputError(f"{d}: not a complete plan folder (no plan.json)")
    with rewritten_subfolder(d / "plots") as tmp:
        plot_plan(d, tmp)
    return d
