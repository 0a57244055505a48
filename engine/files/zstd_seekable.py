"""The zstd seekable format: independent frames followed by a seek table in a skippable frame.

Exactly zstd's ``contrib/seekable_format/zstd_seekable_compression_format.md`` (v0.1.0), all
integers little-endian::

    frame 0 | frame 1 | ... | frame n-1 | seek table frame

    seek table frame:  Skippable_Magic_Number u32 = 0x184D2A5E | Frame_Size u32 (bytes after this field)
                       n x entry: Compressed_Size u32 | Decompressed_Size u32 | [Checksum u32]
                       footer: Number_Of_Frames u32 | Seek_Table_Descriptor u8 | Seekable_Magic u32 = 0x8F92EAB1

``Seek_Table_Descriptor`` bit 7 says every entry carries a checksum: the low 32 bits of the XXH64 of
the frame's decompressed bytes, which is exactly the Content_Checksum a zstd frame stores in its
last 4 bytes when written with a checksum, so the table takes it from the frame
(``engine.files.zstd_frames.frame_checksum``). Bits 6-2 are reserved and must be 0; bits 1-0 are
ignored. ``zstd -d`` skips the table like any skippable frame, so a file of ours decodes with the
stock CLI.

Files without a table, frame walking, decode plans and streaming: engine/files/zstd_frames.py.
"""

from __future__ import annotations

import os
import struct
from array import array
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, cast

import numpy as np
import numpy.typing as npt
import zstandard

from engine.errors import PayloadTooLarge
from engine.files.errors import CorruptFile
from engine.files.fileio import PreadReader, pread_exact

if TYPE_CHECKING:
    from collections.abc import Sequence

SEEK_TABLE_MAGIC = 0x184D2A5E
SEEKABLE_MAGIC = 0x8F92EAB1
FOOTER_BYTES = 9
CHECKSUM_FLAG, RESERVED_BITS = 0x80, 0x7C
MAX_FRAMES = 0x8000000  # the reference implementation's ZSTD_SEEKABLE_MAXFRAMES
U32_MAX = 0xFFFFFFFF
PARTIAL_READ_BYTES = 64 * 1024  # compressed bytes pulled at a time when a frame is decoded only in part
ZSTD_BLOCK_BYTES = 128 * 1024  # a zstd block never holds more than this (compressed or not)

_FOOTER = struct.Struct("<IBI")
_SKIP_HEADER = struct.Struct("<II")


