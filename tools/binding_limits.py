"""Which limit binds each fleet of the Deir ez-Zor baseline, period by period.

Runs ``scenarios/deir_ez_zor/baseline.toml`` as ``siege run`` does (the same
replications, seeds and numbers) and reduces it, for each fleet and period of its
history, to: the sorties a day; the sorties per *available* aircraft-day
(mission-capable aircraft: breakdowns taken out) beside the three caps an aircraft
has — the tasking ceiling (× the share of listed weekdays), the flying-hour budget
(``ute_h_day`` ÷ the hours of a sortie) and the cycle (24 h ÷ the hours of a cycle);
the hours flown per available aircraft-day (utilisation); the hours aircraft waited per
sortie for their targets and base (queue hours, at home or in the air); the
opportunities lost a day to breakdowns, weather and a closed target (aborts by
reason); and the limit that binds, by the rule of :func:`binding_limit`. Rates are
means over replications. The README's table of the record beside the model is made
by ``tools/observation_table.py`` (block ``baseline``) from the same run.

Usage, from the repository root::

    python -m tools.binding_limits                      # print the table
    python -m tools.binding_limits --write-readme       # also update the README
    python -m tools.binding_limits --replications 50 --seed 1 --workers 2
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import sim.api
from sim.model.geo import great_circle_km
from sim.model.record import RunResult
from sim.scenario.load import load_scenario
from sim.scenario.schema import WEEKDAYS, Airfield, DropZone, Fleet, Scenario
from sim.scenario.timeline import timeline_steps

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "deir_ez_zor" / "baseline.toml"
README = BASELINE.parent / "README.md"
DEFAULT_REPLICATIONS = 200
DEFAULT_SEED = 20170905
MARKS = ("<!-- binding-limits:start -->", "<!-- binding-limits:end -->")

PERIODS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "wfp_il76": (
        ("2016-04-10", "2016-09-08", "first drops to the 113th"),
        ("2016-09-09", "2017-01-14", "to the suspension"),
        ("2017-01-15", "2017-01-28", "suspension"),
        ("2017-01-29", "2017-03-28", "new drop zone, Q1 2017"),
        ("2017-03-29", "2017-09-16", "to the last drop"),
    ),
    "ru_il76": (
        ("2016-01-15", "2017-01-16", "2016"),
        ("2017-01-17", "2017-02-28", "after the split"),
        ("2017-03-01", "2017-09-17", "Mar – Sep 2017"),
    ),
    "syaf_helo": (
        ("2015-05-01", "2016-09-16", "to Jabal Tharda"),
        ("2016-09-17", "2017-01-16", "airbase under fire"),
        ("2017-01-17", "2017-09-17", "after the split"),
    ),
    "syaf_an26": (("2015-05-01", "2015-08-31", "last landings"),),
}
"""Fleet → (first day, last day, label) of the periods the README discusses: the
windows of the record and the events that change a fleet's world."""

BINDS_AT = 0.8
"""A cap binds when the sorties per available aircraft-day reach this share of it:
the rest is lost to unflyable days, closures and holding, which no cap removes."""

ABORTS: tuple[str, ...] = ("not_mc", "weather", "no_target")


@dataclass(frozen=True)
class PeriodRow:
    """One fleet in one period: measured means, the aircraft's caps, what binds."""

    fleet: str
    first: str
    last: str
    label: str
    sorties_day: float
    per_available: float
    caps: dict[str, float | None]
    flying_h: float
    queue_h_per_sortie: float
    aborts_day: dict[str, float]
    binds: str


def flight_hours(scenario: Scenario, fleet: Fleet) -> float:
    """One-way flight time to the fleet's first target, h (given, or distance ÷ speed)."""
    if fleet.flight_h is not None:
        return fleet.flight_h
    assert fleet.base is not None and fleet.block_speed_kmh is not None
    base = scenario.bases[fleet.base]
    points: dict[str, Airfield | DropZone] = {
        **scenario.airfields,
        **scenario.helipads,
        **scenario.drop_zones,
    }
    target = points[fleet.targets[0]]
    assert base.lat is not None and base.lon is not None
    assert target.lat is not None and target.lon is not None
    return great_circle_km(base.lat, base.lon, target.lat, target.lon) / fleet.block_speed_kmh


