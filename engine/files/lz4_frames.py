"""lz4 files as concatenated independent lz4 frames (the LZ4 Frame Format 1.6.x), which ``lz4 -d``
decodes as one stream.

Our frames (``FRAME_OPTIONS``): one frame per block, each declaring its content size, with a content
checksum and independent 1 MB blocks, so any frame decodes alone and the file decompresses in
parallel. No block checksums: with the content checksum already there they cost ~10% more compress
and ~13% more decompress time per MiB here (perf/files_blocks.py) and add nothing a frame needs.
Frame layout, little-endian::

    Magic 0x184D2204 | FLG | BD | [Content_Size u64] | [Dict_ID u32] | HC
    blocks: Block_Size u32 (bit 31: stored uncompressed) | data | [Block_Checksum u32]
    EndMark u32 = 0 | [Content_Checksum u32]

Files from the ``lz4`` CLI are one frame without a content size unless ``--content-size`` was given:
``plan_decode`` walks frame and block headers and streams whatever it cannot split.
"""

from __future__ import annotations

import os
import struct
from typing import TYPE_CHECKING, Any

import lz4.frame

from engine.errors import PayloadTooLarge
from engine.files.errors import CorruptFile
from engine.files.fileio import pread_exact, write_all
from engine.files.zstd_frames import DecodePlan, FrameInfo, ReadAt
from engine.files.zstd_seekable import SeekTable

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

LZ4_MAGIC = 0x184D2204
LEGACY_MAGIC = 0x184C2102
SKIPPABLE_MAGIC_MASK, SKIPPABLE_MAGIC = 0xFFFFFFF0, 0x184D2A50
BLOCK_MAX_BYTES = {4: 64 * 1024, 5: 256 * 1024, 6: 1 << 20, 7: 4 << 20}
HEADER_MAX_BYTES = 19

FRAME_BLOCK_BYTES = 1 << 20
FRAME_OPTIONS: dict[str, Any] = {
    "block_size": lz4.frame.BLOCKSIZE_MAX1MB,
    "block_linked": False,
    "content_checksum": True,
    "block_checksum": False,
    "store_size": True,
}

_U32 = struct.Struct("<I")


