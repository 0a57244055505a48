"""lz4 frames written straight into a slot: ``LZ4F_compressFrame`` of the liblz4 that python-lz4
bundles (its extension exports the LZ4F API), called through ctypes with the slots' addresses.

``lz4.frame.compress`` returns a fresh ``bytes`` that the worker then copies into the output slot;
writing in place saves that allocation and copy, measured 6 % of the CPU of a 1 MiB block here.
The preferences are exactly what python-lz4 passes for ``FRAME_OPTIONS``, so the frames are
byte-identical; ``DirectLz4.open`` checks that on a sample at start and answers None (the caller
keeps the python-lz4 path) when the library, the symbol or the result is not what we expect.
"""

from __future__ import annotations

import ctypes
import logging
from typing import TYPE_CHECKING

import lz4.frame
import lz4.frame._frame

from engine.files.lz4_frames import compress_frame

if TYPE_CHECKING:
    from collections.abc import Callable

logger = logging.getLogger(__name__)

LZ4F_MAX1MB, LZ4F_BLOCK_INDEPENDENT = 6, 1  # LZ4F_blockSizeID_t, LZ4F_blockMode_t (lz4frame.h)


class _FrameInfo(ctypes.Structure):  # LZ4F_frameInfo_t, stable since lz4 1.8
    _fields_ = (
        ("blockSizeID", ctypes.c_int),
        ("blockMode", ctypes.c_int),
        ("contentChecksumFlag", ctypes.c_int),
        ("frameType", ctypes.c_int),
        ("contentSize", ctypes.c_ulonglong),
        ("dictID", ctypes.c_uint),
        ("blockChecksumFlag", ctypes.c_int),
    )


class _Preferences(ctypes.Structure):  # LZ4F_preferences_t
    _fields_ = (
        ("frameInfo", _FrameInfo),
        ("compressionLevel", ctypes.c_int),
        ("autoFlush", ctypes.c_uint),
        ("favorDecSpeed", ctypes.c_uint),
        ("reserved", ctypes.c_uint * 3),
    )


def address(view: memoryview) -> int:
    """The address of a writable buffer's first byte (a slot of the shared arena)."""
    return ctypes.addressof(ctypes.c_char.from_buffer(view))


class DirectLz4:
    """One per worker: compress ``src[:n]`` into ``dst`` as one frame of ours."""

    def __init__(self, fn: Callable[..., int], bound: Callable[..., int], is_error: Callable[[int], int]) -> None:
        self._fn, self._bound, self._is_error = fn, bound, is_error
        self._prefs = _Preferences()
        info = self._prefs.frameInfo
        info.blockSizeID, info.blockMode = LZ4F_MAX1MB, LZ4F_BLOCK_INDEPENDENT

    @classmethod
    def open(cls) -> DirectLz4 | None:
        try:
            lib = ctypes.CDLL(lz4.frame._frame.__file__)
            fn, bound, is_error = lib.LZ4F_compressFrame, lib.LZ4F_compressFrameBound, lib.LZ4F_isError
        except (OSError, AttributeError) as exc:
            logger.info("lz4 frames via python-lz4 (no direct LZ4F_compressFrame: %s)", exc)
            return None
        fn.restype = ctypes.c_size_t
        fn.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p)
        bound.restype, bound.argtypes = ctypes.c_size_t, (ctypes.c_size_t, ctypes.c_void_p)
        is_error.restype, is_error.argtypes = ctypes.c_uint, (ctypes.c_size_t,)
        direct = cls(fn, bound, is_error)
        return direct if direct._agrees() else None

    def _agrees(self) -> bool:
        sample = (b"sigmavault " * 9000)[:70000] + bytes(range(256)) * 40
        src, dst = bytearray(sample), bytearray(len(sample) + 1024)
        for level, checksum in ((0, True), (3, False)):
            n = self.compress(memoryview(src), len(sample), memoryview(dst), level, checksum)
            if n is None or bytes(dst[:n]) != compress_frame(sample, level, checksum):
                logger.warning("lz4 frames via python-lz4: the bundled liblz4 does not write what python-lz4 does")
                return False
        return True

    def compress(self, src: memoryview, n: int, dst: memoryview, level: int, checksum: bool) -> int | None:
        """Bytes written to ``dst``; None when ``dst`` is under liblz4's worst-case bound for ``n``
        bytes (it refuses to start then, even if the frame would fit: use python-lz4's path)."""
        prefs = self._prefs
        prefs.frameInfo.contentChecksumFlag = int(checksum)
        prefs.frameInfo.contentSize = n
        prefs.compressionLevel = level
        if self._bound(n, ctypes.byref(prefs)) > len(dst):
            return None
        src_at = address(src) if n else address(dst)  # an empty input still needs a valid pointer
        written = self._fn(address(dst), len(dst), src_at, n, ctypes.byref(prefs))
        return None if self._is_error(written) else int(written)
