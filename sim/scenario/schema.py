"""The scenario file format, as pydantic models.

A scenario describes one besieged enclave and everything that keeps it alive from
the air: the calendar, the commodities and their per-person demand, the pockets the
enclave can be cut into, the delivery points (airfields, helipads, drop zones), the
fleets, the ground routes between pockets, the weather, the besieging force, a
timeline of dated events that change parameters during the run, and the historical
observations every run is compared with.

Units live in field names: ``payload_t`` is tonnes, ``flight_h`` hours,
``civilian_kg_day`` kilograms per person per day, ``capacity_t_day`` tonnes per day,
``landing_interval_min`` minutes, ``block_speed_kmh`` km/h, ``lat``/``lon`` degrees.
Shares are fractions in [0, 1]; a *monthly* value is one number or an array of 12
(January to December). Dates are ISO dates; day 0 of a run is
``calendar.start`` and the last simulated day is ``calendar.end`` (inclusive).

Every model is frozen and forbids unknown keys, so a typo in a file is an error,
never a silently ignored setting. Cross-references (a fleet's targets, a drop zone's
pocket, ...) are checked by :func:`check_references`, which reports the dotted path
of the offending key.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sim.scenario.limits import FIRST_DATE, LAST_DATE, MAX_AIRCRAFT, MAX_DAYS, MAX_SORTIES_PER_DAY

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")]
"""A component name: snake_case, no double underscore (used as a separator in series names)."""

Share = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegFloat = Annotated[float, Field(ge=0.0)]
PosFloat = Annotated[float, Field(gt=0.0)]
NonNegInt = Annotated[int, Field(ge=0)]
PosInt = Annotated[int, Field(gt=0)]
Hour = Annotated[float, Field(ge=0.0, lt=24.0)]
WindowHours = Annotated[float, Field(gt=0.0, le=24.0)]
Latitude = Annotated[float, Field(ge=-90.0, le=90.0)]
Longitude = Annotated[float, Field(ge=-180.0, le=180.0)]

MONTHS: tuple[str, ...] = (
    "jan",
    "feb",
    "mar",
    "apr",
    "may",
    "jun",
    "jul",
    "aug",
    "sep",
    "oct",
    "nov",
    "dec",
)


def _monthly(ge: float, lt: float | None, le: float | None, what: str) -> PlainValidator:
    """A value that is one number or an array of 12 monthly numbers (Jan..Dec), each in range.

    Validated by hand (a plain validator) so that a bad value is reported at the key
    itself in plain words, never at a pydantic union member; the JSON Schema shows both
    forms with their bounds.
    """
    bound: dict[str, float] = {"ge": ge}
    if lt is not None:
        bound["lt"] = lt
    if le is not None:
        bound["le"] = le
    hi = f"< {lt:g}" if lt is not None else f"<= {le:g}" if le is not None else ""
    rule = f"{what} >= {ge:g}" + (f" and {hi}" if hi else "")

    def ok(x: Any) -> bool:
        if isinstance(x, bool) or not isinstance(x, int | float) or x != x:
            return False
        if x < ge or (lt is not None and x >= lt) or (le is not None and x > le):
            return False
        return x not in (float("inf"), float("-inf"))

    def check(value: Any) -> float | list[float]:
        if isinstance(value, list | tuple):
            if len(value) != 12:
                raise ValueError(
                    f"a monthly array needs 12 values (January to December), got {len(value)}"
                )
            for i, x in enumerate(value):
                if not ok(x):
                    raise ValueError(f"{MONTHS[i]} value {x!r}: each value must be a {rule}")
            return [float(x) for x in value]
        if not ok(value):
            raise ValueError(f"expected a {rule}, or an array of 12 monthly values, got {value!r}")
        return float(value)

    one = Annotated[float, Field(**bound)]
    schema_type = one | Annotated[list[one], Field(min_length=12, max_length=12)]
    return PlainValidator(check, json_schema_input_type=schema_type)


MonthlyUnflyable = Annotated[float | list[float], _monthly(0.0, 1.0, None, "share")]
MonthlyShare = Annotated[float | list[float], _monthly(0.0, None, 1.0, "share")]
MonthlySpell = Annotated[float | list[float], _monthly(1.0, None, None, "number of days")]


def month_values(value: float | list[float]) -> list[float]:
    """A monthly value as 12 numbers (January first)."""
    return list(value) if isinstance(value, list) else [float(value)] * 12


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = get_args(Weekday)
"""The weekdays, Monday first, as written in files."""

Mode = Literal["land", "airdrop", "helicopter"]
"""How a fleet delivers: landing at airfields, dropping over drop zones, or helicopters
landing at helipads."""
MODES: tuple[str, ...] = get_args(Mode)

ObservationMetric = Literal[
    "delivered_t",
    "transferred_t",
    "dropped_t",
    "pallets_dropped",
    "sorties_flown",
    "deliveries",
    "combat_sorties_per_day",
    "targets_destroyed_per_day",
    "aircraft_lost",
    "stock_t",
    "days_of_supply",
    "ration_level",
    "shortfall_t",
]
"""What an observation can compare with (see :data:`OBSERVATION_METRICS`)."""

ObservationRole = Literal["calibration", "validation"]
"""What an observation is for: fitting (``calibration``, the default) or checking a fit's
prediction out of sample (``validation``, never used by ``siege calibrate``'s fit)."""

Aggregate = Literal["total", "mean_per_day", "max_day", "min_day", "day"]
"""How an observation reduces the daily values in its window to one figure."""

AGGREGATES: dict[Aggregate, str] = {
    "total": "the sum over the window's days (a figure for a period: 'X t in 2016')",
    "mean_per_day": "the mean of the window's daily values ('X a day in August')",
    "max_day": "the largest daily value in the window (a 'best day' record)",
    "min_day": "the smallest daily value in the window (a 'worst day')",
    "day": "the value on the window's last day, `to` (give `from` = `to` for a figure "
    "about one day)",
}
"""Every aggregation, in words (``siege schema`` and the README show them)."""


@dataclass(frozen=True)
class ObservationMetricDef:
    """What an observation metric measures, its unit, and how it may aggregate.

    ``level``: a state at the end of each day (a stock, a ration level), which cannot
    be summed over days; a flow (tonnes, sorties) can. ``selector``: the selector
    keys it reads (any other is refused).
    """

    unit: str
    definition: str
    default: Aggregate
    level: bool
    selector: tuple[str, ...]

    @property
    def aggregates(self) -> tuple[Aggregate, ...]:
        """The aggregations that make sense for this metric, the default first."""
        allowed: list[Aggregate] = [self.default]
        for a in get_args(Aggregate):
            if a not in allowed and not (a == "total" and (self.level or self.per_day)):
                allowed.append(a)
        return tuple(allowed)

    @property
    def per_day(self) -> bool:
        """A flow whose unit is per day (its total over days would be meaningless)."""
        return self.unit.endswith("/day")


_FLEET_SEL = ("fleets", "mode", "pocket")
OBSERVATION_METRICS: dict[ObservationMetric, ObservationMetricDef] = {
    "delivered_t": ObservationMetricDef(
        "t",
        "tonnes brought from outside the enclave (recovered, for drops) by the selected "
        "fleets, to the selected pocket, of the selected commodities",
        "total",
        False,
        (*_FLEET_SEL, "commodity"),
    ),
    "transferred_t": ObservationMetricDef(
        "t",
        "tonnes shuttle fleets carried between pockets, to the selected pocket",
        "total",
        False,
        (*_FLEET_SEL, "commodity"),
    ),
    "dropped_t": ObservationMetricDef(
        "t",
        "tonnes released over drop zones (recovered or not) in the selected pocket",
        "total",
        False,
        (*_FLEET_SEL, "commodity"),
    ),
    "pallets_dropped": ObservationMetricDef(
        "pallets",
        "pallets (or platforms) released over drop zones, recovered or not, in the selected "
        "pocket: each load on ⌈load ÷ the zone's pallet_t⌉",
        "total",
        False,
        _FLEET_SEL,
    ),
    "sorties_flown": ObservationMetricDef(
        "sorties",
        "sorties that took off (for the selected pocket: to a target in it)",
        "total",
        False,
        _FLEET_SEL,
    ),
    "deliveries": ObservationMetricDef(
        "sorties", "sorties that delivered (to the selected pocket)", "total", False, _FLEET_SEL
    ),
    "aircraft_lost": ObservationMetricDef(
        "aircraft",
        "aircraft lost (flying to, or standing at, a target in the selected pocket)",
        "total",
        False,
        _FLEET_SEL,
    ),
    "combat_sorties_per_day": ObservationMetricDef(
        "sorties/day", "realised combat air sorties", "mean_per_day", False, ()
    ),
    "targets_destroyed_per_day": ObservationMetricDef(
        "targets/day", "besieger targets destroyed", "mean_per_day", False, ()
    ),
    "stock_t": ObservationMetricDef(
        "t", "end-of-day stock of the pocket and commodity", "day", True, ("pocket", "commodity")
    ),
    "days_of_supply": ObservationMetricDef(
        "days",
        "end-of-day stock ÷ full daily demand (days with no demand left out)",
        "mean_per_day",
        True,
        ("pocket", "commodity"),
    ),
    "ration_level": ObservationMetricDef(
        "× full", "ration level in force in the pocket", "mean_per_day", True, ("pocket",)
    ),
    "shortfall_t": ObservationMetricDef(
        "t",
        "ration demand left unmet, for the pocket (all if none) and the commodities (all if none)",
        "total",
        False,
        ("pocket", "commodity"),
    ),
}
"""Metrics an observation can compare with: unit, meaning, default aggregation over the
window, and the selector keys each reads."""


class _Model(BaseModel):
    # strict: no coercion between types (``aircraft = "2"``, ``open = "no"``, ``true``
    # for a number and a fraction for a whole number are errors). The one conversion
    # kept: a date may be given as ISO text ("2017-01-15"), for Python callers.
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False, strict=True
    )

    @model_validator(mode="before")
    @classmethod
    def _iso_dates(cls, data: Any) -> Any:
        keys = _date_keys(cls)
        if keys and isinstance(data, dict) and any(isinstance(data.get(k), str) for k in keys):
            return {k: _iso_date(v) if k in keys else v for k, v in data.items()}
        return data


