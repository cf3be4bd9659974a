"""The ``siege`` command: parses arguments and calls :mod:`sim.api`; no logic of its own.

::

    siege run SCENARIO [--replications N | --replication K
                       | --precision P [--metric M ...] [--max-replications N]]
                       [--seed S] [--set path=VALUE ...] [--out DIR]
                       [--workers N] [--force] [--quiet] [--allow-large] [--posterior DIR]
    siege sweep SWEEP_FILE | SCENARIO --param path=v1,v2 --param path=lo:hi
                       [--design grid|lhs|sobol|morris] [--samples N] [--replications N]
                       [--seed S] [--set path=VALUE ...] [--workers N]
                       [--executor local|dask] [--scheduler ADDRESS]
                       [--out DIR] [--force] [--quiet] [--allow-large]
    siege sweep --resume DIR [--retry-failed] [--workers N] [--executor local|dask]
                       [--scheduler ADDRESS]
    siege calibrate CALIBRATION_FILE [--out DIR] [--workers N] [--executor local|dask]
                       [--scheduler ADDRESS] [--force] [--quiet] [--allow-large]
    siege calibrate --resume DIR [--workers N] [--executor local|dask] [--scheduler ADDRESS]
    siege compare SCENARIO SCENARIO... [--replications N] [--seed S] [--set ...]
                       [--workers N] [--out DIR] [--force] [--quiet] [--allow-large]
    siege compare --resume DIR [--workers N] [--quiet]
    siege plan SCENARIO --vary PATH=LOW:HIGH[:STEP] --goal "METRIC OP VALUE [and ...]"
                       [--confidence C] [--replications N] [--seed S] [--set ...]
                       [--workers N] [--out DIR] [--force] [--quiet] | --resume DIR
    siege plot RESULT_DIR          re-draw the plots of a finished run, sweep, comparison,
                                   plan or calibration
    siege validate FILE...         check scenario, sweep and calibration files, run nothing
    siege schema [--write [FILE]]  print (or write) the JSON Schema of the scenario format

Exit status: 0 success; 1 some runs of a sweep failed (they are recorded), or an
internal error (one line; set ``SIEGE_DEBUG=1`` to see the traceback); 2 bad input
(one line ``error: ...`` on stderr, no traceback, nothing written); 130 interrupted
(Ctrl-C), 143 terminated (SIGTERM), 129 hung up (SIGHUP): all three are handled alike,
the command cleans up (nothing half-written is left; a sweep or plan can be resumed)
and says so in one line. ``--set`` values are TOML literals, never evaluated as code.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import NoReturn

from sim import __version__, api
from sim.conventions import InputError, Terminated, default_workers, one_line, signal_of
from sim.experiment.calibrate import CalibrationError, CalibrationInterrupted
from sim.experiment.compare_store import CompareAlreadyCompleteError, CompareInterrupted
from sim.experiment.executors import WorkerLostError, steady_allocator
from sim.experiment.plan_store import PlanInterrupted
from sim.experiment.sweep import SweepInterrupted
from sim.output.comparison import COMPARISON_CSV, format_comparison, read_comparison_csv
from sim.output.console import format_summary, format_sweep_summary
from sim.output.folder import read_manifest

EXIT_OK = 0
EXIT_FAILED_RUNS = 1
EXIT_INTERNAL = 1
EXIT_INPUT = 2
EXIT_INTERRUPTED = 130
"""Ctrl-C; SIGTERM and SIGHUP exit 128 + their number (143, 129) the same way."""
TERMINATING: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGHUP)
"""Signals handled as Ctrl-C is (:class:`~sim.conventions.Terminated`)."""
DEFAULT_WORKERS = default_workers()
"""Default --workers: one process per core (results are identical whatever the count)."""

_SWEEP_DESIGN_OPTIONS = ("target", "param", "design", "samples", "replications", "seed", "set")
"""Options that describe a new sweep, so cannot come with --resume."""


class UsageError(Exception):
    """A command-line usage error (argparse's, shortened to one line)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def _int_at_least(low: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    parse.__name__ = "integer"
    return parse


def _allow_large(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--allow-large",
        action="store_true",
        help="lift the limits on replications, design samples, points and runs "
        "(see the README: Limits)",
    )


def _workers(p: argparse.ArgumentParser, executors: bool = False) -> None:
    """``--workers`` (and, for commands that can run on Dask, ``--executor`` and
    ``--scheduler``)."""
    p.add_argument(
        "--workers",
        type=_int_at_least(1),
        default=DEFAULT_WORKERS,
        metavar="N",
        help="parallel worker processes"
        + (" for the local executor" if executors else "")
        + f" (default: the machine's cores, {DEFAULT_WORKERS} here; results do not depend on it)",
    )
    if executors:
        p.add_argument("--executor", choices=api.EXECUTORS, default="local")
        p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``siege`` command."""
    parser = _Parser(
        prog="siege",
        description="siege-sim: a besieged enclave kept alive "
        "from the air, as a discrete-event simulation.",
    )
    parser.add_argument("--version", action="version", version=f"siege-sim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("run", help="run the replications of a scenario; write a result folder")
    p.add_argument("scenario", metavar="SCENARIO", help="scenario file (TOML)")
    p.add_argument(
        "--replications",
        type=_int_at_least(1),
        metavar="N",
        help="number of replications (default: the scenario's)",
    )
    p.add_argument(
        "--seed",
        type=_int_at_least(0),
        metavar="S",
        help="root random seed (default: the scenario's)",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="path=VALUE",
        help="override a parameter with a TOML literal (repeatable)",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        help="result folder (default: results/<scenario name>/<UTC timestamp>)",
    )
    _workers(p)
    p.add_argument(
        "--replication",
        type=_int_at_least(0),
        metavar="K",
        help="run replication K alone (with --seed: reproduces row K of a replications.csv)",
    )
    p.add_argument(
        "--precision",
        type=float,
        metavar="P",
        help="add replications in batches of 20 until each --metric's 95 %% half-width is "
        "within P × its mean (P absolute for a share), e.g. 0.02",
    )
    p.add_argument(
        "--metric",
        action="append",
        default=[],
        metavar="M",
        help="a metric --precision judges (repeatable; default: delivered_t and "
        "person_days_below_half)",
    )
    p.add_argument(
        "--max-replications",
        type=_int_at_least(1),
        metavar="N",
        help="most replications --precision may run (default 1,000)",
    )
    p.add_argument("--force", action="store_true", help="replace an existing result folder")
    p.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bar and no summary; print only the result folder",
    )
    p.add_argument(
        "--posterior",
        metavar="DIR",
        help="a calibration folder: replication i runs with posterior draw i (drawn by "
        "weight), so the bands include parameter uncertainty",
    )
    _allow_large(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("sweep", help="sweep parameters over a design; write a sweep folder")
    p.add_argument(
        "target",
        nargs="?",
        metavar="SWEEP_FILE|SCENARIO",
        help="a sweep file, or a scenario file with --param options",
    )
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="path=SPEC",
        help="parameter to vary: path=v1,v2,... or path=lo:hi (repeatable)",
    )
    p.add_argument("--design", choices=api.DESIGNS)
    p.add_argument(
        "--samples",
        type=_int_at_least(1),
        metavar="N",
        help="design points (lhs) or base samples (sobol, morris)",
    )
    p.add_argument(
        "--replications", type=_int_at_least(1), metavar="N", help="replications per design point"
    )
    p.add_argument("--seed", type=_int_at_least(0), metavar="S", help="root random seed")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="path=VALUE",
        help="override a base-scenario parameter (repeatable)",
    )
    _workers(p, executors=True)
    p.add_argument("--out", metavar="DIR", help="sweep folder")
    p.add_argument("--resume", metavar="DIR", help="resume an interrupted sweep folder")
    p.add_argument(
        "--retry-failed",
        action="store_true",
        help="with --resume: run the failed runs again too",
    )
    p.add_argument("--force", action="store_true", help="replace an existing sweep folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar; print only the folder")
    _allow_large(p)
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser(
        "calibrate",
        help="fit uncertain parameters to observations (ABC-SMC); predict the held-out ones",
    )
    p.add_argument("target", nargs="?", metavar="CALIBRATION_FILE", help="a calibration file")
    _workers(p, executors=True)
    p.add_argument(
        "--out",
        metavar="DIR",
        help="calibration folder (default: results/<scenario>/<name>-<UTC timestamp>)",
    )
    p.add_argument("--resume", metavar="DIR", help="finish an interrupted calibration folder")
    p.add_argument("--force", action="store_true", help="replace an existing calibration folder")
    p.add_argument("--quiet", action="store_true", help="no progress lines; print only the folder")
    _allow_large(p)
    p.set_defaults(func=cmd_calibrate)

    p = sub.add_parser(
        "compare",
        help="run scenarios on common random numbers; compare each with the first",
        description="Run every scenario with the same seed and replications (common random "
        "numbers) and compare each with the first, replication by replication. Each "
        "replication is kept in the folder as it finishes: a comparison stopped by Ctrl-C "
        "or a kill is finished by 'siege compare --resume DIR', which runs only the "
        "missing ones and writes the same files.",
    )
    p.add_argument(
        "scenarios",
        nargs="*",
        metavar="SCENARIO",
        help="scenario files; the first is the reference",
    )
    p.add_argument(
        "--replications",
        type=_int_at_least(1),
        metavar="N",
        help="replications of every scenario (default: the reference's)",
    )
    p.add_argument(
        "--seed",
        type=_int_at_least(0),
        metavar="S",
        help="root random seed of every scenario (default: the reference's)",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="path=VALUE",
        help="override a parameter in every scenario (TOML literal; repeatable)",
    )
    _workers(p)
    p.add_argument(
        "--out",
        metavar="DIR",
        help="comparison folder (default: results/<reference name>/compare-<UTC timestamp>)",
    )
    p.add_argument("--force", action="store_true", help="replace an existing comparison folder")
    p.add_argument(
        "--resume",
        metavar="DIR",
        help="finish an interrupted comparison folder: run only the replications it lacks "
        "(scenarios, seed and replications are read from the folder)",
    )
    p.add_argument(
        "--quiet", action="store_true", help="no progress bar and no table; print only the folder"
    )
    _allow_large(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser(
        "plan",
        help="find the least (or most) of one parameter for which a goal holds",
    )
    p.add_argument("scenario", nargs="?", metavar="SCENARIO", help="scenario file (TOML)")
    p.add_argument(
        "--vary",
        metavar="PATH=LOW:HIGH",
        help="the parameter to search and its range (LOW:HIGH:STEP for a step); "
        "whole numbers for counts, YYYY-MM-DD for dates",
    )
    p.add_argument(
        "--goal",
        metavar='"METRIC OP VALUE [and ...]"',
        help='e.g. "stockout__city__food <= 0.05 and min_days_of_supply__city__food >= 7"',
    )
    p.add_argument(
        "--confidence",
        type=float,
        metavar="C",
        help="level of the one-sided bounds the goals are judged on (default 0.95)",
    )
    p.add_argument(
        "--replications",
        type=_int_at_least(1),
        metavar="N",
        help="most replications per candidate (default: the scenario's)",
    )
    p.add_argument("--seed", type=_int_at_least(0), metavar="S", help="root random seed")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="path=VALUE",
        help="override a parameter of the scenario (TOML literal; repeatable)",
    )
    _workers(p)
    p.add_argument(
        "--out", metavar="DIR", help="plan folder (default: results/<name>/plan-<UTC timestamp>)"
    )
    p.add_argument("--force", action="store_true", help="replace an existing plan folder")
    p.add_argument("--resume", metavar="DIR", help="finish an interrupted plan folder")
    p.add_argument(
        "--quiet", action="store_true", help="no progress lines; print only the plan folder"
    )
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser(
        "plot", help="re-draw the plots of a finished run, sweep, comparison, plan or calibration"
    )
    p.add_argument("result_dir", metavar="RESULT_DIR")
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser("validate", help="check scenario, sweep and calibration files, run nothing")
    p.add_argument("files", nargs="+", metavar="FILE")
    _allow_large(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("schema", help="print the JSON Schema of the scenario format")
    p.add_argument(
        "--write",
        nargs="?",
        const="",
        metavar="FILE",
        help="write it to FILE instead (default: the repository's scenarios/schema.json)",
    )
    p.set_defaults(func=cmd_schema)
    return parser


def cmd_run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``siege run``."""
    if args.precision is not None:
        if args.replications is not None or args.replication is not None:
            given = "--replications" if args.replications is not None else "--replication"
            raise InputError(
                f"--precision: cannot be given with {given} (cap it with --max-replications)"
            )
    else:
        for flag, value in (
            ("--metric", args.metric),
            ("--max-replications", args.max_replications),
        ):
            if value:
                raise InputError(f"{flag}: needs --precision")
        if args.replication is not None and args.replications is not None:
            raise InputError("--replication: runs one replication; give it without --replications")
    if args.posterior and (args.precision is not None or args.replication is not None):
        flag = "--precision" if args.precision is not None else "--replication"
        raise InputError(f"--posterior: cannot be given with {flag} (give --replications)")
    scenario = api.load_scenario(args.scenario, overrides=tuple(args.set))
    posterior = api.read_posterior(args.posterior) if args.posterior else None
    progress = not args.quiet and sys.stderr.isatty()
    runset, path = api.run_to_folder(
        scenario,
        args.out,
        replications=args.replications,
        seed=args.seed,
        workers=args.workers,
        force=args.force,
        progress=progress,
        command=["siege", *argv],
        allow_large=args.allow_large,
        posterior=posterior,
        replication=args.replication,
        precision=args.precision,
        precision_metrics=tuple(args.metric),
        max_replications=args.max_replications,
    )
    if args.quiet:
        print(path)
    else:
        print(
            format_summary(
                runset.scenario,
                runset.summary,
                runset.observations,
                replications=runset.replications,
                seed=runset.seed,
                wall_time_s=runset.wall_time_s,
                out_dir=str(path),
                extra=runset.extra,
            )
        )
    return EXIT_OK


def _refuse_with_resume(
    args: argparse.Namespace, options: Sequence[str], positional: tuple[str, str], why: str
) -> None:
    """Refuse the first of ``options`` given with ``--resume``: they describe a new
    sweep, calibration, comparison or plan, which a resume reads from its folder
    (``why`` says where). ``positional`` is the positional argument's name and how
    the line shows it."""
    for opt in options:
        if getattr(args, opt, None):
            shown = positional[1] if opt == positional[0] else "--" + opt.replace("_", "-")
            raise InputError(f"--resume: {shown} cannot be given with --resume: {why}")


def cmd_sweep(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``siege sweep``: a new sweep, or ``--resume DIR``; exit 1 if some runs failed."""
    command = ["siege", *argv]
    progress = not args.quiet and sys.stderr.isatty()
    if args.scheduler and args.executor != "dask":
        raise InputError("--scheduler: needs --executor dask")
    try:
        if args.resume:
            _refuse_with_resume(
                args,
                (*_SWEEP_DESIGN_OPTIONS, "out", "force", "allow_large"),
                ("target", "a sweep or scenario file"),
                "the sweep is read from the folder's sweep.toml",
            )
            result = api.resume_sweep(
                args.resume,
                workers=args.workers,
                executor=args.executor,
                scheduler=args.scheduler,
                progress=progress,
                command=command,
                retry_failed=args.retry_failed,
            )
        else:
            if args.retry_failed:
                raise InputError("--retry-failed: needs --resume DIR (a sweep folder)")
            if not args.target:
                raise InputError(
                    "siege sweep: give a sweep file, or a scenario file with "
                    "--param path=v1,v2 (or --resume DIR)"
                )
            spec = api.sweep_spec(
                args.target,
                params=args.param,
                overrides=args.set,
                design=args.design,
                samples=args.samples,
                replications=args.replications,
                seed=args.seed,
            )
            result = api.sweep(
                spec,
                args.out,
                workers=args.workers,
                executor=args.executor,
                scheduler=args.scheduler,
                force=args.force,
                progress=progress,
                command=command,
                allow_large=args.allow_large,
            )
    except SweepInterrupted as stop:
        _interrupted_line(
            stop.signum,
            f"the finished runs are in {stop.out_dir}/runs.csv; continue with: "
            f"siege sweep --resume {stop.out_dir}",
        )
        return 128 + stop.signum
    if result.extra.get("killed_before") and not args.quiet:
        _note_killed(result.out_dir, "sweep")
    print(format_sweep_summary(result, args.quiet))
    return EXIT_OK if result.failed == 0 else EXIT_FAILED_RUNS


def cmd_calibrate(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``siege calibrate``: a new calibration, or ``--resume DIR``; prints the posterior and
    the held-out check. Exit 1 if not even generation 0 could be filled (runs failed)."""
    command = ["siege", *argv]
    progress = not args.quiet
    if args.scheduler and args.executor != "dask":
        raise InputError("--scheduler: needs --executor dask")
    try:
        if args.resume:
            _refuse_with_resume(
                args,
                ("target", "out", "force", "allow_large"),
                ("target", "a calibration file"),
                "the calibration is read from the folder's calibration.toml",
            )
            result = api.resume_calibration(
                args.resume,
                workers=args.workers,
                executor=args.executor,
                scheduler=args.scheduler,
                progress=progress,
                command=command,
            )
        else:
            if not args.target:
                raise InputError(
                    "siege calibrate: give a calibration file (or --resume DIR); "
                    "see siege calibrate --help"
                )
            spec = api.calibration_spec(args.target, allow_large=args.allow_large)
            result = api.calibrate(
                spec,
                args.out,
                workers=args.workers,
                executor=args.executor,
                scheduler=args.scheduler,
                force=args.force,
                progress=progress,
                command=command,
                allow_large=args.allow_large,
            )
    except CalibrationInterrupted as stop:
        _interrupted_line(
            stop.signum,
            f"the finished runs are in {stop.out_dir}; continue with: "
            f"siege calibrate --resume {stop.out_dir}",
        )
        return 128 + stop.signum
    except CalibrationError as err:
        _error_line(f"calibration failed: {err}")
        return EXIT_FAILED_RUNS
    if result.extra.get("killed_before") and not args.quiet:
        _note_killed(result.out_dir, "calibration")
    print(api.format_calibration(result, args.quiet))
    return EXIT_OK


_COMPARE_OPTIONS = ("scenarios", "replications", "seed", "set", "out", "force", "allow_large")
"""Options that describe a new comparison, so cannot come with --resume."""


def cmd_compare(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``siege compare``: the paired comparison, or ``--resume DIR``; prints the decisive
    differences first."""
    progress = not args.quiet and sys.stderr.isatty()
    command = ["siege", *argv]
    try:
        if args.resume:
            _refuse_with_resume(
                args,
                _COMPARE_OPTIONS,
                ("scenarios", "SCENARIO"),
                "the comparison is read from the folder's compare.toml",
            )
            try:
                result = api.resume_compare(
                    args.resume, workers=args.workers, progress=progress, command=command
                )
            except CompareAlreadyCompleteError as done:
                return _complete_comparison(args.resume, str(done), args.quiet)
        else:
            if len(args.scenarios) < 2:
                raise InputError(
                    "siege compare: give at least two scenarios, the reference first "
                    "(or --resume DIR; see siege compare --help)"
                )
            scenarios = [api.load_scenario(f, overrides=tuple(args.set)) for f in args.scenarios]
            result = api.compare(
                scenarios,
                args.out,
                replications=args.replications,
                seed=args.seed,
                workers=args.workers,
                force=args.force,
                progress=progress,
                sources=list(args.scenarios),
                command=command,
                allow_large=args.allow_large,
            )
    except CompareInterrupted as stop:
        _interrupted_line(
            stop.signum,
            f"the finished replications are kept in {stop.path}; continue with: "
            f"siege compare --resume {stop.path}",
        )
        return 128 + stop.signum
    if args.quiet:
        print(result.path)
    else:
        print(
            format_comparison(
                result.rows,
                replications=result.replications,
                seed=result.seed,
                labels=result.labels,
                out_dir=str(result.path),
                wall_time_s=result.wall_time_s,
            )
        )
        if result.reused:
            print(f"resumed: {result.reused} replications kept, {result.ran} run now")
    return EXIT_OK


def _complete_comparison(folder: str, message: str, quiet: bool) -> int:
    """``siege compare --resume`` of a complete comparison: nothing is run or changed;
    as a complete sweep resumed, exit 0 — printing the folder
    (``--quiet``) or its table, read back from ``comparison.csv``."""
    print(f"{message}", file=sys.stderr)
    if quiet:
        print(folder)
        return EXIT_OK
    manifest = read_manifest(Path(folder)) or {}
    print(
        format_comparison(
            read_comparison_csv(Path(folder) / COMPARISON_CSV),
            replications=int(manifest.get("replications", 0)),
            seed=int(manifest.get("seed", 0)),
            labels=[s["label"] for s in manifest.get("scenarios", [])],
            out_dir=folder,
        )
    )
    return EXIT_OK


_PLAN_OPTIONS = ("scenario", "vary", "goal", "confidence", "replications", "seed", "set", "out")


def cmd_plan(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``siege plan``: the search; prints the answer and every candidate evaluated."""
    progress = not args.quiet and sys.stderr.isatty()
    command = ["siege", *argv]
    try:
        if args.resume:
            _refuse_with_resume(
                args,
                _PLAN_OPTIONS,
                ("scenario", "SCENARIO"),
                "the plan is read from the folder's plan.toml",
            )
            result = api.resume_plan(
                args.resume, workers=args.workers, progress=progress, command=command
            )
        else:
            missing = [
                name
                for name, v in (
                    ("SCENARIO", args.scenario),
                    ("--vary", args.vary),
                    ("--goal", args.goal),
                )
                if not v
            ]
            if missing:
                raise InputError(
                    f"siege plan: {', '.join(missing)} missing: give SCENARIO --vary "
                    'PATH=LOW:HIGH --goal "METRIC OP VALUE" (or --resume DIR)'
                )
            scenario = api.load_scenario(args.scenario, overrides=tuple(args.set))
            result = api.plan(
                scenario,
                args.vary,
                args.goal,
                args.out,
                confidence=0.95 if args.confidence is None else args.confidence,
                replications=args.replications,
                seed=args.seed,
                workers=args.workers,
                force=args.force,
                progress=progress,
                command=command,
            )
    except PlanInterrupted as err:
        _interrupted_line(
            err.signum,
            f"the finished runs are in {err.path}/runs.csv; continue with: "
            f"siege plan --resume {err.path}",
        )
        return 128 + err.signum
    if result.killed_before and not args.quiet:
        _note_killed(result.path, "plan")
    if args.quiet:
        print(result.path)
    else:
        print(api.format_plan(result))
    return EXIT_OK


def cmd_plot(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``siege plot``: re-draw a run folder's plots (or a sweep folder's)."""
    print(f"plots: {api.plot(args.result_dir)}")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``siege validate``: ``ok: FILE`` per good file; one error line per bad file.

    Sweep files are checked as sweeps: the file, its base scenario, its size and every
    design point (:func:`sim.api.validate_file`).
    """
    bad = 0
    for f in args.files:
        try:
            api.validate_file(f, allow_large=args.allow_large)
        except InputError as err:
            _error_line(str(err))
            bad += 1
        else:
            print(f"ok: {f}")
    return EXIT_INPUT if bad else EXIT_OK


def cmd_schema(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``siege schema``: the JSON Schema of the scenario format on stdout, or ``--write``."""
    if args.write is None:
        sys.stdout.write(api.schema_text())
    else:
        print(f"wrote {api.write_schema(args.write or None)}")
    return EXIT_OK


def _error_line(message: str) -> None:
    print(f"error: {one_line(message)}", file=sys.stderr)


def _stderr_line(text: str) -> None:
    """One line on stderr, if it can still be written (after a hang-up it may not)."""
    with contextlib.suppress(OSError, ValueError):
        print(text, file=sys.stderr, flush=True)


def _interrupted_line(signum: int, what: str) -> None:
    """The one line an interrupted command ends with (after ``^C``, on a new line)."""
    name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
    start = "\n" if signum == signal.SIGINT and sys.stderr.isatty() else ""
    _stderr_line(f"{start}interrupted ({name}): {what}")


def _note_killed(path: object, kind: str) -> None:
    _stderr_line(
        f"note: {path}: the {kind}'s previous session was killed (its manifest still said "
        "running; now it says interrupted); resumed"
    )


def _terminate(signum: int, frame: FrameType | None) -> None:
    """SIGTERM, SIGHUP: raise :class:`~sim.conventions.Terminated` (a KeyboardInterrupt),
    so that the command cleans up as for Ctrl-C; a second one is ignored meanwhile."""
    for sig in TERMINATING:
        signal.signal(sig, signal.SIG_IGN)
    raise Terminated(signum)


@contextlib.contextmanager
def _terminating_like_ctrl_c() -> Iterator[None]:
    """Handle SIGTERM and SIGHUP as Ctrl-C while a command runs (main thread only: other
    threads cannot set handlers); the previous handlers come back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in TERMINATING}
    for sig in TERMINATING:
        signal.signal(sig, _terminate)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _ctrl_c_raises() -> None:
    """Ctrl-C raises ``KeyboardInterrupt`` (handled by :func:`main`: one line, status
    130) where the launcher (:mod:`sim.__main__`) left it at the default action, which
    ends the process silently while nothing is written yet."""
    if (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGINT) == signal.SIG_DFL
    ):
        signal.signal(signal.SIGINT, signal.default_int_handler)


def entry() -> NoReturn:
    """The ``siege`` command (and ``python -m sim``): :func:`main`, then the exit.

    Once :func:`main` has returned, every file is written and closed, every worker
    process has ended and every thread of ours has been joined; what the interpreter
    would still do is run the exit handlers (which end the fork server and the
    resource tracker: they are run here) and then take apart its objects and modules
    one by one (0.1 s of CPU after a run with its plots, measured: skipped). The
    standard streams are flushed and the process exits at once with :func:`main`'s
    status; if a flush fails (a pipe closed early), the ordinary exit follows instead.
    """
    status = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        raise SystemExit(status) from None
    atexit._run_exitfuncs()  # the handlers an ordinary exit runs, in the same order
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(status)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``siege`` (and ``python -m sim``); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
    except UsageError as err:
        _error_line(str(err))
        return EXIT_INPUT
    if args.command is None:
        _error_line(
            "siege: a command is required: run, sweep, calibrate, compare, plan, plot, validate "
            "or schema "
            "(see siege --help)"
        )
        return EXIT_INPUT
    steady_allocator()  # memory flat however many replications (executors, "Memory")
    _ctrl_c_raises()
    try:
        with _terminating_like_ctrl_c():
            return int(args.func(args, argv))
    except InputError as err:
        _error_line(str(err))
        return EXIT_INPUT
    except WorkerLostError as err:  # not a bug of ours: the kernel or a user killed it
        _error_line(str(err))
        return EXIT_INTERNAL
    except KeyboardInterrupt as stop:
        signum = signal_of(stop)
        _interrupted_line(signum, "stopped; nothing half-written was left behind")
        return 128 + signum
    except BrokenPipeError:
        # stdout closed early (``siege run ... | head``): stop quietly, like other tools
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except Exception as err:
        if os.environ.get("SIEGE_DEBUG"):
            traceback.print_exc()
        _error_line(
            f"internal error: {type(err).__name__}: {err} "
            "(rerun with SIEGE_DEBUG=1 to see the traceback)"
        )
        return EXIT_INTERNAL
