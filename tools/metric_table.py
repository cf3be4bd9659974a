"""The README's metric tables, generated from the registry so that the two cannot drift.

Usage, from the repository root::

    python -m tools.metric_table                 # print the tables
    python -m tools.metric_table --write-readme  # put them in README.md

The tables come from :func:`sim.analysis.metric_registry.metric_table`;
``tests/analysis/test_metric_registry.py`` fails when README.md differs from it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from sim.analysis.metric_registry import metric_table

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
START_MARK = "<!-- metric-table:start -->"
END_MARK = "<!-- metric-table:end -->"


def readme_block(text: str) -> str:
    """The text between the README's markers (without the markers)."""
    a, b = text.find(START_MARK), text.find(END_MARK)
    if a < 0 or b < a:
        raise ValueError(f"{README}: markers {START_MARK} … {END_MARK} not found")
    return text[a + len(START_MARK) + 1 : b]


def replace_block(text: str, table: str) -> str:
    """``text`` with the part between the markers replaced by ``table``."""
    a, b = text.find(START_MARK), text.find(END_MARK)
    if a < 0 or b < a:
        raise ValueError(f"{README}: markers {START_MARK} … {END_MARK} not found")
    return text[: a + len(START_MARK)] + "\n" + table + text[b:]


def main(argv: Sequence[str] | None = None) -> int:
    """Print the tables; ``--write-readme`` also puts them in README.md."""
    parser = argparse.ArgumentParser(prog="python -m tools.metric_table", description=__doc__)
    parser.add_argument("--write-readme", action="store_true", help="update README.md")
    args = parser.parse_args(argv)
    table = metric_table()
    sys.stdout.write(table)
    if args.write_readme:
        README.write_text(replace_block(README.read_text(encoding="utf-8"), table), "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
