"""Named random streams: common random numbers across scenarios and design points.

Every component that draws random numbers (a fleet, the weather, the siege, a
route, a drop zone...) owns one stream, seeded from
``SeedSequence(entropy=seed, spawn_key=(replication, crc32(name)))``. The stream of
a component depends only on the root seed, the replication index and the
component's *name* — not on the order components are created, the number of
workers, or what else the scenario contains. Adding a fleet therefore does not
reshuffle the weather, and two scenarios run with the same seed share their draws
wherever they share components.

Uniforms are drawn in blocks (one numpy call per :data:`BLOCK` draws) to keep the
sortie cycle cheap.

With ``stochastic = false`` every stream becomes an :class:`ExpectedStream`, which
replaces each draw by its expectation: a binomial by ``n p``, a Poisson by its
mean, and a Bernoulli trial by an error-diffusion accumulator per call site that
fires on the trial where the running sum of ``p`` reaches 1 — so rare events
(a loss, an unflyable day) happen at exactly their expected long-run frequency,
deterministically.
"""

from __future__ import annotations

import zlib

import numpy as np

BLOCK = 512
"""Uniforms drawn per refill of a stream's buffer."""


def seed_sequence(seed: int, replication: int, name: str) -> np.random.SeedSequence:
    """The seed sequence of component ``name`` in replication ``replication``."""
    return np.random.SeedSequence(
        entropy=int(seed), spawn_key=(int(replication), zlib.crc32(name.encode("utf-8")))
    )


class Stream:
    """A component's own random stream (numpy PCG64), with buffered uniforms."""

    __slots__ = ("_buf", "_i", "name", "rng")

    def __init__(self, seed: int, replication: int, name: str) -> None:
        self.name = name
        self.rng = np.random.Generator(np.random.PCG64(seed_sequence(seed, replication, name)))
        self._buf: list[float] = []
        self._i = 0

    def uniform(self) -> float:
        """One U(0, 1) draw."""
        i = self._i
        if i >= len(self._buf):
            self._buf = self.rng.random(BLOCK).tolist()
            i = 0
        self._i = i + 1
        return self._buf[i]

    def bernoulli(self, p: float, key: str = "") -> bool:
        """True with probability ``p`` (``key`` names the call site; used when deterministic)."""
        if p <= 0.0:
            return False
        i = self._i  # uniform(), inlined: the sortie cycle draws several per slot
        buf = self._buf
        if i >= len(buf):
            buf = self._buf = self.rng.random(BLOCK).tolist()
            i = 0
        self._i = i + 1
        return buf[i] < p

    def binomial(self, n: int, p: float) -> float:
        """Number of successes in ``n`` trials of probability ``p``."""
        if n <= 0 or p <= 0.0:
            return 0.0
        if p >= 1.0:
            return float(n)
        return float(self.rng.binomial(n, p))

    def poisson(self, lam: float) -> float:
        """A Poisson draw of mean ``lam``."""
        if lam <= 0.0:
            return 0.0
        return float(self.rng.poisson(lam))


class ExpectedStream(Stream):
    """The deterministic limit of a stream: every draw replaced by its expectation."""

    __slots__ = ("_acc",)

    def __init__(self, seed: int, replication: int, name: str) -> None:
        self.name = name
        self._acc: dict[str, float] = {}

    def uniform(self) -> float:
        """The mean of U(0, 1)."""
        return 0.5

    def bernoulli(self, p: float, key: str = "") -> bool:
        """Fires on the trial at which the running sum of ``p`` at this call site reaches 1."""
        if p <= 0.0:
            return False
        acc = self._acc.get(key, 0.0) + p
        if acc >= 1.0 - 1e-12:
            self._acc[key] = acc - 1.0
            return True
        self._acc[key] = acc
        return False

    def binomial(self, n: int, p: float) -> float:
        """``n p`` (fractional)."""
        return max(0.0, n * p)

    def poisson(self, lam: float) -> float:
        """``lam``."""
        return max(0.0, lam)


def make_stream(stochastic: bool, seed: int, replication: int, name: str) -> Stream:
    """A random stream, or its deterministic limit when ``stochastic`` is false."""
    cls = Stream if stochastic else ExpectedStream
    return cls(seed, replication, name)
