"""The public API: what the ``siege`` command calls, and what a notebook user calls.

>>> import sim
>>> scenario = sim.load_scenario("scenarios/deir_ez_zor/baseline.toml")  # doctest: +SKIP
>>> runset = sim.run(scenario, replications=20, seed=1)                   # doctest: +SKIP
>>> runset.summary["delivered_t"]["median"]                               # doctest: +SKIP
>>> sim.write_run(runset, "results/my_run")                               # doctest: +SKIP
>>> sim.sweep("scenarios/deir_ez_zor/sweep_tempo.toml")                   # doctest: +SKIP

:func:`run` runs the replications and reduces them to plain data (:class:`RunSet`):
per-replication metrics, daily percentile bands, the metric summary and the
observations table. :func:`write_run` writes a :class:`RunSet` as a result folder
(see :mod:`sim.output.files`); :func:`redraw_plots` re-draws a folder's plots from its
files alone. Masses are in tonnes, times in days.

:func:`sweep` runs a parameter sweep into a new sweep folder and :func:`resume_sweep`
finishes an interrupted one (:mod:`sim.experiment.sweep`); this module owns the
folders (created atomically, locked while a sweep runs) and draws the plots at the
end. :func:`validate_file`, :func:`plot` and :func:`write_schema` are the other
commands of ``siege``.

Sizes beyond the limits of :mod:`sim.scenario.limits` (replications, samples, design
points, runs) are refused unless ``allow_large`` is given.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
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
from sim.conventions import InputError, default_workers, json_text, one_line, signal_of
from sim.experiment import calibrate as calibrating
from sim.experiment import compare as comparing
from sim.experiment import compare_store, plan_store
from sim.experiment import plan as planning
from sim.experiment import sweep as sweeps
from sim.experiment.calibfile import CalibrationSpec, is_calibration_data, load_calibration
from sim.experiment.calibfile import check_size as check_calibration_size
from sim.experiment.calibrate import CalibrationFolderError, CalibrationResult
from sim.experiment.designs import DESIGNS
from sim.experiment.executors import EXECUTORS, Executor, WarmPool, make_executor, mp_context
from sim.experiment.posterior import Posterior, PosteriorRun, check_draws, read_posterior
from sim.experiment.provenance import build_manifest, session_entry
from sim.experiment.replicate import iter_replications
from sim.experiment.runner import Evaluate
from sim.experiment.store import atomic_write
from sim.experiment.sweep import SweepFolderError, SweepResult, check_points, check_size
from sim.experiment.sweepfile import (
    SweepSpec,
    is_sweep_data,
    load_sweep,
    parse_param_option,
    spec_from_scenario,
)
from sim.model.record import RunResult
from sim.output import comparison as comparison_files
from sim.output import files
from sim.output.calibration_plots import plot_calibration
from sim.output.calibration_summary import format_calibration, generation_line
from sim.output.compare_plots import plot_comparison
from sim.output.folder import (
    FolderLock,
    OutputExistsError,
    ResultFolder,
    check_subfolder,
    create_locked,
    default_out_dir,
    folder_kind,
    folder_status,
    never_left_running,
    read_manifest,
    rewritten_subfolder,
    settle_killed,
)
from sim.output.plan_plots import plot_plan
from sim.output.plan_summary import format_plan as _format_plan
from sim.output.plots import PLOT_FILES, draw_all, warm_up
from sim.output.sweep_plots import plot_sweep
from sim.scenario.errors import ScenarioError
from sim.scenario.limits import MAX_REPLICATIONS, too_large
from sim.scenario.load import dump_toml, load_scenario
from sim.scenario.schema import Scenario, schema_text
from sim.scenario.toml import read_toml

__all__ = [
    "DESIGNS",
    "EXECUTORS",
    "SCHEMA_FILE",
    "CalibrationResult",
    "CalibrationSpec",
    "Comparison",
    "PlanResult",
    "RunSet",
    "SweepResult",
    "SweepSpec",
    "calibrate",
    "calibration_spec",
    "compare",
    "format_calibration",
    "format_plan",
    "load_scenario",
    "plan",
    "plot",
    "read_posterior",
    "redraw_calibration_plots",
    "redraw_comparison_plots",
    "redraw_plan_plots",
    "redraw_plots",
    "resume_calibration",
    "resume_compare",
    "resume_plan",
    "resume_sweep",
    "run",
    "run_to_folder",
    "schema_text",
    "sweep",
    "sweep_spec",
    "validate_file",
    "write_run",
    "write_run_files",
    "write_schema",
]

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "scenarios" / "schema.json"
"""Where a checkout of the repository keeps the JSON Schema of the scenario format."""


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

        bar = tqdm(total=reps, file=sys.stderr, unit="rep", desc=scenario.name, leave=False)
    try:
        while True:
            results = iter_replications(
                scenario, batch, root, workers=workers, run_fn=run_fn, first=first
            )
            for result in results:
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
    daily = acc.percentiles()
    binned = acc.report()
    del acc  # its values or histograms (up to 160 MiB) go before the summaries' bootstraps
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
        summary=summarize_metrics(metrics, root),
        observations=observation_table(scenario, metrics),
        wall_time_s=time.perf_counter() - t0,
        sim_events=sim_events,
        extra=extra,
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
    """
    reps = None
    if precision is None and replication is None:
        reps = check_replications(replications, scenario, allow_large)
    out = Path(out_dir) if out_dir is not None else default_out_dir(scenario.name)
    with ResultFolder(out, "run", force=force, unique=out_dir is None) as folder:
        drawing = None
        if workers > 1:
            if replication is None and (reps is None or reps > 1):
                # the replications' fork server starts now: its imports (0.6 s) go on
                # while this process imports matplotlib
                mp_context()
            # matplotlib imported and the event keys drawn once, here, before the plots'
            # workers are forked: they inherit them (importing matplotlib in each worker
            # cost 0.3 s more CPU than it saved, each key 0.1 s a worker). They are
            # forked now, while this process is small, and wait for the run.
            warm_up(scenario)
            drawing = WarmPool(min(workers, len(PLOT_FILES)), warm_up)  # a no-op if forked
        try:
            runset = run(
                scenario,
                replications,
                seed,
                workers,
                progress,
                allow_large=allow_large,
                posterior=posterior,
                replication=replication,
                precision=precision,
                precision_metrics=precision_metrics,
                max_replications=max_replications,
            )
            write_run_files(runset, folder.tmp, command=command, executor=drawing)
        finally:
            if drawing is not None:
                drawing.close()
    return runset, folder.path


