"""The counterfactual table of the Deir ez-Zor scenarios: key outcomes with 90 % intervals.

Runs the baseline and each counterfactual of ``scenarios/deir_ez_zor`` with the same
root seed (so replication ``r`` of every scenario shares its random streams with
replication ``r`` of the baseline: common random numbers) and reduces each to:

* the **first food stock-out** date per pocket (end-of-day stock below 1e-6 t while
  the pocket has a demand; "never" if it does not happen by the end);
* **person-days below half ration**, civilians and garrison of every pocket, in
  millions, and its paired difference from the baseline (replication by replication);
* **tonnage delivered** from outside the enclave, t (recovered, for drops; shuttles
  between pockets are not deliveries and are reported apart);
* **aircraft lost**;
* **ammunition shortfall**, t (unmet garrison demand; the threat θ drives it).

Each cell is the median and, in brackets, the 5th–95th percentiles across
replications. Usage, from the repository root::

    python -m tools.counterfactual_table                       # print the table
    python -m tools.counterfactual_table --write-readme        # also update the README
    python -m tools.counterfactual_table --replications 50 --seed 1

The metrics are those of :func:`sim.analysis.metrics.replication_metrics`, i.e. what
``siege run`` writes to ``replications.csv``; the replications are run with
:func:`sim.experiment.replicate.iter_replications`, as :func:`sim.api.run` does, but
without the daily percentile bands the table does not need.
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

import numpy as np

from sim.analysis.metrics import replication_metrics
from sim.experiment.replicate import iter_replications
from sim.scenario.load import load_scenario
from sim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "scenarios" / "deir_ez_zor"
README = FOLDER / "README.md"
SCENARIOS: tuple[str, ...] = (
    "baseline",
    "no_split",
    "no_wfp",
    "tempo_40",
    "helicopter_bridge",
    "early_relief",
)
POCKETS: tuple[str, ...] = ("city", "airbase")
DEFAULT_REPLICATIONS = 200
DEFAULT_SEED = 20170905
START_MARK = "<!-- counterfactual-table:start -->"
END_MARK = "<!-- counterfactual-table:end -->"

COLUMNS: tuple[tuple[str, str], ...] = (
    ("stockout_city", "first food stock-out, city"),
    ("stockout_airbase", "first food stock-out, airbase"),
    ("below_half_m", "person-days below half ration (M)"),
    ("below_half_delta_m", "… minus baseline, paired (M)"),
    ("delivered_t", "tonnage delivered (t)"),
    ("aircraft_lost", "aircraft lost"),
    ("ammunition_shortfall_t", "ammunition shortfall (t)"),
)
"""Column key and heading, in table order."""


@dataclass(frozen=True)
class ScenarioOutcomes:
    """Per-replication outcomes of one scenario (arrays in replication order)."""

    name: str
    scenario: Scenario
    values: dict[str, np.ndarray]
    shuttle_t: np.ndarray


def outcomes(scenario: Scenario, metrics: Sequence[dict[str, float]]) -> dict[str, np.ndarray]:
    """The table's raw outcomes from per-replication metrics (stock-out NaN = never)."""

    def col(name: str) -> np.ndarray:
        return np.array([m[name] for m in metrics], dtype=float)

    out: dict[str, np.ndarray] = {}
    for p in POCKETS:
        out[f"stockout_{p}"] = col(f"first_stockout_day__{p}__food")
    out["below_half_m"] = col("person_days_below_half") / 1e6
    out["delivered_t"] = col("delivered_t")  # from outside only: shuttles are transfers
    out["aircraft_lost"] = col("aircraft_lost")
    ammo = [
        f"shortfall_t__{p}__ammunition"
        for p in scenario.pockets
        if "ammunition" in scenario.commodities
    ]
    out["ammunition_shortfall_t"] = sum((col(k) for k in ammo), np.zeros(len(metrics)))
    return out


def run_scenario(name: str, replications: int, seed: int, workers: int = 1) -> ScenarioOutcomes:
    """Run ``scenarios/deir_ez_zor/<name>.toml`` and reduce it to the table's outcomes."""
    scenario = load_scenario(FOLDER / f"{name}.toml")
    metrics = [
        replication_metrics(scenario, result)
        for result in iter_replications(scenario, replications, seed, workers=workers)
    ]
    shuttle_t = np.array([m["transferred_t"] for m in metrics], dtype=float)
    return ScenarioOutcomes(name, scenario, outcomes(scenario, metrics), shuttle_t)


def add_paired_difference(results: list[ScenarioOutcomes]) -> None:
    """Fill ``below_half_delta_m``: each replication minus the baseline's same replication."""
    base = results[0].values["below_half_m"]
    for r in results:
        r.values["below_half_delta_m"] = r.values["below_half_m"] - base


def interval(values: np.ndarray, never_as_inf: bool = False) -> tuple[float, float, float]:
    """(p05, p50, p95); with ``never_as_inf`` NaN (never) counts as later than any day."""
    v = np.where(np.isnan(values), np.inf, values) if never_as_inf else values
    lo, mid, hi = np.percentile(v, [5.0, 50.0, 95.0], method="lower" if never_as_inf else "linear")
    return float(lo), float(mid), float(hi)


