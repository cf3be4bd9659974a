"""The model: one replication of a scenario, from a Scenario to a RunResult."""
