"""Scenario files: the schema, loading (``extends``, ``--set``) and validation."""
