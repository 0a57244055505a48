"""zstd_frame / lz4_frame: one block of a file job becomes one self-contained frame of the file format.

- ZSTD_FRAME: a zstd frame declaring its content size, with a content checksum (whose 4 bytes the
  seek table reuses: engine/files/zstd_frames.py ``frame_checksum``). Param ``Codec.ZSTD | level << 8``.
- LZ4_FRAME: an lz4 frame with ``engine.files.lz4_frames.FRAME_OPTIONS`` (content size, content
  checksum, independent blocks). Param ``Codec.LZ4 | level << 8 | NO_CHECKSUM`` (bit 16: leave the
  content checksum out; it costs ~0.5 ms per MiB each way here).

Decoding a frame is the existing DECOMPRESS kind (bounded by the output slot). zstandard returns a
fresh ``bytes`` that ``store_output`` copies once; lz4 frames are written straight into the output
slot by the bundled liblz4 (engine/core/agents/lz4_direct.py) when it checks out at start.
"""

from __future__ import annotations

import zstandard

from engine.core.agents.base import TaskError, overlaps, store_output
from engine.core.agents.lz4_direct import DirectLz4
from engine.core.codes import Codec, Status
from engine.files.lz4_frames import compress_frame

NO_CHECKSUM = 1 << 16


class FrameAgent:
    """One per worker process: zstd compressors are kept per level (one operation at a time)."""

    def __init__(self) -> None:
        self._zstd: dict[int, zstandard.ZstdCompressor] = {}
        self._lz4 = DirectLz4.open()  # writes into the output slot; None: python-lz4 and a copy

    def zstd_frame(self, slot: memoryview, length: int, param: int, dst: memoryview) -> int:
        if param & 0xFF != Codec.ZSTD:
            raise TaskError(Status.BAD_PARAMS, f"zstd_frame needs codec {int(Codec.ZSTD)}, got {param & 0xFF}")
        level = param >> 8 & 0xFF
        cctx = self._zstd.get(level)
        if cctx is None:
            if not 1 <= level <= 22:
                raise TaskError(Status.BAD_PARAMS, f"zstd level must be in 1-22, got {level}")
            cctx = self._zstd[level] = zstandard.ZstdCompressor(
                level=level, write_checksum=True, write_content_size=True
            )
        src = slot[:length]
        out = cctx.compress(src)
        del src
        return store_output(dst, out)

    def lz4_frame(self, slot: memoryview, length: int, param: int, dst: memoryview) -> int:
        if param & 0xFF != Codec.LZ4:
            raise TaskError(Status.BAD_PARAMS, f"lz4_frame needs codec {int(Codec.LZ4)}, got {param & 0xFF}")
        level = param >> 8 & 0xFF
        if level > 16 or param >> 17:
            raise TaskError(
                Status.BAD_PARAMS, f"lz4 level must be in 0-16 and only bit 16 set above it, got {param:#x}"
            )
        checksum = not param & NO_CHECKSUM
        if self._lz4 is not None and not overlaps(slot, dst) and not dst.readonly:
            n = self._lz4.compress(slot, length, dst, level, checksum)
            if n is not None:
                return n
        src = slot[:length]
        out = compress_frame(src, level, checksum=checksum)
        del src
        return store_output(dst, out)