def caps(scenario: Scenario, fleet: Fleet, first: int, last: int) -> dict[str, float | None]:
    """Sorties per available aircraft-day each cap allows over days ``first..last``.

    ``tasking``: the ceiling × the share of the period's days on a listed weekday;
    ``crew``: the flying-hour budget ÷ the hours of one sortie out and back;
    ``cycle``: 24 h ÷ (out + unload + back + turnaround). None: no such cap.
    """
    flight = flight_hours(scenario, fleet)
    cycle = 2.0 * flight + fleet.ground_h + fleet.base_h
    start = scenario.calendar.start
    listed = {WEEKDAYS.index(d) for d in fleet.days}
    days = [start + dt.timedelta(days=d) for d in range(first, last + 1)]
    share = sum(1 for d in days if d.weekday() in listed) / len(days)
    return {
        "tasking": None if fleet.sorties_per_day is None else fleet.sorties_per_day * share,
        "crew": None if fleet.ute_h_day is None else fleet.ute_h_day / (2.0 * flight),
        "cycle": 24.0 / cycle,
    }


def windowed_place(scenario: Scenario, fleet: Fleet) -> str | None:
    """The first of the fleet's targets (or its base) open less than 24 h a day."""
    for t in fleet.targets:
        place = scenario.airfields.get(t) or scenario.helipads.get(t)
        if place is not None and place.hours < 24.0:
            return t
    if fleet.base is not None and scenario.bases[fleet.base].hours < 24.0:
        return fleet.base
    return None


def binding_limit(
    scenario: Scenario,
    fleet: Fleet,
    per_available: float,
    fleet_caps: dict[str, float | None],
    aborts_day: dict[str, float],
) -> str:
    """The limit that binds, by rule, in this order.

    1. Almost nothing flown (under 0.05 sorties per available aircraft-day): the most
       frequent reason for not flying (``no_target``: no delivery point open).
    2. The lowest of the caps (tasking, crew, cycle), if the sorties per available
       aircraft-day reach :data:`BINDS_AT` of it.
    3. Else the opening hours of the first windowed target or base (the aircraft
       waits at home for them: its queue hours show it).
    4. Else breakdowns, weather and closures: none of the capacities.
    """
    if per_available < 0.05:
        reason = max(aborts_day, key=lambda k: aborts_day[k])
        return {"no_target": "no open drop zone or landing site"}.get(reason, reason)
    present = {k: v for k, v in fleet_caps.items() if v is not None}
    name = min(present, key=lambda k: present[k])
    if per_available >= BINDS_AT * present[name]:
        return {
            "tasking": "tasking ceiling",
            "crew": "flying-hour budget",
            "cycle": "aircraft cycle",
        }[name]
    place = windowed_place(scenario, fleet)
    if place is not None:
        return f"opening hours of `{place}` (with the cycle)"
    return "breakdowns, weather and closures"


def _sum(result: RunResult, name: str, i: int, j: int) -> float:
    s = result.series.get(name)
    return 0.0 if s is None else float(np.sum(s[i:j]))


def period_row(
    scenario: Scenario, results: Sequence[RunResult], fleet_name: str, period: tuple[str, str, str]
) -> PeriodRow:
    """Reduce the replications to one fleet's row for one period (means over replications)."""
    first_s, last_s, label = period
    cal = scenario.calendar
    i, last = cal.day(dt.date.fromisoformat(first_s)), cal.day(dt.date.fromisoformat(last_s))
    j = last + 1
    in_force = scenario
    for step in timeline_steps(scenario):
        if step.day <= i:
            in_force = step.scenario
    fleet = in_force.fleets[fleet_name]
    places = [*fleet.targets, *([fleet.base] if fleet.base else [])]
    days = j - i
    flown = np.array([_sum(r, f"sorties_flown__{fleet_name}", i, j) for r in results])
    avail = np.array([_sum(r, f"aircraft_available__{fleet_name}", i, j) for r in results])
    hours = np.array([_sum(r, f"flying_h__{fleet_name}", i, j) for r in results])
    queue = np.array([sum(_sum(r, f"queue_h__{p}", i, j) for p in places) for r in results])
    aborts = {
        k: float(np.mean([_sum(r, f"sorties_aborted__{fleet_name}__{k}", i, j) for r in results]))
        / days
        for k in ABORTS
    }
    per_available = float(flown.sum() / avail.sum()) if avail.sum() > 0 else 0.0
    fleet_caps = caps(in_force, fleet, i, last)
    return PeriodRow(
        fleet=fleet_name,
        first=first_s,
        last=last_s,
        label=label,
        sorties_day=float(flown.mean() / days),
        per_available=per_available,
        caps=fleet_caps,
        flying_h=float(hours.sum() / avail.sum()) if avail.sum() > 0 else 0.0,
        queue_h_per_sortie=float(queue.sum() / flown.sum()) if flown.sum() > 0 else 0.0,
        aborts_day=aborts,
        binds=binding_limit(in_force, fleet, per_available, fleet_caps, aborts),
    )


