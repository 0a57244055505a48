"""Byte ranges of seekable zstd files, decoding only the frames that hold them, with bounded work.

The path is resolved beneath the roots and the file opened there (engine/files/paths.py), like a
job's source. The seek table of a file is read once (two preads of its tail) and kept, keyed by the
file's device, inode, size and modification time, so a changed file is never served from a stale
table. A range decodes its first frame up to the range's end only, pulling the frame's compressed
bytes 64 KiB at a time as the decoder needs them (docs/FILE_JOBS.md has the measured figures).

One crafted file must not cost the engine more than an honest one, so every request is bounded
(each limit refused 413 with its own code, before the work): a seek table of more than
``MAX_TABLE_FRAMES`` entries (``seek_table_too_large``), a range over more than ``MAX_RANGE_FRAMES``
frames (``range_too_fragmented``), a range starting more than ``max_prefix`` bytes into its first
frame (``range_prefix_too_large``: those bytes are decoded only to be dropped; the default admits
any file this engine wrote). Cached tables are bounded by their total entries too. And all of it
runs on a small thread pool of its own, never on the event loop that serves everyone's API calls.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from engine.errors import BadRequest
from engine.files.errors import CorruptFile
from engine.files.models import RangeRead
from engine.files.zstd_seekable import SeekTable, read_range, read_seek_table

if TYPE_CHECKING:
    import os

    from engine.files.paths import PathPolicy

MAX_RANGE_BYTES = 8 << 20
MAX_TABLE_FRAMES = 1 << 20  # a 1 TiB file of 1 MiB frames (24 MB of table in memory)
MAX_RANGE_FRAMES = 4096  # 8 MiB of this engine's smallest frames (4 KiB blocks) is 2,049
MAX_PREFIX_BYTES = 16 << 20  # at ~1 GB/s, about 16 ms of decoding before the range's first byte
CACHED_TABLES = 64
CACHED_FRAMES = 4 << 20  # entries over all cached tables (~100 MB)
THREADS = 2


class RangeReader:
    def __init__(
        self, policy: PathPolicy, max_bytes: int = MAX_RANGE_BYTES, *, max_prefix: int = MAX_PREFIX_BYTES
    ) -> None:
        self.policy = policy
        self.max_bytes = max_bytes
        self.max_prefix = max_prefix
        self._tables: OrderedDict[tuple[int, int, int, int], SeekTable] = OrderedDict()
        self._cached_frames = 0
        self._lock = threading.Lock()  # reads run on several threads
        self._pool: ThreadPoolExecutor | None = None

    def check(self, offset: int, length: int) -> None:
        if offset < 0:
            raise BadRequest(f"offset must be >= 0, got {offset}")
        if not 1 <= length <= self.max_bytes:
            raise BadRequest(
                f"length must be in 1-{self.max_bytes}, got {length}", metadata={"min": 1, "max": self.max_bytes}
            )

    async def read_async(self, raw_path: str, offset: int, length: int) -> RangeRead:
        """``read`` on the reader's threads. Even a 4 KiB read resolves a path (a few syscalls per
        component) and decodes part of a frame: never the event loop's work."""
        self.check(offset, length)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(THREADS, thread_name_prefix="sv-range")
        return await asyncio.get_running_loop().run_in_executor(self._pool, self.read, raw_path, offset, length)

    def read(self, raw_path: str, offset: int, length: int) -> RangeRead:
        """Plain bytes [offset, offset + length) clamped to the end.
        Blocking (a few preads and one partial frame decode): call it in a thread."""
        self.check(offset, length)
        with self.policy.source(raw_path) as source:
            assert source.st is not None
            table = self._table(source.fd, source.st)
            data = read_range(source.fd, table, offset, length, max_prefix=self.max_prefix, max_frames=MAX_RANGE_FRAMES)
        total = table.decompressed_bytes
        return RangeRead(data=data, offset=min(offset, total), length=len(data), file_bytes=total)

    def _table(self, fd: int, st: os.stat_result) -> SeekTable:
        key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        with self._lock:
            table = self._tables.get(key)
            if table is not None:
                self._tables.move_to_end(key)
                return table
        table = read_seek_table(fd, st.st_size, max_frames=MAX_TABLE_FRAMES)
        if table is None:
            raise CorruptFile(
                "the file has no zstd seek table, so a range cannot be read without decoding it all "
                "(files compressed by this engine have one)",
                code="not_seekable",
            )
        with self._lock:
            if key not in self._tables:
                self._tables[key] = table
                self._cached_frames += len(table)
            while len(self._tables) > CACHED_TABLES or (self._cached_frames > CACHED_FRAMES and len(self._tables) > 1):
                _, old = self._tables.popitem(last=False)
                self._cached_frames -= len(old)
        return table

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
