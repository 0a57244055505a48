"""Small positional-I/O helpers shared by the format modules (no file offsets are moved)."""

from __future__ import annotations

import io
import os

from engine.files.errors import CorruptFile


def pread_exact(fd: int, n: int, offset: int, what: str = "data") -> bytes:
    """``n`` bytes at ``offset``, or CorruptFile(code="truncated") naming what was cut short."""
    data = os.pread(fd, n, offset)
    if len(data) != n:
        raise CorruptFile(
            f"file is truncated: {what} needs {n} bytes at offset {offset}, only {len(data)} are there",
            code="truncated",
            metadata={"offset": offset, "needed": n, "found": len(data)},
        )
    return data


def write_all(fd: int, view: memoryview) -> None:
    """os.write until every byte of ``view`` is out (a pipe or a signal may cut a write short)."""
    while view:
        n = os.write(fd, view)
        view = view[n:]


class PreadReader(io.RawIOBase):
    """A read-only stream over ``[start, end)`` of a file descriptor, read with os.preadv.

    Decoders that want a file object (zstandard's stream_reader, lz4's LZ4FrameFile) read through it
    without moving the descriptor's offset, so several readers can share one descriptor.
    """

    def __init__(self, fd: int, start: int = 0, end: int | None = None) -> None:
        super().__init__()
        self._fd = fd
        self._pos = start
        self._end = os.fstat(fd).st_size if end is None else end

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        want = min(len(view), self._end - self._pos)
        if want <= 0:
            return 0
        n = os.preadv(self._fd, [view[:want]], self._pos)
        self._pos += n
        return n

    @property
    def position(self) -> int:
        return self._pos
