"""The per-block handlers of file jobs: their output is the real format (the zstd and lz4 CLIs and the
sealed reader accept a file assembled from it), in place and slot to slot, and bad input gets the
right status without expanding a bomb."""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lz4.frame
import pytest
import zstandard
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from engine.core.agents.base import TaskError
from engine.core.agents.lz4_direct import DirectLz4
from engine.core.agents.params import encode_params, max_block_bytes
from engine.core.agents.registry import build_handlers
from engine.core.agents.sealing import SLOT_HEADER, write_slot_header
from engine.core.codes import Kind, Status
from engine.errors import BadRequest
from engine.files.sealed import LENGTH, DataKey, SealedHeader, associated_data, new_header, nonce, seal_block
from engine.files.sealed_files import open_bytes
from engine.files.zstd_frames import frame_checksum
from engine.files.zstd_seekable import SeekTableBuilder, read_seek_table
from engine.keys.keystore import Keystore
from tests.engine.files.files_helpers import cli, mixed, need, write

SLOT = 256 * 1024
BLOCK = 64 * 1024
DATA = mixed(5 * BLOCK + 777, seed=5)
Handler = Callable[[memoryview, int, int, memoryview], int]


@pytest.fixture(scope="module")
def handlers() -> dict[int, Handler]:
    return build_handlers(os.urandom(32))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Keystore:
    return Keystore.open(tmp_path_factory.mktemp("keys"))


def run(handler: Handler, payload: bytes, param: int, slot: int = SLOT, out: int = SLOT) -> bytes:
    """Slot to slot and in place; both must give the same bytes."""
    src, dst = memoryview(bytearray(slot)), memoryview(bytearray(out))
    src[: len(payload)] = payload
    n = handler(src, len(payload), param, dst)
    two_slots = bytes(dst[:n])
    assert bytes(src[: len(payload)]) == payload
    if out == slot:
        n = handler(src, len(payload), param, src)
        assert bytes(src[:n]) == two_slots
    return two_slots


def status(handler: Handler, payload: bytes, param: int, out: int = SLOT) -> Status:
    with pytest.raises(TaskError) as info:
        run(handler, payload, param, out=out)
    return info.value.status


def blocks(data: bytes, size: int = BLOCK) -> list[bytes]:
    return [data[i : i + size] for i in range(0, max(len(data), 1), size)]


def test_zstd_frames_with_seek_table_decode_with_the_cli(tmp_path: Path, handlers: dict[int, Handler]) -> None:
    param = encode_params(Kind.ZSTD_FRAME, {"level": 3})
    builder, frames = SeekTableBuilder(checksums=True), []
    for block in blocks(DATA):
        frame = run(handlers[Kind.ZSTD_FRAME], block, param)
        assert zstandard.get_frame_parameters(frame).content_size == len(block)
        checksum = frame_checksum(frame)
        assert checksum is not None
        builder.add(len(frame), len(block), checksum)
        frames.append(frame)
        assert run(handlers[Kind.DECOMPRESS], frame, encode_params(Kind.DECOMPRESS, {"codec": "zstd"})) == block
    path = write(tmp_path / "f.zst", b"".join(frames) + builder.to_bytes())
    need("zstd")
    assert cli(["zstd", "-d", "-c", "-q", str(path)]) == DATA
    fd = os.open(path, os.O_RDONLY)
    try:
        table = read_seek_table(fd)
        assert table is not None and table.decompressed_bytes == len(DATA)
    finally:
        os.close(fd)


