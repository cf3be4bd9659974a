"""Precision targets: enough replications for the mean of each named metric.

``siege run --precision P --metric M ...`` adds replications in batches until, for
every named metric, the half-width of the 95 % interval of its mean
(:mod:`sim.analysis.intervals`, the method the registry names) is

* at most ``P`` × |mean| for an ordinary metric (``P = 0.02``: within 2 % of the mean),
* at most ``P`` in absolute terms for a share (``stockout__*``, a probability: 0.02 is
  two percentage points).

A metric without an interval (fewer than two finite values, or a first stock-out
day that some replication never reached) has not reached its target. The metric
that **decides** is the one closest to (or furthest from) its target at the last
look: the largest half-width ÷ target. Looks happen after whole batches of
replications 0, 1, 2..., so the answer depends only on the seed, never on the number
of workers. Each look uses the nominal 95 %, so with many looks the coverage of the
final interval can be a little below 95 % (the same caveat as ``siege plan``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sim.analysis import metric_registry
from sim.analysis.intervals import half_width
from sim.analysis.summary import summarize_metric

BATCH = 20
"""Replications per batch: the first look comes after one batch."""

DEFAULT_METRICS: tuple[str, ...] = ("delivered_t", "person_days_below_half")
"""The metrics judged when ``--metric`` is not given."""

DEFAULT_MAX_REPLICATIONS = 1000
"""The cap when ``--max-replications`` is not given."""


@dataclass(frozen=True)
class Check:
    """One metric at one look: its mean, interval half-width and target half-width."""

    metric: str
    n: int
    mean: float | None
    half_width: float | None
    target: float | None
    share: bool

    @property
    def reached(self) -> bool:
        """Whether the half-width is within the target."""
        return (
            self.half_width is not None
            and self.target is not None
            and self.half_width <= self.target
        )

    @property
    def ratio(self) -> float:
        """half-width ÷ target (∞ when undefined or the target is 0 with some spread)."""
        if self.half_width is None or self.target is None:
            return math.inf
        if self.target == 0.0:
            return 0.0 if self.half_width == 0.0 else math.inf
        return self.half_width / self.target


def check(
    rows: Sequence[Mapping[str, float]], metrics: Sequence[str], precision: float, seed: int
) -> list[Check]:
    """Each metric's state after the replications in ``rows``."""
    out = []
    for name in metrics:
        s = summarize_metric(name, [r.get(name, math.nan) for r in rows], seed)
        half = half_width(s["ci95_low"], s["ci95_high"])
        share = metric_registry.is_share(name)
        mean = s["mean"]
        target = precision if share else (None if mean is None else precision * abs(mean))
        out.append(Check(name, int(s["n"]), mean, half, target, share))
    return out


def deciding(checks: Sequence[Check]) -> Check:
    """The metric furthest from (or closest to) its target: the one that decides."""
    return max(checks, key=lambda c: c.ratio)


def report(
    checks: Sequence[Check], precision: float, replications: int, cap: int
) -> dict[str, Any]:
    """The plain-data record of a precision run (manifest and console)."""
    decider = deciding(checks)
    reached = all(c.reached for c in checks)
    return {
        "precision": precision,
        "reached": reached,
        "replications": replications,
        "max_replications": cap,
        "batch": BATCH,
        "decided_by": decider.metric,
        "metrics": {
            c.metric: {
                "mean": c.mean,
                "half_width": c.half_width,
                "target_half_width": c.target,
                "relative": not c.share,
                "reached": c.reached,
            }
            for c in checks
        },
    }


def sentence(record: dict[str, Any]) -> str:
    """One line in words: how many replications, and which metric decided."""
    p = record["precision"]
    name = record["decided_by"]
    m = record["metrics"][name]
    half = m["half_width"]
    if half is None:
        state = "no interval"
    elif m["relative"] and m["mean"]:
        state = f"± {half:.4g} = {half / abs(m['mean']):.2%} of its mean"
    else:
        state = f"± {half:.4g}"
    goal = f"{p:.2%} of the mean" if m["relative"] else f"± {p:g}"
    if record["reached"]:
        return (
            f"precision {goal} reached after {record['replications']} replications; "
            f"decided by {name} ({state})"
        )
    return (
        f"precision {goal} NOT reached at the cap of {record['max_replications']} "
        f"replications; {name} is furthest from it ({state})"
    )
