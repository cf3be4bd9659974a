"""The comparison folder while it runs: kept replications, changed inputs, and
``sim.resume_compare`` after Ctrl-C or ``kill -9`` (the same files as an uninterrupted
comparison)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import compare_fakes
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sweep_fakes import folder_files

import sim
from sim.experiment import compare_store
from sim.experiment.compare_store import (
    CompareFolderError,
    CompareInterrupted,
    JournalledRun,
    decode_result,
    encode_result,
    read_replication,
    replication_path,
)
from sim.model.record import RunResult
from sim.model.world import run_replication
from sim.output.folder import FolderLock, FolderLockedError

REPS = 6


@pytest.fixture
def pair(tiny_path: Path) -> list[sim.api.Scenario]:
    """The tiny scenario and a variant with a larger payload (2 t → 3 t)."""
    more = tiny_path.parent / "more.toml"
    more.write_text(tiny_path.read_text().replace("payload_t = 2.0", "payload_t = 3.0"))
    return [sim.load_scenario(tiny_path), sim.load_scenario(more)]


@pytest.fixture
def whole(pair: list[sim.api.Scenario], tmp_path: Path) -> Path:
    """The comparison run uninterrupted."""
    return sim.compare(pair, tmp_path / "whole", replications=REPS, plots=False).path


def assert_same(a: Path, b: Path) -> None:
    got, want = folder_files(a), folder_files(b)
    assert sorted(got) == sorted(want)
    for name in want:
        assert got[name] == want[name], name


# ---- a kept replication ----------------------------------------------------------------


def test_a_replication_reads_back_exactly(tiny_path: Path) -> None:
    scenario = sim.load_scenario(tiny_path)
    result = run_replication(scenario, 3, 17)
    back = decode_result(encode_result(result))
    assert (back.replication, back.seed, back.n_days, back.sim_events) == (
        result.replication,
        result.seed,
        result.n_days,
        result.sim_events,
    )
    assert list(back.series) == list(result.series)
    for name, values in result.series.items():
        assert back.series[name].dtype == values.dtype
        assert back.series[name].tobytes() == values.tobytes(), name
    assert back.counters == result.counters and back.balance == result.balance
    assert back.events == result.events


finite_or_not = st.floats(allow_nan=True, allow_infinity=True, width=64)


@settings(max_examples=40, deadline=None)
@given(
    series=st.lists(arrays(np.float64, 5, elements=finite_or_not), min_size=1, max_size=3),
    counters=st.dictionaries(st.text(min_size=1, max_size=8), finite_or_not, max_size=4),
    replication=st.integers(0, 10**6),
    seed=st.integers(0, 2**63 - 1),
)
def test_every_float_survives_the_journal(
    series: list[np.ndarray], counters: dict[str, float], replication: int, seed: int
) -> None:
    result = RunResult(
        replication=replication,
        seed=seed,
        n_days=5,
        series={f"s_{i}": a for i, a in enumerate(series)},
        counters=counters,
        balance={("town", "food"): {"initial": 0.1 + 0.2, "final": float("nan")}},
        events=[(0, "Start — é")],
    )
    back = decode_result(encode_result(result))
    for name, a in result.series.items():
        assert back.series[name].tobytes() == a.tobytes()
    assert json.dumps(back.counters) == json.dumps(counters)
    assert repr(back.balance) == repr(result.balance) and back.events == result.events
    assert (back.replication, back.seed) == (replication, seed)


def test_a_torn_or_foreign_file_is_run_again(tiny_path: Path, tmp_path: Path) -> None:
    scenario = sim.load_scenario(tiny_path)
    path = replication_path(tmp_path, "tiny", 2)
    path.parent.mkdir(parents=True)
    n = scenario.calendar.n_days
    assert read_replication(path, 2, 5, n) is None  # missing
    data = encode_result(run_replication(scenario, 2, 5))
    path.write_bytes(data[: len(data) // 2])
    assert read_replication(path, 2, 5, n) is None  # torn
    path.write_bytes(data)
    assert read_replication(path, 2, 5, n) is not None
    assert read_replication(path, 2, 6, n) is None  # another seed
    assert read_replication(path, 3, 5, n) is None  # another replication
    calls: list[int] = []

    def counting(s: sim.api.Scenario, r: int, seed: int) -> RunResult:
        calls.append(r)
        return run_replication(s, r, seed)

    run = JournalledRun(str(tmp_path), "tiny", counting)
    first = run(scenario, 2, 6)  # the file holds seed 5: run again, and kept
    again = run(scenario, 2, 6)
    assert calls == [2] and first.seed == again.seed == 6
    assert read_replication(path, 2, 6, n) is not None


# ---- resume ------------------------------------------------------------------------------


def test_ctrl_c_then_resume_gives_the_uninterrupted_files(pair, whole, tmp_path) -> None:
    out = tmp_path / "cut"
    stop = compare_fakes.StopAt(payload_t=3.0, at=2)
    with pytest.raises(CompareInterrupted) as info:
        sim.compare(pair, out, replications=REPS, plots=False, run_fn=stop)
    assert info.value.path == out
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    assert [s["runs"] for s in manifest["sessions"]] == [REPS + 2]
    assert not (out / "comparison.csv").exists() and not FolderLock(out).holder()
    kept = sorted(p.relative_to(out / "journal").as_posix() for p in out.rglob("*.npz"))
    assert kept == sorted([f"tiny/{r}.npz" for r in range(REPS)] + ["tiny-2/0.npz", "tiny-2/1.npz"])

    result = sim.resume_compare(out, plots=False)
    assert (result.reused, result.ran) == (REPS + 2, REPS - 2)
    assert_same(out, whole)
    assert not (out / "journal").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert [s["status"] for s in manifest["sessions"]] == ["interrupted", "complete"]
    with pytest.raises(CompareFolderError, match="complete: nothing to resume"):
        sim.resume_compare(out)


DRIVER = """\
import sys
import compare_fakes
import sim