def test_zstd_frames_decode_straight_into_a_second_slot(handlers: dict[int, Handler]) -> None:
    """The file-job path (output slot apart from the input): checksum, size and bound still checked."""
    decompress, param = handlers[Kind.DECOMPRESS], encode_params(Kind.DECOMPRESS, {"codec": "zstd"})
    frame = zstandard.ZstdCompressor(level=3, write_checksum=True).compress(DATA[:BLOCK])
    assert run(decompress, frame, param) == DATA[:BLOCK]
    bad_sum = bytearray(frame)
    bad_sum[-1] ^= 1
    assert status(decompress, bytes(bad_sum), param) is Status.CORRUPT_INPUT
    assert status(decompress, frame[: len(frame) // 2], param) is Status.CORRUPT_INPUT
    assert status(decompress, frame, param, out=BLOCK - 1) is Status.TOO_LARGE  # declares more than the slot
    sizeless = zstandard.ZstdCompressor(write_content_size=False).compress(DATA[:BLOCK])
    assert run(decompress, sizeless, param) == DATA[:BLOCK]


def test_lz4_frames_written_in_place_match_python_lz4(handlers: dict[int, Handler]) -> None:
    """The direct liblz4 path (two slots) and python-lz4 (in place) write the same bytes."""
    assert DirectLz4.open() is not None  # python-lz4 exports the LZ4F API here
    lz4_frame = handlers[Kind.LZ4_FRAME]
    for size in (0, 1, 4096, BLOCK, 3 * BLOCK + 5):
        for params in ({"level": 0}, {"level": 9, "checksum": False}):
            payload = DATA[:size]
            frame = run(lz4_frame, payload, encode_params(Kind.LZ4_FRAME, params))  # run() compares both paths
            assert lz4.frame.decompress(frame) == payload
    assert status(lz4_frame, os.urandom(BLOCK), encode_params(Kind.LZ4_FRAME, {}), out=BLOCK) is Status.TOO_LARGE


def test_lz4_frames_decode_with_the_cli(tmp_path: Path, handlers: dict[int, Handler]) -> None:
    param = encode_params(Kind.LZ4_FRAME, {"level": 0})
    frames = [run(handlers[Kind.LZ4_FRAME], block, param) for block in blocks(DATA)]
    info = lz4.frame.get_frame_info(frames[0])
    assert info["content_size"] == BLOCK and info["content_checksum"] and not info["block_linked"]
    for frame, block in zip(frames, blocks(DATA), strict=True):
        assert run(handlers[Kind.DECOMPRESS], frame, encode_params(Kind.DECOMPRESS, {"codec": "lz4"})) == block
    need("lz4")
    assert cli(["lz4", "-d", "-c", "-q", str(write(tmp_path / "f.lz4", b"".join(frames)))]) == DATA
    bare = [run(handlers[Kind.LZ4_FRAME], b, encode_params(Kind.LZ4_FRAME, {"checksum": False})) for b in blocks(DATA)]
    assert not lz4.frame.get_frame_info(bare[0])["content_checksum"]
    assert cli(["lz4", "-d", "-c", "-q", str(write(tmp_path / "bare.lz4", b"".join(bare)))]) == DATA


def test_frame_decompression_is_bounded_by_the_slot(handlers: dict[int, Handler]) -> None:
    bomb = zstandard.ZstdCompressor(level=3, write_checksum=True).compress(bytes(4 * SLOT))
    assert (
        status(handlers[Kind.DECOMPRESS], bomb, encode_params(Kind.DECOMPRESS, {"codec": "zstd"})) is Status.TOO_LARGE
    )
    bomb = lz4.frame.compress(bytes(4 * SLOT), store_size=False)
    assert status(handlers[Kind.DECOMPRESS], bomb, encode_params(Kind.DECOMPRESS, {"codec": "lz4"})) is Status.TOO_LARGE


def sealed_task(key: DataKey, header: SealedHeader, index: int, payload: bytes, plain: int = 0) -> bytes:
    slot = memoryview(bytearray(SLOT_HEADER.size + len(payload)))
    last = index == header.n_blocks - 1
    at = write_slot_header(slot, key, header.file_id, header.nonce_prefix, index, last, plain)
    slot[at:] = payload
    return bytes(slot)


@pytest.mark.parametrize("codec", ["none", "zstd"])
def test_sealed_blocks_match_the_format_and_open(store: Keystore, handlers: dict[int, Handler], codec: str) -> None:
    header, key = new_header(
        store.current.recipient, original_bytes=len(DATA), block_bytes=BLOCK, compressed=codec == "zstd"
    )
    seal, open_ = (
        encode_params(Kind.SEAL_BLOCK, {"codec": codec, "level": 3}),
        encode_params(Kind.OPEN_BLOCK, {"codec": codec}),
    )
    records = []
    for i, block in enumerate(blocks(DATA)):
        record = run(handlers[Kind.SEAL_BLOCK], sealed_task(key, header, i, block), seal)
        assert record == seal_block(key, header, i, block)  # the reference sealer gives the same bytes
        records.append(record)
        task = sealed_task(key, header, i, record, plain=len(block))
        assert run(handlers[Kind.OPEN_BLOCK], task, open_) == block
    blob = header.to_bytes() + b"".join(records)
    assert open_bytes(blob, store.current.private_key, store.current.key_id) == DATA


def test_open_block_statuses(store: Keystore, handlers: dict[int, Handler]) -> None:
    header, key = new_header(store.current.recipient, original_bytes=3 * BLOCK, block_bytes=BLOCK)
    block = DATA[:BLOCK]
    record = seal_block(key, header, 1, block)
    op, plain = handlers[Kind.OPEN_BLOCK], encode_params(Kind.OPEN_BLOCK, {"codec": "none"})
    assert run(op, sealed_task(key, header, 1, record, BLOCK), plain) == block
    tampered = bytearray(record)
    tampered[100] ^= 1
    assert status(op, sealed_task(key, header, 1, bytes(tampered), BLOCK), plain) is Status.AUTH_FAILED
    assert status(op, sealed_task(key, header, 2, record, BLOCK), plain) is Status.AUTH_FAILED  # wrong position
    assert status(op, sealed_task(key, header, 1, record, BLOCK - 1), plain) is Status.CORRUPT_INPUT
    assert status(op, b"x" * 79, plain) is Status.BAD_PARAMS
    assert status(op, b"NOPE" + sealed_task(key, header, 1, record, BLOCK)[4:], plain) is Status.BAD_PARAMS
    assert status(op, sealed_task(key, header, 1, record, BLOCK), plain, out=BLOCK - 1) is Status.TOO_LARGE
    assert status(op, sealed_task(key, header, 1, record, BLOCK), 7) is Status.BAD_PARAMS
    seal = handlers[Kind.SEAL_BLOCK]
    assert status(seal, sealed_task(key, header, 0, block), 0, out=BLOCK + 15) is Status.TOO_LARGE


def test_open_then_decompress_refuses_a_bomb(store: Keystore, handlers: dict[int, Handler]) -> None:
    header, key = new_header(store.current.recipient, original_bytes=BLOCK, block_bytes=BLOCK, compressed=True)
    zparam = encode_params(Kind.OPEN_BLOCK, {"codec": "zstd"})
    for declared, expect in ((100 * SLOT, Status.TOO_LARGE), (BLOCK - 1, Status.CORRUPT_INPUT)):
        frame = zstandard.ZstdCompressor().compress(bytes(declared))  # authentic, but not what the header says
        sealed = AESGCM(key.material).encrypt(
            nonce(header.nonce_prefix, 0), frame, associated_data(header.file_id, 0, True)
        )
        record = LENGTH.pack(len(sealed)) + sealed
        assert status(handlers[Kind.OPEN_BLOCK], sealed_task(key, header, 0, record, BLOCK), zparam) is expect
    bad = bytearray(seal_block(key, header, 0, DATA[:BLOCK]))
    bad[:4] = (int.from_bytes(bad[:4], "big") + 1).to_bytes(4, "big")
    assert (
        status(handlers[Kind.OPEN_BLOCK], sealed_task(key, header, 0, bytes(bad), BLOCK), zparam)
        is Status.CORRUPT_INPUT
    )


@pytest.mark.parametrize("kind", [Kind.ZSTD_FRAME, Kind.LZ4_FRAME, Kind.SEAL_BLOCK])
@pytest.mark.parametrize("codec", ["none", "zstd"])
def test_largest_block_fits_one_slot(store: Keystore, handlers: dict[int, Handler], kind: Kind, codec: str) -> None:
    slot = SLOT
    n = max_block_bytes(kind, slot, codec)
    incompressible = os.urandom(n)
    params = {"codec": codec} if kind is Kind.SEAL_BLOCK else {}
    if kind is Kind.SEAL_BLOCK:
        header, key = new_header(store.current.recipient, original_bytes=n, block_bytes=n, compressed=codec == "zstd")
        record = run(
            handlers[kind], sealed_task(key, header, 0, incompressible), encode_params(kind, params), slot, slot
        )
        task = sealed_task(key, header, 0, record, n)
        assert len(task) <= slot
        assert (
            run(handlers[Kind.OPEN_BLOCK], task, encode_params(Kind.OPEN_BLOCK, params), slot, slot) == incompressible
        )
    else:
        assert len(run(handlers[kind], incompressible, encode_params(kind, params), slot, slot)) <= slot
    assert max_block_bytes(kind, (1 << 20) + 8192, codec) >= 1 << 20


def test_params_validation() -> None:
    assert encode_params(Kind.ZSTD_FRAME, {}) == 2 | 3 << 8
    assert encode_params(Kind.LZ4_FRAME, {"level": 9}) == 1 | 9 << 8
    assert encode_params(Kind.LZ4_FRAME, {"checksum": False}) == 1 | 1 << 16
    assert encode_params(Kind.SEAL_BLOCK, {}) == 0
    assert encode_params(Kind.SEAL_BLOCK, {"codec": "zstd", "level": 19}) == 2 | 19 << 8
    assert encode_params(Kind.OPEN_BLOCK, {"codec": "zstd"}) == 2 | 3 << 8
    cases: list[tuple[Kind, dict[str, Any]]] = [
        (Kind.ZSTD_FRAME, {"level": 0}),
        (Kind.LZ4_FRAME, {"level": 17}),
        (Kind.SEAL_BLOCK, {"codec": "lz4"}),
        (Kind.OPEN_BLOCK, {"level": 3}),
        (Kind.ZSTD_FRAME, {"codec": "zstd"}),
    ]
    for kind, params in cases:
        with pytest.raises(BadRequest):
            encode_params(kind, params)


def test_seal_and_open_allocate_nothing_lasting(store: Keystore, handlers: dict[int, Handler]) -> None:
    header, key = new_header(store.current.recipient, original_bytes=BLOCK, block_bytes=BLOCK)
    src, dst, back = (memoryview(bytearray(SLOT)) for _ in range(3))
    task = sealed_task(key, header, 0, DATA[:BLOCK])
    src[: len(task)] = task
    seal, open_ = handlers[Kind.SEAL_BLOCK], handlers[Kind.OPEN_BLOCK]
    n = seal(src, len(task), 0, dst)
    opened = memoryview(bytearray(SLOT))
    at = write_slot_header(opened, key, header.file_id, header.nonce_prefix, 0, True, BLOCK)
    opened[at : at + n] = dst[:n]
    tracemalloc.start()
    try:
        for _ in range(200):
            seal(src, len(task), 0, dst)
            open_(opened, at + n, 0, back)
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(2000):
            seal(src, len(task), 0, dst)
            open_(opened, at + n, 0, back)
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert bytes(back[:BLOCK]) == DATA[:BLOCK]
    assert grown < 16 * 1024, grown
