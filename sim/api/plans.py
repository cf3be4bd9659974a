"""``siege plan``: the smallest (or largest) value of one parameter for which a goal holds
at a confidence; a plan folder, resumable after an interruption."""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.analysis import frames
from sim.api.common import create_resumable, redraw_folder
from sim.conventions import json_text, signal_of
from sim.experiment import plan as planning
from sim.experiment import plan_store
from sim.experiment.executors import make_executor
from sim.experiment.provenance import build_manifest, with_session
from sim.experiment.runner import Evaluate
from sim.experiment.store import atomic_write
from sim.output import files
from sim.output.folder import (
    FolderLock,
    check_subfolder,
    default_out_dir,
    folder_kind,
    never_left_running,
    rewritten_subfolder,
    settle_killed,
)
from sim.output.plan_plots import plot_plan
from sim.output.plan_summary import format_plan as _format_plan
from sim.scenario.schema import Scenario

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
    path, lock = create_resumable(
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
    sessions = with_session(
        path / "manifest.json",
        started=started,
        t0=t0,
        runs=ran,
        status=status,
        workers=workers,
        command=command,
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
    return redraw_folder(
        result_dir,
        "plan",
        plan_store.PLAN_JSON,
        "not a complete plan folder (no plan.json)",
        plot_plan,
    )
