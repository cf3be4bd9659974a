"""The observation table of a scenario: each recorded figure beside the model's spread.

Runs a scenario (as ``siege run`` does: the same replications, seeds and numbers) and
writes one row per ``[[observations]]`` entry: the observed value (or range), the
model's 5th, 50th and 95th percentiles across replications, the relative error of
the median, whether the median lies within the observation's tolerance, and whether
the observed figure lies inside the model's 90 % band (for a range: whether the two
overlap). Tonnes, days, sorties or aircraft, as the observation's ``unit`` says.

Usage, from the repository root::

    python -m tools.observation_table scenarios/khe_sanh_1968/baseline.toml --replications 200
    python -m tools.observation_table scenarios/khe_sanh_1968/first_run.toml \\
        --replications 200 --block first-run --write-readme

With ``--write-readme`` the table replaces the block between
``<!-- observation-table:BLOCK:start -->`` and ``<!-- observation-table:BLOCK:end -->``
of the README next to the scenario file. The table's first line is the ``siege run``
command that gives the same numbers, so a reader can check it, and
``tests/shipped/test_khe_sanh.py`` re-runs it.
"""

from __future__ import annotations

import argparse
import math
import re
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sim.api
from sim.conventions import InputError
from sim.scenario.load import load_scenario
from sim.scenario.schema import Observation, Scenario

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REPLICATIONS = 200

COLUMNS: tuple[str, ...] = (
    "observation",
    "observed",
    "model p05",
    "model p50",
    "model p95",
    "error of the median",
    "within tolerance",
    "observed in the 90 % band",
)
"""Headings, in table order."""


def start_mark(block: str) -> str:
    """The README comment that opens the table block ``block``."""
    return f"<!-- observation-table:{block}:start -->"


def end_mark(block: str) -> str:
    """The README comment that closes the table block ``block``."""
    return f"<!-- observation-table:{block}:end -->"


def fmt(x: float) -> str:
    """A value as the table prints it: thousands separated, whole from 100 up, else one decimal."""
    if not math.isfinite(x):
        return "—"
    if abs(x) >= 100.0:
        return f"{x:,.0f}"
    if x == round(x):
        return f"{x:.0f}"
    return f"{x:.1f}"


def observed_text(obs: Observation) -> str:
    """The observed value or range with its unit."""
    unit = f" {obs.unit}" if obs.unit else ""
    if obs.range is not None:
        return f"{fmt(obs.range[0])}–{fmt(obs.range[1])}{unit}"
    assert obs.value is not None
    return f"{fmt(obs.value)}{unit}"


def tolerance_text(obs: Observation, ok: bool | None) -> str:
    """``yes``/``no`` and the slack allowed (relative, or absolute in the unit)."""
    if ok is None:
        return "—"
    slack = (
        f"± {fmt(obs.abs_tolerance)} {obs.unit}".rstrip()
        if obs.abs_tolerance > obs.tolerance * abs(obs.observed)
        else f"± {obs.tolerance:.0%}".replace("%", " %")
    )
    return f"{'yes' if ok else 'no'} ({slack})"


def in_band(obs: Observation, p05: float, p95: float) -> str:
    """Whether the observed value (or range) meets the model's 5–95 % band."""
    if not (math.isfinite(p05) and math.isfinite(p95)):
        return "—"
    lo, hi = obs.range if obs.range is not None else (obs.observed, obs.observed)
    return "yes" if lo <= p95 and hi >= p05 else "no"


def rel_error_text(rel: float) -> str:
    """The relative error of the median, signed, in per cent."""
    return "—" if not math.isfinite(rel) else f"{100.0 * rel:+.1f} %"


def command(path: Path, replications: int, seed: int) -> str:
    """The ``siege run`` command that gives the table's numbers (path relative to the root)."""
    try:
        shown = path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        shown = path.as_posix()
    return f"siege run {shlex.quote(shown)} --replications {replications} --seed {seed}"


