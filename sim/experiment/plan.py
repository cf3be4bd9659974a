"""Planning: the least (or the most) of one parameter for which a goal holds.

``siege plan SCENARIO --vary PATH=LOW:HIGH --goal "EXPR"`` answers the planner's
question "what is the least I must send so that the enclave holds?": the smallest
value of one parameter in ``[LOW, HIGH]`` for which the goal
(:mod:`sim.analysis.goals`) holds at the requested confidence — or, when the goal
gets *harder* as the parameter grows (a later relief date), the largest (latest) one.

**Candidates.** The range is a grid: whole numbers for an integer parameter (aircraft),
days for a date (``events[17].date``), ``LOW + k × STEP`` for a real one (STEP given
as ``LOW:HIGH:STEP``, default 1/100 of the range). :class:`Vary` maps grid index
``k = 0 .. last`` to its value.

**Evaluating a candidate.** Replications are run in batches of :data:`BATCH` (the
same replications ``0, 1, 2...`` at every candidate — common random numbers, so the
differences between candidates are not noise) until every goal is decided by its
one-sided confidence bound, at most ``replications`` (the cap). A candidate still
undecided at the cap is **counted as not met** — the conservative choice: it pushes
the answer towards more resources (or an earlier date) — and ``trace.csv`` says so.
In the deterministic limit (``stochastic = false``) every replication is the same, so
one replication decides and the bound is the value itself.

**The search** (:func:`search`). Both ends are evaluated first. If the goal holds at
HIGH but not at LOW, feasibility rises with the parameter and bisection finds the
smallest feasible value; if it holds at LOW but not at HIGH, it falls, and bisection
finds the largest feasible value ("the latest relief date that still..."). Bisection
assumes the goal's feasibility is monotone in the parameter over the range (checked
only at the points it evaluates). If it holds at both ends the answer is the end the
goals' margins say is the tighter one (LOW unless the margins shrink towards HIGH);
if it holds at neither, there is no answer in the range (``null``, with the reason).

The search itself is pure: it asks a ``runs(index, replications)`` callable for the
goal metrics of replications of a candidate, so a journal can replay a previous
session's runs (:mod:`sim.experiment.plan_store`) and a test can pass a fake model.
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sim.analysis import goals as goals_mod
from sim.analysis.goals import Goal, GoalError, Judgement
from sim.analysis.metric_registry import metric_names
from sim.scenario.errors import ScenarioError
from sim.scenario.load import with_values
from sim.scenario.paths import PathError, format_path, parse_path, set_path, type_at, unwrap
from sim.scenario.schema import Scenario

BATCH = 20
"""Replications added at a candidate per look (fixed, so that results do not depend on
the number of workers)."""

REAL_STEPS = 100
"""A real-valued parameter's default grid: the range in this many steps."""

KINDS: tuple[str, ...] = ("integer", "real", "date")

Value = int | float | dt.date

RunsFn = Callable[[int, range], list[tuple[float, ...]]]
"""``runs(index, replications)`` → the goal metrics (:attr:`PlanSpec.metrics` order)
of those replications of candidate ``index``."""


# ---- the varied parameter --------------------------------------------------------------


@dataclass(frozen=True)
class Vary:
    """The parameter a plan varies: its dotted path, kind and grid ``low + k × step``."""

    path: str
    kind: str
    low: Value
    high: Value
    step: float

    @property
    def last(self) -> int:
        """The grid index of ``high``."""
        if self.kind == "date":
            assert isinstance(self.low, dt.date) and isinstance(self.high, dt.date)
            return math.ceil((self.high - self.low).days / self.step - 1e-9)
        span = float(self.high) - float(self.low)  # type: ignore[arg-type]
        return max(0, math.ceil(span / self.step - 1e-9))

    def value(self, k: int) -> Value:
        """The value at grid index ``k`` (``high`` at the last index)."""
        if not 0 <= k <= self.last:
            raise IndexError(f"grid index {k} outside 0..{self.last}")
        if k == self.last:
            return self.high
        if self.kind == "date":
            assert isinstance(self.low, dt.date)
            return self.low + dt.timedelta(days=round(k * self.step))
        if self.kind == "integer":
            return int(self.low) + round(k * self.step)  # type: ignore[arg-type]
        return float(f"{float(self.low) + k * self.step:.12g}")  # type: ignore[arg-type]

    @property
    def unit_word(self) -> tuple[str, str]:
        """How the two ends of the answer are called: smallest/largest or earliest/latest."""
        return ("earliest", "latest") if self.kind == "date" else ("smallest", "largest")

    def as_data(self) -> dict[str, Any]:
        """Plain data for ``plan.toml``."""
        step: int | float = int(self.step) if float(self.step).is_integer() else self.step
        return {"path": self.path, "low": self.low, "high": self.high, "step": step}


