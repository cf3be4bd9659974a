"""``siege run``: the replications of one scenario reduced to plain data (:class:`RunSet`:
per-replication metrics, daily percentile bands, the metric summary and the
observations table), written as a result folder, and its plots re-drawn from its
files alone. Masses are in tonnes, times in days."""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from sim.analysis import frames
from sim.analysis import precision as precision_mod
from sim.analysis.goals import unknown_metric
from sim.analysis.metric_registry import metric_names
from sim.analysis.metrics import MetricRows, replication_metrics
from sim.analysis.observations import observation_table
from sim.analysis.summary import SeriesAccumulator, summarize_metrics
from sim.api.common import reading
from sim.conventions import InputError
from sim.experiment.executors import (
    Background,
    Beside,
    Executor,
    ProcessExecutor,
    WarmPool,
    mp_context,
    signals_held,
)
from sim.experiment.posterior import Posterior, PosteriorRun, check_draws
from sim.experiment.provenance import build_manifest
from sim.experiment.replicate import iter_replications
from sim.model.record import RunResult
from sim.output import files
from sim.output.folder import (
    ResultFolder,
    default_out_dir,
    rewritten_subfolder,
)
from sim.output.plots import PLOT_FILES, draw_all, warm_up
from sim.scenario.errors import ScenarioError
from sim.scenario.limits import MAX_REPLICATIONS, too_large
from sim.scenario.load import dump_toml, load_scenario
from sim.scenario.schema import Scenario


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
    metrics: list[Mapping[str, float]]
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

    # pandas accessors (the optional extra siege-sim[pandas]; see sim.analysis.frames)

    def to_frame(self) -> Any:
        """The metrics per replication as a pandas DataFrame (:meth:`metrics_frame`)."""
        return self.metrics_frame()

    def metrics_frame(self) -> Any:
        """One row per replication (index ``replication``): ``seed`` (the root seed), then
        every metric."""
        return frames.metrics_frame(self.replication_ids, self.seeds, self.metrics)

    def daily_frame(self, series: Sequence[str] | None = None) -> Any:
        """The daily bands, long: ``date, series, p05, p50, p95`` (all series by default)."""
        return frames.daily_frame(self.start, self.daily, series)

    def observations_frame(self) -> Any:
        """The model-vs-record table, one row per observation (index ``id``)."""
        return frames.records_frame(self.observations, index="id")

    def summary_frame(self) -> Any:
        """``summary.json``: one row per metric (index ``metric``)."""
        return frames.summary_frame(self.summary)


def check_replications(
    replications: int | None, scenario: Scenario, allow_large: bool = False
) -> int:
    """The number of replications to run (``replications``, else the scenario's), refused
    with :class:`ScenarioError` above :data:`~sim.scenario.limits.MAX_REPLICATIONS`
    unless ``allow_large``."""
    reps = scenario.replications if replications is None else int(replications)
    if reps < 1:
        raise ValueError(f"replications must be at least 1, got {reps}")
    message = None if allow_large else too_large("replications", reps, MAX_REPLICATIONS)
    if message:
        raise ScenarioError("--replications", "", message)
    return reps