def write_run_files(
    runset: RunSet,
    folder: Path,
    command: Sequence[str] | str | None = None,
    plots: bool = True,
    executor: Executor | None = None,
) -> None:
    """Write the files of a run folder into the existing, empty ``folder``.

    With an ``executor`` of two or more workers the plots are drawn there, in
    parallel, while this process writes the tables (in a thread: it mostly waits).
    """
    tables = None
    if plots and executor is not None and executor.workers > 1:
        tables = ThreadPoolExecutor(1, thread_name_prefix="siege-tables")
        written = tables.submit(_write_tables, runset, folder)
    else:
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
        if tables is not None:
            written.result()
    finally:
        if tables is not None:
            tables.shutdown()
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
    with _reading(d / "daily.csv", "a run's daily table"):
        dates, daily = files.read_daily_csv(d / "daily.csv")
    with _reading(d / "replications.csv", "a run's replications table"):
        metrics = files.read_replications_csv(d / "replications.csv")
    with _reading(d / "observations.csv", "a run's observations table"):
        observations = files.read_observations_csv(d / "observations.csv")
    if len(dates) != scenario.calendar.n_days:
        raise InputError(
            f"{d / 'daily.csv'}: has {len(dates)} days, its scenario.toml "
            f"{scenario.calendar.n_days}"
        )
    with rewritten_subfolder(d / "plots") as tmp:
        draw_all(tmp, scenario, dates, daily, metrics, observations)
    return d


_UNREADABLE = (
    OSError,
    UnicodeDecodeError,
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    StopIteration,
    csv.Error,
)
"""What reading a damaged (or foreign) file of a result folder raises."""


@contextlib.contextmanager
def _reading(path: Path, what: str) -> Iterator[None]:
    """Turn a failure to read ``path`` as ``what`` into one :class:`InputError` line."""
    try:
        yield
    except InputError:
        raise
    except FileNotFoundError as err:
        raise InputError(f"{err.filename or path}: missing") from None
    except _UNREADABLE as err:
        raise InputError(f"{path}: not {what} ({_reason(err)})") from None


