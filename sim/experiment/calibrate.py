"""``siege calibrate``: ABC-SMC on our own executors and journal, resumable after a kill.

The method (:mod:`sim.analysis.abc`): a population of ``particles`` parameter sets;
generation 0 from the priors, each later one moved from the last by a Gaussian kernel
and kept when its distance to the fitted observations is within the generation's
tolerance. A particle is evaluated by ``replications`` runs; replication ``r`` of
every particle uses the calibration's root seed and index ``r`` — the same named
random streams — so candidates are compared on common random numbers. The distance
uses each fitted observation's mean over the replications.

**Deterministic.** Candidate ``k`` of generation ``g`` is drawn from its own stream
``abc:proposal:<k>`` (:func:`sim.model.streams.seed_sequence` with the seed and
``g``), from the population of generation ``g − 1``. Candidates are evaluated in
batches whose sizes follow from the results so far, and a generation keeps the
first ``particles`` accepted candidates *in candidate order*. Every decision is taken
from the journal's text (the numbers as written), so the posterior is the same
whatever the number of workers, the executor (local or Dask) or the order in which
runs finish, and a resumed calibration ends with the same bytes as an uninterrupted
one (``manifest.json`` aside: it records sessions and times).

**Resumable.** Every run is appended to a journal as it finishes (``runs.csv`` for
the fit, ``predictive_runs.csv`` for the posterior predictive check). ``--resume``
replays the whole procedure from the folder's own ``calibration.toml`` and
``scenario.toml``, regenerating the proposals, and runs only what the journal lacks.
A row whose parameter values differ from the regenerated proposal is refused (the
inputs changed); ``inputs.json`` keeps the fingerprint of the two input files
(:mod:`sim.experiment.fingerprint`), checked on resume: a changed value is refused,
named.

The folder::

    scenario.toml         the resolved base scenario
    calibration.toml      the resolved calibration (base = "scenario.toml")
    inputs.json           the fingerprint of both (a resume with other inputs is refused)
    runs.csv              every fit run: generation, candidate, replication, seed, the
                          parameter values, the fitted observations' values, error
    predictive_runs.csv   every run of the predictive check: generation (the final
                          one's index), draw, replication, seed, the drawn particle's
                          values, every observation's value, error
    posterior.csv         the final population: particle, candidate, values, weight,
                          distance
    parameters.csv        per parameter: prior, posterior mean, median, p05, p95
                          (the 90 % credible interval), effective sample size
    generations.csv       per generation: tolerance, candidates, accepted, acceptance
                          rate, evaluated, failed, effective sample size, median distance
    predictive.csv        per observation (both roles): posterior predictive p05, p50,
                          p95 over draws × replications, observed, error, inside 90 %
    validation.csv        the same for the validation observations only
    calibrated.toml       the base scenario with the posterior medians
    manifest.json         versions, budget, status, sessions, the inputs' hash
    plots/*.png           drawn by :mod:`sim.output.calibration_plots`

The validation observations never enter the fit: ``runs.csv`` holds only the
fitted observations, and the fit reads nothing else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import signal
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.analysis import abc
from sim.conventions import csv_line, csv_rows, default_workers, fmt, json_text, signal_of
from sim.experiment import fingerprint, store
from sim.experiment.calibfile import (
    CalibrationSpec,
    load_calibration,
    resolved_data,
    resolved_toml,
)
from sim.experiment.executors import Executor, make_executor
from sim.experiment.provenance import build_manifest, with_session
from sim.experiment.runner import Evaluate, RunRow, RunTask, SweepContext, execute, lost_row
from sim.model.streams import seed_sequence
from sim.scenario.errors import ScenarioError
from sim.scenario.load import dump_toml, with_values

SCENARIO_TOML = "scenario.toml"
CALIBRATION_TOML = "calibration.toml"
RUNS_CSV = "runs.csv"
PREDICTIVE_RUNS_CSV = "predictive_runs.csv"
POSTERIOR_CSV = "posterior.csv"
PARAMETERS_CSV = "parameters.csv"
GENERATIONS_CSV = "generations.csv"
PREDICTIVE_CSV = "predictive.csv"
VALIDATION_CSV = "validation.csv"
CALIBRATED_TOML = "calibrated.toml"
MANIFEST_JSON = "manifest.json"

PARAMETERS_COLUMNS = ("parameter", "prior", "mean", "median", "p05", "p95", "ess")
GENERATIONS_COLUMNS = (
    "generation",
    "tolerance",
    "candidates",
    "accepted",
    "acceptance_rate",
    "evaluated",
    "failed",
    "ess",
    "median_distance",
)
PREDICTIVE_COLUMNS = (
    "id",
    "metric",
    "role",
    "fitted",
    "from",
    "to",
    "observed",
    "unit",
    "p05",
    "p50",
    "p95",
    "error",
    "rel_error",
    "inside_90",
    "source",
)
VALIDATION_COLUMNS = tuple(c for c in PREDICTIVE_COLUMNS if c not in ("role", "fitted"))


class CalibrationFolderError(ScenarioError):
    """The folder given to ``--resume`` is not a resumable calibration, or its inputs changed."""


class CalibrationInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM, SIGHUP) during a calibration: the finished runs are in the
    folder's journals.

    ``out_dir`` is the folder to resume (``siege calibrate --resume DIR``); ``signum``
    the signal that stopped it.
    """

    def __init__(self, out_dir: Path, signum: int = signal.SIGINT) -> None:
        super().__init__(str(out_dir))
        self.out_dir = out_dir
        self.signum = int(signum)


