"""Per-sample random streams for a whole batch at once, bit-identical to numpy's Philox generators.

Every sample draws from its own ``np.random.Generator(np.random.Philox(key=…))`` (see ``records.sample_rng``).
Creating one is slow (numpy seeds a SeedSequence from the OS even when a key is given), and so is each scalar
``random()`` / ``integers()`` call, enough to be a large share of the sampler's time (docs/sampling.md).
Philox is counter-based, so the first blocks of every sample's stream can be computed
for the whole batch in a few vectorized numpy passes (Philox4x64-10 over uint64 arrays); each sample then
reads its draws from a small Python object that consumes them exactly as numpy's Generator does:

  * ``random()``       one 64-bit word w → (w >> 11) · 2⁻⁵³ (numpy's ``next_double``);
  * ``integers(n)``    for n ≤ 2³²: Lemire's bounded draw on 32-bit halves (low half first, the high half
                       kept for the next 32-bit draw, as numpy's ``has_uint32`` buffer); n == 1 draws nothing;
                       larger n fall back to numpy itself (never hit: a pool of 4 billion tools).

A stream that runs past its precomputed words computes the next Philox block in plain Python ints (exact,
slower, rare). tests/unit/sampling/test_streams.py checks every method against numpy word for word.
"""

from __future__ import annotations

import numpy as np

M64 = (1 << 64) - 1
M32 = (1 << 32) - 1
PHILOX_M0 = 0xD2E7470EE14C6C93
PHILOX_M1 = 0xCA5A826395121157
PHILOX_W0 = 0x9E3779B97F4A7C15
PHILOX_W1 = 0xBB67AE8584CAA73B
ROUNDS = 10
WORDS_PER_BLOCK = 4
TWO_M53 = 1.0 / 9007199254740992.0


def philox_block(block: int, key0: int, key1: int) -> tuple[int, int, int, int]:
    """Block ``block`` (0-based) of a Philox4x64-10 stream, in Python ints: numpy's counter starts at 0 and is
    incremented before each block, so block b encrypts the counter (b+1, 0, 0, 0)."""
    c = block + 1
    c0, c1, c2, c3 = c & M64, (c >> 64) & M64, 0, 0
    k0, k1 = key0, key1
    for r in range(ROUNDS):
        if r:
            k0, k1 = (k0 + PHILOX_W0) & M64, (k1 + PHILOX_W1) & M64
        p0 = PHILOX_M0 * c0
        p1 = PHILOX_M1 * c2
        c0, c1, c2, c3 = (p1 >> 64) ^ c1 ^ k0, p1 & M64, (p0 >> 64) ^ c3 ^ k1, p0 & M64
    return c0, c1, c2, c3


def _mulhilo(a: np.ndarray, b: int) -> tuple[np.ndarray, np.ndarray]:
    """(high, low) 64-bit halves of a · b for uint64 arrays, from 32-bit partial products (no 128-bit type)."""
    m32 = np.uint64(M32)
    s32 = np.uint64(32)
    a_lo, a_hi = a & m32, a >> s32
    b_lo, b_hi = np.uint64(b & M32), np.uint64(b >> 32)
    p0 = a_lo * b_lo
    p1 = a_lo * b_hi
    p2 = a_hi * b_lo
    p3 = a_hi * b_hi
    mid = (p0 >> s32) + (p1 & m32) + (p2 & m32)
    hi = p3 + (p1 >> s32) + (p2 >> s32) + (mid >> s32)
    return hi, a * np.uint64(b)


def philox_blocks(key0: np.ndarray, key1: int, blocks: int) -> np.ndarray:
    """Words of the first ``blocks`` Philox4x64-10 blocks for many keys: shape (len(key0), 4·blocks), uint64."""
    n = len(key0)
    out = np.empty((n, WORDS_PER_BLOCK * blocks), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for b in range(blocks):
            c0 = np.full(n, b + 1, dtype=np.uint64)
            c1 = np.zeros(n, dtype=np.uint64)
            c2 = np.zeros(n, dtype=np.uint64)
            c3 = np.zeros(n, dtype=np.uint64)
            k0 = key0.astype(np.uint64, copy=True)
            k1 = np.full(n, key1, dtype=np.uint64)
            for r in range(ROUNDS):
                if r:
                    k0 += np.uint64(PHILOX_W0)
                    k1 += np.uint64(PHILOX_W1)
                hi0, lo0 = _mulhilo(c0, PHILOX_M0)
                hi1, lo1 = _mulhilo(c2, PHILOX_M1)
                c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
            out[:, WORDS_PER_BLOCK * b + 0] = c0
            out[:, WORDS_PER_BLOCK * b + 1] = c1
            out[:, WORDS_PER_BLOCK * b + 2] = c2
            out[:, WORDS_PER_BLOCK * b + 3] = c3
    return out


class Stream:
    """numpy ``Generator(Philox(key))``'s ``random()`` and ``integers(n)``, read from precomputed words."""

    __slots__ = ("_key0", "_key1", "_words", "_pos", "_half")

    def __init__(self, key0: int, key1: int, words: list[int]) -> None:
        self._key0 = key0
        self._key1 = key1
        self._words = words
        self._pos = 0
        self._half = -1  # the buffered high 32 bits of the last word split for 32-bit draws; -1: none

    def next64(self) -> int:
        pos = self._pos
        if pos >= len(self._words):
            self._words.extend(philox_block(pos // WORDS_PER_BLOCK, self._key0, self._key1))
        self._pos = pos + 1
        return self._words[pos]

    def next32(self) -> int:
        half = self._half
        if half >= 0:
            self._half = -1
            return half
        w = self.next64()
        self._half = w >> 32
        return w & M32

    def random(self) -> float:
        return (self.next64() >> 11) * TWO_M53

    def integers(self, low: int, high: int | None = None) -> int:
        """A uniform int in [low, high) (or [0, low)), as ``Generator.integers`` draws it (Lemire, 32-bit path)."""
        if high is None:
            low, high = 0, low
        return low + self._bounded(high - low)

    def _bounded(self, high: int) -> int:
        rng = high - 1
        if rng <= 0:
            if rng < 0:
                raise ValueError("high <= 0")
            return 0
        if rng > M32:  # pragma: no cover - pools of 2**32 tools
            raise ValueError("ranges above 2**32 are not supported")
        if rng == M32:
            return self.next32()
        m = self.next32() * high
        leftover = m & M32
        if leftover < high:
            threshold = (M32 - rng) % high
            while leftover < threshold:
                m = self.next32() * high
                leftover = m & M32
        return m >> 32


def batch_streams(seed: int, salt: int, indices: range, blocks: int = 2) -> list[Stream]:
    """Streams of samples ``indices`` (keys as ``records.sample_rng``), their first blocks computed at once."""
    key0 = (np.uint64(salt) << np.uint64(32)) | np.arange(indices.start, indices.stop, dtype=np.uint64)
    words = philox_blocks(key0, seed, blocks).tolist()
    k0s = key0.tolist()
    return [Stream(k0, seed, w) for k0, w in zip(k0s, words, strict=True)]