class SeekTable:
    """Per-frame sizes (and checksums) with cumulative offsets for range lookups (numpy, so a
    table of a million frames costs ~24 MB and a lookup is one binary search)."""

    def __init__(
        self,
        compressed: Sequence[int] | npt.NDArray[np.uint32],
        decompressed: Sequence[int] | npt.NDArray[np.uint32],
        checksums: Sequence[int] | npt.NDArray[np.uint32] | None = None,
    ) -> None:
        c = np.asarray(compressed, dtype=np.uint64)
        d = np.asarray(decompressed, dtype=np.uint64)
        if c.shape != d.shape or c.ndim != 1:
            raise ValueError("compressed and decompressed sizes must be two lists of one length")
        if len(c) > MAX_FRAMES:
            raise ValueError(f"{len(c)} frames exceed the seekable format's {MAX_FRAMES}")
        if len(c) and (int(c.max()) > U32_MAX or int(d.max()) > U32_MAX):
            raise ValueError("a frame size exceeds the format's 32-bit fields")
        self.compressed_sizes = c
        self.decompressed_sizes = d
        self.checksums = None if checksums is None else np.asarray(checksums, dtype=np.uint64)
        if self.checksums is not None and self.checksums.shape != c.shape:
            raise ValueError("one checksum per frame is needed")
        self.c_offsets = np.concatenate(([0], np.cumsum(c, dtype=np.uint64))).astype(np.uint64)
        self.d_offsets = np.concatenate(([0], np.cumsum(d, dtype=np.uint64))).astype(np.uint64)

    def __len__(self) -> int:
        return len(self.compressed_sizes)

    def __repr__(self) -> str:
        return (
            f"SeekTable(frames={len(self)}, compressed={self.compressed_bytes}, decompressed={self.decompressed_bytes})"
        )

    @property
    def compressed_bytes(self) -> int:
        """Bytes of all frames (the file size minus the table)."""
        return int(self.c_offsets[-1])

    @property
    def decompressed_bytes(self) -> int:
        return int(self.d_offsets[-1])

    @property
    def table_bytes(self) -> int:
        """Size of the seek table's skippable frame, magic and size fields included."""
        return 8 + len(self) * (12 if self.checksums is not None else 8) + FOOTER_BYTES

    def frame(self, i: int) -> dict[str, int | None]:
        return {
            "index": i,
            "compressed_offset": int(self.c_offsets[i]),
            "compressed_size": int(self.compressed_sizes[i]),
            "decompressed_offset": int(self.d_offsets[i]),
            "decompressed_size": int(self.decompressed_sizes[i]),
            "checksum": None if self.checksums is None else int(self.checksums[i]),
        }

    def to_bytes(self) -> bytes:
        width = 3 if self.checksums is not None else 2
        entries = np.empty((len(self), width), dtype="<u4")
        entries[:, 0] = self.compressed_sizes
        entries[:, 1] = self.decompressed_sizes
        if self.checksums is not None:
            entries[:, 2] = self.checksums
        body = entries.tobytes()
        descriptor = CHECKSUM_FLAG if self.checksums is not None else 0
        footer = _FOOTER.pack(len(self), descriptor, SEEKABLE_MAGIC)
        return _SKIP_HEADER.pack(SEEK_TABLE_MAGIC, len(body) + FOOTER_BYTES) + body + footer

    def plan_range(self, offset: int, length: int, *, max_frames: int | None = None) -> RangePlan:
        """The frames covering decompressed bytes ``[offset, offset + length)``, clamped to the end;
        more than ``max_frames`` of them is refused (PayloadTooLarge ``range_too_fragmented``)."""
        if offset < 0 or length < 0:
            raise ValueError(f"offset and length must be >= 0, got {offset} and {length}")
        end = min(offset + length, self.decompressed_bytes)
        if offset >= end:
            return RangePlan(min(offset, self.decompressed_bytes), 0, (), 0, 0, 0)
        # frames whose [start, end) meets [offset, end); empty frames never do
        first = int(np.searchsorted(self.d_offsets[1:], offset, side="right"))
        stop = int(np.searchsorted(self.d_offsets[:-1], end, side="left"))
        if max_frames is not None and stop - first > max_frames:
            raise PayloadTooLarge(
                f"the range spans {stop - first} frames, over the {max_frames} a range read decodes",
                code="range_too_fragmented",
                metadata={"frames": stop - first, "limit": max_frames},
            )
        frames = tuple(i for i in range(first, stop) if self.decompressed_sizes[i])
        c_start, c_end = int(self.c_offsets[frames[0]]), int(self.c_offsets[frames[-1] + 1])
        skip = offset - int(self.d_offsets[frames[0]])
        return RangePlan(offset, end - offset, frames, skip, c_start, c_end - c_start)


@dataclass(frozen=True)
class RangePlan:
    """Decompress ``frames`` in order, drop ``first_skip`` bytes, keep ``length`` bytes.
    ``compressed_offset``/``compressed_length`` is the span of the file those frames occupy."""

    offset: int
    length: int
    frames: tuple[int, ...]
    first_skip: int
    compressed_offset: int
    compressed_length: int


class SeekTableBuilder:
    """Collects one entry per frame as frames are written in order; ``to_bytes`` ends the file."""

    def __init__(self, checksums: bool = True) -> None:
        self._c, self._d = array("I"), array("I")
        self._sums: array[int] | None = array("I") if checksums else None

    def add(self, compressed: int, decompressed: int, checksum: int | None = None) -> None:
        if (checksum is None) != (self._sums is None):
            raise ValueError("give a checksum for every frame exactly when the table has checksums")
        if len(self._c) >= MAX_FRAMES:
            raise ValueError(f"the seekable format holds at most {MAX_FRAMES} frames")
        self._c.append(compressed)  # array('I') refuses values outside u32 with OverflowError
        self._d.append(decompressed)
        if self._sums is not None and checksum is not None:
            self._sums.append(checksum)

    def __len__(self) -> int:
        return len(self._c)

    def table(self) -> SeekTable:
        return SeekTable(
            np.frombuffer(self._c, dtype=np.uint32),
            np.frombuffer(self._d, dtype=np.uint32),
            None if self._sums is None else np.frombuffer(self._sums, dtype=np.uint32),
        )

    def to_bytes(self) -> bytes:
        return self.table().to_bytes()