@functools.cache
def _date_keys(model: type[BaseModel]) -> frozenset[str]:
    """Keys (names and aliases) of the date fields of ``model``."""
    keys: set[str] = set()
    for name, info in model.model_fields.items():
        if dt.date in (info.annotation, *get_args(info.annotation)):
            keys.update({name, info.alias or name})
    return frozenset(keys)


def _iso_date(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value  # reported by the strict date check
    return value


class Calendar(_Model):
    """The simulated period: day 0 is ``start``; ``end`` is the last simulated day."""

    start: dt.date = Field(description="First simulated day (ISO date).")
    end: dt.date = Field(description="Last simulated day, inclusive (ISO date).")

    @field_validator("start", "end")
    @classmethod
    def _in_range(cls, v: dt.date) -> dt.date:
        if not FIRST_DATE <= v <= LAST_DATE:
            raise ValueError(
                f"{v} is outside the dates a scenario may use ({FIRST_DATE} to {LAST_DATE})"
            )
        return v

    @field_validator("end")
    @classmethod
    def _end_not_before_start(cls, v: dt.date, info: ValidationInfo) -> dt.date:
        start = info.data.get("start")
        if start is not None and v < start:
            raise ValueError(f"end ({v}) is before start ({start})")
        if start is not None and (v - start).days + 1 > MAX_DAYS:
            raise ValueError(
                f"the calendar spans {(v - start).days + 1:,} days; the limit is {MAX_DAYS:,} "
                "(100 years)"
            )
        return v

    @property
    def n_days(self) -> int:
        """Number of simulated days, ``end`` included."""
        return (self.end - self.start).days + 1

    def day(self, date: dt.date) -> int:
        """Day index of ``date`` (0 = start)."""
        return (date - self.start).days


class Commodity(_Model):
    """A class of supply with a daily demand per civilian and per soldier (kg/person/day)."""

    civilian_kg_day: NonNegFloat = Field(description="Full daily demand per civilian, kg.")
    soldier_kg_day: NonNegFloat = Field(description="Full daily demand per soldier, kg.")
    rationed: bool = Field(
        True, description="Consumed at the pocket's ration level (food); otherwise at full demand."
    )
    threat_scaled: bool = Field(
        False,
        description="The garrison's demand scales with the threat (ammunition): "
        "× max(0, 1 + siege.effects.ammunition × (θ − 1)).",
    )


class RationPolicy(_Model):
    """How a pocket cuts rations as its days of supply fall.

    ``levels[i]`` applies while days of supply (rationed stock ÷ full daily demand)
    is below ``thresholds_days[i]``; the lowest applicable level wins. A level is
    raised again only once days of supply exceed the threshold × ``recover_factor``
    (hysteresis, so the ration does not flap from day to day).
    """

    thresholds_days: list[PosFloat] = Field(
        default_factory=list, description="Days-of-supply thresholds, strictly decreasing."
    )
    levels: list[Share] = Field(
        default_factory=list, description="Ration level (× full) below each threshold, decreasing."
    )
    recover_factor: Annotated[float, Field(ge=1.0)] = Field(
        1.25, description="A cut is lifted once days of supply exceed threshold × this."
    )
    garrison_priority: bool = Field(
        True, description="When stock cannot meet the day's demand, the garrison eats first."
    )

    @model_validator(mode="after")
    def _consistent(self) -> RationPolicy:
        if len(self.thresholds_days) != len(self.levels):
            raise ValueError(
                f"thresholds_days has {len(self.thresholds_days)} entries but levels has "
                f"{len(self.levels)}; they must pair up"
            )
        t = self.thresholds_days
        if any(b >= a for a, b in itertools.pairwise(t)):
            raise ValueError("thresholds_days must be strictly decreasing")
        lv = self.levels
        if any(b > a for a, b in itertools.pairwise(lv)):
            raise ValueError("levels must not increase as thresholds fall")
        return self


class Pocket(_Model):
    """A part of the enclave that can be cut off from the rest: people and stocks."""

    civilians: NonNegInt = Field(description="Civilian population.")
    garrison: NonNegInt = Field(0, description="Soldiers.")
    stock_t: dict[Name, NonNegFloat] = Field(
        default_factory=dict, description="Initial stock per commodity, t (missing = 0)."
    )
    rations: RationPolicy = Field(default_factory=RationPolicy)


def _both_or_neither(lat: float | None, lon: float | None) -> None:
    if (lat is None) != (lon is None):
        raise ValueError("give both lat and lon (degrees), or neither")


class Base(_Model):
    """A home base outside the enclave, where a fleet's aircraft are turned round.

    Turning an aircraft round (``base_h`` of its fleet: refuel, load) takes one of
    ``loading_slots`` places and counts only the base's daily window of ``hours``
    from ``opens_h``, which is also when aircraft may take off. Nothing takes off
    on a day its weather zone is unflyable, or while the base is not ``open``.
    """

    lat: Latitude | None = Field(None, description="Latitude, degrees north (for flight times).")
    lon: Longitude | None = Field(None, description="Longitude, degrees east (for flight times).")
    loading_slots: PosInt | None = Field(
        None, description="Aircraft turned round at once (none = unlimited)."
    )
    opens_h: Hour = Field(0.0, description="Hour of day the loading and departure window opens.")
    hours: WindowHours = Field(
        24.0, description="Length of the daily window, h (may run past midnight)."
    )
    open: bool = Field(True, description="Usable at all (events close and reopen it).")
    weather_zone: Name | None = Field(
        None, description="Weather zone of the base (none = the default [weather])."
    )

    @model_validator(mode="after")
    def _coordinates(self) -> Base:
        _both_or_neither(self.lat, self.lon)
        return self


class Airfield(_Model):
    """A landing site: runways, parking places (MOG), a daily window, an open flag.

    Used for both ``airfields`` and ``helipads`` (a helipad is a small airfield).
    Each runway takes one landing per ``landing_interval_min`` (× the weather zone's
    ``degraded_landing_factor`` on degraded days); a landed aircraft holds one of
    ``slots`` parking places while it unloads for its fleet's ``ground_h``, which
    counts only the field's open hours (an aircraft still unloading at closing time
    finishes when the field reopens). Landings happen only inside the window.
    """

    pocket: Name = Field(description="The pocket that receives what is unloaded here.")
    slots: PosInt = Field(1, description="Parking/unloading places (maximum on ground, MOG).")
    runways: PosInt = Field(1, description="Runways (or landing spots) used at once.")
    landing_interval_min: NonNegFloat = Field(
        0.0, description="Minutes between two landings on one runway (0 = no runway limit)."
    )
    opens_h: Hour = Field(0.0, description="Hour of day the operating window opens (0–24).")
    hours: WindowHours = Field(
        24.0, description="Length of the operating window, h (may run past midnight)."
    )
    open: bool = Field(True, description="Usable at all (events close and reopen it).")
    exposure: NonNegFloat = Field(
        1.0, description="Multiplier on siege.effects.airfield_closure_per_day (0 = out of range)."
    )
    ground_loss_per_hour: Share = Field(
        0.0,
        description="Chance per hour on the ground that a parked aircraft is destroyed, "
        "× exposure (× the threat's sortie-loss multiplier when there is a siege).",
    )
    lat: Latitude | None = Field(None, description="Latitude, degrees north (for flight times).")
    lon: Longitude | None = Field(None, description="Longitude, degrees east (for flight times).")
    weather_zone: Name | None = Field(
        None, description="Weather zone of the field (none = the default [weather])."
    )

    @model_validator(mode="after")
    def _coordinates(self) -> Airfield:
        _both_or_neither(self.lat, self.lon)
        return self


class DropZone(_Model):
    """An airdrop zone: each pallet is recovered by the pocket with probability ``recovery``.

    Aircraft pass over it at least 1 / ``passes_per_hour`` hours apart (no limit when
    not given).
    """

    pocket: Name = Field(description="The pocket that recovers the pallets.")
    recovery: Share = Field(description="Probability that one pallet is recovered.")
    pallet_t: PosFloat = Field(0.77, description="Mass of one pallet, t.")
    passes_per_hour: PosFloat | None = Field(
        None, description="Drop passes the zone takes per hour (none = unlimited)."
    )
    open: bool = Field(True, description="Usable (events overrun or reopen it).")
    lat: Latitude | None = Field(None, description="Latitude, degrees north (for flight times).")
    lon: Longitude | None = Field(None, description="Longitude, degrees east (for flight times).")
    weather_zone: Name | None = Field(
        None, description="Weather zone of the drop zone (none = the default [weather])."
    )

    @model_validator(mode="after")
    def _coordinates(self) -> DropZone:
        _both_or_neither(self.lat, self.lon)
        return self


class Fleet(_Model):
    """A group of identical aircraft, each flying its own sortie cycle.

    An aircraft takes off as soon as it is ready and allowed: inside the active
    window, on a listed weekday, mission-capable, within its flying-hour budget
    (``ute_h_day``), for a tasked opportunity when a ceiling ``sorties_per_day`` is
    given (due 1 / ``sorties_per_day`` days apart; one due while its targets are
    closed waits for their opening; one lost is not made up), in its base's window
    with the base's weather flyable. It flies to the first of its ``targets`` (in
    order of preference) that is open and flyable, lands (a runway, a parking place,
    the field's hours) and unloads for ``ground_h`` — or drops its load — and flies
    back; at home it is turned round for ``base_h`` (a base loading slot). An
    aircraft that cannot land or drop within ``holding_h`` of arriving diverts to
    its next target, or flies home with its load. Breakdowns last ``repair_days`` on
    average, so that a share ``mission_capable`` of the time an aircraft is fit to
    fly. The fleet's aircraft start spread over their cycle from ``depart_h`` on
    their first day.

    One-way flight time: ``flight_h`` when given, else the great-circle distance from
    the ``base`` to the target ÷ ``block_speed_kmh`` (the base and the targets need
    ``lat``/``lon``).
    """

    mode: Mode = Field(
        description="land (airfields), helicopter (helipads) or airdrop (drop zones); "
        "an event cannot change it."
    )
    aircraft: Annotated[int, Field(ge=0, le=MAX_AIRCRAFT)] = Field(
        description="Serviceable aircraft; an event setting it replaces aircraft lost so far."
    )
    payload_t: PosFloat = Field(description="Payload per sortie, t.")
    cargo: dict[Name, Share] = Field(description="Share of the payload per commodity (sums to 1).")
    base: Name | None = Field(
        None, description="Home base (a [bases] entry); none = an unconstrained home."
    )
    flight_h: PosFloat | None = Field(
        None, description="One-way flight time, h (none: from the base's distance and speed)."
    )
    block_speed_kmh: PosFloat | None = Field(
        None, description="Block speed, km/h: flight time = great-circle distance ÷ speed."
    )
    ground_h: NonNegFloat = Field(
        0.0, description="Time on a parking place at the destination to unload, open hours."
    )
    base_h: NonNegFloat = Field(
        0.0, description="Turnaround at home after a sortie (refuel, load), h; a loading slot."
    )
    depart_h: Hour = Field(6.0, description="Hour of day of the fleet's first departure.")
    days: list[Weekday] = Field(
        default_factory=lambda: list(WEEKDAYS), description="Weekdays of departure (mon..sun)."
    )
    sorties_per_day: Annotated[float, Field(gt=0.0, le=MAX_SORTIES_PER_DAY)] | None = Field(
        None,
        description="Tasking ceiling: sorties per aircraft per day at most (its opportunities "
        "are due 1 / this apart; one kept waiting by a window or a queue is still flown, one "
        "lost to a breakdown or the weather is not made up); none = no ceiling.",
    )
    ute_h_day: Annotated[float, Field(gt=0.0, le=24.0)] | None = Field(
        None, description="Flying-hour budget per aircraft per day (UTE rate); none = no budget."
    )
    mission_capable: Share = Field(1.0, description="Long-run share of the time fit to fly.")
    repair_days: PosFloat = Field(
        2.0, description="Mean length of a breakdown (not mission-capable spell), days."
    )
    holding_h: NonNegFloat = Field(
        1.0,
        description="Longest wait in the air for a landing or a drop pass before diverting "
        "to the next target or flying home with the load, h.",
    )
    active_from: dt.date | None = Field(None, description="First day the fleet flies.")
    active_to: dt.date | None = Field(None, description="Last day the fleet flies.")
    targets: list[Name] = Field(min_length=1, description="Delivery points in order of preference.")
    loss_per_sortie: Share = Field(
        0.0,
        description="Chance a sortie loses its aircraft (× the threat's multiplier with a siege).",
    )
    replacement_days: PosFloat | None = Field(
        None, description="Mean delay before a lost aircraft is replaced, days (none = never)."
    )
    origin: Name | None = Field(
        None, description="Pocket the cargo is taken from (a shuttle); none = from outside."
    )
    origin_reserve_days: NonNegFloat = Field(
        0.0,
        description="A shuttle leaves this many days of full demand of each commodity in its "
        "origin pocket and carries only the stock above it.",
    )

    @field_validator("cargo")
    @classmethod
    def _cargo_sums_to_one(cls, v: dict[str, float]) -> dict[str, float]:
        if not v:
            raise ValueError("cargo must name at least one commodity")
        total = sum(v.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"cargo shares must sum to 1, got {total:g}")
        return v

    @field_validator("days")
    @classmethod
    def _days_unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("days lists a weekday twice")
        return v


class Route(_Model):
    """A ground supply line between two pockets.

    While open it moves stock, up to ``capacity_t_day`` per day in all, from the
    pocket with more days of supply towards the one with fewer, commodity by
    commodity. A convoy arrives ``transit_days`` later; a share
    ``interdiction`` × (1 + siege.effects.interdiction × (θ − 1)) of it is destroyed
    on departure.
    """

    a: Name = Field(description="One end (a pocket).")
    b: Name = Field(description="The other end (a pocket).")
    capacity_t_day: NonNegFloat = Field(description="Tonnes per day the route can carry.")
    transit_days: NonNegFloat = Field(0.0, description="Travel time, days.")
    open: bool = Field(True, description="Passable (events cut and reopen it).")
    interdiction: Share = Field(0.0, description="Share of each convoy destroyed at θ = 1.")


class Weather(_Model):
    """The climate of a weather zone, by month: unflyable, degraded and fine days.

    Unflyable days come in spells: a two-state Markov chain whose stationary share of
    unflyable days is ``unflyable_share`` and whose unflyable spells last
    ``mean_spell_days`` on average (geometric). A flyable day is *degraded* (fog, dust,
    low cloud: landings slowed, not stopped) so that degraded days are a share
    ``degraded_share`` of all days; on those the landing interval of every runway in
    the zone is × ``degraded_landing_factor``. The first three keys are one number or
    an array of 12 monthly values (January to December); the month of each day
    applies. Nothing takes off from or flies to a place on a day its zone is unflyable.

    ``[weather]`` is the default zone: every base and delivery point without a
    ``weather_zone`` lies in it, and the combat air sorties of the siege fly in it.
    """

    unflyable_share: MonthlyUnflyable = Field(
        0.0, description="Long-run share of days on which nothing flies (monthly)."
    )
    mean_spell_days: MonthlySpell = Field(
        1.0, description="Mean length of an unflyable spell, days (monthly)."
    )
    degraded_share: MonthlyShare = Field(
        0.0, description="Share of all days that are flyable but degraded (monthly)."
    )
    degraded_landing_factor: Annotated[float, Field(ge=1.0)] = Field(
        1.0, description="Landing interval × this on degraded days."
    )

    @model_validator(mode="after")
    def _shares_fit(self) -> Weather:
        u = month_values(self.unflyable_share)
        g = month_values(self.degraded_share)
        for i, (a, b) in enumerate(zip(u, g, strict=True)):
            if a + b > 1.0 + 1e-12:
                raise ValueError(
                    f"unflyable_share + degraded_share is {a + b:g} in {MONTHS[i]}; "
                    "they are shares of the same days and cannot exceed 1"
                )
        return self


class SiegeEffects(_Model):
    """How the threat θ = H / H_ref acts on the enclave.

    Each elasticity e turns θ into a multiplier max(0, 1 + e (θ − 1)): e = 1 is
    proportional to θ, e = 0 switches the effect off.
    """

    airfield_closure_per_day: Share = Field(
        0.0,
        description="Chance per day that shelling shuts an exposed airfield/helipad at θ = 1 "
        "(a closure starts).",
    )
    closure_mean_days: Annotated[float, Field(ge=1.0)] = Field(
        1.0, description="Mean length of a shelling closure, days (geometric)."
    )
    closure: NonNegFloat = Field(1.0, description="Elasticity of the closure chance to θ.")
    sortie_loss: NonNegFloat = Field(1.0, description="Elasticity of sortie loss to θ.")
    interdiction: NonNegFloat = Field(1.0, description="Elasticity of route interdiction to θ.")
    ammunition: NonNegFloat = Field(1.0, description="Elasticity of garrison ammunition use to θ.")


class Siege(_Model):
    """The besieging force and the combat air sorties flown against it.

    Each day the besiegers' heavy weapons H grow by ``reinforcement_per_day``; the
    realised combat sorties (Poisson around ``combat_sorties_per_day``, scaled by
    ``unflyable_sortie_share`` on unflyable days) destroy on average
    ``targets_per_sortie`` each. Threat θ = H / ``reference_weapons``.
    """

    weapons: NonNegFloat = Field(0.0, description="Besiegers' heavy weapons at day 0 (H).")
    reinforcement_per_day: NonNegFloat = Field(0.0, description="Weapons added per day.")
    reference_weapons: PosFloat = Field(1.0, description="H_ref: the H at which θ = 1.")
    combat_sorties_per_day: NonNegFloat = Field(0.0, description="Planned combat sortie tempo.")
    targets_per_sortie: NonNegFloat = Field(0.0, description="Targets destroyed per sortie.")
    unflyable_sortie_share: Share = Field(
        0.0, description="Share of the tempo still flown on an unflyable day."
    )
    effects: SiegeEffects = Field(default_factory=SiegeEffects)


class Event(_Model):
    """A dated change: at 00:00 on ``date`` every ``set`` path takes its new value."""

    date: dt.date
    title: str = Field(min_length=1, description="Shown on the plots.")
    set: dict[str, Any] = Field(
        min_length=1, description='Dotted parameter path → new value, e.g. "routes.x.open" = false.'
    )


class Selector(_Model):
    """Which part of the model an observation looks at (all given filters apply)."""

    fleets: list[Name] | None = None
    mode: Mode | None = None
    pocket: Name | None = None
    commodity: Name | list[Name] | None = Field(
        None,
        description="A commodity, or a list of them (the figure covers their sum), e.g. "
        '["food", "medical"] for a source that counts humanitarian cargo only.',
    )

    @property
    def commodities(self) -> list[str] | None:
        """The selected commodities as a list (None: all)."""
        if self.commodity is None:
            return None
        return [self.commodity] if isinstance(self.commodity, str) else list(self.commodity)


class Observation(_Model):
    """A historical figure the run is compared with.

    Give either ``value`` or ``range``. The model's median is within tolerance when
    it lies within max(``tolerance`` × |value|, ``abs_tolerance``) of ``value``, or
    inside ``range`` widened by that slack at each end.
    """

    id: Name
    metric: ObservationMetric = Field(
        description="What the figure is: "
        + "; ".join(
            f"{name}: {d.definition}, {d.unit}, by default {d.default}"
            for name, d in OBSERVATION_METRICS.items()
        )
        + "."
    )
    aggregate: Aggregate | None = Field(
        None,
        description="How the window's daily values become one figure: "
        + "; ".join(f"{name}: {text}" for name, text in AGGREGATES.items())
        + ". Default: the metric's own (see metric). A level (stock_t, days_of_supply, "
        "ration_level) and a per-day figure cannot be a total.",
    )
    selector: Selector = Field(default_factory=Selector)
    from_: dt.date = Field(alias="from", description="First day of the window.")
    to: dt.date = Field(description="Last day of the window (inclusive).")
    value: float | None = None
    range: tuple[float, float] | None = None
    unit: str = ""
    tolerance: Share = Field(0.10, description="Relative tolerance on the median.")
    abs_tolerance: NonNegFloat = Field(0.0, description="Absolute tolerance, in the metric's unit.")
    source: str = Field(min_length=1)
    note: str = ""
    role: ObservationRole = Field(
        "calibration",
        description="calibration: a figure a fit may use (siege calibrate); validation: "
        "held out, never used by a fit, only compared with its prediction.",
    )

    @field_validator("range", mode="before")
    @classmethod
    def _range_from_array(cls, v: Any) -> Any:
        """TOML has arrays, not tuples: ``range = [low, high]`` (each still strictly a number)."""
        return tuple(v) if isinstance(v, list) else v

    @model_validator(mode="after")
    def _value_or_range(self) -> Observation:
        if (self.value is None) == (self.range is None):
            raise ValueError("give exactly one of value or range")
        if self.range is not None and self.range[0] > self.range[1]:
            raise ValueError("range must be [low, high] with low <= high")
        if self.to < self.from_:
            raise ValueError("'to' is before 'from'")
        return self

    @property
    def how(self) -> Aggregate:
        """The aggregation in force: ``aggregate``, or the metric's default."""
        return self.aggregate or OBSERVATION_METRICS[self.metric].default

    @property
    def observed(self) -> float:
        """The single observed figure: ``value``, or the middle of ``range``."""
        if self.value is not None:
            return self.value
        assert self.range is not None
        return 0.5 * (self.range[0] + self.range[1])


class Scenario(_Model):
    """One enclave, its supply and its siege: the whole input of a run."""

    name: Name = Field(description="Used for the default result folder.")
    title: str = ""
    description: str = ""
    seed: NonNegInt = Field(0, description="Root seed of all random streams.")
    replications: PosInt = Field(20, description="Default number of replications.")
    stochastic: bool = Field(
        True,
        description="False replaces every random draw by its expectation (deterministic limit).",
    )
    calendar: Calendar
    commodities: dict[Name, Commodity] = Field(min_length=1)
    pockets: dict[Name, Pocket] = Field(min_length=1)
    bases: dict[Name, Base] = Field(default_factory=dict)
    airfields: dict[Name, Airfield] = Field(default_factory=dict)
    helipads: dict[Name, Airfield] = Field(default_factory=dict)
    drop_zones: dict[Name, DropZone] = Field(default_factory=dict)
    fleets: dict[Name, Fleet] = Field(default_factory=dict)
    routes: dict[Name, Route] = Field(default_factory=dict)
    weather: Weather = Field(default_factory=Weather)
    weather_zones: dict[Name, Weather] = Field(default_factory=dict)
    siege: Siege | None = Field(
        None,
        description="The besieging force; without it the threat is θ = 1 for ever (loss rates, "
        "interdiction and ammunition use apply as written, no shelling closures).",
    )
    events: list[Event] = Field(default_factory=list)
    observations: list[Observation] = Field(default_factory=list)


def check_references(s: Scenario) -> list[tuple[str, str]]:
    """Cross-reference checks pydantic cannot express field by field.

    Returns ``(dotted path, problem)`` pairs, empty when the scenario is consistent.
    """
    problems: list[tuple[str, str]] = []
    pockets = set(s.pockets)
    commodities = set(s.commodities)
    cal = s.calendar

    def unknown(path: str, kind: str, name: str, known: set[str]) -> None:
        hint = ", ".join(sorted(known)) or "none defined"
        problems.append((path, f"unknown {kind} {name!r} (known: {hint})"))

    names: dict[str, str] = {}
    for section in ("airfields", "helipads", "drop_zones"):
        for n in getattr(s, section):
            if n in names:
                problems.append((f"{section}.{n}", f"name also used in {names[n]}"))
            names[n] = section

    for p, pocket in s.pockets.items():
        for c in pocket.stock_t:
            if c not in commodities:
                unknown(f"pockets.{p}.stock_t.{c}", "commodity", c, commodities)
    for section in ("airfields", "helipads", "drop_zones"):
        for n, point in getattr(s, section).items():
            if point.pocket not in pockets:
                unknown(f"{section}.{n}.pocket", "pocket", point.pocket, pockets)

    zones = set(s.weather_zones)
    for section in ("bases", "airfields", "helipads", "drop_zones"):
        for n, place in getattr(s, section).items():
            if place.weather_zone is not None and place.weather_zone not in zones:
                unknown(f"{section}.{n}.weather_zone", "weather zone", place.weather_zone, zones)

    landing = set(s.airfields) | set(s.helipads)
    points = {**s.airfields, **s.helipads, **s.drop_zones}
    for f, fleet in s.fleets.items():
        if fleet.base is not None and fleet.base not in s.bases:
            unknown(f"fleets.{f}.base", "base", fleet.base, set(s.bases))
        elif fleet.flight_h is None:
            problem = _flight_time_problem(fleet, s.bases, points)
            if problem:
                problems.append(
                    (
                        f"fleets.{f}.flight_h",
                        "no flight time: give flight_h, or block_speed_kmh with a base whose "
                        f"lat/lon are set and lat/lon on every target ({problem})",
                    )
                )
        for c in fleet.cargo:
            if c not in commodities:
                unknown(f"fleets.{f}.cargo.{c}", "commodity", c, commodities)
        allowed = set(s.drop_zones) if fleet.mode == "airdrop" else landing
        kind = "drop zone" if fleet.mode == "airdrop" else "airfield or helipad"
        for i, t in enumerate(fleet.targets):
            if t not in allowed:
                where = names.get(t)
                if where is not None:
                    problems.append(
                        (
                            f"fleets.{f}.targets[{i}]",
                            f"{t!r} is in {where}; a {fleet.mode} fleet needs a {kind}",
                        )
                    )
                else:
                    unknown(f"fleets.{f}.targets[{i}]", kind, t, allowed)
        if fleet.origin is not None and fleet.origin not in pockets:
            unknown(f"fleets.{f}.origin", "pocket", fleet.origin, pockets)
        for attr in ("active_from", "active_to"):
            d = getattr(fleet, attr)
            if d is not None and not (cal.start <= d <= cal.end):
                problems.append(
                    (
                        f"fleets.{f}.{attr}",
                        f"{d} is outside the calendar ({cal.start} to {cal.end})",
                    )
                )
        if fleet.active_from and fleet.active_to and fleet.active_to < fleet.active_from:
            problems.append((f"fleets.{f}.active_to", "is before active_from"))

    for r, route in s.routes.items():
        for end in ("a", "b"):
            name = getattr(route, end)
            if name not in pockets:
                unknown(f"routes.{r}.{end}", "pocket", name, pockets)
        if route.a == route.b:
            problems.append((f"routes.{r}.b", "a route must join two different pockets"))

    for i, ev in enumerate(s.events):
        if not (cal.start <= ev.date <= cal.end):
            problems.append(
                (
                    f"events[{i}].date",
                    f"{ev.date} is outside the calendar ({cal.start} to {cal.end})",
                )
            )

    seen: set[str] = set()
    for i, ob in enumerate(s.observations):
        path = f"observations[{i}]"
        if ob.id in seen:
            problems.append((f"{path}.id", f"duplicate observation id {ob.id!r}"))
        seen.add(ob.id)
        for attr, d in (("from", ob.from_), ("to", ob.to)):
            if not (cal.start <= d <= cal.end):
                problems.append(
                    (f"{path}.{attr}", f"{d} is outside the calendar ({cal.start} to {cal.end})")
                )
        sel = ob.selector
        spec = OBSERVATION_METRICS[ob.metric]
        for key in ("fleets", "mode", "pocket", "commodity"):
            if getattr(sel, key) is not None and key not in spec.selector:
                uses = ", ".join(spec.selector) or "no selector"
                problems.append(
                    (f"{path}.selector.{key}", f"metric {ob.metric} does not use it (uses {uses})")
                )
        if ob.aggregate is not None and ob.aggregate not in spec.aggregates:
            problems.append(
                (
                    f"{path}.aggregate",
                    f"{ob.aggregate!r} does not apply to {ob.metric} "
                    f"(use one of {', '.join(spec.aggregates)})",
                )
            )
        for j, f in enumerate(sel.fleets or []):
            if f not in s.fleets:
                unknown(f"{path}.selector.fleets[{j}]", "fleet", f, set(s.fleets))
        if sel.pocket is not None and sel.pocket not in pockets:
            unknown(f"{path}.selector.pocket", "pocket", sel.pocket, pockets)
        chosen = sel.commodities or []
        for j, c in enumerate(chosen):
            if c not in commodities:
                where = "commodity" if isinstance(sel.commodity, str) else f"commodity[{j}]"
                unknown(f"{path}.selector.{where}", "commodity", c, commodities)
        if len(set(chosen)) < len(chosen):
            problems.append((f"{path}.selector.commodity", "a commodity is listed twice"))
        if ob.metric in ("stock_t", "days_of_supply") and (
            sel.pocket is None or not isinstance(sel.commodity, str)
        ):
            problems.append(
                (f"{path}.selector", f"metric {ob.metric} needs a pocket and one commodity")
            )
        if ob.metric in ("ration_level",) and sel.pocket is None:
            problems.append((f"{path}.selector", "metric ration_level needs a pocket"))
    return problems


def shuttle_fleets(s: Scenario) -> list[str]:
    """Fleets that carry between pockets at some time: an ``origin`` in the file or set
    by an event (``fleets.<f>.origin``), in scenario order."""
    by_event = {
        path.split(".")[1]
        for ev in s.events
        for path, value in ev.set.items()
        if path.startswith("fleets.") and path.endswith(".origin") and value
    }
    return [f for f, fleet in s.fleets.items() if fleet.origin or f in by_event]


def _flight_time_problem(fleet: Fleet, bases: dict[str, Base], points: dict[str, Any]) -> str:
    """Why a fleet without ``flight_h`` has no computable flight time ("" if it has one)."""
    if fleet.block_speed_kmh is None:
        return "block_speed_kmh is not set"
    if fleet.base is None:
        return "base is not set"
    if bases[fleet.base].lat is None:
        return f"base {fleet.base!r} has no lat/lon"
    missing = [t for t in fleet.targets if t in points and points[t].lat is None]
    if missing:
        return f"target {missing[0]!r} has no lat/lon"
    return ""


def json_schema() -> dict[str, Any]:
    """JSON Schema of the scenario format (for editors), with ``extends`` allowed at the top."""
    schema = Scenario.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "siege-sim scenario"
    schema["properties"]["extends"] = {
        "type": "string",
        "description": "Path of a scenario this one inherits from (relative to this file).",
    }
    schema["properties"]["set"] = {
        "type": "object",
        "description": "Dotted path → value, applied after extends is merged, e.g. "
        '{ "events[3].date" = 2017-02-01 } (the same paths as --set).',
    }
    return schema


def schema_text() -> str:
    """The JSON Schema of the scenario format as committed in ``scenarios/schema.json``."""
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