def rows(scenario: Scenario, table: Sequence[dict[str, Any]]) -> list[list[str]]:
    """The table's cells from the rows of :func:`sim.analysis.observations.observation_table`."""
    by_id = {o.id: o for o in scenario.observations}
    out: list[list[str]] = []
    for row in table:
        obs = by_id[row["id"]]
        out.append(
            [
                f"`{obs.id}`",
                observed_text(obs),
                fmt(row["model_p05"]),
                fmt(row["model_p50"]),
                fmt(row["model_p95"]),
                rel_error_text(row["rel_error"]),
                tolerance_text(obs, row["within_tolerance"]),
                in_band(obs, row["model_p05"], row["model_p95"]),
            ]
        )
    return out


def markdown(path: Path, replications: int, seed: int, cells: list[list[str]]) -> str:
    """The table as Markdown, opened by the command that reproduces it."""
    lines = [
        f"`{command(path, replications, seed)}`: median and 5th–95th percentiles across "
        "replications.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|---|" + "---:|" * 4 + "---:|---|---|",
    ]
    lines += ["| " + " | ".join(r) + " |" for r in cells]
    return "\n".join(lines) + "\n"


def build(path: Path, replications: int, seed: int | None = None, workers: int = 1) -> str:
    """Run the scenario at ``path`` and return its observation table as Markdown."""
    scenario = load_scenario(path)
    seed = scenario.seed if seed is None else seed
    runset = sim.api.run(scenario, replications=replications, seed=seed, workers=workers)
    return markdown(path, replications, seed, rows(scenario, runset.observations))


_COMMAND = re.compile(r"^`siege run (\S+) --replications (\d+) --seed (\d+)`")


def parse_block(text: str, block: str) -> tuple[str, int, int, list[list[str]]]:
    """Read a block written by :func:`markdown`: (scenario path, replications, seed, cells)."""
    a, b = text.find(start_mark(block)), text.find(end_mark(block))
    if a < 0 or b < a:
        raise ValueError(f"table markers {start_mark(block)} … {end_mark(block)} not found")
    body = text[a + len(start_mark(block)) : b].strip("\n")
    m = _COMMAND.match(body)
    if m is None:
        raise ValueError(f"block {block!r} does not open with its siege run command")
    cells = [
        [c.strip() for c in line.strip().strip("|").split(" | ")]
        for line in body.splitlines()
        if line.startswith("| `")
    ]
    return m.group(1), int(m.group(2)), int(m.group(3)), cells


def replace_block(text: str, block: str, table: str) -> str:
    """``text`` with the table block ``block`` replaced by ``table``."""
    a, b = text.find(start_mark(block)), text.find(end_mark(block))
    if a < 0 or b < a:
        raise ValueError(f"table markers {start_mark(block)} … {end_mark(block)} not found")
    return text[: a + len(start_mark(block))] + "\n" + table + text[b:]


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: print the table; ``--write-readme`` also puts it in the README."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.observation_table", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("scenario", type=Path)
    parser.add_argument("--replications", type=int, default=DEFAULT_REPLICATIONS)
    parser.add_argument("--seed", type=int, default=None, help="default: the scenario's")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--block", default=None, help="the README block to replace")
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args(argv)
    if args.replications < 1 or args.workers < 1 or (args.seed is not None and args.seed < 0):
        print("error: --replications and --workers must be ≥ 1, --seed ≥ 0", file=sys.stderr)
        return 2
    if args.write_readme and not args.block:
        print("error: --write-readme needs --block NAME", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    try:
        table = build(args.scenario, args.replications, args.seed, args.workers)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    sys.stdout.write(table)
    print(f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    if args.write_readme:
        readme = args.scenario.parent / "README.md"
        try:
            text = replace_block(readme.read_text(encoding="utf-8"), args.block, table)
        except (OSError, ValueError) as err:
            print(f"error: {readme}: {err}", file=sys.stderr)
            return 2
        readme.write_text(text, encoding="utf-8")
        print(f"wrote block {args.block!r} into {readme}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