class CalibrationError(RuntimeError):
    """Not even generation 0 could keep ``particles`` candidates (the runs fail)."""


@dataclass
class Generation:
    """One completed (or abandoned) generation of the population."""

    index: int
    tolerance: float
    x: np.ndarray  # kept particles' coordinates, particles × parameters
    values: list[tuple[Any, ...]]  # their scenario values
    candidates: list[int]  # their candidate numbers
    distances: list[float]
    weights: np.ndarray
    used: int  # candidates proposed up to the last one kept
    evaluated: int  # candidates run (a batch may run past the last one kept)
    failed: int  # candidates whose runs failed
    complete: bool


@dataclass
class CalibrationResult:
    """What a calibration session did and where its folder is."""

    out_dir: Path
    spec: CalibrationSpec
    generations: list[Generation]
    ran: int
    wall_time_s: float
    rows: list[dict[str, Any]] = field(default_factory=list)  # predictive.csv rows
    summary: list[dict[str, Any]] = field(default_factory=list)  # parameters.csv rows
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. killed_before (a resume)

    @property
    def final(self) -> Generation:
        """The last complete generation: the posterior."""
        return [g for g in self.generations if g.complete][-1]


# ---- journals --------------------------------------------------------------------------


def runs_header(spec: CalibrationSpec) -> list[str]:
    """Columns of ``runs.csv``."""
    return [
        "generation",
        "candidate",
        "replication",
        "seed",
        *spec.paths,
        *(f"obs__{i}" for i in spec.fit),
        "error",
    ]


def observation_ids(spec: CalibrationSpec) -> list[str]:
    """Every observation of the base scenario, in file order (the predictive check's)."""
    return [o.id for o in spec.base.observations]


def predictive_header(spec: CalibrationSpec) -> list[str]:
    """Columns of ``predictive_runs.csv``."""
    return [
        "generation",
        "draw",
        "replication",
        "seed",
        *spec.paths,
        *(f"obs__{i}" for i in observation_ids(spec)),
        "error",
    ]


def _cells(line: str) -> list[str]:
    return next(csv_rows([line]))


@dataclass(frozen=True)
class CandidateTask:
    """The runs of one candidate still missing: its number, parameter values, replications."""

    point: int
    values: tuple[Any, ...]
    replications: tuple[int, ...]


def run_candidate(context: SweepContext, task: CandidateTask) -> list[RunRow]:
    """A candidate's replications in one task (one round trip to a worker, the candidate's
    scenario built once); each run as :func:`~sim.experiment.runner.execute` gives it."""
    return [execute(context, RunTask(task.point, r, task.values)) for r in task.replications]


def lost_candidate(task: CandidateTask, crashes: int) -> list[RunRow]:
    """The rows of a candidate whose worker process kept dying: failed runs (the
    executors' ``lost``), so that the calibration goes on."""
    return [lost_row(RunTask(task.point, r, task.values), crashes) for r in task.replications]


