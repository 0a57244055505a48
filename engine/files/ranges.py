"""Byte ranges of seekable zstd files, decoding only the frames that hold them.

The seek table of a file is read once (two preads of its tail) and kept, keyed by the file's device,
inode, size and modification time, so a changed file is never served from a stale table. A range
decodes its first frame up to the range's end only, so a 4 KiB read costs at most one frame's
decode up to that point, pulling the frame's compressed bytes 64 KiB at a time as the decoder
needs them (docs/FILE_JOBS.md has the measured figures).
"""

from __future__ import annotations

import os
import stat
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from engine.errors import BadRequest
from engine.files.errors import CorruptFile
from engine.files.paths import kind_of
from engine.files.zstd_seekable import SeekTable, read_range, read_seek_table

if TYPE_CHECKING:
    from engine.files.paths import PathPolicy

MAX_RANGE_BYTES = 8 << 20
CACHED_TABLES = 64


class RangeReader:
    def __init__(self, policy: PathPolicy, max_bytes: int = MAX_RANGE_BYTES) -> None:
        self.policy = policy
        self.max_bytes = max_bytes
        self._tables: OrderedDict[tuple[int, int, int, int], SeekTable] = OrderedDict()
        self._lock = threading.Lock()  # reads run on the loop and on threads

    def check(self, offset: int, length: int) -> None:
        if offset < 0:
            raise BadRequest(f"offset must be >= 0, got {offset}")
        if not 1 <= length <= self.max_bytes:
            raise BadRequest(f"length must be in 1-{self.max_bytes}, got {length}",
                             metadata={"min": 1, "max": self.max_bytes})  # fmt: skip

    def read(self, raw_path: str, offset: int, length: int) -> dict[str, Any]:
        """{data, offset, length, file_bytes}: plain bytes [offset, offset + length) clamped to the end.
        Blocking (a few preads and one partial frame decode): call it in a thread."""
        self.check(offset, length)
        path = self.policy.source(raw_path)
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise BadRequest(f"path {raw_path!r} is {kind_of(st.st_mode)}", code="not_a_file")
            table = self._table(fd, st)
            data = read_range(fd, table, offset, length)
        finally:
            os.close(fd)
        return {"data": data, "offset": min(offset, table.decompressed_bytes), "length": len(data),
                "file_bytes": table.decompressed_bytes}  # fmt: skip

    def _table(self, fd: int, st: os.stat_result) -> SeekTable:
        key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        with self._lock:
            table = self._tables.get(key)
            if table is not None:
                self._tables.move_to_end(key)
                return table
        table = read_seek_table(fd, st.st_size)
        if table is None:
            raise CorruptFile("the file has no zstd seek table, so a range cannot be read without decoding it all "
                              "(files compressed by this engine have one)", code="not_seekable")  # fmt: skip
        with self._lock:
            self._tables[key] = table
            while len(self._tables) > CACHED_TABLES:
                self._tables.popitem(last=False)
        return table