def _kind_of(path: str, segments: tuple[Any, ...]) -> str | None:
    """``integer``, ``real``, ``date``, or None when the field is of another type (a
    ``bool``, a string...). An event's ``set."inner.path"`` takes the inner path's type."""
    if len(segments) == 4 and segments[0] == "events" and segments[2] == "set":
        try:
            segments = parse_path(str(segments[3]))
        except PathError:
            return None
    found = type_at(Scenario, segments)
    if found is None:
        return None
    tp, _ = unwrap(found[0])
    if tp is bool:
        return None
    if tp is int:
        return "integer"
    if tp is float:
        return "real"
    if tp is dt.date:
        return "date"
    return None


def _literal(raw: str, path: str) -> Any:
    text = raw.strip()
    if not text:
        raise ScenarioError("--vary", path, "a value is missing: expected PATH=LOW:HIGH")
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        raise ScenarioError(
            "--vary", path, f"{text!r} is not a number or a date (YYYY-MM-DD)"
        ) from None


def _split_option(text: str) -> tuple[str, str]:
    """``PATH=SPEC`` split at the first ``=`` outside double quotes."""
    quoted = False
    for i, ch in enumerate(text):
        if ch == '"':
            quoted = not quoted
        elif ch == "=" and not quoted:
            return text[:i].strip(), text[i + 1 :].strip()
    raise ScenarioError("--vary", "", f"malformed {text!r}: expected PATH=LOW:HIGH")


def parse_vary(text: str, base: Scenario) -> Vary:
    """``PATH=LOW:HIGH[:STEP]`` → :class:`Vary`, checked against ``base``.

    Errors (:class:`ScenarioError` naming ``--vary`` and the path): a malformed option,
    an unknown path, a path that is not numeric or date-valued, LOW or HIGH of the
    wrong type or invalid in the scenario, LOW > HIGH, a non-positive STEP.
    """
    path_text, spec = _split_option(text)
    if not path_text:
        raise ScenarioError("--vary", "", f"malformed {text!r}: the path before '=' is missing")
    try:
        segments = parse_path(path_text)
    except PathError as exc:
        raise ScenarioError("--vary", path_text, str(exc)) from None
    path = format_path(segments)
    parts = spec.split(":")
    if len(parts) not in (2, 3):
        raise ScenarioError(
            "--vary", path, f"malformed range {spec!r}: expected LOW:HIGH or LOW:HIGH:STEP"
        )
    low, high = _literal(parts[0], path), _literal(parts[1], path)
    try:  # does the path name a key of the scenario format (an existing entry)?
        set_path(base.model_dump(by_alias=True), segments, low, Scenario, new_entries=True)
    except PathError as exc:
        raise ScenarioError("--vary", path, str(exc)) from None
    kind = _kind_of(path, segments)
    if kind is None:
        raise ScenarioError("--vary", path, "is not a numeric or date-valued parameter")
    low, high = _coerce(low, kind, path, "LOW"), _coerce(high, kind, path, "HIGH")
    if low > high:  # type: ignore[operator]
        raise ScenarioError("--vary", path, f"LOW ({low}) is above HIGH ({high})")
    if len(parts) == 3:
        step_raw = _literal(parts[2], path)
        if isinstance(step_raw, bool) or not isinstance(step_raw, int | float):
            raise ScenarioError("--vary", path, f"STEP must be a number, got {parts[2]!r}")
        step = float(step_raw)
        if not (math.isfinite(step) and step > 0):
            raise ScenarioError("--vary", path, f"STEP must be above 0, got {parts[2]!r}")
        if kind in ("integer", "date") and not step.is_integer():
            unit = "days" if kind == "date" else "a whole number"
            raise ScenarioError("--vary", path, f"STEP must be whole ({unit}), got {parts[2]!r}")
    elif kind == "real":
        span = float(high) - float(low)  # type: ignore[arg-type]
        step = span / REAL_STEPS if span > 0 else 1.0
        step = float(f"{step:.6g}")
    else:
        step = 1.0
    for which, v in (("LOW", low), ("HIGH", high)):
        try:
            with_values(base, {path: v}, source="--vary")
        except ScenarioError as err:
            where = "" if err.path in (path, "") else f"{err.path}: "
            raise ScenarioError("--vary", path, f"{which} = {v}: {where}{err.message}") from None
    return Vary(path, kind, low, high, step)


