"""The comparison folder while ``siege compare`` runs: its inputs, the finished
replications, and what ``--resume`` needs to finish it.

A comparison runs every scenario for the same replications ``0 .. N-1`` from the same
root seed (:mod:`sim.experiment.compare`). It is resumable like a sweep or a plan:
the folder is created at the start, holding the inputs, and each replication is kept
as soon as it finishes, so a comparison stopped at any moment (Ctrl-C, ``kill``,
``kill -9``, a lost machine) loses at most the replications in flight, and
``siege compare --resume DIR`` runs only the (scenario, replication) pairs still
missing.

Files while it runs (besides ``manifest.json``, whose ``status`` says ``running``,
``interrupted``, ``failed`` or ``complete``)::

    compare.toml                  seed, replications, the scenarios in order (label,
                                  name, the file given, its copy below); the first is
                                  the reference. --resume reads it.
    scenarios/<label>.toml        each resolved scenario (extends and --set applied)
    journal/<label>/<r>.npz       replication r of a scenario: its whole result (every
                                  daily series, counters, balance, events), written
                                  by the process that ran it, atomically

A kept replication is exact: float64 arrays as they are, the other numbers as JSON,
which writes a float by the shortest text that reads back to the same float. Every
replication, fresh or kept, reaches the comparison *as read back from its file*, so a
resumed comparison ends with the same bytes as an uninterrupted one (``manifest.json``
aside: it records the sessions and their times). The journal is removed once the
comparison's files are complete; it takes about 0.2 MB per replication of the Deir
ez-Zor baseline meanwhile.

**Changed inputs.** ``inputs.json`` records the fingerprint of the resolved inputs,
``compare.toml`` and every ``scenarios/<label>.toml``, as a sweep, plan or calibration
folder does (:mod:`sim.experiment.fingerprint`); ``--resume`` refuses a folder whose
inputs no longer match, naming the first value that changed. A kept replication is
also checked against the replication, seed and length of run it is used for.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import signal
import tomllib
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tomli_w

from sim import __version__
from sim.experiment import fingerprint, store
from sim.experiment.compare import check_calendars, labels_for
from sim.model.record import RunResult
from sim.model.world import run_replication
from sim.scenario.errors import ScenarioError
from sim.scenario.load import dump_toml, load_scenario
from sim.scenario.schema import Scenario

COMPARE_TOML = "compare.toml"
SCENARIOS_DIR = "scenarios"
JOURNAL_DIR = "journal"

RunFn = Callable[[Scenario, int, int], RunResult]
"""``run_fn(scenario, replication, seed)``: one replication (the model by default)."""


class CompareFolderError(ScenarioError):
    """The folder given to ``--resume`` is not a comparison that can be resumed."""


class CompareAlreadyCompleteError(CompareFolderError):
    """The folder given to ``--resume`` holds a complete comparison: there is nothing
    to resume (``siege compare --resume`` then exits 0, as for a complete sweep)."""


class CompareInterrupted(KeyboardInterrupt):
    """The comparison was interrupted (Ctrl-C, SIGTERM or SIGHUP); ``path`` is the
    folder to resume, ``signum`` the signal that stopped it."""

    def __init__(self, path: Path, signum: int = signal.SIGINT) -> None:
        super().__init__(str(path))
        self.path = path
        self.signum = int(signum)


# ---- the comparison: compare.toml and scenarios/ -----------------------------------------


@dataclass(frozen=True)
class CompareSpec:
    """What a comparison runs: the scenarios (reference first) under unique ``labels``,
    the files they came from (``sources``), the root seed and the replications."""

    scenarios: tuple[Scenario, ...]
    labels: tuple[str, ...]
    sources: tuple[str, ...]
    seed: int
    replications: int

    @property
    def reference(self) -> Scenario:
        """The first scenario: every other is compared with it."""
        return self.scenarios[0]


def scenario_file(label: str) -> str:
    """Where a comparison folder keeps the resolved scenario ``label``."""
    return f"{SCENARIOS_DIR}/{label}.toml"


def make_spec(
    scenarios: Sequence[Scenario], sources: Sequence[str], replications: int, seed: int
) -> CompareSpec:
    """The comparison of ``scenarios``; :class:`ScenarioError` if their calendars differ."""
    check_calendars(scenarios, sources)
    labels = labels_for([s.name for s in scenarios])
    return CompareSpec(
        tuple(scenarios), tuple(labels), tuple(str(s) for s in sources), seed, replications
    )


def compare_data(spec: CompareSpec) -> dict[str, Any]:
    """``compare.toml`` as plain data."""
    return {
        "seed": spec.seed,
        "replications": spec.replications,
        "scenarios": [
            {"label": label, "name": s.name, "source": source, "file": scenario_file(label)}
            for label, s, source in zip(spec.labels, spec.scenarios, spec.sources, strict=True)
        ],
    }


def inputs_fingerprint(spec: CompareSpec) -> fingerprint.Fingerprint:
    """The fingerprint of a comparison's resolved inputs (see
    :mod:`sim.experiment.fingerprint`)."""
    files = {COMPARE_TOML: fingerprint.settings_values(compare_data(spec))}
    for label, scenario in zip(spec.labels, spec.scenarios, strict=True):
        files[scenario_file(label)] = fingerprint.scenario_values(scenario)
    return fingerprint.fingerprint(files)


def write_inputs(folder: Path, spec: CompareSpec) -> None:
    """Write ``compare.toml``, ``scenarios/<label>.toml`` and ``inputs.json`` (their
    fingerprint) into the new ``folder``."""
    (folder / SCENARIOS_DIR).mkdir()
    for label, scenario in zip(spec.labels, spec.scenarios, strict=True):
        (folder / scenario_file(label)).write_text(dump_toml(scenario), encoding="utf-8")
    header = (
        f"# Generated by siege-sim {__version__}: the resolved comparison (the first\n"
        "# scenario is the reference). Resume an interrupted comparison with:\n"
        "#   siege compare --resume <this folder>\n\n"
    )
    text = header + tomli_w.dumps(compare_data(spec))
    (folder / COMPARE_TOML).write_text(text, encoding="utf-8")
    fingerprint.record(folder, inputs_fingerprint(spec))


_LABEL = re.compile(r"^[a-z][a-z0-9_]*(-[0-9]+)?$")
"""A scenario label: its name (snake_case), ``-2``, ``-3``... on repeats (a file name)."""


def load_spec(folder: Path, check: bool = False) -> CompareSpec:
    """The comparison of a folder (``compare.toml`` and its scenario files), re-validated.

    With ``check``, its inputs must also be those it began with (the fingerprint in
    ``inputs.json``). Raises :class:`CompareFolderError` (or the :class:`ScenarioError`
    of a scenario file) if the folder cannot be resumed.
    """
    path = folder / COMPARE_TOML
    if not path.is_file():
        raise CompareFolderError(
            str(folder), "", f"not a resumable comparison folder (no {COMPARE_TOML})"
        )
    label = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        entries = data["scenarios"]
        seed, replications = int(data["seed"]), int(data["replications"])
        labels = [str(e["label"]) for e in entries]
        sources = [str(e["source"]) for e in entries]
        files = [str(e["file"]) for e in entries]
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise CompareFolderError(label, "", f"invalid TOML: {err}") from None
    except (KeyError, TypeError, ValueError) as err:
        raise CompareFolderError(label, "", f"incomplete or malformed comparison ({err})") from None
    if len(labels) < 2 or replications < 1 or seed < 0:
        raise CompareFolderError(
            label, "", "needs at least two scenarios, replications ≥ 1 and a seed ≥ 0"
        )
    for lab, file in zip(labels, files, strict=True):
        if not _LABEL.match(lab) or file != scenario_file(lab):
            raise CompareFolderError(
                label, "scenarios", f"label {lab!r} with file {file!r} is not one siege wrote"
            )
    missing = [f for f in files if not (folder / f).is_file()]
    if missing:
        raise CompareFolderError(str(folder), "", f"{', '.join(missing)} missing")
    scenarios = [load_scenario(folder / f) for f in files]
    spec = make_spec(scenarios, sources, replications, seed)
    if list(spec.labels) != labels:
        raise CompareFolderError(
            label, "scenarios", f"the labels {labels} do not match the scenarios' names"
        )
    if check:
        try:
            recorded = fingerprint.check(folder, inputs_fingerprint(spec), "comparison")
        except ScenarioError as err:
            raise CompareFolderError(err.file, err.path, err.message) from None
        if not recorded:
            raise CompareFolderError(
                str(folder / fingerprint.INPUTS_JSON), "", "missing: cannot check the inputs"
            )
    return spec


# ---- journal/: the finished replications -------------------------------------------------


def replication_path(folder: Path | str, label: str, replication: int) -> Path:
    """Where replication ``replication`` of scenario ``label`` is kept."""
    return Path(folder) / JOURNAL_DIR / label / f"{replication}.npz"


def _plain(x: Any) -> Any:
    if isinstance(x, np.integer):
        return int(x)
    raise TypeError(f"cannot keep a {type(x).__name__} in a replication's record")


def encode_result(result: RunResult) -> bytes:
    """``result`` as the bytes of a compressed ``.npz``: one float array per series and
    a JSON record of the rest (exact; read back by :func:`decode_result`)."""
    meta = {
        "replication": int(result.replication),
        "seed": int(result.seed),
        "n_days": int(result.n_days),
        "series": list(result.series),
        "counters": result.counters,
        "balance": [[p, c, terms] for (p, c), terms in result.balance.items()],
        "events": [[int(day), title] for day, title in result.events],
        "sim_events": int(result.sim_events),
    }
    # typed as Any: numpy's stub would let a ** mapping fill its allow_pickle flag
    arrays: dict[str, Any] = {"meta": np.array(json.dumps(meta, default=_plain))}
    arrays.update({f"s{i}": np.asarray(a) for i, a in enumerate(result.series.values())})
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def decode_result(data: bytes) -> RunResult:
    """The :class:`RunResult` of :func:`encode_result`'s bytes (``ValueError`` if they
    are not such a record)."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            meta = json.loads(str(npz["meta"][()]))
            series = {name: npz[f"s{i}"] for i, name in enumerate(meta["series"])}
        return RunResult(
            replication=int(meta["replication"]),
            seed=int(meta["seed"]),
            n_days=int(meta["n_days"]),
            series=series,
            counters=dict(meta["counters"]),
            balance={(p, c): dict(terms) for p, c, terms in meta["balance"]},
            events=[(int(day), str(title)) for day, title in meta["events"]],
            sim_events=int(meta["sim_events"]),
        )
    except (OSError, KeyError, TypeError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise ValueError(f"not a kept replication ({type(err).__name__}: {err})") from None


def read_replication(path: Path, replication: int, seed: int, n_days: int) -> RunResult | None:
    """The kept replication at ``path`` if it is there, readable and the one asked for
    (replication, seed and number of days), else None (it is then run again)."""
    try:
        result = decode_result(path.read_bytes())
    except (OSError, ValueError):
        return None
    if (result.replication, result.seed, result.n_days) != (replication, seed, n_days):
        return None
    return result


@dataclass(frozen=True)
class JournalledRun:
    """A run function for :func:`sim.experiment.replicate.iter_replications` that keeps
    each replication of scenario ``label`` in the folder's journal: a kept one is read
    back, a missing one is run (by ``run_fn``, default the model), written, and read back
    from the bytes written. Runs in the worker processes (it pickles)."""

    folder: str
    label: str
    run_fn: RunFn | None = None

    def __call__(self, scenario: Scenario, replication: int, seed: int) -> RunResult:
        """Replication ``replication`` of ``scenario`` from root ``seed``."""
        path = replication_path(self.folder, self.label, replication)
        kept = read_replication(path, replication, seed, scenario.calendar.n_days)
        if kept is not None:
            return kept
        run = self.run_fn or run_replication
        data = encode_result(run(scenario, replication, seed))
        store.atomic_write(path, data)
        return decode_result(data)


def open_journal(folder: Path, spec: CompareSpec) -> int:
    """Create ``journal/<label>/`` for every scenario; return :func:`kept`."""
    for label in spec.labels:
        (folder / JOURNAL_DIR / label).mkdir(parents=True, exist_ok=True)
    return kept(folder, spec)


def kept(folder: Path, spec: CompareSpec) -> int:
    """How many of the comparison's replications the journal holds."""
    return sum(
        1
        for label in spec.labels
        for r in range(spec.replications)
        if replication_path(folder, label, r).is_file()
    )


def remove_journal(folder: Path) -> None:
    """Remove ``journal/`` once the comparison's files are complete."""
    shutil.rmtree(folder / JOURNAL_DIR, ignore_errors=True)
