"""zstd frames without a seek table: walking frame and block headers, decode plans, bounded streams.

A zstd frame (RFC 8878): Magic 0xFD2FB528 | Frame_Header_Descriptor | [Window_Descriptor] |
[Dictionary_ID] | [Frame_Content_Size] | blocks, each with a 3-byte header (Last_Block bit,
Block_Type, Block_Size) | [Content_Checksum u32]. Skippable frames (magic 0x184D2A5?) hold a u32
size and are ignored by decoders. Files from the ``zstd`` CLI are one frame (several when
concatenated); its size is declared unless the CLI read a pipe. ``plan_decode`` chooses the seek
table, the scanned frames, or one stream.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, cast

import zstandard

from engine.errors import PayloadTooLarge
from engine.files.errors import CorruptFile
from engine.files.fileio import PreadReader, write_all
from engine.files.zstd_seekable import SeekTable, read_seek_table

ZSTD_MAGIC = 0xFD2FB528
SKIPPABLE_MAGIC_MASK, SKIPPABLE_MAGIC = 0xFFFFFFF0, 0x184D2A50
MAX_BLOCK_BYTES = 128 * 1024  # zstd's Block_Maximum_Size ceiling

_U32 = struct.Struct("<I")

ReadAt = Callable[[int, int], bytes]  # (offset, n) -> at most n bytes


@dataclass(frozen=True)
class FrameHeader:
    header_bytes: int
    content_size: int | None  # None: the header does not declare it
    has_checksum: bool


@dataclass(frozen=True)
class FrameInfo:
    offset: int
    compressed_size: int
    content_size: int | None  # 0 for skippable frames; None when undeclared
    has_checksum: bool
    skippable: bool


def parse_frame_header(buf: bytes, offset: int) -> FrameHeader:
    """Parse a zstd frame header from its first bytes (up to 18 are ever needed)."""
    if len(buf) < 5:
        raise CorruptFile(f"zstd frame header at offset {offset} is cut short", code="truncated")
    (magic,) = _U32.unpack_from(buf)
    if magic != ZSTD_MAGIC:
        raise CorruptFile(f"no zstd frame at offset {offset} (magic {magic:#010x})", code="not_zstd")
    fhd = buf[4]
    if fhd & 0x08:
        raise CorruptFile(f"zstd frame at offset {offset} sets the reserved header bit", code="corrupt_frame")
    single_segment = bool(fhd & 0x20)
    fcs_bytes = (1 if single_segment else 0, 2, 4, 8)[fhd >> 6]
    did_bytes = (0, 1, 2, 4)[fhd & 0x03]
    pos = 5 + (0 if single_segment else 1) + did_bytes
    if len(buf) < pos + fcs_bytes:
        raise CorruptFile(f"zstd frame header at offset {offset} is cut short", code="truncated")
    size: int | None = None
    if fcs_bytes:
        size = int.from_bytes(buf[pos : pos + fcs_bytes], "little") + (256 if fcs_bytes == 2 else 0)
    return FrameHeader(pos + fcs_bytes, size, bool(fhd & 0x04))


def frame_at(read_at: ReadAt, offset: int, limit: int) -> FrameInfo:
    """The frame starting at ``offset`` (before ``limit``), its end found by walking block headers."""
    head = read_at(offset, 18)
    if len(head) >= 8 and _U32.unpack_from(head)[0] & SKIPPABLE_MAGIC_MASK == SKIPPABLE_MAGIC:
        size = 8 + _U32.unpack_from(head, 4)[0]
        if offset + size > limit:
            raise CorruptFile(f"skippable frame at offset {offset} runs past the end", code="truncated")
        return FrameInfo(offset, size, 0, False, True)
    header = parse_frame_header(head, offset)
    pos = offset + header.header_bytes
    while True:
        raw = read_at(pos, 3)
        if len(raw) < 3 or pos + 3 > limit:
            raise CorruptFile(f"zstd frame at offset {offset} is truncated (block header at {pos})", code="truncated")
        word = int.from_bytes(raw, "little")
        last, block_type, size = word & 1, word >> 1 & 3, word >> 3
        if block_type == 3 or size > MAX_BLOCK_BYTES:
            raise CorruptFile(
                f"zstd frame at offset {offset} has a corrupt block header at {pos}", code="corrupt_frame"
            )
        pos += 3 + (1 if block_type == 1 else size)
        if last:
            break
    pos += 4 if header.has_checksum else 0
    if pos > limit:
        raise CorruptFile(f"zstd frame at offset {offset} is truncated", code="truncated")
    return FrameInfo(offset, pos - offset, header.content_size, header.has_checksum, False)


def iter_frames(fd: int, start: int = 0, end: int | None = None) -> Iterator[FrameInfo]:
    """Every frame of ``[start, end)`` in order (one pread per block header: ~8 per MiB of input)."""
    limit = os.fstat(fd).st_size if end is None else end
    pos = start
    while pos < limit:
        info = frame_at(lambda off, n: os.pread(fd, n, off), pos, limit)
        yield info
        pos += info.compressed_size


def scan_frames(fd: int, start: int = 0, end: int | None = None) -> list[FrameInfo]:
    return list(iter_frames(fd, start, end))


@dataclass(frozen=True)
class DecodePlan:
    """How to decompress a file: ``seek_table`` or ``frames`` (``table`` lists the frames, each
    decoded by one task in parallel) or ``stream`` (one bounded-memory stream; ``reason`` says why)."""

    mode: str
    table: SeekTable | None
    reason: str = ""
    declared: int | None = None  # the output every frame declares together; None when one does not say


def plan_decode(fd: int, max_frame_bytes: int) -> DecodePlan:
    """Choose how to decode: frames larger than ``max_frame_bytes`` (a task's output) or of undeclared
    size make the whole file a stream. A broken seek table is noted and the frames are scanned. The
    frames are walked to the end even for a stream, so what they declare is known before the job
    (a bomb declaring terabytes is refused at the request, not found out while writing)."""
    size = os.fstat(fd).st_size
    note = ""
    try:
        table = read_seek_table(fd, size)
    except CorruptFile as exc:
        table, note = None, f"{exc.message}; scanned the frames instead. "
    biggest = int(table.decompressed_sizes.max()) if table is not None and len(table) else 0
    if table is not None and biggest <= max_frame_bytes:
        return DecodePlan("seek_table", table, declared=table.decompressed_bytes)
    frames = scan_frames(fd, 0, size)  # the frames' own headers: a seek table may lie
    sizes = [info.content_size for info in frames]
    declared = None if None in sizes else sum(s for s in sizes if s is not None)
    if table is not None:
        return DecodePlan(
            "stream", None, f"a frame holds {biggest} bytes, more than a task's {max_frame_bytes}", declared
        )
    for info in frames:
        if info.content_size is None:
            return DecodePlan("stream", None, note + f"the frame at offset {info.offset} does not declare its size")
        if info.content_size > max_frame_bytes:
            return DecodePlan(
                "stream",
                None,
                note + f"the frame at offset {info.offset} holds {info.content_size} "
                f"bytes, more than a task's {max_frame_bytes}",
                declared,
            )
    table = SeekTable([f.compressed_size for f in frames], [f.content_size or 0 for f in frames])
    return DecodePlan("frames", table, note.strip(), declared)


def frame_checksum(frame: bytes | memoryview) -> int | None:
    """The Content_Checksum a whole zstd frame ends with, if it has one: exactly the seek table's
    checksum of that frame (low 32 bits of the XXH64 of its content, little-endian)."""
    header = parse_frame_header(bytes(frame[:18]), 0)
    return _U32.unpack(frame[-4:])[0] if header.has_checksum else None


def stream_decompress(
    src_fd: int,
    dst_fd: int,
    *,
    start: int = 0,
    end: int | None = None,
    max_output: int | None = None,
    chunk_bytes: int = 1 << 20,
    on_chunk: Callable[[int, int], None] | None = None,
) -> int:
    """Decode every frame of ``[start, end)`` (skippable frames included) from ``src_fd`` to
    ``dst_fd`` with memory bounded by ``chunk_bytes`` plus zstd's window (at most 128 MiB, zstd's
    default decoding limit). Output beyond ``max_output`` raises PayloadTooLarge before it is written.
    Blocking (zstandard releases the GIL): run it in a thread. Returns the bytes written.
    ``on_chunk(input position, output bytes)`` is called after each chunk (progress; it may raise to stop).

    zstd's stream reader ends quietly on a cut-off frame, so the frames are walked first (a few
    preads per MiB): a truncated file or trailing garbage fails before any output is written."""
    frames = scan_frames(src_fd, start, end)
    sizes = [f.content_size for f in frames]
    expected = None if None in sizes else sum(s for s in sizes if s is not None)
    if max_output is not None and expected is not None and expected > max_output:
        raise PayloadTooLarge(
            f"frames declare {expected} bytes, over the {max_output}-byte bound",
            code="too_large",
            metadata={"limit": max_output},
        )
    buf = memoryview(bytearray(chunk_bytes))
    total = 0
    dctx = zstandard.ZstdDecompressor()
    source = PreadReader(src_fd, start, end)
    try:
        with dctx.stream_reader(cast("IO[bytes]", source), read_across_frames=True, closefd=False) as reader:
            while n := reader.readinto(buf):
                total += n
                if max_output is not None and total > max_output:
                    raise PayloadTooLarge(
                        f"decompressed output exceeds the {max_output}-byte bound",
                        code="too_large",
                        metadata={"limit": max_output},
                    )
                write_all(dst_fd, buf[:n])
                if on_chunk is not None:
                    on_chunk(source.position, total)
    except zstandard.ZstdError as exc:
        raise CorruptFile(f"zstd stream is corrupt after {total} output bytes: {exc}", code="corrupt_frame") from None
    if expected is not None and total != expected:
        raise CorruptFile(f"frames declare {expected} bytes but decode to {total}", code="corrupt_frame")
    return total