def _coerce(v: Any, kind: str, path: str, which: str) -> Value:
    if kind == "date":
        if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
            return v
        raise ScenarioError("--vary", path, f"is a date: {which} must be YYYY-MM-DD, got {v!r}")
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(float(v)):
        raise ScenarioError("--vary", path, f"is a number: {which} must be a number, got {v!r}")
    if kind == "integer":
        if not float(v).is_integer():
            raise ScenarioError(
                "--vary", path, f"is a whole number: {which} must be whole, got {v!r}"
            )
        return int(v)
    return float(v)


# ---- the plan ------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanSpec:
    """A validated plan: base scenario, varied parameter, goals and the sampling rules."""

    base: Scenario
    vary: Vary
    goal_text: str
    goals: tuple[Goal, ...]
    confidence: float
    replications: int
    seed: int
    batch: int = BATCH

    @property
    def exact(self) -> bool:
        """The deterministic limit: every replication is the same."""
        return not self.base.stochastic

    @property
    def metrics(self) -> tuple[str, ...]:
        """The metrics the goals need, in goal order, each once."""
        return tuple(dict.fromkeys(g.metric for g in self.goals))


def make_spec(
    base: Scenario,
    vary: str | Vary,
    goal: str,
    *,
    confidence: float = 0.95,
    replications: int | None = None,
    seed: int | None = None,
    batch: int = BATCH,
) -> PlanSpec:
    """Validate a plan's inputs; raise :class:`ScenarioError` (``--vary``, ``--goal``,
    ``--confidence``, ``--replications``) before anything runs."""
    v = vary if isinstance(vary, Vary) else parse_vary(vary, base)
    try:
        goals = goals_mod.parse_goals(goal, metric_names(base))
    except GoalError as err:
        raise ScenarioError("--goal", "", str(err)) from None
    if not (0.5 <= confidence < 1.0):
        raise ScenarioError("--confidence", "", f"must be in [0.5, 1), got {confidence:g}")
    cap = base.replications if replications is None else int(replications)
    if cap < 1:
        raise ScenarioError("--replications", "", f"must be at least 1, got {cap}")
    root = base.seed if seed is None else int(seed)
    if base.stochastic:
        for g in goals:
            need = goals_mod.min_replications(g, confidence)
            if need is not None and need > cap:
                raise ScenarioError(
                    "--replications",
                    "",
                    f"with at most {cap} replications the goal '{g.text}' can never be met at "
                    f"{confidence:.0%} confidence (a share needs at least {need}); raise "
                    "--replications",
                )
    return PlanSpec(
        base=base,
        vary=v,
        goal_text=" and ".join(g.text for g in goals),
        goals=goals,
        confidence=float(confidence),
        replications=cap,
        seed=root,
        batch=int(batch),
    )


# ---- evaluating candidates -------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    """One candidate evaluated: its replications, each goal judged, the verdict."""

    step: int
    index: int
    value: Value
    replications: int
    judgements: tuple[Judgement, ...]
    verdict: str
    """``met``, ``not met`` or ``undecided`` (at the cap)."""

    @property
    def met(self) -> bool:
        """Whether the candidate counts as meeting the goal (undecided counts as not)."""
        return self.verdict == "met"

    @property
    def note(self) -> str:
        """Why the verdict is what it is, when that needs saying."""
        if self.verdict == "undecided":
            return (
                f"undecided at the cap of {self.replications} replications: counted as "
                "not met (conservative)"
            )
        return ""


def combine(judgements: Sequence[Judgement]) -> str:
    """All goals met → ``met``; any shown not met → ``not met``; else ``undecided``."""
    verdicts = [j.verdict for j in judgements]
    if "not met" in verdicts:
        return "not met"
    if all(v == "met" for v in verdicts):
        return "met"
    return "undecided"


def evaluate(spec: PlanSpec, index: int, runs: RunsFn, step: int = 0) -> Evaluation:
    """Add batches of replications at candidate ``index`` until the goals are decided or
    the cap is reached (one replication in the deterministic limit)."""
    cap = 1 if spec.exact else spec.replications
    values: dict[str, list[float]] = {m: [] for m in spec.metrics}
    n = 0
    while True:
        target = min(cap, n + max(1, spec.batch))
        for row in runs(index, range(n, target)):
            for m, x in zip(spec.metrics, row, strict=True):
                values[m].append(x)
        n = target
        judgements = tuple(
            goals_mod.judge(g, values[g.metric], spec.confidence, exact=spec.exact)
            for g in spec.goals
        )
        verdict = combine(judgements)
        if verdict != "undecided" or n >= cap:
            return Evaluation(step, index, spec.vary.value(index), n, judgements, verdict)