def run(
    scenario: Scenario,
    replications: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    progress: bool = False,
    on_result: Callable[[int, RunResult, Mapping[str, float]], None] | None = None,
    allow_large: bool = False,
    posterior: Posterior | None = None,
    *,
    replication: int | None = None,
    precision: float | None = None,
    precision_metrics: Sequence[str] = (),
    max_replications: int | None = None,
    run_fn: Callable[[Scenario, int, int], RunResult] | None = None,
    fork: bool = False,
) -> RunSet:
    """Run ``replications`` replications (default: the scenario's) from root ``seed``.

    With a ``posterior`` (:func:`read_posterior` of a calibration folder), replication
    ``i`` runs with posterior draw ``i`` (drawn by weight from the seed's stream
    ``posterior:draws``), so the bands hold parameter uncertainty too;
    ``extra["posterior"]`` records the folder, the paths and the particles drawn.

    The results do not depend on ``workers``. ``progress`` shows a progress bar on
    stderr. ``on_result(index, result, metrics)`` is called with every replication, in
    order, as it arrives (``siege compare`` pairs them this way).

    ``replication=K`` runs replication K alone (what reproduces row K of a run's
    ``replications.csv``). ``precision=P`` adds replications in batches of
    :data:`~sim.analysis.precision.BATCH` until every metric of ``precision_metrics``
    (default :data:`~sim.analysis.precision.DEFAULT_METRICS`) has a 95 % half-width
    within P × its mean (P absolute for a share), at most ``max_replications``
    (default 1,000); ``runset.extra["precision"]`` says how many were needed and which
    metric decided (:mod:`sim.analysis.precision`).

    ``run_fn(scenario, replication, seed)`` replaces the model's
    :func:`~sim.model.world.run_replication` (a picklable callable: ``siege compare``
    keeps each replication in its folder this way; not with a ``posterior``).

    ``fork``: the replications' workers are forked from this process when it runs one
    thread (:class:`~sim.experiment.executors.ProcessExecutor`; the progress bar has no
    monitor thread) instead of from the fork server, whose start imports our modules
    anew (0.4 s of CPU).

    Raises ``ValueError`` for a non-positive count or conflicting options,
    :class:`~sim.scenario.errors.ScenarioError` for more replications than the limit
    (unless ``allow_large``) or an unknown precision metric, and lets the model's
    errors (e.g. :class:`~sim.model.record.MassBalanceError`) through.
    """
    if posterior is not None and (precision is not None or replication is not None):
        raise ValueError("a posterior run takes a number of replications, not precision or one")
    if posterior is not None and run_fn is not None:
        raise ValueError("a posterior run brings its own run function")
    if precision is not None:
        if replications is not None or replication is not None:
            raise ValueError("give precision or a number of replications, not both")
        if not 0.0 < precision < 1.0:
            raise ScenarioError("--precision", "", f"must be between 0 and 1, got {precision}")
        cap = (
            precision_mod.DEFAULT_MAX_REPLICATIONS if max_replications is None else max_replications
        )
        reps = check_replications(cap, scenario, allow_large)
        if reps < precision_mod.BATCH:
            raise ScenarioError(
                "--max-replications", "", f"must be at least {precision_mod.BATCH} (one batch)"
            )
        names = list(precision_metrics) or list(precision_mod.DEFAULT_METRICS)
        known = metric_names(scenario)
        for name in names:
            if name not in known:
                raise ScenarioError("--metric", "", unknown_metric(name, known))
    elif replication is not None:
        if replication < 0:
            raise ValueError(f"replication must be non-negative, got {replication}")
        reps = 1
    else:
        reps = check_replications(replications, scenario, allow_large)
    root = scenario.seed if seed is None else int(seed)
    if root < 0:
        raise ValueError(f"seed must be non-negative, got {root}")
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")

    t0 = time.perf_counter()
    first = 0 if replication is None else replication
    batch = reps if precision is None else precision_mod.BATCH
    acc = SeriesAccumulator(batch, scenario.calendar.n_days)
    ids: list[int] = []
    seeds: list[int] = []
    metrics: list[Mapping[str, float]] = []
    compact = MetricRows()
    sim_events = 0
    extra: dict[str, Any] = {}
    bar: Any = None
    if posterior is not None:
        particles = posterior.draws(reps, root)
        check_draws(scenario, posterior, particles)
        run_fn = PosteriorRun(posterior.paths, tuple(posterior.values[i] for i in particles))
        extra["posterior"] = {
            "folder": posterior.folder,
            "parameters": list(posterior.paths),
            "stream": "posterior:draws",
            "particles": particles,
        }
    if progress:
        from tqdm import tqdm  # only for a terminal: 40 ms of start-up otherwise

        # without the monitor thread (it only watches for bars that stopped refreshing):
        # a process with a thread does not fork its workers
        monitorless = type("RunBar", (tqdm,), {"monitor_interval": 0})
        bar = monitorless(total=reps, file=sys.stderr, unit="rep", desc=scenario.name, leave=False)
    try:
        while True:
            # closed here, not when collected: a stop that comes while this loop runs
            # must end the workers now (see ProcessExecutor.close)
            results = contextlib.closing(
                iter_replications(
                    scenario, batch, root, workers=workers, run_fn=run_fn, first=first, fork=fork
                )
            )
            with results as arriving:
                for result in arriving:
                    i = len(metrics)
                    acc.add(i, result)
                    ids.append(int(result.replication))
                    seeds.append(int(result.seed))
                    metrics.append(compact(replication_metrics(scenario, result)))
                    sim_events += int(result.sim_events)
                    if on_result is not None:
                        on_result(i, result, metrics[-1])
                    if bar is not None:
                        bar.update(1)
            if precision is None:
                break
            checks = precision_mod.check(metrics, names, precision, root)
            done = len(metrics)
            if all(c.reached for c in checks) or done >= reps:
                extra["precision"] = precision_mod.report(checks, precision, done, reps)
                break
            first = done
            batch = min(precision_mod.BATCH, reps - done)
    finally:
        if bar is not None:
            bar.close()
    n = len(metrics)
    scenario = scenario.model_copy(update={"replications": n, "seed": root})
    if replication is not None:
        extra["replication"] = replication
    daily, binned, summary = _reduce(acc, metrics, root)
    del acc
    if binned is not None:
        extra["daily_percentiles"] = binned
    return RunSet(
        scenario=scenario,
        seed=root,
        replications=n,
        workers=workers,
        replication_ids=ids,
        seeds=seeds,
        metrics=metrics,
        daily=daily,
        summary=summary,
        observations=observation_table(scenario, metrics),
        wall_time_s=time.perf_counter() - t0,
        sim_events=sim_events,
        extra=extra,
    )


