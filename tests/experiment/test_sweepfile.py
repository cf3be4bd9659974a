"""Sweep files and --param: parsing, validation, one-line errors with exit status 2."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from sim.cli import main
from sim.experiment.sweepfile import (
    load_sweep,
    parse_param_option,
    resolved_toml,
    spec_from_scenario,
)
from sim.scenario.errors import ScenarioError


@pytest.mark.parametrize(
    "text,expected",
    [
        ("siege.combat_sorties_per_day=0,20,40", ("siege.combat_sorties_per_day", [0, 20, 40])),
        ("a.b=0.5:0.9", ("a.b", {"low": 0.5, "high": 0.9})),
        (
            "events[0].date=2016-01-05:2016-02-01",
            ("events[0].date", {"low": dt.date(2016, 1, 5), "high": dt.date(2016, 2, 1)}),
        ),
        ('fleets.f.days=["mon","thu"],["sun"]', ("fleets.f.days", [["mon", "thu"], ["sun"]])),
        ("fleets.f.mode=land,airdrop", ("fleets.f.mode", ["land", "airdrop"])),
        ("x=-5:5", ("x", {"low": -5, "high": 5})),
        ("x=7", ("x", [7])),
        (
            'events[2].set."routes.r.open"=true,false',
            ('events[2].set."routes.r.open"', [True, False]),
        ),
    ],
)
def test_parse_param_option(text: str, expected: tuple) -> None:
    assert parse_param_option(text) == expected


@pytest.mark.parametrize("text", ["noequals", "=1,2", "x=", "x=1:2:3", "x=[1,"])
def test_malformed_param_option(text: str) -> None:
    with pytest.raises(ScenarioError) as err:
        parse_param_option(text)
    assert str(err.value).startswith("--param: ")


def test_sweep_file_resolves_defaults_and_round_trips(write_sweep: Callable[..., Path]) -> None:
    path = write_sweep("""\
