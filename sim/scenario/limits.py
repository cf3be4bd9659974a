"""Limits on the size of what a user asks for, checked before anything runs or is written.

A typo (``replications = 1000000000``, ``aircraft = 1e8``) should be one line of
error at once, not an hour of work, a full disk or a machine out of memory. Every
limit is far above what a real airlift or a real experiment needs.

Limits of the **scenario format**, checked by the schema everywhere a scenario is
validated (files, ``--set``, sweep points, every version of the timeline):

- :data:`MAX_AIRCRAFT` aircraft in one fleet (the Berlin airlift flew about 700);
- :data:`MAX_SORTIES_PER_DAY` sorties per aircraft per day;
- :data:`MAX_DAYS` simulated days (100 years), with calendar dates from
  :data:`FIRST_DATE` to :data:`LAST_DATE`.

Limits of **reading**: files of at most :data:`MAX_FILE_BYTES`, nested at most
:data:`MAX_DEPTH` levels deep, ``extends`` chains of at most :data:`MAX_EXTENDS` files.

Limits of **experiments**, which ``--allow-large`` lifts (memory stays flat in the
number of runs; only the waiting grows):

- :data:`MAX_REPLICATIONS` replications of a run or of each design point;
- :data:`MAX_SAMPLES` design samples (grid levels, LHS points, Sobol' base N,
  Morris trajectories);
- :data:`MAX_POINTS` design points, and :data:`MAX_RUNS` runs (points ×
  replications) in one sweep.
"""

from __future__ import annotations

import datetime as dt

__all__ = [
    "FIRST_DATE",
    "LAST_DATE",
    "MAX_AIRCRAFT",
    "MAX_DAYS",
    "MAX_DEPTH",
    "MAX_EXTENDS",
    "MAX_FILE_BYTES",
    "MAX_POINTS",
    "MAX_REPLICATIONS",
    "MAX_RUNS",
    "MAX_SAMPLES",
    "MAX_SORTIES_PER_DAY",
    "too_large",
]

MAX_FILE_BYTES = 10 * 1024 * 1024
"""Largest input file read, bytes (10 MiB; a real scenario is a few kB)."""

MAX_DEPTH = 64
"""Deepest nesting of arrays and tables in a file or a command-line value (a scenario
needs about six)."""

MAX_EXTENDS = 32
"""Longest chain of ``extends`` (a file extending a file extending ...)."""

MAX_AIRCRAFT = 10_000
"""Most aircraft in one fleet."""

MAX_SORTIES_PER_DAY = 1_000.0
"""Most sorties per aircraft per day."""

MAX_DAYS = 36_525
"""Most simulated days (100 years)."""

FIRST_DATE = dt.date(1800, 1, 1)
LAST_DATE = dt.date(2999, 12, 31)
"""Calendar dates must lie between these (plots and date arithmetic stay in range)."""

MAX_REPLICATIONS = 100_000
"""Most replications of a run, or of each design point of a sweep (``--allow-large``)."""

MAX_SAMPLES = 100_000
"""Most design samples: grid levels, LHS points, Sobol' N, Morris trajectories
(``--allow-large``)."""

MAX_POINTS = 100_000
"""Most design points in one sweep (``--allow-large``)."""

MAX_RUNS = 1_000_000
"""Most runs (design points × replications) in one sweep (``--allow-large``)."""


def too_large(what: str, value: int, limit: int) -> str | None:
    """``"1,000,000 replications exceed the limit of 100,000 (...)"``, or None within it.

    ``what`` is the plural noun of the thing counted.
    """
    if value <= limit:
        return None
    return (
        f"{value:,} {what} exceed the limit of {limit:,} (give --allow-large if you really mean it)"
    )
