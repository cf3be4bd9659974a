"""The registry of metric definitions covers every metric, once, with sane entries."""

from __future__ import annotations

from sim.analysis import metric_registry as reg
from sim.analysis.metric_registry import METRICS, expand, lookup, metric_names
from sim.analysis.metrics import is_never_metric, replication_metrics
from sim.output.sweep_plots import is_probability
from tools import metric_table as metric_table_tool  # the repository root is on pythonpath


def test_every_metric_has_exactly_one_entry(fake_scenario, make_result):
    names = list(replication_metrics(fake_scenario, make_result(fake_scenario)))
    for name in names:
        matches = [d.pattern for d in METRICS if reg._regex(d.pattern).fullmatch(name)]
        assert len(matches) == 1, (name, matches)


def test_metric_names_without_running(fake_scenario, make_result):
    ran = replication_metrics(fake_scenario, make_result(fake_scenario))
    assert set(metric_names(fake_scenario)) == set(ran)
    assert len(metric_names(fake_scenario)) == len(ran)


def test_entries_are_plain_and_consistent():
    patterns = [d.pattern for d in METRICS]
    assert len(set(patterns)) == len(patterns)
    for d in METRICS:
        assert d.better in ("higher", "lower", "neither")
        assert d.unit and d.definition
        assert not (d.share and d.never)
        for hole in reg._HOLE.findall(d.pattern):
            assert hole in reg.PLACEHOLDERS


def test_lookup_and_helpers():
    assert lookup("stockout__city__food").share
    assert reg.is_share("stockout__city__food") and not reg.is_share("delivered_t")
    assert reg.better("person_days_below_half__city") == "lower"
    assert reg.better("min_days_of_supply__city__food") == "higher"
    assert reg.better("sorties_flown__wfp") == "neither"
    assert reg.unit("delivered_t__wfp_il76") == "t"
    assert lookup("first_stockout_day__city__food").never
    assert lookup("no_such_metric") is None
    assert lookup("delivered_t__a__b__c") is None  # no pattern has three parts there
    assert reg.better("no_such_metric") == "neither"


def test_never_metrics_agree_with_metrics_module(fake_scenario):
    for name in metric_names(fake_scenario):
        assert bool(lookup(name).never) == is_never_metric(name), name


def test_expand_fills_placeholders_in_order(fake_scenario):
    assert expand("stockout__<pocket>__<commodity>", fake_scenario) == [
        "stockout__city__food",
        "stockout__city__ammo",
        "stockout__base__food",
        "stockout__base__ammo",
    ]
    assert expand("obs__<id>", fake_scenario) == ["obs__drops_total"]
    assert expand("delivered_t", fake_scenario) == ["delivered_t"]


def test_share_metrics_agree_with_sweep_plots(fake_scenario):
    for name in metric_names(fake_scenario):
        assert reg.is_share(name) == is_probability(name), name


def test_the_readme_metric_table_is_generated_from_the_registry() -> None:
    """The README's tables come from the code; regenerate with
    ``python -m tools.metric_table --write-readme`` after a change."""
    text = metric_table_tool.README.read_text(encoding="utf-8")
    assert metric_table_tool.readme_block(text) == reg.metric_table(), (
        "README.md's metric table is out of date: python -m tools.metric_table --write-readme"
    )


def test_every_observation_metric_is_in_the_table_with_its_default() -> None:
    table = reg.metric_table()
    for name, d in reg.OBSERVATION_METRICS.items():
        assert f"| `{name}` | {d.unit} | `{d.default}` |" in table
    for d in reg.METRICS:
        assert f"| `{d.pattern}` | {d.unit} |" in table
