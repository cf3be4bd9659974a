"""``python -m sim`` is the ``siege`` command."""

from sim.cli import main

raise SystemExit(main())
