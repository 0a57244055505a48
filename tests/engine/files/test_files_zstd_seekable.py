"""The zstd seekable format: our files decode with the real `zstd`, CLI files are understood, the
seek table round-trips, range plans are right at frame edges, and bad input fails clearly."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import PayloadTooLarge
from engine.files.errors import CorruptFile
from engine.files.zstd_frames import frame_checksum, plan_decode, scan_frames, stream_decompress
from engine.files.zstd_seekable import (
    SEEKABLE_MAGIC,
    SeekTable,
    build_seek_table,
    parse_seek_table,
    read_range,
    read_seek_table,
)
from tests.engine.files.files_helpers import cli, mixed, need, seekable_bytes, write

DATA = mixed(700_000)
FRAME = 64 * 1024


@pytest.fixture
def fd_of(tmp_path: Path) -> Iterator[object]:
    opened: list[int] = []

    def open_(data: bytes, name: str = "f.zst") -> int:
        fd = os.open(write(tmp_path / name, data), os.O_RDONLY)
        opened.append(fd)
        return fd

    yield open_
    for fd in opened:
        os.close(fd)


def decode_to_bytes(tmp_path: Path, fd: int, **kwargs: object) -> bytes:
    out = tmp_path / "out"
    dst = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        stream_decompress(fd, dst, **kwargs)  # type: ignore[arg-type]
    finally:
        os.close(dst)
    return out.read_bytes()


def test_our_file_decodes_with_the_zstd_cli(tmp_path: Path) -> None:
    need("zstd")
    path = write(tmp_path / "ours.zst", seekable_bytes(DATA, FRAME))
    assert cli(["zstd", "-d", "-c", "-q", str(path)]) == DATA
    cli(["zstd", "-t", "-q", str(path)])  # the CLI's own integrity test passes, checksums included


def test_seek_table_of_our_file(fd_of: object) -> None:
    blob = seekable_bytes(DATA, FRAME)
    table = read_seek_table(fd_of(blob))  # type: ignore[operator]
    assert table is not None and len(table) == -(-len(DATA) // FRAME)
    assert table.decompressed_bytes == len(DATA)
    assert table.compressed_bytes + table.table_bytes == len(blob)
    assert table.checksums is not None
    for i in range(len(table)):
        f = table.frame(i)
        frame = blob[f["compressed_offset"] : f["compressed_offset"] + f["compressed_size"]]  # type: ignore[operator]
        assert zstandard.decompress(frame) == DATA[i * FRAME : (i + 1) * FRAME]
        assert frame_checksum(frame) == f["checksum"]


def test_cli_files_one_frame_and_concatenated(tmp_path: Path, fd_of: object) -> None:
    need("zstd")
    src = write(tmp_path / "plain", DATA)
    one = cli(["zstd", "-3", "-q", "-c", str(src)])
    two = one + cli(["zstd", "-1", "-q", "-c", "--no-check", str(src)])
    piped = cli(["zstd", "-3", "-q", "-c"], stdin=DATA)  # from stdin: no content size in the header
    assert read_seek_table(fd_of(one, "one")) is None  # type: ignore[operator]
    frames = scan_frames(fd_of(two, "two"))  # type: ignore[operator]
    assert [(f.offset, f.content_size, f.has_checksum) for f in frames] == [
        (0, len(DATA), True),
        (len(one), len(DATA), False),
    ]
    assert frames[0].compressed_size == len(one) and sum(f.compressed_size for f in frames) == len(two)

    plan = plan_decode(fd_of(two, "two2"), max_frame_bytes=1 << 20)  # type: ignore[operator]
    assert plan.mode == "frames" and plan.table is not None
    assert list(plan.table.decompressed_sizes) == [len(DATA), len(DATA)]
    assert plan_decode(fd_of(two, "two3"), max_frame_bytes=1000).mode == "stream"  # type: ignore[operator]
    stream_plan = plan_decode(fd_of(piped, "piped"), max_frame_bytes=1 << 20)  # type: ignore[operator]
    assert stream_plan.mode == "stream" and "does not declare its size" in stream_plan.reason
    assert decode_to_bytes(tmp_path, fd_of(two, "two4")) == DATA + DATA  # type: ignore[operator]
    assert decode_to_bytes(tmp_path, fd_of(piped, "piped2"), chunk_bytes=4096) == DATA  # type: ignore[operator]


def test_plan_uses_the_seek_table(fd_of: object) -> None:
    plan = plan_decode(fd_of(seekable_bytes(DATA, FRAME)), max_frame_bytes=FRAME)  # type: ignore[operator]
    assert plan.mode == "seek_table" and plan.table is not None and len(plan.table) == 11


def test_scan_sees_our_seek_table_as_a_skippable_frame(fd_of: object) -> None:
    frames = scan_frames(fd_of(seekable_bytes(DATA, FRAME)))  # type: ignore[operator]
    assert [f.skippable for f in frames] == [False] * 11 + [True]


@pytest.mark.parametrize("edge", [0, 1, FRAME - 1, FRAME, FRAME + 1, 3 * FRAME - 1, len(DATA) - 1, len(DATA)])
@pytest.mark.parametrize("length", [0, 1, 2, 4096, FRAME, 2 * FRAME + 5, 10**9])
def test_read_range_at_frame_edges(fd_of: object, edge: int, length: int) -> None:
    fd = fd_of(seekable_bytes(DATA, FRAME))  # type: ignore[operator]
    table = read_seek_table(fd)
    assert table is not None
    assert read_range(fd, table, edge, length) == DATA[edge : edge + length]


def brute_force(sizes: list[int], offset: int, length: int) -> tuple[int, ...]:
    out, start = [], 0
    for i, size in enumerate(sizes):
        if size and start < offset + length and offset < start + size:
            out.append(i)
        start += size
    return tuple(out)


@settings(max_examples=300, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 50), min_size=0, max_size=30),
    offset=st.integers(0, 1600),
    length=st.integers(0, 400),
)
def test_range_plan_matches_brute_force(sizes: list[int], offset: int, length: int) -> None:
    table = SeekTable([s + 9 for s in sizes], sizes)
    plan = table.plan_range(offset, length)
    total = sum(sizes)
    assert plan.length == max(0, min(offset + length, total) - offset)
    if plan.length:
        assert plan.frames == brute_force(sizes, offset, plan.length)
        assert plan.first_skip == offset - sum(sizes[: plan.frames[0]])
        assert plan.compressed_offset == sum(s + 9 for s in sizes[: plan.frames[0]])
    else:
        assert plan.frames == ()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)), max_size=40),
    st.booleans(),
)
def test_seek_table_round_trip(entries: list[tuple[int, int, int]], with_sums: bool) -> None:
    c, d, s = [e[0] for e in entries], [e[1] for e in entries], [e[2] for e in entries]
    blob = build_seek_table(c, d, s if with_sums else None)
    assert struct.unpack("<I", blob[-4:])[0] == SEEKABLE_MAGIC
    table = parse_seek_table(blob, sum(c))
    assert table.compressed_sizes.tolist() == c and table.decompressed_sizes.tolist() == d
    assert (table.checksums.tolist() if table.checksums is not None else None) == (s if with_sums else None)
    assert table.table_bytes == len(blob) and table.to_bytes() == blob


def test_bad_seek_tables_fail_clearly(fd_of: object) -> None:
    blob = bytearray(seekable_bytes(DATA, FRAME))
    reserved = bytearray(blob)
    reserved[-5] |= 0x04
    with pytest.raises(CorruptFile, match="reserved bits") as info:
        read_seek_table(fd_of(bytes(reserved), "r"))  # type: ignore[operator]
    assert info.value.code == "bad_seek_table"
    wrong_size = bytearray(blob)
    table_start = len(blob) - (8 + 11 * 12 + 9)
    wrong_size[table_start + 8] ^= 0x01  # frame 0's compressed size
    with pytest.raises(CorruptFile, match="add up to"):
        read_seek_table(fd_of(bytes(wrong_size), "w"))  # type: ignore[operator]
    # a broken table is noted and the frames are scanned instead
    plan = plan_decode(fd_of(bytes(wrong_size), "w2"), max_frame_bytes=FRAME)  # type: ignore[operator]
    assert plan.mode == "frames" and "scanned the frames instead" in plan.reason
    assert read_seek_table(fd_of(bytes(blob[:-1]), "t")) is None  # type: ignore[operator]  # cut: no footer
    assert read_seek_table(fd_of(b"tiny", "tiny")) is None  # type: ignore[operator]


def test_truncated_or_garbage_streams_fail_before_writing(tmp_path: Path, fd_of: object) -> None:
    one = zstandard.ZstdCompressor(write_checksum=True).compress(DATA)
    for name, blob, code in [
        ("cut", one[: len(one) // 2], "truncated"),
        ("garbage", one + b"not a frame", "not_zstd"),
        ("empty-tail", one + b"\x28\xb5\x2f\xfd", "truncated"),
    ]:
        with pytest.raises(CorruptFile) as info:
            decode_to_bytes(tmp_path, fd_of(blob, name))  # type: ignore[operator]
        assert info.value.code == code, name
        assert (tmp_path / "out").read_bytes() == b""
    flipped = bytearray(one)
    flipped[-1] ^= 1  # the content checksum
    with pytest.raises(CorruptFile, match="checksum"):
        decode_to_bytes(tmp_path, fd_of(bytes(flipped), "flip"))  # type: ignore[operator]


def test_stream_output_is_bounded(tmp_path: Path, fd_of: object) -> None:
    bomb = zstandard.ZstdCompressor(level=19).compress(bytes(50_000_000))  # ~1.6 KB that expands to 50 MB
    assert len(bomb) < 10_000
    with pytest.raises(PayloadTooLarge):
        decode_to_bytes(tmp_path, fd_of(bomb), max_output=1 << 20)  # type: ignore[operator]
    sizeless = cli(["zstd", "-q", "-c"], stdin=bytes(3_000_000)) if need("zstd") else b""
    with pytest.raises(PayloadTooLarge):
        decode_to_bytes(tmp_path, fd_of(sizeless, "sizeless"), max_output=1 << 20, chunk_bytes=65536)  # type: ignore[operator]
    assert os.path.getsize(tmp_path / "out") <= 1 << 20


def test_range_reads_do_bounded_work(fd_of: object) -> None:
    """What a crafted file could make a range read do is refused before the work (engine/files/ranges.py)."""
    fd = fd_of(seekable_bytes(DATA, FRAME))  # type: ignore[operator]
    table = read_seek_table(fd)
    assert table is not None and len(table) == 11
    with pytest.raises(PayloadTooLarge) as info:
        read_seek_table(fd, max_frames=10)  # from the footer's count: the entries are never read
    assert info.value.code == "seek_table_too_large"
    with pytest.raises(PayloadTooLarge) as info:
        read_range(fd, table, 0, len(DATA), max_frames=10)
    assert info.value.code == "range_too_fragmented"
    assert read_range(fd, table, FRAME + 100, 10, max_prefix=100) == DATA[FRAME + 100 : FRAME + 110]
    with pytest.raises(PayloadTooLarge) as info:
        read_range(fd, table, FRAME + 101, 10, max_prefix=100)
    assert info.value.code == "range_prefix_too_large" and info.value.metadata["prefix"] == "101"


def test_a_frame_padded_with_empty_blocks_is_not_read_to_its_end(fd_of: object) -> None:
    """A frame whose first plain byte hides behind 1 MiB of empty raw blocks: a range read stops after
    what zstd could need for the bytes asked (about 200 KiB here) and calls the frame corrupt."""
    plain = b"after the padding" * 6
    empty_blocks = bytes(3) * 350_000  # raw, not last, size 0
    last = ((len(plain) << 3) | 1).to_bytes(3, "little") + plain  # raw, last
    frame = (0xFD2FB528).to_bytes(4, "little") + bytes([0x20, len(plain)]) + empty_blocks + last
    assert zstandard.ZstdDecompressor().decompress(frame) == plain  # a valid frame all the same
    fd = fd_of(frame + build_seek_table([len(frame)], [len(plain)]))  # type: ignore[operator]
    table = read_seek_table(fd)
    assert table is not None
    with pytest.raises(CorruptFile) as info:
        read_range(fd, table, 0, 10)
    assert info.value.code == "corrupt_frame" and "not a frame zstd writes" in info.value.message
    with pytest.raises(CorruptFile) as info:  # whole: the frame is far over zstd's bound of its size
        read_range(fd, table, 0, len(plain))
    assert info.value.code == "bad_seek_table"