def build_seek_table(
    compressed: Sequence[int], decompressed: Sequence[int], checksums: Sequence[int] | None = None
) -> bytes:
    """The seek table frame for frames of these sizes (and checksums), to append after the frames."""
    return SeekTable(compressed, decompressed, checksums).to_bytes()


def parse_seek_table(frame: bytes, data_bytes: int | None = None) -> SeekTable:
    """Parse a whole seek table frame; ``data_bytes`` (bytes before it) is checked against the sizes."""
    if len(frame) < 8 + FOOTER_BYTES:
        raise _bad_table(f"seek table frame of {len(frame)} bytes is shorter than its fixed fields")
    magic, frame_size = _SKIP_HEADER.unpack_from(frame)
    n, descriptor, seekable = _FOOTER.unpack_from(frame, len(frame) - FOOTER_BYTES)
    if seekable != SEEKABLE_MAGIC:
        raise _bad_table(f"seekable magic is {seekable:#x}, expected {SEEKABLE_MAGIC:#x}")
    if magic != SEEK_TABLE_MAGIC:
        raise _bad_table(f"seek table does not start with the skippable magic {SEEK_TABLE_MAGIC:#x}")
    if descriptor & RESERVED_BITS:
        raise _bad_table(f"seek table descriptor {descriptor:#04x} sets reserved bits")
    width = 3 if descriptor & CHECKSUM_FLAG else 2
    if n > MAX_FRAMES or frame_size != n * 4 * width + FOOTER_BYTES or len(frame) != 8 + frame_size:
        raise _bad_table(f"seek table of {len(frame)} bytes cannot hold {n} entries of {4 * width} bytes")
    entries = np.frombuffer(frame, dtype="<u4", count=n * width, offset=8).reshape(n, width)
    table = SeekTable(entries[:, 0], entries[:, 1], entries[:, 2] if width == 3 else None)
    if data_bytes is not None and table.compressed_bytes != data_bytes:
        raise _bad_table(
            f"seek table's frames add up to {table.compressed_bytes} bytes, but {data_bytes} bytes precede the table"
        )
    return table


def read_seek_table(fd: int, file_bytes: int | None = None, max_frames: int = MAX_FRAMES) -> SeekTable | None:
    """The seek table at the end of the file, or None if the file does not end with one.

    Reads only the tail with os.pread. A file whose last 4 bytes are the seekable magic but whose
    table is inconsistent raises CorruptFile(code="bad_seek_table"); one of more than ``max_frames``
    entries PayloadTooLarge(code="seek_table_too_large"), before the table is read.
    """
    size = os.fstat(fd).st_size if file_bytes is None else file_bytes
    if size < 8 + FOOTER_BYTES:
        return None
    n, descriptor, seekable = _FOOTER.unpack(pread_exact(fd, FOOTER_BYTES, size - FOOTER_BYTES, "seek table footer"))
    if seekable != SEEKABLE_MAGIC:
        return None
    table_bytes = 8 + n * (12 if descriptor & CHECKSUM_FLAG else 8) + FOOTER_BYTES
    if n > MAX_FRAMES or table_bytes > size:
        raise _bad_table(f"seek table claims {n} frames, more than a {size}-byte file can hold")
    if n > max_frames:
        raise PayloadTooLarge(
            f"the seek table lists {n} frames, over the {max_frames} a range read takes on",
            code="seek_table_too_large",
            metadata={"frames": n, "limit": max_frames},
        )
    frame = pread_exact(fd, table_bytes, size - table_bytes, "seek table")
    return parse_seek_table(frame, size - table_bytes)


def _bad_table(message: str) -> CorruptFile:
    return CorruptFile(message, code="bad_seek_table")