class _Stage:
    """One journal and the runs it holds: runs what is missing, hands back lines by key."""

    def __init__(
        self,
        path: Path,
        header: list[str],
        context: SweepContext,
        executor: Executor,
        on_run: Callable[[], None],
    ) -> None:
        self.path = path
        self.header = header
        self.context = context
        self.executor = executor
        self.on_run = on_run
        try:
            self.done = store.read_keyed(path, header, 3)
        except ValueError as err:
            raise CalibrationFolderError(str(path), "", str(err).split(": ", 1)[-1]) from None
        # drop a torn last line before appending
        store.rewrite_journal(path, store.journal_text(header, self.done, order=list(self.done)))
        self.ran = 0

    def ensure(self, stage: int, items: Sequence[tuple[int, tuple[Any, ...]]], reps: int) -> None:
        """Run every ``(stage, item, replication)`` the journal lacks; check the others'
        parameter values against ``items`` (``(item number, values)``)."""
        missing: list[RunTask] = []
        for k, values in items:
            for r in range(reps):
                prefix = store.csv_line([stage, k, r, self.context.seed, *values])[:-1] + ","
                line = self.done.get((stage, k, r))
                if line is None:
                    missing.append(RunTask(k, r, values))
                elif not line.startswith(prefix):
                    raise CalibrationFolderError(
                        str(self.path),
                        "",
                        f"row ({stage}, {k}, {r}) does not match {CALIBRATION_TOML} "
                        "(were the folder's files edited?)",
                    )
        if not missing:
            return
        by_item = {k: v for k, v in items}
        grouped: dict[int, list[int]] = {}
        for t in missing:
            grouped.setdefault(t.point, []).append(t.replication)
        tasks = [CandidateTask(k, by_item[k], tuple(r)) for k, r in grouped.items()]
        with store.Journal(self.path) as journal:
            results = self.executor.imap(
                run_candidate, self.context, tasks, ordered=False, lost=lost_candidate
            )
            for rows in results:
                for row in rows:
                    metrics: Sequence[Any] = (
                        row.metrics
                        if row.metrics is not None
                        else [None] * len(self.context.metrics)
                    )
                    line = store.csv_line(
                        [
                            stage,
                            row.point,
                            row.replication,
                            self.context.seed,
                            *by_item[row.point],
                            *metrics,
                            row.error,
                        ]
                    )
                    journal.append(line)
                    self.done[(stage, row.point, row.replication)] = line
                    self.ran += 1
                    self.on_run()

    def values(self, stage: int, k: int, reps: int) -> tuple[list[list[float]], str]:
        """Per replication, the metric values of item ``k`` (as written), and the first error."""
        n_params = len(self.context.paths)
        n = len(self.context.metrics)
        out: list[list[float]] = []
        for r in range(reps):
            cells = _cells(self.done[(stage, k, r)])
            error = cells[-1]
            if error:
                return [], error
            raw = cells[4 + n_params : 4 + n_params + n]
            out.append([math.nan if c == "" else float(c) for c in raw])
        return out, ""

    def sorted_text(self) -> str:
        """The journal sorted by key (the final ``runs.csv``)."""
        return store.journal_text(self.header, self.done)


# ---- proposals -------------------------------------------------------------------------


def _rng(seed: int, generation: int, name: str) -> np.random.Generator:
    return np.random.default_rng(seed_sequence(seed, generation, name))


def _round(x: np.ndarray) -> np.ndarray:
    return np.array([float(format(float(v), ".10g")) for v in x])


def propose(
    spec: CalibrationSpec, g: int, k: int, prev: Generation | None, chol: np.ndarray | None
) -> np.ndarray:
    """Candidate ``k`` of generation ``g``: from the priors (g = 0) or moved from ``prev``."""
    rng = _rng(spec.seed, g, f"abc:proposal:{k}")
    if prev is None or chol is None:
        x = np.array([p.sample(float(rng.random())) for p in spec.priors])
    else:
        x, _ = abc.perturb(rng, prev.x, prev.weights, chol, spec.priors)
    return _round(x)


def kernel_factor(spec: CalibrationSpec, prev: Generation) -> tuple[np.ndarray, np.ndarray]:
    """The kernel's covariance (twice the weighted covariance of ``prev``) and its
    Cholesky factor; each standard deviation is at least 10⁻⁴ of its prior's width."""
    floors = [1e-4 * p.scale() for p in spec.priors]
    cov = abc.kernel_covariance(prev.x, prev.weights, floors)
    try:
        chol = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        cov = np.diag(np.diag(cov))
        chol = np.linalg.cholesky(cov)
    return cov, chol