def _reason(err: BaseException) -> str:
    if isinstance(err, StopIteration):
        return "empty file"
    if isinstance(err, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(err, OSError):
        where = f"{err.filename}: " if err.filename else ""
        return f"{where}{err.strerror or err}"
    if isinstance(err, KeyError):
        return f"no {err}"
    return one_line(f"{type(err).__name__}: {err}")


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
    path, lock = _create_resumable(
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
    folder is not a comparison, is already complete, or its inputs changed since it
    began (the files are named), and with
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
            raise compare_store.CompareFolderError(
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
    old = read_manifest(path) or {}
    sessions = list(old.get("sessions", []))
    cmd = [command] if isinstance(command, str) else command
    sessions.append(
        session_entry(
            started=started,
            wall_time_s=time.perf_counter() - t0,
            runs=ran,
            status=status,
            workers=workers,
            command=cmd,
        )
    )
    manifest = _compare_manifest(spec, status, sessions, command, workers)
    atomic_write(path / "manifest.json", json_text(manifest))


def redraw_comparison_plots(result_dir: Path | str) -> Path:
    """Re-draw ``plots/`` of a comparison folder from its files alone; return the folder.

    Raises :class:`~sim.conventions.InputError` if ``result_dir`` is not one.
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
    ``killed_before``: the previous session's process was killed (its manifest still
    said ``running``).
    """

    path: Path
    spec: planning.PlanSpec
    outcome: planning.PlanOutcome
    ran: int
    reused: int
    wall_time_s: float
    killed_before: bool = False

    def to_frame(self) -> Any:
        """``trace.csv``: every candidate evaluated, as a pandas DataFrame."""
        return frames.csv_frame(self.path / plan_store.TRACE_CSV)

    def runs_frame(self) -> Any:
        """``runs.csv``: the goal metrics of every run, as a pandas DataFrame."""
        return frames.csv_frame(self.path / plan_store.RUNS_CSV)


def _create_resumable(
    out: Path, kind: str, write: Callable[[Path], None], *, force: bool, unique: bool, what: str
) -> tuple[Path, FolderLock]:
    """:func:`~sim.output.folder.create_locked` for a resumable folder (sweep, plan,
    calibration): an existing folder of the same kind is refused with a hint to
    ``--resume`` it."""
    try:
        return create_locked(out, kind, write, force=force, unique=unique, what=what)
    except OutputExistsError:
        if folder_kind(out) == kind and not force:
            raise OutputExistsError(
                f"{out}: already exists (use --force to replace it, or --resume {out} to finish it)"
            ) from None
        raise


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
        plan_store.write_inputs(tmp, spec)
        files.write_json(
            tmp / "manifest.json", _plan_manifest(spec, "running", [], command, workers)
        )

    out = Path(out_dir) if out_dir is not None else default_out_dir(scenario.name, prefix="plan-")
    path, lock = _create_resumable(
        out, "plan", write, force=force, unique=out_dir is None, what="siege plan"
    )
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
    check_subfolder(out / "plots")
    killed = settle_killed(out)
    lock = FolderLock(out).acquire("siege plan --resume")
    result = _run_plan(out, lock, workers, progress, command, evaluate)
    result.killed_before = killed
    return result


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
        except KeyboardInterrupt as stop:
            _plan_session(path, spec, "interrupted", started, t0, journal.ran, command, workers)
            raise plan_store.PlanInterrupted(path, signal_of(stop)) from None
        except BaseException:
            _plan_session(path, spec, "failed", started, t0, journal.ran, command, workers)
            raise
        finally:
            executor.close()
        plan_store.write_results(path, spec, outcome, journal)
        with rewritten_subfolder(path / "plots") as tmp:
            plot_plan(path, tmp)
        _plan_session(path, spec, "complete", started, t0, journal.ran, command, workers)
    except BaseException as err:
        never_left_running(path, err)
        raise
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
        session_entry(
            started=started,
            wall_time_s=time.perf_counter() - t0,
            runs=ran,
            status=status,
            workers=workers,
            command=command,
        )
    )
    manifest = _plan_manifest(spec, status, sessions, command, workers)
    atomic_write(path / "manifest.json", json_text(manifest))


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


SCHEDULER_TIMEOUT_S = 10.0
"""How long to try to reach a Dask scheduler before refusing the address, seconds."""


def _executor(
    executor: str | Executor, workers: int | None, scheduler: str | None
) -> Executor | None:
    """The executor to run on: an object as given, a Dask client (connected now, so a
    scheduler that cannot be reached is refused before anything is written), or None
    for local processes (sized by :func:`sim.experiment.sweep.resume`)."""
    if not isinstance(executor, str):
        return executor
    if executor == "local":
        if scheduler:
            raise ScenarioError("--scheduler", "", "needs --executor dask")
        return None
    return make_executor(executor, workers, scheduler, timeout_s=SCHEDULER_TIMEOUT_S)


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
    ex = _executor(executor, workers, scheduler)
    try:
        out = (
            Path(out_dir)
            if out_dir is not None
            else default_out_dir(spec.base.name, prefix=f"{spec.name}-")
        )
        path, lock = _create_resumable(
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
        _plot_sweep_folder(path, drawing)
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
    ex = _executor(executor, workers, scheduler)
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
    ex = _executor(executor, workers, scheduler)
    try:
        out = (
            Path(out_dir)
            if out_dir is not None
            else default_out_dir(spec.base.name, prefix=f"{spec.name}-")
        )
        path, lock = _create_resumable(
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
    ex = _executor(executor, workers, scheduler)
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
    d = Path(result_dir)
    if folder_kind(d) != "calibration" or not (d / calibrating.POSTERIOR_CSV).is_file():
        raise InputError(f"{d}: not a finished calibration folder (no posterior.csv)")
    with rewritten_subfolder(d / "plots") as tmp:
        plot_calibration(d, tmp)
    return d


# ---- the other commands ------------------------------------------------------------------


def validate_file(path: str | Path, allow_large: bool = False) -> str:
    """Check a scenario, sweep or calibration file, running nothing; return ``"scenario"``,
    ``"sweep"`` or ``"calibration"``.

    A calibration file (see :func:`~sim.experiment.calibfile.is_calibration_data`) is
    checked with its base scenario, priors, fitted observations and budget.

    A sweep file (see :func:`~sim.experiment.sweepfile.is_sweep_data`) is checked as a
    sweep: the file, its base scenario, its size and every design point. Raises
    :class:`ScenarioError` for the first problem.
    """
    data = read_toml(path)
    if is_calibration_data(data):
        calibration_spec(path, allow_large)
        return "calibration"
    if is_sweep_data(data):
        spec = load_sweep(path)
        check_size(spec, allow_large)
        check_points(spec, spec.make_design().points)
        return "sweep"
    scenario = load_scenario(path)
    check_replications(None, scenario, allow_large)
    return "scenario"


def plot(result_dir: str | Path) -> Path:
    """Re-draw the plots of a finished run, sweep, comparison or plan folder from its files;
    return ``plots/``."""
    d = Path(result_dir)
    if not d.is_dir():
        raise InputError(f"{d}: no such result folder")
    kind = folder_kind(d)
    if kind == "comparison":
        with _reading(d, "a comparison folder that can be plotted"):
            redraw_comparison_plots(d)
    elif kind == "calibration":
        _check_finished(d, "calibration", calibrating.POSTERIOR_CSV, "calibrate")
        with _reading(d, "a calibration folder that can be plotted"):
            redraw_calibration_plots(d)
    elif kind == "plan":
        _check_finished(d, "plan", plan_store.PLAN_JSON)
        with _reading(d, "a plan folder that can be plotted"):
            redraw_plan_plots(d)
    elif kind == "sweep" or (d / "design.csv").is_file():
        _check_finished(d, "sweep", "points.csv")
        _plot_sweep_folder(d)
    else:
        redraw_plots(d)
    return d / "plots"


def _check_finished(d: Path, kind: str, last_file: str, command: str | None = None) -> None:
    """Refuse to plot a sweep, plan or calibration that a process still works in, or that
    did not finish (its status put right first if its process was killed:
    :func:`folder_status`); ``command`` resumes it (``siege COMMAND --resume``, default
    ``kind``)."""
    status = folder_status(d)
    if status == "running":
        holder = FolderLock(d).holder() or "another siege process"
        raise InputError(f"{d}: the {kind} is still running ({holder}); plot it when it is done")
    if status in ("interrupted", "failed") and not (d / last_file).is_file():
        raise InputError(
            f"{d}: the {kind} did not finish (its manifest says {status}); "
            f"finish it with: siege {command or kind} --resume {d}"
        )


def _plot_sweep_folder(d: Path, workers: int = 1) -> None:
    """(Re-)draw ``plots/`` of a finished sweep folder, never through a link; with two
    or more ``workers`` in a :class:`WarmPool` of that many processes (a sweep of one
    parameter draws a plot per metric: 15 for the baseline's default metrics)."""
    with rewritten_subfolder(d / "plots") as tmp:
        drawing = None
        if workers > 1:
            # matplotlib imported once, here, and inherited by the forked workers
            # (importing it in each cost a third of a second of CPU more than it saved
            # on a busy machine)
            warm_up()
            drawing = WarmPool(workers, warm_up)  # a no-op if forked
        try:
            plot_sweep(d, tmp, executor=drawing)
        finally:
            if drawing is not None:
                drawing.close()


def write_schema(path: str | Path | None = None) -> Path:
    """Write the JSON Schema of the scenario format to ``path`` (default: the repository's
    ``scenarios/schema.json``, for editors); return the path written."""
    if path is None:
        if not SCHEMA_FILE.parent.is_dir():
            raise InputError(
                f"{SCHEMA_FILE.parent}: no scenarios folder beside the package "
                "(give the file to write: siege schema --write FILE)"
            )
        path = SCHEMA_FILE
    target = Path(path)
    try:
        target.write_text(schema_text(), encoding="utf-8")
    except OSError as err:
        raise InputError(f"{target}: cannot write the file: {err.strerror or err}") from None
    return target