def read_range(
    fd: int,
    table: SeekTable,
    offset: int,
    length: int,
    dctx: zstandard.ZstdDecompressor | None = None,
    *,
    max_prefix: int | None = None,
    max_frames: int | None = None,
) -> bytes:
    """Plain bytes ``[offset, offset + length)`` (clamped to the end), decoding only the frames that
    hold them and, inside a frame read in part, only up to the range's end: its compressed bytes
    are pulled 64 KiB at a time as the decoder needs them, so a 4 KiB read near a frame's start
    reads a few KiB, not the frame. Frames decoded whole are checksum-verified by zstd; a partly
    decoded frame cannot be (its checksum covers all of it). ``dctx``: one to reuse (one thread).

    Bounded work: a range over more than ``max_frames`` frames, or starting more than ``max_prefix``
    bytes into its first frame (bytes decoded only to be dropped), is refused PayloadTooLarge before
    anything is decoded; a frame is never read past what zstd could need for the bytes asked of it
    (a frame padded with empty blocks is corrupt, not a reason to read gigabytes)."""
    plan = table.plan_range(offset, length, max_frames=max_frames)
    if max_prefix is not None and plan.first_skip > max_prefix:
        raise PayloadTooLarge(
            f"the range starts {plan.first_skip} bytes into frame {plan.frames[0]}, over the "
            f"{max_prefix} bytes a range read decodes before its data",
            code="range_prefix_too_large",
            metadata={"prefix": plan.first_skip, "limit": max_prefix},
        )
    out = bytearray(plan.length)
    pos = 0
    dctx = dctx or zstandard.ZstdDecompressor()
    for i in plan.frames:
        c_off, c_size, d_size = (
            int(table.c_offsets[i]),
            int(table.compressed_sizes[i]),
            int(table.decompressed_sizes[i]),
        )
        skip = plan.first_skip if pos == 0 else 0
        want = min(d_size - skip, plan.length - pos)
        data = _decode_frame(fd, dctx, i, c_off, c_size, d_size, skip + want, whole=skip == 0 and want == d_size)
        if len(data) < skip + want or (want == d_size and len(data) != d_size):
            raise CorruptFile(
                f"frame {i} decodes to {len(data)} bytes, the seek table says {d_size}", code="bad_seek_table"
            )
        out[pos : pos + want] = memoryview(data)[skip : skip + want]
        pos += want
    return bytes(out)


def compressed_bound(n: int) -> int:
    """The most compressed bytes zstd needs to hold ``n`` plain bytes in one frame: ZSTD_compressBound,
    a frame header (18) and checksum (4), and one more block (the one holding the last byte wanted)."""
    small = ((128 << 10) - n) >> 11 if n < 128 << 10 else 0
    return n + (n >> 8) + small + 22 + ZSTD_BLOCK_BYTES + 3


def _decode_frame(
    fd: int, dctx: zstandard.ZstdDecompressor, i: int, c_off: int, c_size: int, d_size: int, need: int, *, whole: bool
) -> bytes:
    """The first ``need`` plain bytes of frame ``i`` (all of it when ``whole``)."""
    budget = compressed_bound(need)
    try:
        if whole:
            if c_size > budget:
                raise CorruptFile(
                    f"frame {i} is {c_size} bytes for {d_size} plain bytes, more than zstd ever writes",
                    code="bad_seek_table",
                    metadata={"frame": i},
                )
            return dctx.decompress(pread_exact(fd, c_size, c_off, f"frame {i}"), max_output_size=d_size)
        end = c_off + min(c_size, budget + PARTIAL_READ_BYTES)
        source = PreadReader(fd, c_off, end)
        with dctx.stream_reader(cast("IO[bytes]", source), read_size=PARTIAL_READ_BYTES, closefd=False) as reader:
            data = _read_exactly(reader, need)
        if len(data) < need and end < c_off + c_size:
            raise CorruptFile(
                f"frame {i} needs more than {end - c_off} compressed bytes for its first {need} plain "
                "bytes: it is not a frame zstd writes",
                code="corrupt_frame",
                metadata={"frame": i},
            )
        return data
    except zstandard.ZstdError as exc:
        raise CorruptFile(f"frame {i} at offset {c_off} is corrupt: {exc}", code="corrupt_frame") from None


def _read_exactly(reader: zstandard.ZstdDecompressionReader, n: int) -> bytes:
    parts, got = [], 0
    while got < n:
        chunk = reader.read(n - got)
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)
