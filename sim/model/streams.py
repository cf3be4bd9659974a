"""Named random streams: common random numbers across scenarios and design points.

Every source of randomness owns one stream, seeded from
``SeedSequence(entropy=seed, spawn_key=(replication, crc32(name)))``. A stream
depends only on the root seed, the replication index and its *name* — not on the
order components are created, the number of workers, or what else the scenario
contains. The names:

==================================  ===================================================
``weather``, ``weather:<zone>``     the default weather zone, a named weather zone
``siege``                           combat sorties and targets destroyed
``<section>:<name>:closure``        shelling closures of an airfield or helipad
``fleets:<f>:<i>:maintenance``      breakdowns and repairs of aircraft ``i`` of fleet
                                    ``f`` (``i`` = 0, 1, ... its place in the fleet)
``fleets:<f>:<i>:loss``             its losses in flight and on the ground
``fleets:<f>:<i>:recovery``         the pallets recovered from its drops
``fleets:<f>:<i>:replacement``      the delays before it is replaced when lost
``abc:proposal:<k>``                proposal ``k`` of a calibration's generation ``g``
                                    (``g`` in the replication slot; see
                                    :mod:`sim.experiment.calibrate`)
``abc:predictive``                  the posterior draws of a calibration's predictive
                                    check
``posterior:draws``                 the posterior draw of each replication of
                                    ``siege run --posterior``
``bootstrap:<metric>``              the resamples of a bootstrap
                                    interval of a metric (replication index 0,
                                    :mod:`sim.analysis.intervals`)
==================================  ===================================================

One stream per purpose and per aircraft, and every opportunity consumes the same
draws whatever its outcome (a loss draw on every sortie even when the loss rate is
0, two weather draws per zone and day whatever the day turns out to be), so that
changing one parameter moves only what that parameter touches: adding a fleet does
not reshuffle the weather, a loss rate of 0 and of 1e-12 fly the same sorties, and
two scenarios run with the same seed share their draws wherever they share
components.

Uniforms are drawn in blocks (one numpy call per block, 32 draws at first, doubling
up to :data:`BLOCK`), and a stream's generator is created at its first draw, so a
stream that is never used costs nothing. Block sizes do not change the draws:
PCG64 yields the same sequence however it is cut. A block is kept as packed doubles
(``array('d')``, 8 bytes a draw) rather than a list of float objects (32 bytes a
draw, scattered): a large airlift has two streams in use per aircraft, and a draw
read from a packed block touches far less memory.

With ``stochastic = false`` every stream becomes an :class:`ExpectedStream`, which
replaces each draw by its expectation: a share of an outcome by its probability, an
exponential by its mean, a binomial by ``n p``, a Poisson by its mean, and a
Bernoulli trial by an error-diffusion accumulator per call site that fires on the
trial where the running sum of ``p`` reaches 1.
"""

from __future__ import annotations

import math
import zlib
from array import array

import numpy as np

BLOCK = 512
"""Largest number of uniforms drawn per refill of a stream's buffer."""

FIRST_BLOCK = 32
"""Uniforms drawn at a stream's first refill (the block doubles at each refill)."""


def seed_sequence(seed: int, replication: int, name: str) -> np.random.SeedSequence:
    """The seed sequence of stream ``name`` in replication ``replication``."""
    return np.random.SeedSequence(
        entropy=int(seed), spawn_key=(int(replication), zlib.crc32(name.encode("utf-8")))
    )


