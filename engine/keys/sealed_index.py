"""Which files are sealed to which key: an index the file jobs feed and key retirement reads.

``<data_dir>/sealed-files.sqlite3`` (0600) holds one row per path the engine sealed, re-wrapped or
opened: the key id its header named then. The index only says where to look; ``scan(key_id)``
reads each candidate's header again and sorts it:

- ``sealed``: still sealed to the key (listed);
- ``rewrapped``: now sealed to another key (the row follows it);
- ``gone``: no longer there, or no longer a sealed file (moved, renamed, deleted, replaced; the
  row is dropped).

Created empty, the index is seeded once from the job history (done encrypt and decrypt jobs), so
files sealed before it existed are known as long as their jobs are still in the store.

Limits (docs/FILE_JOBS.md): files sealed on another box to this box's public key, files copied or
moved by anything but the engine, and jobs pruned from the history before the index existed cannot
be known. A file moved elsewhere is reported ``gone``, not found again; re-wrapping a directory
re-indexes every sealed file in it.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from engine.files.errors import CorruptFile
from engine.files.sealed import FIXED, header_length

if TYPE_CHECKING:
    from collections.abc import Iterable

    from engine.jobs.model import JobRecord

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sealed_files (
    path TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    seen_unix INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sealed_by_key ON sealed_files (key_id);
"""


@dataclass
class KeyScan:
    """What ``scan`` found for one key: the files still sealed to it and what became of the others."""

    key_id: str
    sealed: list[str] = field(default_factory=list)
    rewrapped: int = 0
    gone: int = 0

    @property
    def checked(self) -> int:
        return len(self.sealed) + self.rewrapped + self.gone


def header_key_id(path: str | os.PathLike[str]) -> bytes | None:
    """The key id a sealed file's header names, or None when ``path`` is not a sealed regular file
    (missing, a link, a directory, another format). Reads the first 76 bytes only; O_NONBLOCK so a
    FIFO put in the file's place cannot hang the scan."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        head = os.pread(fd, FIXED.size, 0)
    except OSError:
        return None
    finally:
        os.close(fd)
    if len(head) < FIXED.size:
        return None
    try:
        header_length(head)  # the format's own magic and version check
    except CorruptFile:
        return None
    key_id: bytes = FIXED.unpack(head)[10]
    return key_id


def rows_from_jobs(records: list[JobRecord]) -> list[tuple[str, bytes]]:
    """(path, key id) of the sealed files done encrypt and decrypt jobs name."""
    rows = []
    for r in records:
        if str(r.state) != "done" or r.kind not in ("encrypt", "decrypt") or not r.result.get("key_id"):
            continue
        path = r.target if r.kind == "encrypt" else r.params.get("source", "")
        try:
            rows.append((str(path), bytes.fromhex(r.result["key_id"])))
        except ValueError:
            continue
    return [row for row in rows if row[0]]


class SealedIndex:
    _db: sqlite3.Connection | None = None

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        fresh = not self.path.exists()
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))  # 0600 before SQLite opens it
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self.fresh = fresh

    def __repr__(self) -> str:
        return f"SealedIndex(path={str(self.path)!r})"

    @classmethod
    def in_data_dir(cls, data_dir: str | os.PathLike[str]) -> SealedIndex:
        return cls(Path(data_dir) / "sealed-files.sqlite3")

    def record(self, path: str | os.PathLike[str], key_id: bytes) -> None:
        """``path`` is (now) sealed to ``key_id``."""
        self.record_many([(str(path), key_id)])

    def record_many(self, rows: Iterable[tuple[str, bytes]]) -> None:
        assert self._db is not None
        now = int(time.time())
        self._db.executemany(
            "INSERT INTO sealed_files (path, key_id, seen_unix) VALUES (?, ?, ?) "
            "ON CONFLICT(path) DO UPDATE SET key_id = excluded.key_id, seen_unix = excluded.seen_unix",
            [(str(p), k.hex(), now) for p, k in rows],
        )

    def forget(self, path: str | os.PathLike[str]) -> None:
        assert self._db is not None
        self._db.execute("DELETE FROM sealed_files WHERE path = ?", (str(path),))

    def candidates(self, key_id: bytes) -> list[str]:
        assert self._db is not None
        rows = self._db.execute("SELECT path FROM sealed_files WHERE key_id = ? ORDER BY path", (key_id.hex(),))
        return [row[0] for row in rows]

    def scan(self, key_id: bytes) -> KeyScan:
        """Every indexed file of ``key_id``, its header read again now (run in a thread)."""
        result = KeyScan(key_id.hex())
        moved: list[tuple[str, bytes]] = []
        for path in self.candidates(key_id):
            found = header_key_id(path)
            if found == key_id:
                result.sealed.append(path)
            elif found is None:
                result.gone += 1
                self.forget(path)
            else:
                result.rewrapped += 1
                moved.append((path, found))
        self.record_many(moved)
        return result

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
