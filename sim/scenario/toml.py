"""The one TOML reader of the package, and TOML literals typed on the command line.

Every input file (scenarios, the files they ``extend``, sweep files, a result
folder's ``scenario.toml`` and ``sweep.toml``) is read by :func:`read_toml`:

- only a **regular file** is read, and at most
  :data:`~sim.scenario.limits.MAX_FILE_BYTES` (10 MiB; a real scenario is a few kB):
  a directory, a FIFO, a device (``/dev/zero``, ``/dev/stdin`` on a terminal or a
  pipe) is refused at once, without reading from it or waiting for a writer;
- the text must be UTF-8; a syntax error is reported with its line and column;
- arrays and tables nested more than :data:`~sim.scenario.limits.MAX_DEPTH` levels
  deep are refused, so no later step can run out of recursion.

Values typed on the command line (``--set path=VALUE``, ``--param path=v1,v2``) are
TOML literals parsed by :func:`parse_literal`: ``2``, ``0.8``, ``true``,
``2017-01-15``, ``"text"``, ``[1, 2]``, ``{ a = 1 }``. A **bare word** — text that is
not valid TOML and holds no whitespace, quote, bracket, brace, ``=``, ``,`` or ``#``
— is taken as a string, so ``--set name=foo`` works. Nothing is evaluated as code.
:func:`split_top` splits such text on a separator outside quotes, brackets and braces.

Every problem is a one-line :class:`~sim.scenario.errors.ScenarioError` (reading) or
:class:`LiteralError` (a literal; the caller names the option).
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tomllib
from pathlib import Path
from typing import Any

from sim.scenario.errors import ScenarioError
from sim.scenario.limits import MAX_DEPTH, MAX_FILE_BYTES

__all__ = [
    "LiteralError",
    "check_depth",
    "parse_literal",
    "read_bytes",
    "read_toml",
    "split_top",
]

_BARE_WORD = re.compile(r"[^\s\"'\[\]{}=,#]+")
_TOML_POS = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_END = re.compile(r"\s*\(at end of document\)\s*$")


class LiteralError(ValueError):
    """A command-line value that is not a TOML literal (the message says why)."""


# ---- files ---------------------------------------------------------------------------


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "is a directory, not a file"
    if stat.S_ISFIFO(mode):
        return "is a pipe (FIFO), not a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a regular file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a regular file"
    return "is not a regular file"


def read_bytes(path: Path | str, label: str | None = None) -> bytes:
    """The bytes of a regular file of at most :data:`MAX_FILE_BYTES` (else ScenarioError).

    The file is opened without blocking (a FIFO with no writer does not hang) and its
    type is checked on the open descriptor, so nothing can be swapped in between.
    """
    label = str(path) if label is None else label
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ScenarioError(label, "", "file not found") from None
    except IsADirectoryError:
        raise ScenarioError(label, "", _kind(stat.S_IFDIR)) from None
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a socket, or a FIFO on some systems
            raise ScenarioError(label, "", "is not a regular file") from None
        raise ScenarioError(label, "", f"cannot read the file: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ScenarioError(label, "", _kind(info.st_mode))
        if info.st_size > MAX_FILE_BYTES:
            raise ScenarioError(label, "", _too_big(info.st_size))
        os.set_blocking(fd, True)
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_FILE_BYTES:  # the file may grow while it is read
            chunk = os.read(fd, min(1 << 20, MAX_FILE_BYTES + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_FILE_BYTES:
            raise ScenarioError(label, "", _too_big(size))
        return b"".join(chunks)
    except OSError as exc:
        raise ScenarioError(label, "", f"cannot read the file: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def _too_big(size: int) -> str:
    return (
        f"is too large to be a scenario or sweep file ({size / 2**20:.1f} MiB "
        f"or more; the limit is {MAX_FILE_BYTES // 2**20} MiB)"
    )


def read_toml(path: Path | str, label: str | None = None) -> dict[str, Any]:
    """A TOML file as a dict (see the module docstring); ``label`` names it in errors."""
    label = str(path) if label is None else label
    raw = read_bytes(path, label)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(label, "", f"not UTF-8 text (bad byte at offset {exc.start})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        if m := _TOML_POS.search(msg):
            where = f"at line {m.group(1)}, column {m.group(2)}"
            msg = msg[: m.start()]
        elif m := _TOML_END.search(msg):
            where = "at the end of the file"
            msg = msg[: m.start()]
        else:
            where = ""
        msg = msg[:1].lower() + msg[1:]
        raise ScenarioError(label, "", f"invalid TOML {where}: {msg}".replace("  ", " ")) from None
    except RecursionError:
        raise ScenarioError(label, "", _too_deep()) from None
    if not check_depth(data):
        raise ScenarioError(label, "", _too_deep())
    return data


def _too_deep() -> str:
    return f"arrays or tables are nested more than {MAX_DEPTH} levels deep"


def check_depth(data: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether arrays and tables in ``data`` nest at most ``limit`` levels (no recursion)."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth >= limit:
            return False
        stack.extend((child, depth + 1) for child in children)
    return True


# ---- command-line literals -----------------------------------------------------------


def split_top(text: str, sep: str, maxsplit: int = -1) -> list[str]:
    """Split ``text`` on ``sep`` where it is outside quotes, brackets and braces.

    ``'a."b=c"=[1, 2]'`` split on ``=`` once gives ``['a."b=c"', '[1, 2]']``. Inside a
    double-quoted string a backslash escapes the next character, as in TOML.
    """
    parts: list[str] = []
    depth = 0
    quote = ""
    escaped = False
    start = 0
    for i, ch in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\" and quote == '"':
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth = max(0, depth - 1)
        elif ch == sep and depth == 0 and (maxsplit < 0 or len(parts) < maxsplit):
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def parse_literal(raw: str) -> Any:
    """A command-line value: a TOML literal, or a bare word as a string.

    Raises :class:`LiteralError` with a plain message (without the option's name).
    """
    raw = raw.strip()
    if not raw:
        raise LiteralError("the value is missing")
    if "\n" in raw or "\r" in raw:
        raise LiteralError("the value spans several lines")
    try:
        doc = tomllib.loads(f"v = {raw}")
    except tomllib.TOMLDecodeError as exc:
        if _BARE_WORD.fullmatch(raw):
            return raw
        reason = _TOML_END.sub("", _TOML_POS.sub("", str(exc)))
        raise LiteralError(
            f'{raw!r} is not a TOML value ({reason[:1].lower()}{reason[1:]}); quote text as "..."'
        ) from None
    except RecursionError:
        raise LiteralError(_too_deep()) from None
    if list(doc) != ["v"]:
        raise LiteralError(f"{raw!r} is not a single TOML value")
    if not check_depth(doc["v"], MAX_DEPTH - 1):
        raise LiteralError(_too_deep())
    return doc["v"]
