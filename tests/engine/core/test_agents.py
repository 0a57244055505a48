"""Handlers work on a slot in place; bad input raises TaskError with the right status."""

from __future__ import annotations

import hashlib
import os

import lz4.frame
import numpy as np
import pytest
import zstandard

from engine.core.agents.base import Handler, TaskError
from engine.core.agents.params import encode_params
from engine.core.agents.registry import ROLES, build_agents, build_handlers
from engine.core.codes import Codec, Kind, Status
from engine.errors import BadRequest

SLOT = 64 * 1024


@pytest.fixture(scope="module")
def handlers() -> dict[int, Handler]:
    return build_handlers(os.urandom(32))


def run(handlers: dict[int, Handler], kind: Kind, data: bytes, **params: object) -> bytes:
    """Run in place (output over the input) and into a second slot; both must agree."""
    slot = memoryview(bytearray(SLOT))
    slot[: len(data)] = data
    n = handlers[kind](slot, len(data), encode_params(kind, params), slot)
    in_place = bytes(slot[:n])
    src, dst = memoryview(bytearray(SLOT)), memoryview(bytearray(SLOT))
    src[: len(data)] = data
    n = handlers[kind](src, len(data), encode_params(kind, params), dst)
    assert bytes(src[: len(data)]) == data  # the input slot is left as it was
    if kind not in (Kind.ENCRYPT,):  # a fresh nonce each time
        assert bytes(dst[:n]) == in_place
    return in_place


def status_of(handlers: dict[int, Handler], kind: Kind, data: bytes, **params: object) -> Status:
    with pytest.raises(TaskError) as info:
        run(handlers, kind, data, **params)
    return info.value.status


def half_compressible(n: int) -> bytes:
    rng = np.random.default_rng(7)
    return bytes(rng.integers(0, 256, n // 2, dtype=np.uint8)) + bytes(n - n // 2)


@pytest.mark.parametrize(("codec", "level"), [("lz4", 0), ("lz4", 9), ("zstd", 1), ("zstd", 19)])
def test_compress_round_trip_and_real_formats(handlers: dict[int, Handler], codec: str, level: int) -> None:
    data = half_compressible(40_000)
    packed = run(handlers, Kind.COMPRESS, data, codec=codec, level=level)
    assert len(packed) < len(data)
    # the output is the real format: the reference library reads it
    assert (lz4.frame.decompress(packed) if codec == "lz4" else zstandard.decompress(packed)) == data
    assert run(handlers, Kind.DECOMPRESS, packed, codec=codec) == data


def test_corrupt_and_truncated_input(handlers: dict[int, Handler]) -> None:
    assert status_of(handlers, Kind.DECOMPRESS, b"not a frame at all", codec="lz4") is Status.CORRUPT_INPUT
    assert status_of(handlers, Kind.DECOMPRESS, b"\x28\xb5\x2f\xfdjunk", codec="zstd") is Status.CORRUPT_INPUT
    frame = lz4.frame.compress(half_compressible(10_000))
    assert status_of(handlers, Kind.DECOMPRESS, frame[: len(frame) // 2], codec="lz4") is Status.CORRUPT_INPUT


def test_decompression_bombs_are_bounded(handlers: dict[int, Handler]) -> None:
    big = bytes(SLOT * 4)  # compresses to almost nothing, expands past the slot
    assert status_of(handlers, Kind.DECOMPRESS, lz4.frame.compress(big), codec="lz4") is Status.TOO_LARGE
    assert status_of(handlers, Kind.DECOMPRESS, zstandard.compress(big), codec="zstd") is Status.TOO_LARGE
    sizeless = zstandard.ZstdCompressor(write_content_size=False).compress(big)
    assert zstandard.frame_content_size(sizeless) == -1
    assert status_of(handlers, Kind.DECOMPRESS, sizeless, codec="zstd") is Status.TOO_LARGE


def test_encrypt_round_trip_and_tamper_detection(handlers: dict[int, Handler]) -> None:
    sealed = run(handlers, Kind.ENCRYPT, b"attack at dawn")
    assert len(sealed) == 12 + 14 + 16
    assert b"attack" not in sealed
    assert run(handlers, Kind.DECRYPT, sealed) == b"attack at dawn"
    assert run(handlers, Kind.ENCRYPT, b"attack at dawn") != sealed  # fresh nonce each time
    tampered = bytearray(sealed)
    tampered[15] ^= 1
    assert status_of(handlers, Kind.DECRYPT, bytes(tampered)) is Status.AUTH_FAILED
    assert status_of(handlers, Kind.DECRYPT, b"short") is Status.CORRUPT_INPUT
    other_key = build_handlers(os.urandom(32))
    assert status_of(other_key, Kind.DECRYPT, sealed) is Status.AUTH_FAILED
    assert status_of(handlers, Kind.ENCRYPT, bytes(SLOT - 20)) is Status.TOO_LARGE


def test_hash_matches_hashlib(handlers: dict[int, Handler]) -> None:
    data = os.urandom(5000)
    assert run(handlers, Kind.HASH, data) == hashlib.blake2b(data).digest()
    assert run(handlers, Kind.HASH, data, algo="sha256") == hashlib.sha256(data).digest()


@pytest.mark.parametrize(("k", "block"), [(2, 8), (3, 1000), (5, 4096), (4, 7)])
def test_parity_is_xor_of_blocks(handlers: dict[int, Handler], k: int, block: int) -> None:
    data = os.urandom(k * block)
    expected = bytearray(block)
    for i in range(k):
        for j, b in enumerate(data[i * block : (i + 1) * block]):
            expected[j] ^= b
    assert run(handlers, Kind.PARITY, data, k=k) == bytes(expected)
    assert status_of(handlers, Kind.PARITY, data + b"x", k=k) is Status.BAD_PARAMS


def test_parameters_are_validated_before_sending() -> None:
    with pytest.raises(BadRequest, match="level"):
        encode_params(Kind.COMPRESS, {"codec": "zstd", "level": 40})
    with pytest.raises(BadRequest, match="codec"):
        encode_params(Kind.COMPRESS, {"codec": "gzip"})
    with pytest.raises(BadRequest, match="does not take"):
        encode_params(Kind.ECHO, {"level": 1})
    with pytest.raises(BadRequest, match="k"):
        encode_params(Kind.PARITY, {})
    assert encode_params(Kind.COMPRESS, {"codec": "zstd", "level": 3}) == Codec.ZSTD | 3 << 8


def test_forty_agents_cover_every_role_on_every_worker() -> None:
    agents = build_agents(40, 2)
    assert [a.id for a in agents] == list(range(40))
    assert len({a.name for a in agents}) == 40
    for worker in (0, 1):
        hosted = [a for a in agents if a.worker == worker]
        assert len(hosted) == 20
        assert {a.role for a in hosted} == {role for role, _ in ROLES}
    assert all(Kind.ECHO in a.capabilities for a in agents)