def limit_rows(scenario: Scenario, results: Sequence[RunResult]) -> list[PeriodRow]:
    """Every fleet's rows, in the order of :data:`PERIODS`."""
    return [
        period_row(scenario, results, f, p)
        for f, periods in PERIODS.items()
        if f in scenario.fleets
        for p in periods
    ]


def _short(day: str) -> str:
    d = dt.date.fromisoformat(day)
    return f"{d.day} {d:%b} {d:%y}"


def _cap(v: float | None) -> str:
    return "—" if v is None else f"{v:.2f}"


LIMIT_COLUMNS: tuple[str, ...] = (
    "fleet",
    "period",
    "sorties a day",
    "per aircraft available",
    "caps: tasking · crew · cycle",
    "flying h per aircraft-day",
    "queue h per sortie",
    "not flown a day: broken down · weather · no target",
    "binds",
)


def markdown(rows: Sequence[PeriodRow], replications: int, seed: int) -> str:
    """The binding-limit table as Markdown, with the line that says how it was made."""
    lines = [
        f"Generated by `python -m tools.binding_limits` from {replications} replications, "
        f"root seed {seed}: means over replications. Caps and rates are sorties per "
        "available (mission-capable) aircraft-day.",
        "",
        "| " + " | ".join(LIMIT_COLUMNS) + " |",
        "|" + "---|" * len(LIMIT_COLUMNS),
    ]
    for r in rows:
        cells = [
            f"`{r.fleet}`",
            f"{_short(r.first)} – {_short(r.last)} ({r.label})",
            f"{r.sorties_day:.2f}",
            f"{r.per_available:.2f}",
            " · ".join(_cap(r.caps[k]) for k in ("tasking", "crew", "cycle")),
            f"{r.flying_h:.2f}",
            f"{r.queue_h_per_sortie:.1f}",
            " · ".join(f"{r.aborts_day[k]:.2f}" for k in ABORTS),
            r.binds,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def replace_between(text: str, marks: tuple[str, str], table: str) -> str:
    """``text`` with the part between ``marks`` replaced by ``table``."""
    a, b = text.find(marks[0]), text.find(marks[1])
    if a < 0 or b < a:
        raise ValueError(f"{README}: markers {marks[0]} … {marks[1]} not found")
    return text[: a + len(marks[0])] + "\n" + table + text[b:]


def block(text: str, marks: tuple[str, str]) -> str:
    """The part of ``text`` between ``marks``."""
    a, b = text.find(marks[0]), text.find(marks[1])
    if a < 0 or b < a:
        raise ValueError(f"markers {marks[0]} … {marks[1]} not found")
    return text[a + len(marks[0]) : b]


_ROW = re.compile(r"^\| `([a-z0-9_]+)` \| (.*) \|$")


def parse_rows(text: str) -> list[tuple[str, list[str]]]:
    """The table rows of ``text``: (first cell's name, the other cells)."""
    out = []
    for line in text.splitlines():
        m = _ROW.match(line)
        if m is not None:
            out.append((m.group(1), [c.strip() for c in m.group(2).split(" | ")]))
    return out


@dataclass(frozen=True)
class Tables:
    """One run of the baseline: its observation rows and its binding-limit rows."""

    observations: list[dict[str, Any]]
    limits: list[PeriodRow]
    limits_md: str


def build(
    replications: int = DEFAULT_REPLICATIONS,
    seed: int = DEFAULT_SEED,
    workers: int = 1,
    scenario: Scenario | None = None,
) -> Tables:
    """Run the baseline (or ``scenario``) as ``siege run`` does and reduce it.

    ``observations`` are the rows of ``observations.csv`` for the same run, which is
    what ``tools/observation_table.py`` prints.
    """
    scenario = scenario or load_scenario(BASELINE)
    results: list[RunResult] = []
    runset = sim.api.run(
        scenario,
        replications=replications,
        seed=seed,
        workers=workers,
        on_result=lambda _i, result, _m: results.append(result),
    )
    limits = limit_rows(scenario, results)
    return Tables(list(runset.observations), limits, markdown(limits, replications, seed))


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: print the table; ``--write-readme`` also puts it in the README."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.binding_limits", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--replications", type=int, default=DEFAULT_REPLICATIONS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--write-readme",
        action="store_true",
        help=f"replace the table between its markers in {README.name}",
    )
    args = parser.parse_args(argv)
    if args.replications < 1 or args.seed < 0 or args.workers < 1:
        print("error: --replications and --workers must be ≥ 1, --seed ≥ 0", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    tables = build(args.replications, args.seed, args.workers)
    sys.stdout.write(tables.limits_md)
    print(f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    if args.write_readme:
        text = replace_between(README.read_text(encoding="utf-8"), MARKS, tables.limits_md)
        README.write_text(text, encoding="utf-8")
        print(f"wrote the table into {README}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