def frame_bound(n: int) -> int:
    """Largest frame ``FRAME_OPTIONS`` can produce for ``n`` input bytes (incompressible blocks are
    stored raw): header 15, a size word per block 4, end mark and content checksum 8."""
    blocks = -(-n // FRAME_BLOCK_BYTES)
    return 15 + 4 * blocks + n + 8


def compress_frame(data: bytes | memoryview, level: int = 0, checksum: bool = True) -> bytes:
    """One frame of ours for ``data`` (what the LZ4_FRAME worker kind writes). ``checksum=False``
    drops the content checksum: liblz4's xxh32 measured ~0.5 ms per MiB here each way, which is
    40% of the compress time and 60% of the decompress time of a block (perf/files_blocks.py)."""
    options = FRAME_OPTIONS if checksum else {**FRAME_OPTIONS, "content_checksum": False}
    return lz4.frame.compress(data, compression_level=level, **options)  # type: ignore[no-any-return]


def parse_frame_header(buf: bytes, offset: int) -> tuple[int, int | None, int, bool, bool]:
    """(header bytes, content size or None, block max bytes, block checksums, content checksum)."""
    if len(buf) < 7:
        raise CorruptFile(f"lz4 frame header at offset {offset} is cut short", code="truncated")
    (magic,) = _U32.unpack_from(buf)
    if magic == LEGACY_MAGIC:
        raise CorruptFile(
            f"offset {offset} holds the legacy lz4 format (lz4 -l), which is not supported", code="unsupported_format"
        )
    if magic != LZ4_MAGIC:
        raise CorruptFile(f"no lz4 frame at offset {offset} (magic {magic:#010x})", code="not_lz4")
    flg, bd = buf[4], buf[5]
    if flg >> 6 != 1 or flg & 0x02 or bd & 0x8F or (bd >> 4) not in BLOCK_MAX_BYTES:
        raise CorruptFile(f"lz4 frame at offset {offset} has an invalid descriptor", code="corrupt_frame")
    size_bytes, dict_bytes = (8 if flg & 0x08 else 0), (4 if flg & 0x01 else 0)
    header_bytes = 6 + size_bytes + dict_bytes + 1
    if len(buf) < header_bytes:
        raise CorruptFile(f"lz4 frame header at offset {offset} is cut short", code="truncated")
    content = int.from_bytes(buf[6:14], "little") if size_bytes else None
    return header_bytes, content, BLOCK_MAX_BYTES[bd >> 4], bool(flg & 0x10), bool(flg & 0x04)


def frame_at(read_at: ReadAt, offset: int, limit: int) -> FrameInfo:
    """The frame at ``offset``, its end found by walking the block size words."""
    head = read_at(offset, HEADER_MAX_BYTES)
    if len(head) >= 8 and _U32.unpack_from(head)[0] & SKIPPABLE_MAGIC_MASK == SKIPPABLE_MAGIC:
        size = 8 + _U32.unpack_from(head, 4)[0]
        if offset + size > limit:
            raise CorruptFile(f"skippable frame at offset {offset} runs past the end", code="truncated")
        return FrameInfo(offset, size, 0, False, True)
    header_bytes, content, block_max, block_sums, content_sum = parse_frame_header(head, offset)
    pos = offset + header_bytes
    while True:
        raw = read_at(pos, 4)
        if len(raw) < 4 or pos + 4 > limit:
            raise CorruptFile(f"lz4 frame at offset {offset} is truncated (block at {pos})", code="truncated")
        size = _U32.unpack(raw)[0] & 0x7FFFFFFF
        pos += 4
        if size == 0 and raw == b"\0\0\0\0":
            break
        if size > block_max:
            raise CorruptFile(
                f"lz4 frame at offset {offset}: block at {pos - 4} of {size} bytes exceeds "
                f"the frame's {block_max}-byte blocks",
                code="corrupt_frame",
            )
        pos += size + (4 if block_sums else 0)
    pos += 4 if content_sum else 0
    if pos > limit:
        raise CorruptFile(f"lz4 frame at offset {offset} is truncated", code="truncated")
    return FrameInfo(offset, pos - offset, content, content_sum, False)


def iter_frames(fd: int, start: int = 0, end: int | None = None) -> Iterator[FrameInfo]:
    limit = os.fstat(fd).st_size if end is None else end
    pos = start
    while pos < limit:
        info = frame_at(lambda off, n: os.pread(fd, n, off), pos, limit)
        yield info
        pos += info.compressed_size


def scan_frames(fd: int, start: int = 0, end: int | None = None) -> list[FrameInfo]:
    return list(iter_frames(fd, start, end))


def plan_decode(fd: int, max_frame_bytes: int) -> DecodePlan:
    """``frames`` when every frame declares a size of at most ``max_frame_bytes``, else ``stream``.
    ``declared``: what the frames that say declare together, known before the job (a lower bound of
    the output when some do not say)."""
    frames = scan_frames(fd)
    declared = sum(info.content_size or 0 for info in frames)
    for info in frames:
        if info.content_size is None:
            return DecodePlan("stream", None, f"the frame at offset {info.offset} does not declare its size", declared)
        if info.content_size > max_frame_bytes:
            return DecodePlan(
                "stream",
                None,
                f"the frame at offset {info.offset} holds {info.content_size} bytes, "
                f"more than a task's {max_frame_bytes}",
                declared,
            )
    return DecodePlan(
        "frames",
        SeekTable([f.compressed_size for f in frames], [f.content_size or 0 for f in frames]),
        declared=declared,
    )


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
    """Decode every frame of ``[start, end)`` to ``dst_fd``, ``chunk_bytes`` of output at a time
    (lz4's ``max_length``), so memory stays bounded whatever a frame expands to. The frames are
    walked first: a truncated file or trailing garbage fails before any output. Checksums are
    verified by liblz4. Blocking (lz4 releases the GIL): run it in a thread. ``on_chunk(input
    position, output bytes)`` is called after each chunk (progress; it may raise to stop)."""
    frames = scan_frames(src_fd, start, end)
    declared = sum(f.content_size or 0 for f in frames)
    if max_output is not None and declared > max_output:
        raise PayloadTooLarge(
            f"frames declare {declared} bytes, over the {max_output}-byte bound",
            code="too_large",
            metadata={"limit": max_output},
        )
    inbuf = memoryview(bytearray(chunk_bytes))
    total = 0
    for info in frames:
        if info.skippable:
            continue
        total = _stream_frame(src_fd, dst_fd, info, inbuf, total, max_output, chunk_bytes, on_chunk)
    return total


def _stream_frame(
    src_fd: int,
    dst_fd: int,
    info: FrameInfo,
    inbuf: memoryview,
    total: int,
    max_output: int | None,
    chunk_bytes: int,
    on_chunk: Callable[[int, int], None] | None = None,
) -> int:
    decoder = lz4.frame.LZ4FrameDecompressor()
    pos, end = info.offset, info.offset + info.compressed_size
    produced = 0
    try:
        while not decoder.eof:
            data: memoryview | bytes = b""
            if decoder.needs_input:
                if pos >= end:
                    raise CorruptFile(f"lz4 frame at offset {info.offset} ends before its end mark", code="truncated")
                n = os.preadv(src_fd, [inbuf[: min(len(inbuf), end - pos)]], pos)
                data, pos = inbuf[:n], pos + n
            out = decoder.decompress(data, max_length=chunk_bytes)
            produced += len(out)
            if max_output is not None and total + produced > max_output:
                raise PayloadTooLarge(
                    f"decompressed output exceeds the {max_output}-byte bound",
                    code="too_large",
                    metadata={"limit": max_output},
                )
            write_all(dst_fd, memoryview(out))
            if on_chunk is not None:
                on_chunk(pos, total + produced)
    except RuntimeError as exc:
        raise CorruptFile(f"lz4 frame at offset {info.offset} is corrupt: {exc}", code="corrupt_frame") from None
    if pos != end or decoder.unused_data:
        raise CorruptFile(f"lz4 frame at offset {info.offset} ends before its walked size", code="corrupt_frame")
    if info.content_size is not None and produced != info.content_size:
        raise CorruptFile(
            f"lz4 frame at offset {info.offset} declares {info.content_size} bytes, decodes to {produced}",
            code="corrupt_frame",
        )
    return total + produced


def read_frame(fd: int, info: FrameInfo) -> bytes:
    """The compressed bytes of one frame (for a per-frame decompression task)."""
    return pread_exact(fd, info.compressed_size, info.offset, f"lz4 frame at offset {info.offset}")