# ---- the search ------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanOutcome:
    """The answer of a plan and how it was found."""

    answer: Value | None
    answer_index: int | None
    direction: str
    """``increasing`` (the goal holds from some value up), ``decreasing`` (up to some
    value), ``flat`` (the ends cannot tell), or ``none`` (met at neither end)."""
    extreme: str
    """``smallest``/``largest`` (``earliest``/``latest`` for dates), or ``""``."""
    statement: str
    reason: str
    trace: tuple[Evaluation, ...]


def _slope(lo: Evaluation, hi: Evaluation) -> int:
    """+1 if the goals' margins grow from LOW to HIGH, −1 if they all shrink, 0 else."""
    deltas = []
    for a, b in zip(lo.judgements, hi.judgements, strict=True):
        if not (math.isfinite(a.bound) and math.isfinite(b.bound)):
            continue
        deltas.append(a.goal.margin(b.bound) - a.goal.margin(a.bound))
    if deltas and all(d <= 0 for d in deltas) and any(d < 0 for d in deltas):
        return -1
    if deltas and all(d >= 0 for d in deltas) and any(d > 0 for d in deltas):
        return 1
    return 0


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def search(
    spec: PlanSpec,
    runs: RunsFn,
    on_evaluation: Callable[[Evaluation], None] | None = None,
) -> PlanOutcome:
    """Find the answer by evaluating the ends, then bisecting (see the module docstring).

    ``on_evaluation(e)`` is called after each candidate is decided (progress display).
    """
    trace: list[Evaluation] = []
    vary = spec.vary

    def ev(k: int) -> Evaluation:
        e = evaluate(spec, k, runs, step=len(trace) + 1)
        trace.append(e)
        if on_evaluation is not None:
            on_evaluation(e)
        return e

    low_word, high_word = vary.unit_word
    where = f"{vary.path} in [{_fmt(vary.low)}, {_fmt(vary.high)}]"
    goal = f"{spec.goal_text} (at {spec.confidence:.0%} confidence)"
    lo = ev(0)
    hi = ev(vary.last) if vary.last > 0 else lo
    if lo.met and hi.met:
        slope = _slope(lo, hi) if vary.last > 0 else 0
        k = vary.last if slope < 0 else 0
        direction = "decreasing" if slope < 0 else ("increasing" if slope > 0 else "flat")
        extreme = high_word if slope < 0 else low_word
        answer = vary.value(k)
        statement = f"the {extreme} {where} for which {goal} holds is {_fmt(answer)}"
        reason = (
            "the goal holds at both ends of the range, so (if its feasibility is monotone) "
            "everywhere in it; widen the range to find where it stops holding"
        )
        return PlanOutcome(answer, k, direction, extreme, statement, reason, tuple(trace))
    if not lo.met and not hi.met:
        slope = _slope(lo, hi) if vary.last > 0 else 0
        hint = {
            1: f"; the goals' margins improve towards HIGH: try values above {_fmt(vary.high)}",
            -1: f"; the goals' margins improve towards LOW: try values below {_fmt(vary.low)}",
        }.get(slope, "")
        ends = "at either end of" if vary.last > 0 else "at the single value of"
        reason = (
            f"the goal is not met {ends} the range, so (if its feasibility is monotone in "
            f"{vary.path}) nowhere in it{hint}"
        )
        statement = f"no value of {where} meets {goal}"
        return PlanOutcome(None, None, "none", "", statement, reason, tuple(trace))
    increasing = hi.met
    a, b = 0, vary.last  # a: the LOW side, b: the HIGH side of the bracket
    while b - a > 1:
        m = (a + b) // 2
        if ev(m).met == increasing:
            b = m
        else:
            a = m
    k = b if increasing else a
    extreme = low_word if increasing else high_word
    answer = vary.value(k)
    neighbour = next(e for e in trace if e.index == (a if increasing else b))
    statement = f"the {extreme} {where} for which {goal} holds is {_fmt(answer)}"
    reason = f"the goal holds at {_fmt(answer)} but not at the neighbouring {_fmt(neighbour.value)}"
    if neighbour.verdict == "undecided":
        reason += (
            f"; it was undecided there after {neighbour.replications} replications and "
            "counted as not met, so more replications may move the answer"
        )
    return PlanOutcome(
        answer,
        k,
        "increasing" if increasing else "decreasing",
        extreme,
        statement,
        reason,
        tuple(trace),
    )
