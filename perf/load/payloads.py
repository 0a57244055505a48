"""Request payloads: seeded, distinct, and half random / half text-like so they compress like NAS data."""

from __future__ import annotations

import random

_WORDS = (b"sigmavault", b"block", b"parity", b"snapshot", b"pool", b"dataset", b"checksum", b"metadata")


def mixed(size: int, seed: int) -> bytes:
    """``size`` bytes: the first half random, the rest words joined by spaces (compresses to about half)."""
    rng = random.Random(seed)
    noise = rng.randbytes(size // 2)
    rest = size - len(noise)
    text = b" ".join(rng.choices(_WORDS, k=rest // 6 + 1))  # words average over 6 bytes with their space
    return noise + text[:rest]


def mixed_set(size: int, count: int, seed: int) -> list[bytes]:
    """``count`` distinct payloads, so no cache or dictionary sees one block repeated."""
    return [mixed(size, seed * 1000 + i) for i in range(count)]


def echo(size: int) -> bytes:
    return (b"sigmavault echo " * (size // 16 + 1))[:size]
