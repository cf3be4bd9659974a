"""``siege run``'s folder (:func:`sim.api.runs.run_to_folder`): with two or more workers
a single replication runs beside the drawing's start-up, and the workers of a run of
up to :data:`~sim.api.runs.DRAWING_FORKED_AFTER` replications are forked at once,
those of its plots after it; every way writes what one worker writes, and an error or
a stop meanwhile leaves nothing behind, no process running."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import sim.api.runs
from sim import cli
from sim.analysis.summary import SeriesAccumulator, summarize_metrics
from sim.conventions import Terminated
from sim.experiment.replicate import iter_replications
from sim.scenario.load import load_scenario


@pytest.fixture
def tiny(tmp_path: Path, tiny_toml: str) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(tiny_toml)
    return path


def files(folder: Path) -> dict[str, bytes]:
    """Every file of a run folder but its manifest (timings, command line)."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


@pytest.mark.parametrize(
    "how",
    [{"replications": 1}, {"replication": 2}, {"replications": 5}, {"replications": 3}],
)
def test_two_workers_write_what_one_worker_writes(
    tmp_path: Path, tiny: Path, how: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    threads = threading.active_count()
    scenario = load_scenario(tiny)
    if how.get("replications") == 3:  # the way of the largest runs
        monkeypatch.setattr(sim.api.runs, "DRAWING_FORKED_AFTER", 2)
    folders = {}
    for workers in (1, 2):
        runset, folders[workers] = sim.api.runs.run_to_folder(
            scenario, tmp_path / f"w{workers}", seed=5, workers=workers, **how
        )
        assert runset.workers == workers
        manifest = json.loads((folders[workers] / "manifest.json").read_text())
        assert manifest["workers"] == workers
        assert manifest["replications"] == how.get("replications", 1)
    assert files(folders[1]) == files(folders[2])
    assert len(files(folders[2])) == 5 + len(sim.api.runs.PLOT_FILES)
    assert threading.active_count() == threads and not mp.active_children()


@pytest.mark.parametrize("replications", [1, 40])
def test_an_error_in_the_run_reaches_the_caller_and_nothing_is_left(
    tmp_path: Path, tiny: Path, replications: int
) -> None:
    threads = threading.active_count()
    with pytest.raises(ValueError, match="seed must be non-negative"):  # one: in a worker
        sim.api.runs.run_to_folder(
            load_scenario(tiny), tmp_path / "out", replications=replications, seed=-1, workers=2
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.toml"]
    assert threading.active_count() == threads and not mp.active_children()


@pytest.mark.parametrize("replications", ["1", "40"])
def test_a_stop_while_this_process_prepares_the_plots_leaves_nothing(
    tmp_path: Path,
    tiny: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    replications: str,
) -> None:
    """With one replication the stop comes while it runs aside; with 40, with the first
    result, while the workers run the next ones."""
    threads = threading.active_count()

    def stopped(*args: object) -> None:
        raise Terminated(signal.SIGTERM)  # as the command's handler raises it

    monkeypatch.setattr(sim.api.runs, "warm_up", stopped)
    out = tmp_path / "out"
    argv = ["run", str(tiny), "--replications", replications, "--workers", "2", "--out", str(out)]
    assert cli.main(argv) == 128 + signal.SIGTERM
    err = capsys.readouterr().err
    assert err.strip() == "interrupted (SIGTERM): stopped; nothing half-written was left behind"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.toml"]
    assert threading.active_count() == threads and not mp.active_children()


@pytest.mark.parametrize("replications", ["1", "40", "1500"])
def test_a_stop_during_matplotlibs_import_comes_after_it(
    tmp_path: Path,
    tiny: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    replications: str,
) -> None:
    """Raised in the middle of matplotlib's import, a SIGTERM came out as an internal
    error (Python turns an exception in ``__set_name__`` into a ``RuntimeError``)."""
    threads = threading.active_count()
    imported = []

    def importing(*args: object) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.2)  # the signal's handler would raise here
        imported.append(True)

    monkeypatch.setattr(sim.api.runs, "warm_up", importing)
    out = tmp_path / "out"
    argv = ["run", str(tiny), "--replications", replications, "--workers", "2", "--out", str(out)]
    assert cli.main(argv) == 128 + signal.SIGTERM
    assert imported == [True]
    err = capsys.readouterr().err
    assert err.strip() == "interrupted (SIGTERM): stopped; nothing half-written was left behind"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.toml"]
    assert threading.active_count() == threads and not mp.active_children()


def test_the_summary_computed_beside_the_percentiles_is_the_same(tiny: Path) -> None:
    """The summary's bootstraps run in a thread beside the daily percentiles: the same
    numbers as one after the other, and no thread is left (the plots' workers fork)."""
    threads = threading.active_count()
    scenario = load_scenario(tiny)
    runset = sim.api.runs.run(scenario, 30, seed=4, workers=1)
    assert threading.active_count() == threads
    assert runset.summary == summarize_metrics(runset.metrics, 4)
    acc = SeriesAccumulator(30, scenario.calendar.n_days)
    for i, result in enumerate(iter_replications(scenario, 30, 4)):
        acc.add(i, result)
    daily = acc.percentiles()
    assert list(runset.daily) == list(daily)
    assert all(np.array_equal(runset.daily[k], daily[k], equal_nan=True) for k in daily)