base = "tiny.toml"
design = "lhs"
metrics = ["delivered_t"]
set = { "fleets.drops.payload_t" = 3.0 }
labels = { "fleets.drops.aircraft" = "aircraft" }
[parameters]
fleets.drops.aircraft = { low = 1, high = 3 }      # unquoted: nested tables
"events[0].date" = { low = 2016-02-01, high = 2016-03-01 }
""")
    spec = load_sweep(path)
    assert spec.labels == (("fleets.drops.aircraft", "aircraft"),)
    assert spec.design == "lhs" and spec.samples == 64
    assert spec.replications == 4 and spec.seed == 5  # the scenario's
    assert spec.paths == ("fleets.drops.aircraft", "events[0].date")
    assert spec.parameters[0].integer
    assert spec.base.fleets["drops"].payload_t == 3.0
    assert spec.name == "sweep"
    # the resolved file, beside the resolved base, gives the same design
    folder = path.parent / "resolved"
    folder.mkdir()
    from sim.scenario.load import dump_toml

    (folder / "scenario.toml").write_text(dump_toml(spec.base), encoding="utf-8")
    (folder / "sweep.toml").write_text(resolved_toml(spec), encoding="utf-8")
    again = load_sweep(folder / "sweep.toml")
    assert again.base == spec.base
    assert again.name == "sweep" and again.labels == spec.labels
    assert (again.design, again.samples, again.replications, again.seed, again.metrics) == (
        spec.design,
        spec.samples,
        spec.replications,
        spec.seed,
        spec.metrics,
    )
    assert again.make_design().points == spec.make_design().points


def test_cli_params_override_the_options(tiny_path: Path) -> None:
    spec = spec_from_scenario(
        tiny_path,
        params=[parse_param_option("fleets.drops.aircraft=1,2")],
        design="grid",
        replications=2,
        seed=9,
        overrides=["fleets.drops.payload_t=4.0"],
    )
    assert (spec.replications, spec.seed) == (2, 9)
    assert spec.base.fleets["drops"].payload_t == 4.0
    assert len(spec.make_design()) == 2


BAD_FILES = [
    (
        'base = "tiny.toml"\ndesing = "grid"\n[parameters]\n"fleets.drops.aircraft" = [1]\n',
        "sweep.toml: desing: unknown key 'desing' — did you mean 'design'?",
    ),
    (
        'base = "nope.toml"\n[parameters]\n"fleets.drops.aircraft" = [1]\n',
        "sweep.toml: base: file not found: 'nope.toml'",
    ),
    (
        'base = "tiny.toml"\ndesign = "taguchi"\n[parameters]\n"fleets.drops.aircraft" = [1]\n',
        "sweep.toml: design: unknown design 'taguchi'",
    ),
    (
        'base = "tiny.toml"\n[parameters]\n"fleets.drops.aircraft" = []\n',
        'sweep.toml: parameters."fleets.drops.aircraft": the list of values is empty',
    ),
    (
        'base = "tiny.toml"\n[parameters]\n"fleets.drops.aircraft" = [1, 1]\n',
        'sweep.toml: parameters."fleets.drops.aircraft": lists the value 1 twice',
    ),
    (
        'base = "tiny.toml"\n[parameters]\n"fleets.drops.payload_t" = { low = 3, high = 2 }\n',
        'sweep.toml: parameters."fleets.drops.payload_t": low (3) must be below high (2)',
    ),
    (
        'base = "tiny.toml"\n[parameters]\n"fleets.drops.payload_t" = { low = 1, hi = 2 }\n',
        'sweep.toml: parameters."fleets.drops.payload_t": a range is { low, high }: unknown key',
    ),
    (
        'base = "tiny.toml"\n[parameters]\n"fleets.drops.payload" = [1.0]\n',
        "sweep.toml: parameters.\"fleets.drops.payload\": unknown key 'payload' — did you mean",
    ),
    (
        'base = "tiny.toml"\n[parameters]\n"fleets.drops.aircraft" = [-1, 2]\n',
        'sweep.toml: parameters."fleets.drops.aircraft": must be between 0 and 10000',
    ),
    (
        'base = "tiny.toml"\n[parameters]\n'
        '"events[0].date" = { low = 2015-12-01, high = 2016-02-01 }\n',
        'sweep.toml: parameters."events[0].date": 2015-12-01 is outside the calendar',
    ),
    (
        'base = "tiny.toml"\ndesign = "sobol"\nsamples = 12\n[parameters]\n'
        '"fleets.drops.payload_t" = { low = 1, high = 2 }\n',
        "sweep.toml: samples: a Sobol' design needs a power of 2 (got 12; try 8 or 16)",
    ),
    (
        'base = "tiny.toml"\nreplications = 0\n[parameters]\n"fleets.drops.aircraft" = [1]\n',
        "sweep.toml: replications: expected a whole number >= 1, got 0",
    ),
    ('base = "tiny.toml"\n[parameters]\n', "sweep.toml: parameters: nothing to sweep"),
    (
        'base = "tiny.toml"\nmetrics = ["delivered"]\n'
        '[parameters]\n"fleets.drops.aircraft" = [1]\n',
        "sweep.toml: metrics[0]: unknown metric 'delivered' (did you mean 'delivered_t'",
    ),
    ('base = "tiny.toml"\n[parameters\n', "sweep.toml: invalid TOML"),
    (
        'base = "tiny.toml"\nlabels = { "fleets.drops.payload_t" = "t" }\n[parameters]\n'
        '"fleets.drops.aircraft" = [1]\n',
        'sweep.toml: labels."fleets.drops.payload_t": fleets.drops.payload_t is not a swept',
    ),
    (
        'base = "tiny.toml"\nset = { "fleets.drops.aircraft" = -2 }\n[parameters]\n'
        '"fleets.drops.payload_t" = [1.0]\n',
        "sweep.toml: fleets.drops.aircraft: must be between 0 and 10000",
    ),
    # a design point that breaks a cross-field rule: an inverted active window
    (
        'base = "tiny.toml"\nset = { "fleets.drops.active_to" = 2016-02-01 }\n[parameters]\n'
        '"fleets.drops.active_from" = [2016-01-10, 2016-02-10]\n',
        "is before active_from",
    ),
]


@pytest.mark.parametrize("text,message", BAD_FILES)
def test_bad_sweep_file_is_one_line_exit_2_nothing_written(
    text: str,
    message: str,
    write_sweep: Callable[..., Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    path = write_sweep(text)
    out = tmp_path / "out"
    status = main(["sweep", str(path.name), "--out", str(out), "--workers", "1", "--quiet"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert message in err
    assert "Traceback" not in err
    assert not out.exists() and not (tmp_path / "results").exists()


@pytest.mark.parametrize(
    "args,message",
    [
        (["tiny.toml"], "tiny.toml: a scenario file needs --param"),
        (
            ["tiny.toml", "--param", "fleets.drops.aircraft=1.5:3"],
            "--param: fleets.drops.aircraft: fleets.drops.aircraft is a whole number",
        ),
        (
            [
                "tiny.toml",
                "--param",
                "fleets.drops.aircraft=1:3",
                "--design",
                "sobol",
                "--samples",
                "6",
            ],
            "--samples: a Sobol' design needs a power of 2",
        ),
        (
            ["tiny.toml", "--param", "fleets.drops.nope=1,2"],
            "--param: fleets.drops.nope: unknown key",
        ),
        (["missing.toml", "--param", "a=1"], "missing.toml: file not found"),
        ([], "give a sweep file, or a scenario file with --param"),
        (["--resume", "elsewhere"], "elsewhere: no such sweep folder"),
        (["tiny.toml", "--resume", "x"], "a sweep or scenario file cannot be given with --resume"),
        (["--resume", "x", "--design", "lhs"], "--design cannot be given with --resume"),
        (
            ["tiny.toml", "--param", "fleets.drops.aircraft=1,2", "--scheduler", "tcp://x:1"],
            "--scheduler: needs --executor dask",
        ),
    ],
)
def test_bad_command_line_is_one_line_exit_2(
    args: list[str],
    message: str,
    tiny_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    out = [] if "--resume" in args else ["--out", "out"]
    status = main(["sweep", *args, *out, "--quiet"])
    err = capsys.readouterr().err
    assert status == 2, err
    assert err.count("\n") == 1 and message in err
    assert not (tmp_path / "out").exists()
