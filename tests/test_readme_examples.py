"""The README's Python examples written as doctests (``>>>``) run, from the repository root.

CI installs the pandas extra (``.ci/run``), so the DataFrame example always runs there;
without pandas the test is skipped, and :func:`test_a_missing_pandas_is_a_clear_error`
checks what a user without the extra sees.
"""

from __future__ import annotations

import doctest
import sys
from pathlib import Path

import pytest

from sim.analysis import frames

ROOT = Path(__file__).resolve().parents[1]


def test_the_readme_doctests_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pandas")
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(ROOT)
    result = doctest.testfile(
        str(ROOT / "README.md"),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        verbose=False,
    )
    assert result.attempted >= 8
    assert result.failed == 0


def test_a_missing_pandas_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now raises ImportError
    with pytest.raises(frames.PandasMissingError, match=r"pip install 'siege-sim\[pandas\]'"):
        frames.metrics_frame([0], [1], [{"delivered_t": 1.0}])
    assert issubclass(frames.PandasMissingError, ImportError)