def _reduce(
    acc: SeriesAccumulator, metrics: list[Mapping[str, float]], root: int
) -> tuple[dict[str, np.ndarray], dict[str, Any] | None, dict[str, dict[str, Any]]]:
    """The daily percentiles, their report (:meth:`SeriesAccumulator.report`) and the
    metric summary, side by side: the summary's bootstraps run in a thread while this
    one computes the percentiles (both spend most of their time in NumPy, which lets
    the other thread run; 0.38 s and 0.20–0.30 s for 200 replications of the baseline
    alone, 0.37 s together). The thread is gone when this returns (a process with a
    thread does not fork its workers) and a stop signal still comes to this thread."""
    summarizing = Beside("siege-summary", summarize_metrics, metrics, root)
    try:
        daily = acc.percentiles()
        binned = acc.report()
    except BaseException:
        summarizing.close()
        raise
    return daily, binned, summarizing.result()


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
    allow_large: bool = False,
    posterior: Posterior | None = None,
    replication: int | None = None,
    precision: float | None = None,
    precision_metrics: Sequence[str] = (),
    max_replications: int | None = None,
) -> tuple[RunSet, Path]:
    """Reserve the result folder, run the replications, write the folder; ``(runset, path)``.

    The folder is reserved before the first replication runs, so a folder that cannot
    be written (it exists, is protected, its parent is a file...) is refused at once
    with :class:`~sim.output.folder.InputError`, and two runs into the same folder never
    both succeed. Sizes are checked first (:func:`check_replications`). ``replication``,
    ``precision``, ``precision_metrics`` and ``max_replications`` are :func:`run`'s.

    With two or more ``workers`` the plots are drawn in parallel; a single replication
    then runs in a process of its own while this one prepares the drawing
    (:func:`_one_replication_aside`), and up to :data:`DRAWING_FORKED_AFTER`
    replications run in workers forked from this process at once
    (:func:`_replications_then_drawing`). The files are the same whatever the workers.
    """
    reps = None
    if precision is None and replication is None:
        reps = check_replications(replications, scenario, allow_large)
    out = Path(out_dir) if out_dir is not None else default_out_dir(scenario.name)
    options = RunOptions(
        replications,
        seed,
        workers,
        progress,
        allow_large,
        posterior,
        replication,
        precision,
        tuple(precision_metrics),
        max_replications,
    )
    if replication is not None:
        most = 1
    elif reps is not None:
        most = reps
    else:
        most = max_replications or precision_mod.DEFAULT_MAX_REPLICATIONS
    with ResultFolder(out, "run", force=force, unique=out_dir is None) as folder:
        if workers > 1 and most == 1:
            runset = _one_replication_aside(scenario, options, folder.tmp, command)
        elif workers > 1 and most <= DRAWING_FORKED_AFTER:
            runset = _replications_then_drawing(scenario, options, folder.tmp, command)
        else:
            runset = _replications(scenario, options, folder.tmp, command)
    return runset, folder.path


