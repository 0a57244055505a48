"""Concatenated lz4 frames: `lz4 -d` decodes ours, CLI files are walked and streamed in bounded
memory, frame boundaries are found from headers, and corruption fails clearly."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import lz4.frame
import pytest

from engine.errors import PayloadTooLarge
from engine.files.errors import CorruptFile
from engine.files.lz4_frames import compress_frame, frame_bound, plan_decode, scan_frames, stream_decompress
from tests.engine.files.files_helpers import cli, mixed, need, write

DATA = mixed(900_000, seed=11)
BLOCK = 128 * 1024


def ours(data: bytes = DATA, block: int = BLOCK) -> bytes:
    return b"".join(compress_frame(data[i : i + block]) for i in range(0, len(data), block))


@pytest.fixture
def fd_of(tmp_path: Path) -> Iterator[object]:
    opened: list[int] = []

    def open_(data: bytes, name: str = "f.lz4") -> int:
        fd = os.open(write(tmp_path / name, data), os.O_RDONLY)
        opened.append(fd)
        return fd

    yield open_
    for fd in opened:
        os.close(fd)


def decode(tmp_path: Path, fd: int, **kwargs: object) -> bytes:
    out = tmp_path / "out"
    dst = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        stream_decompress(fd, dst, **kwargs)  # type: ignore[arg-type]
    finally:
        os.close(dst)
    return out.read_bytes()


def test_our_frames_decode_with_the_lz4_cli(tmp_path: Path) -> None:
    need("lz4")
    path = write(tmp_path / "ours.lz4", ours())
    assert cli(["lz4", "-d", "-c", "-q", str(path)]) == DATA
    cli(["lz4", "-t", "-q", str(path)])


def test_our_frames_declare_size_and_checksums(fd_of: object) -> None:
    blob = ours()
    frames = scan_frames(fd_of(blob))  # type: ignore[operator]
    assert len(frames) == -(-len(DATA) // BLOCK)
    assert all(
        f.has_checksum and f.content_size == len(DATA[i * BLOCK : (i + 1) * BLOCK]) for i, f in enumerate(frames)
    )
    info = lz4.frame.get_frame_info(blob)
    assert info["content_checksum"] and not info["block_linked"] and info["content_size"] == BLOCK
    plan = plan_decode(fd_of(blob, "p"), max_frame_bytes=BLOCK)  # type: ignore[operator]
    assert plan.mode == "frames" and plan.table is not None
    for i, f in enumerate(frames):  # each frame alone is a whole block
        assert int(plan.table.c_offsets[i]) == f.offset
        assert lz4.frame.decompress(blob[f.offset : f.offset + f.compressed_size]) == DATA[i * BLOCK : (i + 1) * BLOCK]


def test_frame_bound_holds_for_incompressible_data() -> None:
    for n in (0, 1, 1000, 1 << 20, (1 << 20) + 1, 3 << 20):
        assert len(compress_frame(os.urandom(n))) <= frame_bound(n)


def test_cli_files_are_streamed(tmp_path: Path, fd_of: object) -> None:
    need("lz4")
    src = write(tmp_path / "plain", DATA)
    default = cli(["lz4", "-q", "-c", str(src)])  # one frame, no content size
    sized = cli(["lz4", "-q", "-c", "--content-size", "-BD", str(src)])
    both = default + sized
    plan = plan_decode(fd_of(default, "d"), max_frame_bytes=1 << 21)  # type: ignore[operator]
    assert plan.mode == "stream" and "does not declare its size" in plan.reason
    assert plan_decode(fd_of(sized, "s"), max_frame_bytes=1 << 21).mode == "frames"  # type: ignore[operator]
    assert plan_decode(fd_of(sized, "s2"), max_frame_bytes=1000).mode == "stream"  # type: ignore[operator]
    frames = scan_frames(fd_of(both, "b"))  # type: ignore[operator]
    assert [(f.offset, f.content_size) for f in frames] == [(0, None), (len(default), len(DATA))]
    assert decode(tmp_path, fd_of(both, "b2"), chunk_bytes=8192) == DATA + DATA  # type: ignore[operator]


def test_corrupt_and_truncated_frames_fail(tmp_path: Path, fd_of: object) -> None:
    blob = ours()
    with pytest.raises(CorruptFile) as info:
        decode(tmp_path, fd_of(blob[:-3], "cut"))  # type: ignore[operator]
    assert info.value.code == "truncated" and (tmp_path / "out").read_bytes() == b""
    with pytest.raises(CorruptFile) as info:
        decode(tmp_path, fd_of(blob + b"junk-junk", "junk"))  # type: ignore[operator]
    assert info.value.code == "not_lz4"
    flipped = bytearray(blob)
    flipped[len(blob) // 2] ^= 0x10
    with pytest.raises(CorruptFile) as info:
        decode(tmp_path, fd_of(bytes(flipped), "flip"))  # type: ignore[operator]
    assert info.value.code in ("corrupt_frame", "truncated")
    legacy = cli(["lz4", "-l", "-q", "-c"], stdin=DATA) if need("lz4") else b""
    with pytest.raises(CorruptFile, match="legacy"):
        scan_frames(fd_of(legacy, "legacy"))  # type: ignore[operator]


def test_one_big_frame_streams_in_bounded_output(tmp_path: Path, fd_of: object) -> None:
    bomb = lz4.frame.compress(bytes(40_000_000), block_size=lz4.frame.BLOCKSIZE_MAX4MB)
    assert len(bomb) < 400_000
    with pytest.raises(PayloadTooLarge):
        decode(tmp_path, fd_of(bomb), max_output=1 << 20, chunk_bytes=1 << 16)  # type: ignore[operator]
    assert os.path.getsize(tmp_path / "out") <= 1 << 20
    assert decode(tmp_path, fd_of(bomb, "ok"), chunk_bytes=1 << 16) == bytes(40_000_000)  # type: ignore[operator]