def batch_size(need: int, kept: int, evaluated: int, particles: int, room: int) -> int:
    """How many candidates to run next: enough for the ``need`` still missing at the
    acceptance rate so far (``particles`` at first or while none was kept)."""
    n = particles if evaluated == 0 or kept == 0 else max(need, math.ceil(need * evaluated / kept))
    return max(1, min(n, room))


# ---- the driver ------------------------------------------------------------------------


def _sha256(folder: Path) -> str:
    """The hash of the two input files' bytes, which folders written before
    ``inputs.json`` recorded in their manifest (checked on resume of such a folder)."""
    h = hashlib.sha256()
    for name in (CALIBRATION_TOML, SCENARIO_TOML):
        h.update(name.encode())
        h.update((folder / name).read_bytes())
    return h.hexdigest()


def inputs_fingerprint(spec: CalibrationSpec) -> fingerprint.Fingerprint:
    """The fingerprint of a calibration's resolved inputs (see
    :mod:`sim.experiment.fingerprint`)."""
    return fingerprint.fingerprint(
        {
            CALIBRATION_TOML: fingerprint.settings_values(resolved_data(spec)),
            SCENARIO_TOML: fingerprint.scenario_values(spec.base),
        }
    )


def write_inputs(folder: Path, spec: CalibrationSpec, command: Sequence[str] | None) -> None:
    """Write a new calibration's input files into the empty ``folder``: ``scenario.toml``,
    ``calibration.toml``, the journals' headers and ``manifest.json`` (``running``)."""
    (folder / SCENARIO_TOML).write_text(dump_toml(spec.base), encoding="utf-8")
    (folder / CALIBRATION_TOML).write_text(resolved_toml(spec), encoding="utf-8")
    current = inputs_fingerprint(spec)
    fingerprint.record(folder, current)
    (folder / RUNS_CSV).write_text(store.csv_line(runs_header(spec)), encoding="utf-8")
    (folder / PREDICTIVE_RUNS_CSV).write_text(
        store.csv_line(predictive_header(spec)), encoding="utf-8"
    )
    manifest = _manifest(spec, "running", [], command, 0, current["sha256"])
    (folder / MANIFEST_JSON).write_text(json_text(manifest), encoding="utf-8")


