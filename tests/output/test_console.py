"""The console summary of ``siege run``."""

from __future__ import annotations

from sim.analysis.metrics import replication_metrics
from sim.analysis.observations import observation_table
from sim.analysis.summary import summarize_metrics
from sim.output.console import format_summary, key_metrics


def test_summary_text(fake_scenario, make_result):
    metrics = []
    for i in range(4):
        stock = [5, 4, 3, 2, 1, 0, 0, 0, 0, 0] if i < 3 else [5] * 10
        metrics.append(
            replication_metrics(
                fake_scenario,
                make_result(fake_scenario, replication=i, **{"stock_t__city__food": stock}),
            )
        )
    summary = summarize_metrics(metrics)
    obs = observation_table(fake_scenario, metrics)
    text = format_summary(
        fake_scenario,
        summary,
        obs,
        replications=4,
        seed=7,
        wall_time_s=1.25,
        out_dir="results/fake/x",
    )
    lines = text.splitlines()
    assert lines[0] == "fake: 4 replications, seed 7, 1.2 s"
    assert any(line.startswith("delivered_t ") for line in lines)
    # city food ran out on day 5 (2020-01-06) in 3 of 4 replications
    row = next(line for line in lines if line.startswith("first stock-out food (city)"))
    assert row.split()[-3:] == ["2020-01-06", "2020-01-06", "never"]
    assert "  first stock-out food (city): never in 25% of replications" in lines
    # base never ran out of food but has a demand for it: shown as never
    row = next(line for line in lines if line.startswith("first stock-out food (base)"))
    assert row.split()[-3:] == ["never"] * 3
    assert "drops_total" in text and "1 of 1 observations within tolerance" in text
    assert lines[-1] == "results: results/fake/x"
    names = key_metrics(fake_scenario, summary)
    assert "first_stockout_day__city__ammo" not in names  # ammo is not rationed


def test_summary_shows_roles(fake_scenario, make_result):
    """Each observation's role is a column; held-out ones are counted apart."""
    held = fake_scenario.observations[0].model_copy(update={"id": "held", "role": "validation"})
    scenario = fake_scenario.model_copy(
        update={"observations": [*fake_scenario.observations, held]}
    )
    metrics = [replication_metrics(scenario, make_result(scenario, replication=0))]
    obs = observation_table(scenario, metrics)
    assert [o["role"] for o in obs] == ["calibration", "validation"]
    text = format_summary(scenario, summarize_metrics(metrics), obs, replications=1, seed=1)
    lines = text.splitlines()
    assert next(line for line in lines if line.startswith("observation")).endswith("role")
    assert next(line for line in lines if line.startswith("held ")).endswith("validation")
    ok = "1" if obs[0]["within_tolerance"] else "0"  # the two are the same figure
    assert lines[-1].endswith(f"(calibration {ok} of 1, validation {ok} of 1)")
