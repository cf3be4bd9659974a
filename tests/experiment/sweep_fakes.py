"""Stand-ins for the model in sweep tests: module-level, so they pickle into workers.

Imported as ``sweep_fakes``: this folder is on pytest's ``pythonpath``
(``pyproject.toml``), which worker processes inherit.

Each ``evaluate(scenario, replication, seed) -> {metric: value}`` is a deterministic
function of the scenario's values and of (seed, replication) — like the model, whose
streams depend only on those — with a "replication noise" term shared by every
point (common random numbers).
"""

from __future__ import annotations

import os
import signal
import tempfile
import time
from pathlib import Path

import numpy as np

from sim.experiment.runner import default_evaluate
from sim.model.record import RunResult
from sim.model.world import run_replication
from sim.scenario.schema import Scenario


def _noise(seed: int, replication: int) -> float:
    return float(np.random.default_rng([seed, replication]).normal())


def smooth(scenario: Scenario, replication: int, seed: int) -> dict[str, float]:
    """y = aircraft × payload × recovery + noise; z = recovery² (no noise)."""
    fleet = scenario.fleets["drops"]
    recovery = scenario.drop_zones["field"].recovery
    y = fleet.aircraft * fleet.payload_t * recovery + _noise(seed, replication)
    return {"y": y, "z": recovery**2, "never": float("nan")}


def failing(scenario: Scenario, replication: int, seed: int) -> dict[str, float]:
    """As :func:`smooth`, but replication 1 of every point with 2 aircraft raises."""
    if scenario.fleets["drops"].aircraft == 2 and replication == 1:
        raise ValueError("engine fire\non the ramp")
    return smooth(scenario, replication, seed)


FLAKY_FLAG = "SIEGE_TEST_FLAKY"
"""Environment variable naming a file: while it exists, :func:`flaky` fails as :func:`failing`."""


def flaky(scenario: Scenario, replication: int, seed: int) -> dict[str, float]:
    """As :func:`failing` while the file named by ``$SIEGE_TEST_FLAKY`` exists, else
    :func:`smooth` (a fault that goes away: retried runs then succeed)."""
    flag = os.environ.get(FLAKY_FLAG)
    if flag and Path(flag).exists():
        return failing(scenario, replication, seed)
    return smooth(scenario, replication, seed)


def slow(scenario: Scenario, replication: int, seed: int) -> dict[str, float]:
    """As :func:`smooth`, taking 20 ms."""
    time.sleep(0.02)
    return smooth(scenario, replication, seed)


def bulky(scenario: Scenario, replication: int, seed: int) -> dict[str, float]:
    """As :func:`smooth`, after building 8 MB of daily series (then dropped)."""
    series = np.full((1000, 1000), float(replication))
    out = smooth(scenario, replication, seed)
    out["z"] = float(series[0, 0]) * 0.0 + out["z"]
    return out


def folder_files(d: Path) -> dict[str, bytes]:
    """Every file of a result folder but manifest.json: relative path → bytes."""
    return {
        str(p.relative_to(d)): p.read_bytes()
        for p in sorted(d.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


# ---- task functions for the executor tests ---------------------------------------------


def square(context: int, task: int) -> int:
    """``context × task²``."""
    return context * task * task


def sigint_handler(context: None, task: int) -> str:
    """The SIGINT disposition in the process running the task."""
    return str(signal.getsignal(signal.SIGINT))


def pid(context: None, task: int) -> int:
    """The id of the process running the task."""
    import os

    return os.getpid()


def boom(context: None, task: int) -> int:
    """Task 3 raises."""
    if task == 3:
        raise RuntimeError("boom")
    return task


# ---- workers that die ------------------------------------------------------------------


def dies(scenario: Scenario, replication: int, seed: int) -> dict[str, float]:
    """As :func:`smooth`, but replication 1 of every point with 2 aircraft kills its
    worker process (as the kernel's out-of-memory killer would)."""
    if scenario.fleets["drops"].aircraft == 2 and replication == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return smooth(scenario, replication, seed)


def die_on(context: int, task: int) -> int:
    """``2 × task``; task ``context`` ends its worker process (``os._exit``)."""
    if task == context:
        os._exit(3)
    return 2 * task


def die_once(context: str, task: int) -> int:
    """``2 × task``; task 3 kills its worker the first time (a marker file in the folder
    ``context`` remembers that it did)."""
    marker = Path(context) / f"died-{task}"
    if task == 3 and not marker.exists():
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return 2 * task


def handlers(context: None, task: int) -> tuple[str, str, str]:
    """The SIGINT, SIGTERM and SIGHUP dispositions in the process running the task."""
    return tuple(str(signal.getsignal(s)) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP))  # type: ignore[return-value]


def stubborn(context: object, task: int) -> int:
    """Task 0 ignores SIGTERM and then works on (as a worker that missed the pool's
    SIGTERM while starting would); task 1 ends its worker process."""
    if task == 0:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(120)
    elif task == 1:
        time.sleep(0.5)  # task 0 is under way
        os._exit(3)
    return task


def process_group(context: None, task: int) -> int:
    """The process group of the process running the task."""
    return os.getpgid(0)


def died_marker(seed: int, replication: int) -> Path:
    """Where :func:`replication_dies_once` notes that it killed its worker."""
    return Path(tempfile.gettempdir()) / f"siege-test-died-{seed}-{replication}"


def replication_dies_once(scenario: Scenario, replication: int, seed: int) -> RunResult:
    """The model's replication; replication 3 kills its worker the first time."""
    marker = died_marker(seed, replication)
    if replication == 3 and not marker.exists():
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return run_replication(scenario, replication, seed)


def replication_3_dies(scenario: Scenario, replication: int, seed: int) -> RunResult:
    """The model's replication; replication 3 always ends its worker process."""
    if replication == 3:
        os._exit(1)
    return run_replication(scenario, replication, seed)


def payload_kills_worker(scenario: Scenario, replication: int, seed: int) -> dict[str, float]:
    """The model's metrics; a candidate payload above 4 t kills its worker process on
    replication 0 (every time: a calibration's candidate that can never be run)."""
    if scenario.fleets["drops"].payload_t > 4.0 and replication == 0:
        os.kill(os.getpid(), signal.SIGKILL)
    return default_evaluate(scenario, replication, seed)


WARMED: list[int] = []
"""Worker side: filled by :func:`warm` (a warm pool's start)."""


def warm() -> None:
    """A warm pool's start: note this process as warmed."""
    import os

    WARMED.append(os.getpid())


def warmed(context: None, task: int) -> bool:
    """Whether :func:`warm` ran in the process running the task (and only there)."""
    import os

    return [os.getpid()] == WARMED


def frozen(context: None, task: int) -> int:
    """How many objects the garbage collector of the process running the task keeps
    frozen (those a forked worker inherited)."""
    import gc

    return gc.get_freeze_count()
