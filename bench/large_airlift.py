"""A large airlift for the benchmark: about 300 aircraft flying about 1,000 sorties a day
for a year, from three home bases to three airfields of one city.

Invented, on the scale of the Berlin airlift of 1948–49 (not a model of it): what the
benchmark measures with it is the model's cost per SimPy event and how that cost grows
when the aircraft or the horizon double, where the Deir ez-Zor baseline has a few
dozen aircraft. Nothing in it is calibrated; the figures are chosen so that the
aircraft themselves bind (their cycle and flying-hour budget), with room to spare at
the bases and airfields, and every mechanism of the aircraft cycle is exercised
(bookings on runways and parking places, loading slots, breakdowns, weather zones
with degraded days, losses and replacements, an event that moves a fleet).

Expected throughput (planning figures, before weather and breakdowns): each fleet
flies from a base 430–560 km away at 420 km/h, so a cycle is 2 × 1.0–1.3 h of flight
+ 1 h unloading + 1.5 h loading ≈ 4.5–5.2 h, about 5 sorties per aircraft a day
(the flying-hour budget of 9 h a day allows about as many): 300 aircraft × 0.85
mission-capable × 5 ≈ 1,250 sorties a day, less the weather; a 30-day run flew
1,120 a day. Each airfield takes a landing every 90 seconds (960 a day, 640 on a
degraded day) on 48 parking places and each base loads 80 aircraft at once: room for
twice the aircraft, so that the benchmark's "aircraft × 2" doubles the work, not the
queues (``--aircraft-factor`` scales runways, places and slots with the aircraft).

``python -m bench.large_airlift FILE [--aircraft-factor K] [--days N]`` writes it as a
scenario file that ``siege run`` takes; :func:`scenario_text` gives the text.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import tomli_w

BASES: dict[str, tuple[float, float]] = {
    "west": (52.05, 7.35),
    "north": (53.55, 9.05),
    "south": (50.35, 8.65),
}
"""Home bases: (lat, lon), 430–560 km from the city."""
AIRFIELDS: dict[str, tuple[float, float]] = {
    "central": (52.47, 13.40),
    "southwest": (52.47, 13.15),
    "north": (52.56, 13.29),
}
"""The city's three airfields: (lat, lon)."""
FLEETS_PER_BASE = 2
AIRCRAFT_PER_FLEET = 50
"""Six fleets of 50 aircraft: 300 in all."""


def scenario_data(aircraft_factor: int = 1, days: int = 365) -> dict[str, Any]:
    """The scenario as TOML data: ``aircraft_factor`` × 300 aircraft, ``days`` days."""
    if aircraft_factor < 1 or days < 2:
        raise ValueError("aircraft_factor must be at least 1 and days at least 2")
    start = dt.date(2030, 1, 1)
    end = start + dt.timedelta(days=days - 1)
    data: dict[str, Any] = {
        "name": "large_airlift",
        "title": "A large airlift (invented, on the scale of Berlin 1948-49)",
        "description": "About 300 aircraft, 1,000 sorties a day, three bases, three airfields.",
        "seed": 1948,
        "replications": 2,
        "stochastic": True,
        "calendar": {"start": start, "end": end},
        "commodities": {
            "food": {"civilian_kg_day": 0.7, "soldier_kg_day": 1.4, "rationed": True},
            "coal": {"civilian_kg_day": 1.5, "soldier_kg_day": 1.5, "rationed": False},
        },
        "pockets": {
            "city": {
                "civilians": 2_000_000,
                "garrison": 20_000,
                "stock_t": {"food": 60_000.0, "coal": 120_000.0},
                "rations": {"thresholds_days": [20.0, 10.0], "levels": [0.8, 0.6]},
            }
        },
        "weather": {
            "unflyable_share": [
                0.1,
                0.08,
                0.06,
                0.04,
                0.03,
                0.02,
                0.02,
                0.02,
                0.03,
                0.05,
                0.08,
                0.1,
            ],
            "mean_spell_days": 1.5,
            "degraded_share": 0.15,
            "degraded_landing_factor": 1.5,
        },
        "weather_zones": {
            "rhine": {
                "unflyable_share": 0.04,
                "mean_spell_days": 1.5,
                "degraded_share": 0.10,
                "degraded_landing_factor": 1.5,
            }
        },
        "bases": {
            name: {
                "lat": lat,
                "lon": lon,
                "loading_slots": 80 * aircraft_factor,
                "opens_h": 0.0,
                "hours": 24.0,
                **({"weather_zone": "rhine"} if name != "north" else {}),
            }
            for name, (lat, lon) in BASES.items()
        },
        "airfields": {
            name: {
                "pocket": "city",
                "lat": lat,
                "lon": lon,
                "runways": aircraft_factor,
                "landing_interval_min": 1.5,
                "slots": 48 * aircraft_factor,
                "opens_h": 0.0,
                "hours": 24.0,
            }
            for name, (lat, lon) in AIRFIELDS.items()
        },
        "fleets": {},
        "events": [
            {
                "date": start + dt.timedelta(days=days // 2),
                "title": "Fleet south_1 moves to the west base",
                "set": {"fleets.south_1.base": "west"},
            }
        ],
    }
    fields = list(AIRFIELDS)
    for b, base in enumerate(BASES):
        for k in range(FLEETS_PER_BASE):
            name = f"{base}_{k}"
            first = fields[(b + k) % len(fields)]
            data["fleets"][name] = {
                "mode": "land",
                "aircraft": AIRCRAFT_PER_FLEET * aircraft_factor,
                "payload_t": 9.0,
                "cargo": {"food": 0.4, "coal": 0.6},
                "base": base,
                "block_speed_kmh": 420.0,
                "ground_h": 1.0,
                "base_h": 1.5,
                "depart_h": 4.0 + 2.0 * k,
                "ute_h_day": 9.0,
                "mission_capable": 0.85,
                "repair_days": 1.5,
                "holding_h": 0.5,
                "targets": [first, *(f for f in fields if f != first)],
                "loss_per_sortie": 0.0002,
                "replacement_days": 10.0,
            }
    return data


def scenario_text(aircraft_factor: int = 1, days: int = 365) -> str:
    """:func:`scenario_data` as the text of a scenario file."""
    head = (
        "# large_airlift.toml: written by `python -m bench.large_airlift` (bench/large_airlift.py\n"
        "# says what it is and why). Invented, not calibrated: a benchmark scenario.\n\n"
    )
    return head + tomli_w.dumps(scenario_data(aircraft_factor, days))


def write(path: Path, aircraft_factor: int = 1, days: int = 365) -> Path:
    """Write the scenario file to ``path``; return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(scenario_text(aircraft_factor, days), encoding="utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench.large_airlift FILE``: write the scenario file."""
    p = argparse.ArgumentParser(prog="python -m bench.large_airlift", description=__doc__)
    p.add_argument("file", metavar="FILE")
    p.add_argument("--aircraft-factor", type=int, default=1, metavar="K")
    p.add_argument("--days", type=int, default=365, metavar="N")
    args = p.parse_args(argv)
    try:
        print(write(Path(args.file), args.aircraft_factor, args.days))
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