def _day(start: dt.date, day: float) -> str:
    return "never" if not np.isfinite(day) else (start + dt.timedelta(days=int(day))).isoformat()


def format_stockout(start: dt.date, days: np.ndarray) -> str:
    """``median [p05 – p95]`` as dates, "never" for no stock-out, and the share that had one."""
    share = float(np.mean(np.isfinite(days)))
    if share == 0.0:
        return "never (0 %)"
    lo, mid, hi = interval(days, never_as_inf=True)
    return f"{_day(start, mid)} [{_day(start, lo)} – {_day(start, hi)}] ({share:.0%})"


def format_number(values: np.ndarray, digits: int) -> str:
    """``median [p05 – p95]`` with thousands separators."""
    lo, mid, hi = interval(values)
    f = f"{{:,.{digits}f}}"
    return f"{f.format(mid)} [{f.format(lo)} – {f.format(hi)}]"


DIGITS: dict[str, int] = {
    "below_half_m": 1,
    "below_half_delta_m": 1,
    "delivered_t": 0,
    "aircraft_lost": 0,
    "ammunition_shortfall_t": 0,
}


def markdown(
    results: list[ScenarioOutcomes], replications: int, seed: int, today: dt.date | None = None
) -> str:
    """The table as Markdown, with the line that says how it was made."""
    today = today or dt.date.today()
    start = results[0].scenario.calendar.start
    head = "| scenario | " + " | ".join(h for _, h in COLUMNS) + " |"
    rule = "|---|" + "---|" * len(COLUMNS)
    lines = [
        f"Generated by `python -m tools.counterfactual_table` on {today.isoformat()}: "
        f"{replications} replications per scenario, root seed {seed} (common random "
        "numbers across scenarios). Median [5th – 95th percentile].",
        "",
        head,
        rule,
    ]
    for r in results:
        cells = []
        for key, _ in COLUMNS:
            if key.startswith("stockout_"):
                cells.append(format_stockout(start, r.values[key]))
            elif key == "below_half_delta_m" and r is results[0]:
                cells.append("—")
            else:
                cells.append(format_number(r.values[key], DIGITS[key]))
        lines.append(f"| `{r.name}` | " + " | ".join(cells) + " |")
    notes = [
        f"`{r.name}`: shuttle flights moved {format_number(r.shuttle_t, 0)} t between pockets "
        "(not counted as delivered)."
        for r in results
        if np.any(r.shuttle_t > 0)
    ]
    if notes:
        lines += ["", *notes]
    return "\n".join(lines) + "\n"


_CELL = re.compile(r"^(-?[\d,.]+) \[(-?[\d,.]+) – (-?[\d,.]+)\]$")


def parse_table(text: str) -> dict[str, dict[str, str]]:
    """Read a table written by :func:`markdown` back: scenario → column key → cell text."""
    rows: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        m = re.match(r"^\| `([a-z0-9_]+)` \| (.*) \|$", line)
        if m is None:
            continue
        cells = [c.strip() for c in m.group(2).split(" | ")]
        rows[m.group(1)] = {key: cell for (key, _), cell in zip(COLUMNS, cells, strict=True)}
    return rows


def parse_cell(cell: str) -> tuple[float, float, float] | None:
    """``median [lo – hi]`` → (lo, median, hi); None for anything else (dates, "—")."""
    m = _CELL.match(cell)
    if m is None:
        return None
    mid, lo, hi = (float(g.replace(",", "")) for g in m.groups())
    return lo, mid, hi


def replace_block(text: str, table: str) -> str:
    """``text`` with the part between the README's table markers replaced by ``table``."""
    a, b = text.find(START_MARK), text.find(END_MARK)
    if a < 0 or b < a:
        raise ValueError(f"{README}: table markers {START_MARK} … {END_MARK} not found")
    return text[: a + len(START_MARK)] + "\n" + table + text[b:]


def build(
    replications: int = DEFAULT_REPLICATIONS,
    seed: int = DEFAULT_SEED,
    workers: int = 1,
    names: Sequence[str] = SCENARIOS,
) -> list[ScenarioOutcomes]:
    """Run every scenario (the baseline first) and fill the paired differences."""
    if names[0] != "baseline":
        raise ValueError("the baseline must come first (the paired difference needs it)")
    results = [run_scenario(n, replications, seed, workers) for n in names]
    add_paired_difference(results)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: print the table; ``--write-readme`` also puts it in the README."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.counterfactual_table", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--replications", type=int, default=DEFAULT_REPLICATIONS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--write-readme",
        action="store_true",
        help=f"replace the table between the markers in {README.name}",
    )
    args = parser.parse_args(argv)
    if args.replications < 1 or args.seed < 0 or args.workers < 1:
        print("error: --replications and --workers must be ≥ 1, --seed ≥ 0", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    results = build(args.replications, args.seed, args.workers)
    table = markdown(results, args.replications, args.seed)
    sys.stdout.write(table)
    print(f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    if args.write_readme:
        README.write_text(
            replace_block(README.read_text(encoding="utf-8"), table), encoding="utf-8"
        )
        print(f"wrote the table into {README}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
