"""Calibration files: priors, fitted observations, budget, and every refusal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import HELD_OUT

from sim.experiment.calibfile import (
    check_size,
    is_calibration_data,
    load_calibration,
    resolved_data,
    resolved_toml,
)
from sim.scenario.errors import ScenarioError

HEAD = 'base = "tiny.toml"\nmethod = "abc-smc"\n'
PAYLOAD = '[parameters]\n"fleets.drops.payload_t" = { low = 1.0, high = 3.0 }\n'


@pytest.fixture
def write(tiny_path: Path) -> Callable[[str], Path]:
    """``write(text)``: a calibration file beside a tiny scenario with a held-out figure."""
    tiny_path.write_text(tiny_path.read_text() + HELD_OUT)

    def make(text: str) -> Path:
        p = tiny_path.parent / "cal.toml"
        p.write_text(text, encoding="utf-8")
        return p

    return make


def test_defaults(write: Callable[[str], Path]) -> None:
    spec = load_calibration(write(HEAD + PAYLOAD))
    assert spec.paths == ("fleets.drops.payload_t",)
    assert spec.fit == ("drops_jan",) and spec.validation == ("drops_feb",)
    assert spec.seed == 5 and spec.name == "cal"
    b = spec.budget
    assert (b.particles, b.generations, b.replications, b.quantile) == (50, 5, 2, 0.5)
    assert b.max_candidates == 1000 and b.predictive_draws == 50 and b.tolerance is None
    [t] = spec.targets()
    assert (t.low, t.high, t.scale) == (40.0, 40.0, pytest.approx(4.0))


def test_kinds_of_parameters(write: Callable[[str], Path]) -> None:
    text = HEAD + (
        "[parameters]\n"
        '"fleets.drops.aircraft" = { low = 1, high = 3 }\n'
        '"fleets.drops.mission_capable" = { distribution = "normal", mean = 0.8, sd = 0.05,'
        " low = 0.5, high = 1.0 }\n"
        '"fleets.drops.payload_t" = { distribution = "loguniform", low = 0.5, high = 5.0 }\n'
        '"events[0].date" = { low = 2016-02-01, high = 2016-02-28 }\n'
    )
    spec = load_calibration(write(text))
    aircraft, mc, payload, date = spec.parameters
    assert aircraft.kind == "int" and (aircraft.prior.low, aircraft.prior.high) == (0.5, 3.5)
    assert [aircraft.decode(x) for x in (0.5, 1.49, 1.5, 3.49)] == [1, 1, 2, 3]
    assert mc.kind == "float" and mc.prior.distribution == "normal"
    assert mc.decode(0.123456789012345) == 0.123456789
    assert payload.describe() == "loguniform(0.5, 5)"
    assert date.kind == "date" and date.decode(dt.date(2016, 2, 3).toordinal()) == dt.date(
        2016, 2, 3
    )
    assert date.describe() == "uniform(2016-02-01, 2016-02-28)"


def test_the_resolved_file_gives_the_same_calibration(write: Callable[[str], Path]) -> None:
    text = HEAD + (
        'fit = ["drops_jan"]\nseed = 9\n[parameters]\n'
        '"fleets.drops.aircraft" = { low = 1, high = 3 }\n'
        '"fleets.drops.mission_capable" = { distribution = "normal", mean = 0.8, sd = 0.05,'
        " high = 1.0 }\n"
        '"events[0].date" = { low = 2016-02-01, high = 2016-02-28 }\n'
        "[budget]\nparticles = 7\ntolerance = 0.5\n"
    )
    path = write(text)
    spec = load_calibration(path)
    (path.parent / "scenario.toml").write_text(path.parent.joinpath("tiny.toml").read_text())
    again = path.parent / "resolved.toml"
    again.write_text(resolved_toml(spec))
    spec2 = load_calibration(again)
    assert resolved_data(spec2) == resolved_data(spec)
    assert spec2.parameters == spec.parameters and spec2.budget == spec.budget
    assert is_calibration_data({"method": "abc-smc"}) and not is_calibration_data({"base": "x"})


REFUSALS = {
    "unknown path": (
        '[parameters]\n"fleets.drops.payload_tons" = { low = 1.0, high = 3.0 }\n',
        'parameters."fleets.drops.payload_tons"',
        "payload_t",
    ),
    "empty prior range": (
        '[parameters]\n"fleets.drops.payload_t" = { low = 3.0, high = 3.0 }\n',
        'parameters."fleets.drops.payload_t"',
        "empty prior range",
    ),
    "a prior beyond the field's range": (
        '[parameters]\n"fleets.drops.mission_capable" = { low = 0.5, high = 1.5 }\n',
        'parameters."fleets.drops.mission_capable"',
        "at 1.5",
    ),
    "an uncut normal that reaches the field's limit": (
        '[parameters]\n"fleets.drops.mission_capable" = '
        '{ distribution = "normal", mean = 0.9, sd = 0.1 }\n',
        'parameters."fleets.drops.mission_capable"',
        "cut it with low and high",
    ),
    "an unknown distribution": (
        '[parameters]\n"fleets.drops.payload_t" = { distribution = "gamma", low = 1, high = 2 }\n',
        'parameters."fleets.drops.payload_t".distribution',
        "unknown distribution 'gamma'",
    ),
    "an unknown prior key": (
        '[parameters]\n"fleets.drops.payload_t" = { low = 1.0, hi = 3.0 }\n',
        'parameters."fleets.drops.payload_t".hi',
        "did you mean 'high'",
    ),
    "loguniform from 0": (
        '[parameters]\n"fleets.drops.payload_t" = '
        '{ distribution = "loguniform", low = 0.0, high = 3.0 }\n',
        'parameters."fleets.drops.payload_t"',
        "low > 0",
    ),
    "fitting the seed": (
        '[parameters]\n"seed" = { low = 1, high = 3 }\n',
        "parameters.seed",
        "cannot be fitted",
    ),
    "fitting replications": (
        '[parameters]\n"replications" = { low = 1, high = 3 }\n',
        "parameters.replications",
        "cannot be fitted",
    ),
    "half a whole number": (
        '[parameters]\n"fleets.drops.aircraft" = { low = 1, high = 2.5 }\n',
        'parameters."fleets.drops.aircraft"',
        "whole number",
    ),
    "an unknown observation": ('fit = ["drops_march"]\n' + PAYLOAD, "fit[0]", "no observation"),
    "a validation observation in fit": (
        'fit = ["drops_jan", "drops_feb"]\n' + PAYLOAD,
        "fit[1]",
        'has role "validation"',
    ),
    "an observation twice": ('fit = ["drops_jan", "drops_jan"]\n' + PAYLOAD, "fit[1]", "twice"),
    "nothing to fit": ("[parameters]\n", "parameters", "nothing to fit"),
    "an unknown key": ("particles = 5\n" + PAYLOAD, "particles", "unknown key"),
    "an unknown budget key": (PAYLOAD + "[budget]\nparticle = 5\n", "budget.particle", "particles"),
    "one particle": (PAYLOAD + "[budget]\nparticles = 1\n", "budget.particles", ">= 2"),
    "a quantile of 1": (PAYLOAD + "[budget]\nquantile = 1.0\n", "budget.quantile", "between 0"),
    "too few candidates": (
        PAYLOAD + "[budget]\nparticles = 10\nmax_candidates = 5\n",
        "budget.max_candidates",
        ">= 10",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS), ids=list(REFUSALS))
def test_refusals_name_the_file_and_the_key(write: Callable[[str], Path], case: str) -> None:
    body, key, words = REFUSALS[case]
    path = write(HEAD + body)
    with pytest.raises(ScenarioError) as info:
        load_calibration(path)
    err = info.value
    assert err.file == str(path)
    assert err.path == key, str(err)
    assert words in err.message, str(err)


def test_a_method_is_required(write: Callable[[str], Path]) -> None:
    with pytest.raises(ScenarioError, match="unknown method 'smc'"):
        load_calibration(write('base = "tiny.toml"\nmethod = "smc"\n' + PAYLOAD))


def test_no_calibration_observation_to_fit(write: Callable[[str], Path], tiny_path: Path) -> None:
    tiny_path.write_text(
        tiny_path.read_text().replace(
            'source = "made up for the test"\n',
            'source = "made up for the test"\nrole = "validation"\n',
            1,
        )
    )
    with pytest.raises(ScenarioError) as info:
        load_calibration(write(HEAD + PAYLOAD))
    assert info.value.path == "fit" and "nothing to fit" in info.value.message


def test_absurd_budgets_are_refused(write: Callable[[str], Path]) -> None:
    spec = load_calibration(write(HEAD + PAYLOAD + "[budget]\nparticles = 200000\n"))
    with pytest.raises(ScenarioError, match="particles exceed the limit"):
        check_size(spec)
    check_size(spec, allow_large=True)