DRAWING_FORKED_AFTER = 1_000
"""Most replications of a run whose plots' workers are forked after the run (with all it
holds), instead of before it (:func:`_replications`): forked processes count again every
page they share in the memory summed over processes, and a run of 10,000 replications
ends with a 220 MiB parent."""


def _replications_then_drawing(
    scenario: Scenario, options: RunOptions, folder: Path, command: Sequence[str] | str | None
) -> RunSet:
    """Run the replications (at most :data:`DRAWING_FORKED_AFTER`) in workers forked from
    this process at once; write the run folder into ``folder``.

    This process imports matplotlib and draws the event keys while the workers run
    (when the first result has come); then the plots' workers are forked from it,
    inheriting both. There is no fork server to start (0.4 s of CPU, while nothing
    ran), nor plots' workers to hold during the run.
    """
    warming = _WarmUpOnce(scenario)
    runset = options.run(scenario, on_result=warming, fork=True)
    warming()
    drawing = WarmPool(min(options.workers, len(PLOT_FILES)))  # forked: nothing to warm
    try:
        write_run_files(runset, folder, command=command, executor=drawing)
    finally:
        drawing.close()
    return runset


class _WarmUpOnce:
    """:func:`~sim.output.plots.warm_up` of a scenario the first time it is called (an
    ``on_result`` of :func:`run`: with the first result)."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario: Scenario | None = scenario

    def __call__(self, *_: Any) -> None:
        if self.scenario is not None:
            scenario, self.scenario = self.scenario, None
            _prepare_drawing(scenario)


def _prepare_drawing(scenario: Scenario) -> None:
    """:func:`~sim.output.plots.warm_up` (matplotlib imported, the event keys drawn) with
    the stop signals held until it is done (half a second at most): a SIGTERM raised
    in the middle of matplotlib's import came out as an internal error (``Error calling
    __set_name__``, exit status 1) instead of a clean stop (143)."""
    with signals_held():
        warm_up(scenario)


def _replications(
    scenario: Scenario, options: RunOptions, folder: Path, command: Sequence[str] | str | None
) -> RunSet:
    """Run the replications (more than :data:`DRAWING_FORKED_AFTER` with two or more
    workers); write the files of the run folder into ``folder``."""
    drawing = None
    if options.workers > 1:
        # the replications' fork server starts now: its imports (0.4 s) go on while this
        # process imports matplotlib
        mp_context()
        # matplotlib imported and the event keys drawn once, here, before the plots'
        # workers are forked: they inherit them (importing matplotlib in each worker cost
        # 0.3 s more CPU than it saved, each key 0.1 s a worker). They are forked now,
        # while this process is small, and wait for the run.
        _prepare_drawing(scenario)
        drawing = WarmPool(min(options.workers, len(PLOT_FILES)), warm_up)  # a no-op if forked
    try:
        runset = options.run(scenario)
        write_run_files(runset, folder, command=command, executor=drawing)
    finally:
        if drawing is not None:
            drawing.close()
    return runset


@dataclass(frozen=True)
class RunOptions:
    """:func:`run`'s arguments after the scenario, kept to run it elsewhere (a worker)."""

    replications: int | None = None
    seed: int | None = None
    workers: int = 1
    progress: bool = False
    allow_large: bool = False
    posterior: Posterior | None = None
    replication: int | None = None
    precision: float | None = None
    precision_metrics: tuple[str, ...] = ()
    max_replications: int | None = None

    def run(
        self,
        scenario: Scenario,
        on_result: Callable[[int, RunResult, Mapping[str, float]], None] | None = None,
        fork: bool = False,
    ) -> RunSet:
        """:func:`run` of ``scenario`` with these options (and ``on_result``, ``fork``)."""
        return run(
            scenario,
            self.replications,
            self.seed,
            self.workers,
            self.progress,
            allow_large=self.allow_large,
            posterior=self.posterior,
            replication=self.replication,
            precision=self.precision,
            precision_metrics=self.precision_metrics,
            max_replications=self.max_replications,
            on_result=on_result,
            fork=fork,
        )