class Stream:
    """A component's own random stream (numpy PCG64), with buffered uniforms."""

    __slots__ = ("_block", "_buf", "_i", "_rng", "name", "replication", "seed")

    def __init__(self, seed: int, replication: int, name: str) -> None:
        self.name = name
        self.seed = seed
        self.replication = replication
        self._rng: np.random.Generator | None = None
        self._buf: array[float] = array("d")
        self._i = 0
        self._block = FIRST_BLOCK

    @property
    def rng(self) -> np.random.Generator:
        """The numpy generator, created at the first draw."""
        if self._rng is None:
            ss = seed_sequence(self.seed, self.replication, self.name)
            self._rng = np.random.Generator(np.random.PCG64(ss))
        return self._rng

    def _refill(self) -> array[float]:
        block = self._block
        self._buf = array("d", self.rng.random(block).tobytes())
        if block < BLOCK:
            self._block = 2 * block
        self._i = 0
        return self._buf

    def uniform(self) -> float:
        """One U(0, 1) draw."""
        i = self._i
        buf = self._buf
        if i >= len(buf):
            buf = self._refill()
            i = 0
        self._i = i + 1
        return buf[i]

    def uniforms(self, k: int) -> np.ndarray:
        """The next ``k`` U(0, 1) draws, in order, as a float64 array: what ``k`` calls of
        :meth:`uniform` give (a weather zone takes all its days' draws at once)."""
        i = self._i
        buf = self._buf
        head = min(k, len(buf) - i)
        out = np.empty(k)
        if head > 0:  # the rest of the current block first
            out[:head] = np.frombuffer(buf, dtype=np.float64)[i : i + head]
            self._i = i + head
        else:
            head = 0
        if k > head:  # then straight from the generator (the block is used up)
            out[head:] = self.rng.random(k - head)
        return out

    def bernoulli(self, p: float, key: str = "") -> bool:
        """True with probability ``p``; always one uniform (``key``: call site, deterministic)."""
        i = self._i  # uniform(), inlined
        buf = self._buf
        if i >= len(buf):
            buf = self._refill()
            i = 0
        self._i = i + 1
        return buf[i] < p

    def share(self, p: float) -> float:
        """The share of one trial that turns out true: 1.0 with probability ``p``, else 0.0.

        Always one uniform. In the deterministic limit the share is ``p`` itself.
        """
        i = self._i
        buf = self._buf
        if i >= len(buf):
            buf = self._refill()
            i = 0
        self._i = i + 1
        return 1.0 if buf[i] < p else 0.0

    def loss_draws(self, p: float) -> tuple[float, float]:
        """A sortie's two loss draws: the share lost in flight (p capped at 1), a uniform.

        The uniform decides later whether the aircraft is destroyed on the ground.
        Always two uniforms; in the deterministic limit (``p``, 0.5).
        """
        i = self._i
        buf = self._buf
        if i + 1 >= len(buf):
            u = self.uniform()
            return (1.0 if u < p else 0.0), self.uniform()
        self._i = i + 2
        return (1.0 if buf[i] < p else 0.0), buf[i + 1]

    def exponential(self, mean: float) -> float:
        """An exponential draw of mean ``mean`` (one uniform, by inversion)."""
        return -mean * math.log(1.0 - self.uniform())

    def binomial(self, n: int, p: float) -> float:
        """Number of successes in ``n`` trials of probability ``p``."""
        if n <= 0 or p <= 0.0:
            return 0.0
        if p >= 1.0:
            return float(n)
        rng = self._rng if self._rng is not None else self.rng
        return float(rng.binomial(n, p))

    def poisson(self, lam: float) -> float:
        """A Poisson draw of mean ``lam``."""
        if lam <= 0.0:
            return 0.0
        rng = self._rng if self._rng is not None else self.rng
        return float(rng.poisson(lam))


class ExpectedStream(Stream):
    """The deterministic limit of a stream: every draw replaced by its expectation."""

    __slots__ = ("_acc",)

    def __init__(self, seed: int, replication: int, name: str) -> None:
        super().__init__(seed, replication, name)
        self._acc: dict[str, float] = {}

    def uniform(self) -> float:
        """The mean of U(0, 1)."""
        return 0.5

    def uniforms(self, k: int) -> np.ndarray:
        """``k`` means of U(0, 1)."""
        return np.full(k, 0.5)

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

    def share(self, p: float) -> float:
        """``p``: the expected share."""
        return p

    def loss_draws(self, p: float) -> tuple[float, float]:
        """(``p`` capped at 1, 0.5)."""
        return (p if p < 1.0 else 1.0), 0.5

    def exponential(self, mean: float) -> float:
        """``mean``."""
        return mean

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
