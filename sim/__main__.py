"""``python -m sim`` is the ``siege`` command."""

from sim.cli import entry

entry()
