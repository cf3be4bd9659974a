"""The committed JSON Schema (scenarios/schema.json) matches the schema in the code."""

from __future__ import annotations

import json

from sim.api import SCHEMA_FILE, write_schema
from sim.scenario.schema import json_schema, schema_text


def test_committed_schema_is_up_to_date() -> None:
    committed = SCHEMA_FILE.read_text(encoding="utf-8") if SCHEMA_FILE.exists() else ""
    assert committed == schema_text(), (
        "scenarios/schema.json is out of date with sim/scenario/schema.py; regenerate it with "
        "`siege schema --write` and commit it"
    )


def test_schema_text_is_the_json_schema() -> None:
    assert json.loads(schema_text()) == json_schema()
    assert schema_text() == json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


def test_write_schema(tmp_path) -> None:
    target = write_schema(tmp_path / "schema.json")
    assert target.read_text(encoding="utf-8") == schema_text()
