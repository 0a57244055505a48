"""Task parameters packed into the descriptor's 32-bit ``param`` word, and their validation.

Layout by kind: compress/decompress ``codec | level << 8``; hash ``algo``; parity ``k``;
echo/encrypt/decrypt 0. The client validates keyword arguments here before anything is sent.
"""

from __future__ import annotations

from typing import Any

from engine.errors import BadRequest
from engine.status import Codec, HashAlgo, Kind

LEVELS = {Codec.LZ4: (0, 16, 0), Codec.ZSTD: (1, 22, 3)}  # (min, max, default)
ENCRYPT_OVERHEAD = 12 + 16  # nonce before, tag after the ciphertext
MAX_PARITY_BLOCKS = 255


def _enum(enum: Any, value: Any, what: str) -> Any:
    try:
        return enum[str(value).upper()] if not isinstance(value, int) else enum(value)
    except (KeyError, ValueError):
        options = ", ".join(m.name.lower() for m in enum)
        raise BadRequest(f"unknown {what} {value!r}; known: {options}") from None


def encode_params(kind: Kind, params: dict[str, Any]) -> int:
    """Validate keyword parameters for ``kind`` and pack them; unknown names are errors."""
    allowed = {
        Kind.COMPRESS: {"codec", "level"},
        Kind.DECOMPRESS: {"codec"},
        Kind.HASH: {"algo"},
        Kind.PARITY: {"k"},
    }.get(kind, set())
    unknown = set(params) - allowed
    if unknown:
        raise BadRequest(f"{kind.label} does not take {', '.join(sorted(unknown))}")
    if kind in (Kind.COMPRESS, Kind.DECOMPRESS):
        codec = _enum(Codec, params.get("codec", "lz4"), "codec")
        lo, hi, default = LEVELS[codec]
        level = params.get("level", default)
        if not isinstance(level, int) or isinstance(level, bool) or not lo <= level <= hi:
            raise BadRequest(f"{codec.name.lower()} level must be an integer in {lo}-{hi}, got {level!r}")
        return int(codec) | level << 8
    if kind is Kind.HASH:
        return int(_enum(HashAlgo, params.get("algo", "blake2b"), "hash algorithm"))
    if kind is Kind.PARITY:
        k = params.get("k")
        if not isinstance(k, int) or isinstance(k, bool) or not 2 <= k <= MAX_PARITY_BLOCKS:
            raise BadRequest(f"parity needs k, the block count, as an integer in 2-{MAX_PARITY_BLOCKS}; got {k!r}")
        return k
    return 0


def max_input_bytes(kind: Kind, slot_bytes: int) -> int:
    return slot_bytes - ENCRYPT_OVERHEAD if kind is Kind.ENCRYPT else slot_bytes
