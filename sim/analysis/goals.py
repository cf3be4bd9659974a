"""Goals on metrics, and whether a sample of replications shows that a goal holds.

A **goal** is a comparison of one metric's expected value with a threshold, written
``METRIC OP VALUE`` with OP one of ``<=``, ``<``, ``>=``, ``>`` (``≤`` and ``≥`` are
accepted too); several goals are joined by ``and``::

    stockout__city__food <= 0.05 and min_days_of_supply__city__food >= 7

The expected value is that of the metric across replications: for a **share**
metric (0 or 1 per replication, see :mod:`sim.analysis.metric_registry`) it is a
probability, for any other metric a mean in the metric's unit.

**Judging a goal on a sample.** A goal is judged on a one-sided confidence bound at
level ``confidence``, never on the point estimate:

* a goal ``m <= t`` (or ``<``) is **met** when the *upper* bound of E[m] is ``<= t``
  (``< t``), and **not met** when the *lower* bound already exceeds it (the sample
  shows the opposite with the same confidence);
* a goal ``m >= t`` (or ``>``) mirrors this with the lower bound;
* otherwise it is **undecided**: more replications may decide it.

Bounds: Clopper–Pearson (exact binomial) for shares — with ``k`` of ``n``
replications at 1, the upper bound is the ``confidence`` quantile of
Beta(k + 1, n − k) (1 when k = n), the lower bound the ``1 − confidence`` quantile of
Beta(k, n − k + 1) (0 when k = 0); Student t for means — mean ± t(confidence, n − 1) ×
s / √n (infinite with a single replication). In the deterministic limit
(``exact=True``: every replication is the same) the bounds equal the estimate.

Each look at the data uses the nominal level; when a caller adds replications until a
goal is decided (sequential looks), the overall error rate can exceed
``1 − confidence`` somewhat. A sample where the metric is undefined (NaN in every
replication) leaves the goal undecided.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from sim.analysis import metric_registry
from sim.analysis.intervals import beta_quantile, t_quantile
from sim.analysis.metric_registry import MetricDef

Op = Literal["<=", "<", ">=", ">"]
Verdict = Literal["met", "not met", "undecided"]

OPS: tuple[str, ...] = ("<=", "<", ">=", ">")
_SYNONYMS = {"≤": "<=", "≥": ">="}

_COMPARISON = re.compile(
    r"^\s*(?P<metric>[A-Za-z0-9_]+)\s*(?P<op><=|>=|<|>|≤|≥)\s*(?P<value>[^\s]+)\s*$"
)
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)


class GoalError(ValueError):
    """A goal expression that cannot be parsed or names an unknown metric."""


@dataclass(frozen=True)
class Goal:
    """``metric op threshold``: a goal on the expected value of one metric."""

    metric: str
    op: Op
    threshold: float

    @property
    def upper(self) -> bool:
        """Whether the goal bounds the metric from above (``<=``, ``<``)."""
        return self.op in ("<=", "<")

    @property
    def side(self) -> str:
        """The confidence bound the goal is judged on: ``upper`` or ``lower``."""
        return "upper" if self.upper else "lower"

    @property
    def text(self) -> str:
        """The goal as written back (it parses to the same goal):
        ``stockout__city__food <= 0.05``."""
        return f"{self.metric} {self.op} {number_text(self.threshold)}"

    def holds(self, value: float) -> bool:
        """Whether ``value`` satisfies the comparison."""
        if self.op == "<=":
            return value <= self.threshold
        if self.op == "<":
            return value < self.threshold
        if self.op == ">=":
            return value >= self.threshold
        return value > self.threshold

    def margin(self, value: float) -> float:
        """How far ``value`` is on the good side of the threshold (negative: bad side)."""
        return self.threshold - value if self.upper else value - self.threshold


@dataclass(frozen=True)
class Judgement:
    """One goal judged on a sample: estimate, the bound it is judged on, verdict."""

    goal: Goal
    n: int
    estimate: float
    bound: float
    verdict: Verdict


def number_text(x: float) -> str:
    """The shortest text that reads back as ``x`` (``7`` for 7.0, ``0.05``, ``1e+20``)."""
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


def parse_goals(text: str, known: Sequence[str] | None = None) -> tuple[Goal, ...]:
    """Parse ``METRIC OP VALUE [and METRIC OP VALUE ...]``; raise :class:`GoalError`.

    ``known`` are the metric names the scenario gives; a name outside it, a metric
    that is a time which may never happen (``first_stockout_day__*``: use the
    ``stockout__*`` share instead), a threshold that is not a finite number, and the
    same metric bounded twice from the same side are errors.
    """
    if not text or not text.strip():
        raise GoalError(
            "the goal is empty: expected METRIC OP VALUE, e.g. stockout__city__food <= 0.05"
        )
    goals: list[Goal] = []
    seen: set[tuple[str, bool]] = set()
    for part in _AND.split(text.strip()):
        m = _COMPARISON.match(part)
        if not m:
            raise GoalError(
                f"cannot read {part.strip()!r}: expected METRIC OP VALUE with OP one of "
                f"{', '.join(OPS)}, goals joined by 'and'"
            )
        metric, op, raw = m["metric"], m["op"], m["value"]
        op = _SYNONYMS.get(op, op)
        try:
            threshold = float(raw)
        except ValueError:
            raise GoalError(f"{part.strip()!r}: {raw!r} is not a number") from None
        if not math.isfinite(threshold):
            raise GoalError(f"{part.strip()!r}: the threshold must be a finite number")
        if known is not None and metric not in known:
            raise GoalError(unknown_metric(metric, known))
        d = metric_registry.lookup(metric)
        if d is not None and d.never:
            raise GoalError(
                f"{metric} is a time that may never happen (NaN = never); set a goal on "
                f"stockout__{metric.split('__', 1)[1]} (its probability) instead"
            )
        goal = Goal(metric, op, threshold)  # type: ignore[arg-type]
        key = (metric, goal.upper)
        if key in seen:
            raise GoalError(f"{metric} is bounded twice from {'above' if goal.upper else 'below'}")
        seen.add(key)
        goals.append(goal)
    return tuple(goals)


def unknown_metric(metric: str, known: Sequence[str]) -> str:
    """The message for a metric name the scenario does not give, with the closest names."""
    close = difflib.get_close_matches(metric, list(known), n=3, cutoff=0.6)
    if close:
        return f"unknown metric {metric!r} — did you mean {', '.join(map(repr, close))}?"
    families = sorted({d.pattern for d in metric_registry.METRICS})
    return f"unknown metric {metric!r} (metric names: {', '.join(families)})"


def definition(goal: Goal) -> MetricDef | None:
    """The registry entry of the goal's metric."""
    return metric_registry.lookup(goal.metric)


