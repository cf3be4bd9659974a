"""The repository stands alone: no path outside it, and every source it cites exists.

A user who clones the repository has only what is in it. So no tracked text file may
name a path of a development machine or a folder next to the checkout (the team's
notes), and every citation ``[S:id]`` in a scenario, README, docstring or test must
name a section of ``docs/sources.md``, where each figure's URL is.

Both checks scan the files git tracks (binary files such as PNG aside); outside a git
checkout (an unpacked source archive) they are skipped.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "docs" / "sources.md"

OUTSIDE_PATHS: tuple[str, ...] = (
    "/" + "work/",  # the development machine's checkouts and notes
    "../" + "shared",  # the team's notes beside the checkout
    "shared/" + "research",
    "design" + ".md",  # the team's design notes (the repository documents itself)
    "/" + "home/",
    "/" + "Users/",
)
"""Strings no tracked text file may contain (spelt in pieces so this file passes)."""

CITATION = re.compile(r"\[S" + r":([^\]\s]*)\]")  # in two pieces, so it cites nothing
PLACEHOLDERS = {"id", "..."}
"""``[S:id]`` and ``[S:...]`` explain the citation form; they cite nothing."""

ANCHOR = re.compile(r'^<a id="([a-z0-9-]+)"></a>\n### ([a-z0-9-]+) ', re.MULTILINE)


def tracked_text_files() -> dict[str, str]:
    """Relative path → text of every tracked file that is UTF-8 text."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    files: dict[str, str] = {}
    for name in filter(None, listing.split("\0")):
        path = ROOT / name
        if not path.is_file():  # deleted in the work tree, not yet committed
            continue
        data = path.read_bytes()
        if b"\0" in data:
            continue
        try:
            files[name] = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
    return files


def outside_paths(files: dict[str, str]) -> list[str]:
    """``file:line: text`` of every line that names a path outside the repository."""
    found = []
    for name, text in sorted(files.items()):
        for n, line in enumerate(text.splitlines(), start=1):
            if any(s in line for s in OUTSIDE_PATHS):
                found.append(f"{name}:{n}: {line.strip()[:120]}")
    return found


def source_ids() -> list[str]:
    """The section ids of ``docs/sources.md``, in order (each anchor opens its heading)."""
    ids = []
    for anchor, heading in ANCHOR.findall(SOURCES.read_text(encoding="utf-8")):
        assert anchor == heading, f"anchor {anchor!r} opens the heading of {heading!r}"
        ids.append(anchor)
    return ids


def test_no_tracked_file_names_a_path_outside_the_repository() -> None:
    found = outside_paths(tracked_text_files())
    assert not found, "paths outside the repository:\n" + "\n".join(found)


def test_outside_paths_finds_a_machine_path() -> None:
    files = {"a.toml": "x = 1\n# see /" + "work/shared/notes.md\n", "b.md": "fine\n"}
    assert outside_paths(files) == ["a.toml:2: # see /" + "work/shared/notes.md"]


def test_source_sections_are_unique_and_indexed() -> None:
    ids = source_ids()
    assert ids and len(ids) == len(set(ids))
    text = SOURCES.read_text(encoding="utf-8")
    links = set(re.findall(r"\]\(#([a-z0-9-]+)\)", text))
    assert links <= set(ids), f"links to no section: {sorted(links - set(ids))}"
    index = text.split("## Index", 1)[1].split("\n## ", 1)[0]
    assert [i for i in ids if f"[{i}](#{i})" not in index] == [], "sections missing from the index"


def test_every_citation_names_a_source_section() -> None:
    ids = set(source_ids())
    bad = []
    for name, text in sorted(tracked_text_files().items()):
        for n, line in enumerate(text.splitlines(), start=1):
            for cited in CITATION.findall(line):
                if cited not in ids and cited not in PLACEHOLDERS:
                    bad.append(f"{name}:{n}: {cited!r}")
    assert not bad, "citations of no section of docs/sources.md:\n" + "\n".join(bad)


def test_the_baseline_cites_its_sources_by_section() -> None:
    text = (ROOT / "scenarios" / "deir_ez_zor" / "baseline.toml").read_text(encoding="utf-8")
    assert len(CITATION.findall(text)) >= 50