if __name__ == "__main__":
    scenarios = [sim.load_scenario(f) for f in sys.argv[2:]]
    sim.compare(scenarios, sys.argv[1], replications={reps}, workers=2, plots=False,
                run_fn=compare_fakes.slow)
"""


def test_kill_9_then_resume_gives_the_uninterrupted_files(pair, whole, tiny_path, tmp_path):
    out = tmp_path / "killed"
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER.format(reps=REPS))
    env = {**os.environ, "PYTHONPATH": str(Path(compare_fakes.__file__).parent)}
    files = [str(tiny_path), str(tiny_path.parent / "more.toml")]
    proc = subprocess.Popen(
        [sys.executable, str(driver), str(out), *files],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        t0 = time.monotonic()
        while len(list(out.glob("journal/tiny/*.npz"))) < 3:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() - t0 < 60, "the comparison made no progress"
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=20)  # returns once the orphaned workers have exited too
    finally:
        proc.kill()
    kept = compare_store.kept(out, compare_store.load_spec(out))
    assert 3 <= kept < 2 * REPS
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    result = sim.resume_compare(out, workers=2, plots=False)
    assert result.ran == 2 * REPS - kept
    assert_same(out, whole)


def test_changed_inputs_are_refused_naming_the_value(pair, tmp_path) -> None:
    out = tmp_path / "cut"
    with pytest.raises(CompareInterrupted):
        sim.compare(pair, out, replications=REPS, plots=False, run_fn=compare_fakes.StopAt(3.0, 1))
    before = folder_files(out)
    scenario = out / "scenarios" / "tiny-2.toml"
    text = scenario.read_text()
    scenario.write_text(text.replace("payload_t = 3.0", "payload_t = 4.0"))
    changed = r"scenarios/tiny-2\.toml: fleets\.\w+\.payload_t: changed since the comparison"
    with pytest.raises(CompareFolderError, match=changed + r" started \(was 3, now 4\)"):
        sim.resume_compare(out)
    scenario.write_text(text)
    spec = out / "compare.toml"
    spec.write_text(spec.read_text().replace("seed = 5", "seed = 6"))
    with pytest.raises(
        CompareFolderError, match=r"compare\.toml: seed: changed since .*was 5, now 6"
    ):
        sim.resume_compare(out)
    spec.write_text(spec.read_text().replace("seed = 6", "seed = 5"))
    assert folder_files(out) == before  # refused: nothing written
    assert sim.resume_compare(out, plots=False).reused == REPS + 1


def test_a_locked_or_foreign_folder_is_refused(pair, tmp_path, tiny_path) -> None:
    out = tmp_path / "cut"
    with pytest.raises(CompareInterrupted):
        sim.compare(pair, out, replications=REPS, plots=False, run_fn=compare_fakes.StopAt(2.0, 0))
    with (
        FolderLock(out).acquire("siege compare (a test)"),
        pytest.raises(FolderLockedError, match=r"in use by siege compare \(a test\) \(pid"),
    ):
        sim.resume_compare(out)
    with pytest.raises(CompareFolderError, match="no such comparison folder"):
        sim.resume_compare(tmp_path / "nowhere")
    run_dir = sim.write_run(sim.run(pair[0], replications=1), tmp_path / "run", plots=False)
    with pytest.raises(CompareFolderError, match="not a comparison folder"):
        sim.resume_compare(run_dir)