def share_bounds(k: int, n: int, confidence: float) -> tuple[float, float]:
    """One-sided Clopper–Pearson bounds ``(lower, upper)`` of a probability, k of n."""
    if n <= 0:
        return 0.0, 1.0
    lower = 0.0 if k <= 0 else beta_quantile(1.0 - confidence, k, n - k + 1)
    upper = 1.0 if k >= n else beta_quantile(confidence, k + 1, n - k)
    return lower, upper


def mean_bounds(values: np.ndarray, confidence: float) -> tuple[float, float]:
    """One-sided Student-t bounds ``(lower, upper)`` of a mean (±∞ for one value)."""
    n = values.size
    mean = float(np.mean(values))
    if n < 2:
        return -math.inf, math.inf
    sd = float(np.std(values, ddof=1))
    half = t_quantile(confidence, n - 1) * sd / math.sqrt(n)
    return mean - half, mean + half


def judge(
    goal: Goal, values: Sequence[float], confidence: float, *, exact: bool = False
) -> Judgement:
    """Judge ``goal`` on the metric's values in a sample of replications.

    ``exact`` (the deterministic limit): the estimate is the value itself, with no
    sampling uncertainty. NaN values are left out.
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    n = int(v.size)
    if n == 0:
        return Judgement(goal, 0, math.nan, math.nan, "undecided")
    estimate = float(np.mean(v))
    if exact:
        lower = upper = estimate
    elif metric_registry.is_share(goal.metric):
        lower, upper = share_bounds(int(np.sum(v >= 0.5)), n, confidence)
    else:
        lower, upper = mean_bounds(v, confidence)
    bound, other = (upper, lower) if goal.upper else (lower, upper)
    if goal.holds(bound):
        verdict: Verdict = "met"
    elif not goal.holds(other):
        verdict = "not met"
    else:
        verdict = "undecided"
    return Judgement(goal, n, estimate, bound, verdict)


def min_replications(goal: Goal, confidence: float) -> int | None:
    """The fewest replications with which a share goal can be met at all (all at 0 for
    ``<=``; all at 1 for ``>=``); None for other goals, or a goal no sample can meet."""
    if not metric_registry.is_share(goal.metric):
        return None
    t = goal.threshold
    if goal.upper:
        if (t >= 1.0 and goal.op == "<=") or t > 1.0:
            return 1
        if t <= 0.0:
            return None
        # upper bound with k = 0 is 1 − (1 − confidence)^(1/n)
        n = math.log(1.0 - confidence) / math.log(1.0 - t)
    else:
        if (t <= 0.0 and goal.op == ">=") or t < 0.0:
            return 1
        if t >= 1.0:
            return None
        n = math.log(1.0 - confidence) / math.log(t)
    return max(1, math.ceil(n - 1e-9))