def load_folder(out: Path) -> CalibrationSpec:
    """The calibration of a folder, refused if it is not one or its inputs changed."""
    if not out.is_dir():
        raise CalibrationFolderError(str(out), "", "no such calibration folder")
    if not (out / CALIBRATION_TOML).is_file() or not (out / SCENARIO_TOML).is_file():
        raise CalibrationFolderError(
            str(out), "", f"not a calibration folder (no {CALIBRATION_TOML} or {SCENARIO_TOML})"
        )
    spec = load_calibration(out / CALIBRATION_TOML)
    current = inputs_fingerprint(spec)
    try:
        if fingerprint.check(out, current, "calibration"):
            return spec
    except ScenarioError as err:
        raise CalibrationFolderError(err.file, err.path, err.message) from None
    try:  # a folder from before inputs.json: its manifest has the files' hash
        manifest = json.loads((out / MANIFEST_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    recorded = manifest.get("inputs_sha256") if isinstance(manifest, dict) else None
    if recorded and recorded != _sha256(out):
        raise CalibrationFolderError(
            str(out),
            "",
            f"{CALIBRATION_TOML} or {SCENARIO_TOML} changed since the calibration started "
            "(their hash differs from manifest.json's); start a new calibration instead",
        )
    fingerprint.record(out, current)
    return spec


def _context(spec: CalibrationSpec, ids: Iterable[str], evaluate: Evaluate | None) -> SweepContext:
    return SweepContext(
        base=spec.base,
        seed=spec.seed,
        paths=spec.paths,
        metrics=tuple(f"obs__{i}" for i in ids),
        evaluate=evaluate,
        source=spec.source,
    )


def run_generation(
    spec: CalibrationSpec,
    stage: _Stage,
    g: int,
    tolerance: float,
    prev: Generation | None,
) -> Generation:
    """Propose, run and keep candidates of generation ``g`` until ``particles`` are kept
    (or ``max_candidates`` were proposed); weight the kept ones."""
    b = spec.budget
    targets = spec.targets()
    cov = chol = None
    if prev is not None:
        cov, chol = kernel_factor(spec, prev)
    xs: list[np.ndarray] = []
    kept: list[int] = []
    dists: list[float] = []
    evaluated = 0
    while len(kept) < b.particles and evaluated < b.max_candidates:
        n = batch_size(
            b.particles - len(kept), len(kept), evaluated, b.particles, b.max_candidates - evaluated
        )
        batch = range(evaluated, evaluated + n)
        for k in batch:
            xs.append(propose(spec, g, k, prev, chol))
        items = [(k, spec.decode(xs[k])) for k in batch]
        stage.ensure(g, items, b.replications)
        for k in batch:
            evaluated += 1
            per_rep, error = stage.values(g, k, b.replications)
            if error:
                dists.append(math.nan)
                continue
            means = [float(np.mean(col)) for col in zip(*per_rep, strict=True)]
            d = abc.distance(means, targets)
            dists.append(d)
            if len(kept) < b.particles and math.isfinite(d) and d <= tolerance:
                kept.append(k)
    complete = len(kept) == b.particles
    used = kept[-1] + 1 if complete else evaluated
    x = np.array([xs[k] for k in kept]) if kept else np.empty((0, len(spec.parameters)))
    if not kept:
        weights = np.empty(0)
    elif prev is None or cov is None:
        weights = np.full(len(kept), 1.0 / len(kept))
    else:
        weights = abc.importance_weights(x, spec.priors, prev.x, prev.weights, cov)
    return Generation(
        index=g,
        tolerance=tolerance,
        x=x,
        values=[spec.decode(xs[k]) for k in kept],
        candidates=kept,
        distances=[dists[k] for k in kept],
        weights=weights,
        used=used,
        evaluated=evaluated,
        failed=sum(1 for k in range(used) if not math.isfinite(dists[k])),
        complete=complete,
    )


def predictive_draws(spec: CalibrationSpec, final: Generation) -> list[int]:
    """Particles of the final population drawn by weight for the predictive check
    (stream ``abc:predictive``)."""
    rng = _rng(spec.seed, 0, "abc:predictive")
    return abc.resample(rng, final.weights, spec.budget.predictive_draws)


def calibrate(
    out_dir: Path | str,
    *,
    executor: Executor | None = None,
    workers: int | None = None,
    evaluate: Evaluate | None = None,
    command: Sequence[str] | None = None,
    on_generation: Callable[[Generation], None] | None = None,
) -> CalibrationResult:
    """Run (or finish) the calibration of the locked folder ``out_dir``; write its tables.

    ``executor`` defaults to local processes (``workers``; one worker runs in this
    process). Ctrl-C records the session and raises :class:`CalibrationInterrupted`.
    """
    out = Path(out_dir)
    t0 = time.perf_counter()
    started = dt.datetime.now(dt.UTC)
    spec = load_folder(out)
    own = executor is None
    if executor is None:
        n = default_workers() if workers is None else workers
        executor = make_executor("local", workers=max(1, n), keep=True)
    ran = [0]

    def count() -> None:
        ran[0] += 1

    try:
        fit = _Stage(
            out / RUNS_CSV, runs_header(spec), _context(spec, spec.fit, evaluate), executor, count
        )
        pred = _Stage(
            out / PREDICTIVE_RUNS_CSV,
            predictive_header(spec),
            _context(spec, observation_ids(spec), evaluate),
            executor,
            count,
        )
        generations = _fit(spec, fit, on_generation)
        final = [g for g in generations if g.complete][-1]
        draws = predictive_draws(spec, final)
        items = [(i, final.values[j]) for i, j in enumerate(draws)]
        pred.ensure(final.index, items, spec.budget.replications)
    except KeyboardInterrupt as stop:
        _session(out, spec, "interrupted", started, t0, ran[0], command, executor.workers)
        raise CalibrationInterrupted(out, signal_of(stop)) from None
    except BaseException:
        _session(out, spec, "failed", started, t0, ran[0], command, executor.workers)
        raise
    finally:
        if own:
            executor.close()
    store.atomic_write(out / RUNS_CSV, fit.sorted_text())
    store.atomic_write(out / PREDICTIVE_RUNS_CSV, pred.sorted_text())
    summary, rows = write_tables(out, spec, generations, draws, pred)
    _session(
        out, spec, "complete", started, t0, ran[0], command, executor.workers, len(generations)
    )
    return CalibrationResult(
        out, spec, generations, ran[0], time.perf_counter() - t0, rows=rows, summary=summary
    )


def _fit(
    spec: CalibrationSpec,
    stage: _Stage,
    on_generation: Callable[[Generation], None] | None,
) -> list[Generation]:
    """The generations: ε = ∞ for generation 0, then a quantile of the last distances
    (never below the budget's tolerance); stop at ``generations``, at the tolerance, or
    at a generation that could not keep ``particles`` within ``max_candidates``."""
    b = spec.budget
    floor = b.tolerance or 0.0
    generations: list[Generation] = []
    prev: Generation | None = None
    tolerance = math.inf
    for g in range(b.generations):
        gen = run_generation(spec, stage, g, tolerance, prev)
        generations.append(gen)
        if on_generation is not None:
            on_generation(gen)
        if not gen.complete:
            if prev is None:
                errors = (stage.values(0, k, b.replications)[1] for k in range(gen.evaluated))
                first = next((e for e in errors if e), "distances undefined")
                raise CalibrationError(
                    f"generation 0 kept {len(gen.candidates)} of {b.particles} particles "
                    f"in {gen.evaluated} candidates; first error: {first}"
                )
            break
        if b.tolerance is not None and tolerance <= b.tolerance:
            break
        prev = gen
        tolerance = abc.next_tolerance(gen.distances, b.quantile, floor)
    return generations


# ---- the tables ------------------------------------------------------------------------


def parameter_rows(spec: CalibrationSpec, final: Generation) -> list[dict[str, Any]]:
    """``parameters.csv``: per parameter, prior and posterior summaries (weighted)."""
    ess = abc.effective_sample_size(final.weights)
    rows = []
    for i, p in enumerate(spec.parameters):
        v = [p.as_number(vals[i]) for vals in final.values]
        w = final.weights
        rows.append(
            {
                "parameter": p.path,
                "prior": p.describe(),
                "mean": p.from_number(abc.weighted_mean(v, w)),
                "median": p.from_number(abc.weighted_quantile(v, w, 0.5)),
                "p05": p.from_number(abc.weighted_quantile(v, w, 0.05)),
                "p95": p.from_number(abc.weighted_quantile(v, w, 0.95)),
                "ess": ess,
            }
        )
    return rows


def predictive_rows(
    spec: CalibrationSpec, generation: int, draws: Sequence[int], stage: _Stage
) -> list[dict[str, Any]]:
    """``predictive.csv``: per observation, the posterior predictive spread (every draw ×
    replication) beside the observed value."""
    ids = observation_ids(spec)
    pooled: list[list[float]] = [[] for _ in ids]
    for i in range(len(draws)):
        per_rep, error = stage.values(generation, i, spec.budget.replications)
        if error:
            continue
        for row in per_rep:
            for j, v in enumerate(row):
                if math.isfinite(v):
                    pooled[j].append(v)
    rows = []
    for j, oid in enumerate(ids):
        o = spec.observation(oid)
        vals = np.array(pooled[j])
        if vals.size:
            p05, p50, p95 = (float(q) for q in np.percentile(vals, [5.0, 50.0, 95.0]))
        else:
            p05 = p50 = p95 = math.nan
        observed = float(o.observed)
        off = p50 - observed
        rows.append(
            {
                "id": oid,
                "metric": o.metric,
                "role": o.role,
                "fitted": oid in spec.fit,
                "from": o.from_.isoformat(),
                "to": o.to.isoformat(),
                "observed": observed,
                "unit": o.unit,
                "p05": p05,
                "p50": p50,
                "p95": p95,
                "error": off,
                "rel_error": off / observed if observed != 0 else math.nan,
                "inside_90": (p05 <= observed <= p95) if vals.size else None,
                "source": o.source,
            }
        )
    return rows


def _table(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """A table's text; text from files (sources, units) that a spreadsheet would take
    for a formula is neutralised by :func:`~sim.conventions.csv_cell`."""
    return csv_line(list(columns)) + "".join(csv_line([r[c] for c in columns]) for r in rows)


def calibrated_toml(spec: CalibrationSpec, summary: Sequence[Mapping[str, Any]], out: Path) -> str:
    """The base scenario with every fitted parameter at its posterior median, and a
    header saying where it came from."""
    medians = {r["parameter"]: r["median"] for r in summary}
    scenario = with_values(spec.base, medians, source=str(out / CALIBRATED_TOML))
    lines = [
        f"# Calibrated by siege calibrate ({spec.method}): the scenario {spec.base.name!r} with",
        f"# the posterior medians of calibration {spec.name!r} (folder {out.name}), fitted to",
        f"# {', '.join(spec.fit)}:",
        *(f"#   {path} = {fmt(v)}" for path, v in medians.items()),
        "# Run it with: siege run <this file>; with parameter uncertainty:",
        "#   siege run <this file> --posterior <the calibration folder>",
        "",
    ]
    return "\n".join(lines) + dump_toml(scenario)


def write_tables(
    out: Path,
    spec: CalibrationSpec,
    generations: Sequence[Generation],
    draws: Sequence[int],
    pred: _Stage,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Write the posterior, parameter, generation, predictive and validation tables and
    ``calibrated.toml``; return the parameter and predictive rows."""
    final = [g for g in generations if g.complete][-1]
    post = [
        {
            "particle": i,
            "candidate": final.candidates[i],
            **dict(zip(spec.paths, final.values[i], strict=True)),
            "weight": float(final.weights[i]),
            "distance": final.distances[i],
        }
        for i in range(len(final.candidates))
    ]
    store.atomic_write(
        out / POSTERIOR_CSV,
        _table(["particle", "candidate", *spec.paths, "weight", "distance"], post),
    )
    summary = parameter_rows(spec, final)
    store.atomic_write(out / PARAMETERS_CSV, _table(PARAMETERS_COLUMNS, summary))
    gens = [
        {
            "generation": g.index,
            "tolerance": g.tolerance if math.isfinite(g.tolerance) else "inf",
            "candidates": g.used,
            "accepted": len(g.candidates),
            "acceptance_rate": len(g.candidates) / g.used if g.used else math.nan,
            "evaluated": g.evaluated,
            "failed": g.failed,
            "ess": abc.effective_sample_size(g.weights) if len(g.weights) else math.nan,
            "median_distance": float(np.median(g.distances)) if g.distances else math.nan,
        }
        for g in generations
    ]
    store.atomic_write(out / GENERATIONS_CSV, _table(GENERATIONS_COLUMNS, gens))
    rows = predictive_rows(spec, final.index, draws, pred)
    store.atomic_write(out / PREDICTIVE_CSV, _table(PREDICTIVE_COLUMNS, rows))
    held = [r for r in rows if r["role"] == "validation"]
    store.atomic_write(out / VALIDATION_CSV, _table(VALIDATION_COLUMNS, held))
    store.atomic_write(out / CALIBRATED_TOML, calibrated_toml(spec, summary, out))
    return summary, rows


# ---- manifest --------------------------------------------------------------------------


def _manifest(
    spec: CalibrationSpec,
    status: str,
    sessions: list[dict[str, Any]],
    command: Sequence[str] | None,
    workers: int,
    inputs_sha256: str,
    generations: int | None = None,
) -> dict[str, Any]:
    m = build_manifest(
        kind="calibration",
        seed=spec.seed,
        replications=spec.budget.replications,
        workers=workers,
        wall_time_s=sum(float(s.get("wall_time_s", 0.0)) for s in sessions),
        command=list(command) if command else None,
        scenario_name=spec.base.name,
    )
    data = resolved_data(spec)
    m.update(
        {
            "calibration": spec.name,
            "method": spec.method,
            "parameters": list(spec.paths),
            "fit": list(spec.fit),
            "validation": list(spec.validation),
            "budget": data["budget"],
            "generations": generations,
            "status": status,
            "inputs_sha256": inputs_sha256,
            "sessions": sessions,
        }
    )
    return m


def _inputs_sha256(out: Path) -> str:
    """The hash of the inputs the folder records (``inputs.json``)."""
    record = fingerprint.recorded(out)
    return record["sha256"] if record is not None else _sha256(out)


def _session(
    out: Path,
    spec: CalibrationSpec,
    status: str,
    started: dt.datetime,
    t0: float,
    ran: int,
    command: Sequence[str] | None,
    workers: int,
    generations: int | None = None,
) -> None:
    """Record a session (and the folder's status) in ``manifest.json``."""
    sessions = with_session(
        out / MANIFEST_JSON,
        started=started,
        t0=t0,
        runs=ran,
        status=status,
        workers=workers,
        command=command,
    )
    m = _manifest(spec, status, sessions, command, workers, _inputs_sha256(out), generations)
    store.atomic_write(out / MANIFEST_JSON, json_text(m))