def _one_replication_aside(
    scenario: Scenario, options: RunOptions, folder: Path, command: Sequence[str] | str | None
) -> RunSet:
    """A run of one replication with two or more workers, its parts side by side.

    The replication runs, and the tables are written, in a worker process forked now
    (:class:`~sim.experiment.executors.Background`), while this process imports
    matplotlib and draws the event keys (which took three times as long); then the plots
    are drawn in workers forked from this process, which inherit matplotlib, the keys
    and the run's data (nothing is sent to them). One after the other, these cost
    0.6 s before the first plot could start. A progress bar has nothing to show for one
    replication: there is none.
    """
    aside = Background(
        _run_and_write_tables, (scenario, replace(options, workers=1, progress=False)), folder
    )
    try:
        _prepare_drawing(scenario)
        runset: RunSet = aside.result()
    finally:
        aside.close()
    runset.workers = options.workers
    drawing = ProcessExecutor(min(options.workers, len(PLOT_FILES)), fork=True)
    write_run_files(runset, folder, command=command, executor=drawing, tables=False)
    return runset


def _run_and_write_tables(job: tuple[Scenario, RunOptions], folder: Path) -> RunSet:
    """In a worker: run ``job`` and write its tables into ``folder``; the run set."""
    scenario, options = job
    runset = options.run(scenario)
    _write_tables(runset, folder)
    return runset


def write_run_files(
    runset: RunSet,
    folder: Path,
    command: Sequence[str] | str | None = None,
    plots: bool = True,
    executor: Executor | None = None,
    tables: bool = True,
) -> None:
    """Write the files of a run folder into the existing, empty ``folder`` (with
    ``tables=False``, its tables are there already).

    With an ``executor`` of two or more workers the plots are drawn there, in
    parallel, while this process writes the tables (in a thread: it mostly waits).
    """
    writing = None
    if tables and plots and executor is not None and executor.workers > 1:
        writing = Beside("siege-tables", _write_tables, runset, folder)
    elif tables:
        _write_tables(runset, folder)
    try:
        if plots:
            draw_all(
                folder / "plots",
                runset.scenario,
                runset.dates,
                runset.daily,
                runset.metrics,
                runset.observations,
                executor=executor,
            )
        if writing is not None:
            writing.result()
    finally:
        if writing is not None:
            writing.close()
    manifest = build_manifest(
        seed=runset.seed,
        replications=runset.replications,
        workers=runset.workers,
        wall_time_s=runset.wall_time_s,
        command=command,
        scenario_name=runset.scenario.name,
    )
    manifest.update(runset.extra)
    files.write_json(folder / "manifest.json", manifest)


def _write_tables(runset: RunSet, folder: Path) -> None:
    """The scenario and the tables of a run folder (everything but plots and manifest)."""
    (folder / "scenario.toml").write_text(dump_toml(runset.scenario), encoding="utf-8")
    files.write_daily_csv(folder / "daily.csv", runset.start, runset.daily)
    files.write_replications_csv(
        folder / "replications.csv", runset.replication_ids, runset.seeds, runset.metrics
    )
    files.write_summary_json(folder / "summary.json", runset.summary)
    files.write_observations_csv(folder / "observations.csv", runset.observations)


def redraw_plots(result_dir: Path | str) -> Path:
    """Re-draw ``plots/`` of a finished run folder from its files alone; return the folder.

    Raises :class:`~sim.conventions.InputError` if ``result_dir`` is not a run folder.
    """
    d = Path(result_dir)
    needed = ("scenario.toml", "daily.csv", "replications.csv", "observations.csv")
    missing = [n for n in needed if not (d / n).is_file()]
    if missing:
        raise InputError(f"{d}: not a run folder (missing {', '.join(missing)})")
    scenario = load_scenario(d / "scenario.toml")
    with reading(d / "daily.csv", "a run's daily table"):
        dates, daily = files.read_daily_csv(d / "daily.csv")
    with reading(d / "replications.csv", "a run's replications table"):
        metrics = files.read_replications_csv(d / "replications.csv")
    with reading(d / "observations.csv", "a run's observations table"):
        observations = files.read_observations_csv(d / "observations.csv")
    if len(dates) != scenario.calendar.n_days:
        raise InputError(
            f"{d / 'daily.csv'}: has {len(dates)} days, its scenario.toml "
            f"{scenario.calendar.n_days}"
        )
    with rewritten_subfolder(d / "plots") as tmp:
        draw_all(tmp, scenario, dates, daily, metrics, observations)
    return d
