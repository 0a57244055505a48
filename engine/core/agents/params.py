"""Task parameters packed into the descriptor's 32-bit ``param`` word, and their validation.

Layout by kind: compress/decompress ``codec | level << 8``; hash ``algo``; parity ``k``;
echo/encrypt/decrypt 0; zstd_frame ``Codec.ZSTD | level << 8``;
lz4_frame ``Codec.LZ4 | level << 8 | (1 << 16 if not checksum)``; seal_block ``codec | level << 8``
and open_block ``codec``, with codec 0 ("none") or ``Codec.ZSTD``.
The client validates keyword arguments here before anything is sent. ``max_block_bytes`` is the
largest plaintext block a file job can give one task of a kind so that input and worst-case output
both fit one slot.
"""

from __future__ import annotations

from typing import Any

from engine.core.codes import Codec, HashAlgo, Kind, Status
from engine.errors import BadRequest
from engine.files.lz4_frames import frame_bound as lz4_frame_bound

LEVELS = {Codec.LZ4: (0, 16, 0), Codec.ZSTD: (1, 22, 3)}  # (min, max, default)
ENCRYPT_OVERHEAD = 12 + 16  # nonce before, tag after the ciphertext
MAX_PARITY_BLOCKS = 255
SLOT_HEADER_BYTES = 80  # engine/core/agents/sealing.py SLOT_HEADER (kept here to spare the import of the agent)
SEAL_CODECS = {"none": 0, "zstd": int(Codec.ZSTD)}


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
        Kind.ZSTD_FRAME: {"level"},
        Kind.LZ4_FRAME: {"level", "checksum"},
        Kind.SEAL_BLOCK: {"codec", "level"},
        Kind.OPEN_BLOCK: {"codec"},
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
    if kind in (Kind.ZSTD_FRAME, Kind.LZ4_FRAME):
        codec = Codec.ZSTD if kind is Kind.ZSTD_FRAME else Codec.LZ4
        checksum = params.get("checksum", True)
        if not isinstance(checksum, bool):
            raise BadRequest(f"checksum must be true or false, got {checksum!r}")
        return int(codec) | _level(codec, params.get("level", LEVELS[codec][2])) << 8 | (0 if checksum else 1 << 16)
    if kind in (Kind.SEAL_BLOCK, Kind.OPEN_BLOCK):
        name = str(params.get("codec", "none")).lower()
        if name not in SEAL_CODECS:
            raise BadRequest(f"{kind.label} codec must be one of none, zstd; got {params.get('codec')!r}")
        level = _level(Codec.ZSTD, params.get("level", LEVELS[Codec.ZSTD][2])) if name == "zstd" else 0
        return SEAL_CODECS[name] | level << 8
    if kind is Kind.HASH:
        return int(_enum(HashAlgo, params.get("algo", "blake2b"), "hash algorithm"))
    if kind is Kind.PARITY:
        k = params.get("k")
        if not isinstance(k, int) or isinstance(k, bool) or not 2 <= k <= MAX_PARITY_BLOCKS:
            raise BadRequest(f"parity needs k, the block count, as an integer in 2-{MAX_PARITY_BLOCKS}; got {k!r}")
        return k
    return 0


def _level(codec: Codec, level: Any) -> int:
    lo, hi, _ = LEVELS[codec]
    if not isinstance(level, int) or isinstance(level, bool) or not lo <= level <= hi:
        raise BadRequest(f"{codec.name.lower()} level must be an integer in {lo}-{hi}, got {level!r}")
    return level


def max_input_bytes(kind: Kind, slot_bytes: int) -> int:
    return slot_bytes - ENCRYPT_OVERHEAD if kind is Kind.ENCRYPT else slot_bytes


def compress_bound(codec: Codec, n: int) -> int:
    """Worst-case output of one frame for ``n`` input bytes (zstd's ZSTD_COMPRESSBOUND; lz4 frame:
    the block bound plus a 4-byte header per 64 KiB block, frame header and checksums)."""
    if codec is Codec.ZSTD:
        return n + (n >> 8) + ((((128 << 10) - n) >> 11) if n < 128 << 10 else 0) + 32
    return n + n // 255 + 16 + 4 * (n // 65536 + 1) + 32


def largest_input_that_fits(codec: Codec, slot_bytes: int) -> int:
    lo, hi = 0, slot_bytes
    while lo < hi:  # the largest n with compress_bound(n) <= slot_bytes
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if compress_bound(codec, mid) <= slot_bytes else (lo, mid - 1)
    return lo


def check_input(kind: Kind, param: int, n: int) -> None:
    """Refuse, with the numbers, an input the worker would refuse for its shape alone."""
    if kind is Kind.PARITY and (n == 0 or n % param):
        raise BadRequest(
            f"parity input of {n} bytes does not split into k={param} equal blocks: the length must "
            f"be a positive multiple of {param}",
            metadata={"k": param, "size": n},
        )


def describe_failure(kind: Kind, param: int, status: Status, n: int, slot_bytes: int) -> tuple[str, dict[str, int]]:
    """What a worker's refusal means for this task, with its numbers (message, metadata)."""
    if status is Status.TOO_LARGE and kind is Kind.COMPRESS:
        codec = Codec(param & 0xFF)
        fits = largest_input_that_fits(codec, slot_bytes)
        message = (
            f"{codec.name.lower()} output of this {n}-byte input does not fit the {slot_bytes}-byte slot "
            f"(it does not compress); inputs up to {fits} bytes always fit"
        )
        return message, {"limit": fits, "size": n}
    if status is Status.TOO_LARGE:
        return f"the {kind.label} output is over the {slot_bytes}-byte slot", {"limit": slot_bytes}
    if status is Status.CORRUPT_INPUT and kind is Kind.DECOMPRESS:
        codec = Codec(param & 0xFF)
        return f"the input is not a valid, complete {codec.name.lower()} frame", {}
    if status is Status.BAD_PARAMS and kind is Kind.PARITY:
        return f"{n} bytes do not split into k={param} equal blocks", {"k": param, "size": n}
    return "", {}


def zstd_bound(n: int) -> int:
    """ZSTD_COMPRESSBOUND: the largest frame zstd writes for ``n`` bytes (checksum included)."""
    return n + (n >> 8) + (((128 << 10) - n) >> 11 if n < 128 << 10 else 0)


def max_block_bytes(kind: Kind, slot_bytes: int, codec: str = "none") -> int:
    """Largest plaintext block for one task of ``kind`` (codec applies to seal/open_block): input and
    worst-case output both fit a slot. 1 MiB blocks need slots of 1 MiB + 8 KiB (1056768 bytes)."""

    def fits(n: int) -> bool:
        if kind is Kind.ZSTD_FRAME:
            return zstd_bound(n) <= slot_bytes
        if kind is Kind.LZ4_FRAME:
            return lz4_frame_bound(n) <= slot_bytes
        if kind in (Kind.SEAL_BLOCK, Kind.OPEN_BLOCK):
            record = 4 + zstd_bound(n) + 16 if codec == "zstd" else n + 16
            return SLOT_HEADER_BYTES + record <= slot_bytes  # open_block's input: header and record
        return n <= max_input_bytes(kind, slot_bytes)

    lo, hi = 0, slot_bytes
    while lo < hi:  # the bounds grow with n: binary search for the last n that fits
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid - 1)
    return lo
