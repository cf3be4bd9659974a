"""The committed JSON Schema (scenarios/schema.json) matches the schema in the code."""

from __future__ import annotations

import json

from sim.scenario.load import SCHEMA_FILE, schema_text, write_schema_file
from sim.scenario.schema import json_schema


def test_committed_schema_is_up_to_date() -> None:
    committed = SCHEMA_FILE.read_text(encoding="utf-8") if SCHEMA_FILE.exists() else ""
    assert committed == schema_text(), (
        "scenarios/schema.json is out of date with sim/scenario/schema.py; regenerate it with "
        "`.venv/bin/python -m sim.scenario.load --write-schema` and commit it"
    )


def test_schema_text_is_the_json_schema() -> None:
    assert json.loads(schema_text()) == json_schema()
    assert schema_text() == json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


def test_write_schema_file(tmp_path) -> None:
    target = write_schema_file(tmp_path / "schema.json")
    assert target.read_text(encoding="utf-8") == schema_text()
