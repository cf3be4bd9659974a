"""Every class of bad scenario input, through ``siege run``: exit 2, one line, nothing written.

Each case edits the tiny scenario (``tiny_toml`` in conftest.py) or adds a file it
extends, runs ``siege run`` in a subprocess (so a traceback could not hide in the
test runner's capture), and checks the one stderr line names the file, the dotted
key path and the problem, and that no result folder was created.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CASES = {
    # name: (edit of the tiny file, extra files, --set options, expected path, expected words)
    "malformed TOML": (("seed = 5", "seed = = 5"), {}, [], "", "invalid TOML at line"),
    "unknown key": (
        ("flight_h = 2.0", "flight_hours = 2.0"),
        {},
        [],
        "fleets.drops.flight_hours",
        "did you mean 'flight_h'",
    ),
    "wrong type": (
        ("aircraft = 1", 'aircraft = "one"'),
        {},
        [],
        "fleets.drops.aircraft",
        "whole number",
    ),
    "negative": (("payload_t = 2.0", "payload_t = -2.0"), {}, [], "fleets.drops.payload_t", "> 0"),
    "zero where positive": (
        ("payload_t = 2.0", "payload_t = 0"),
        {},
        [],
        "fleets.drops.payload_t",
        "> 0",
    ),
    "share above 1": (
        ("recovery = 0.8", "recovery = 1.4"),
        {},
        [],
        "drop_zones.field.recovery",
        "1.4",
    ),
    "unknown pocket": (
        ('pocket = "town"', 'pocket = "village"'),
        {},
        [],
        "drop_zones.field.pocket",
        "unknown pocket 'village'",
    ),
    "unknown drop zone": (
        ('targets = ["field"]', 'targets = ["meadow"]'),
        {},
        [],
        "fleets.drops.targets[0]",
        "'meadow'",
    ),
    "unknown fleet": (
        ('fleets = ["drops"]', 'fleets = ["planes"]'),
        {},
        [],
        "observations[0].selector.fleets[0]",
        "unknown fleet 'planes'",
    ),
    "event outside the calendar": (
        ("date = 2016-02-15", "date = 2017-02-15"),
        {},
        [],
        "events[0].date",
        "outside the calendar",
    ),
    "observation outside the calendar": (
        ("to = 2016-01-31", "to = 2016-05-31"),
        {},
        [],
        "observations[0].to",
        "outside the calendar",
    ),
    "end before start": (
        ("end = 2016-03-30", "end = 2015-03-30"),
        {},
        [],
        "calendar.end",
        "before start",
    ),
    "extends cycle": (
        ('name = "tiny"', 'extends = "other.toml"\nname = "tiny"'),
        {"other.toml": 'extends = "tiny.toml"\n'},
        [],
        "extends",
        "cycle",
    ),
    "missing extends file": (
        ('name = "tiny"', 'extends = "gone.toml"\nname = "tiny"'),
        {},
        [],
        "extends",
        "not found",
    ),
    "an event changing a fleet's mode": (
        None,
        {},
        ["--set", 'events[0].set."fleets.drops.mode"="land"'],
        'events[0].set."fleets.drops.mode"',
        "an event cannot change a fleet's mode",
    ),
    "no flight time": (
        ("flight_h = 2.0\n", ""),
        {},
        [],
        "fleets.drops.flight_h",
        "give flight_h, or block_speed_kmh with a base",
    ),
    "--set path that does not exist": (
        None,
        {},
        ["--set", "fleets.drops.payload=3"],
        "fleets.drops.payload",
        "did you mean 'payload_t'",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_line_exit_2_nothing_written(
    case: str, tmp_path: Path, tiny_toml: str
) -> None:
    edit, extra_files, options, path, words = CASES[case]
    text = tiny_toml
    if edit is not None:
        assert edit[0] in text, f"test setup: {edit[0]!r} not in the tiny scenario"
        text = text.replace(edit[0], edit[1], 1)
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(text)
    for name, content in extra_files.items():
        (tmp_path / name).write_text(content)
    out_dir = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "run",
            str(scenario),
            "--out",
            str(out_dir),
            "--quiet",
            *options,
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    line = lines[0]
    assert line.startswith("error: ") and "Traceback" not in proc.stderr
    assert str(tmp_path) in line  # names the file
    if path:
        assert f": {path}: " in line, line
    assert words in line, line
    assert not out_dir.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["tiny.toml", *extra_files])
    assert proc.stdout == ""
