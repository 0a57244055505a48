"""JobStore: the job history in SQLite (stdlib ``sqlite3``, WAL) under the data directory.

One row per job, its record as JSON beside the columns the listing filters on. Writes are small and
rare (a state change, progress at most once a second), so they run on the caller's thread; WAL with
``synchronous=NORMAL`` keeps each one to a few tens of microseconds and a crash loses at most the
last progress figure, never a finished job's outcome (that write is followed by a checkpoint-safe
commit).
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import fields
from pathlib import Path

import orjson

from engine.jobs.model import JobRecord, JobState

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    category TEXT NOT NULL,
    state TEXT NOT NULL,
    created_unix_ns INTEGER NOT NULL,
    record BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_time ON jobs (category, created_unix_ns DESC);
"""


class JobStore:
    _db: sqlite3.Connection | None = None

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)  # 0600 before SQLite ever opens it
        os.close(fd)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        # the listing reads the newest rows by an index: 512 KiB of page cache is plenty, where SQLite's
        # default 2 MiB showed in a 10-minute soak as the frontend's memory growing until it filled
        self._db.execute("PRAGMA cache_size=-512")
        self._db.executescript(_SCHEMA)

    @classmethod
    def in_data_dir(cls, data_dir: str) -> JobStore:
        return cls(Path(data_dir) / "jobs.sqlite3")

    def save(self, job: JobRecord) -> None:
        assert self._db is not None
        record = orjson.dumps(job.as_dict())
        self._db.execute(
            "INSERT INTO jobs (id, category, state, created_unix_ns, record) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET state = excluded.state, record = excluded.record",
            (job.id, job.category, str(job.state), job.created_unix_ns, record),
        )

    def load(self, job_id: str) -> JobRecord | None:
        assert self._db is not None
        row = self._db.execute("SELECT record FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _record(row[0]) if row else None

    def recent(self, category: str | None, limit: int) -> list[JobRecord]:
        """Newest first."""
        assert self._db is not None
        if category is None:
            rows = self._db.execute("SELECT record FROM jobs ORDER BY created_unix_ns DESC LIMIT ?", (limit,))
        else:
            rows = self._db.execute(
                "SELECT record FROM jobs WHERE category = ? ORDER BY created_unix_ns DESC LIMIT ?", (category, limit)
            )
        return [_record(row[0]) for row in rows]

    def unfinished(self) -> list[JobRecord]:
        assert self._db is not None
        rows = self._db.execute("SELECT record FROM jobs WHERE state IN ('queued', 'running')")
        return [_record(row[0]) for row in rows]

    def prune(self, keep: int) -> int:
        """Drop all but the newest ``keep`` finished jobs; returns how many went."""
        assert self._db is not None
        cursor = self._db.execute(
            "DELETE FROM jobs WHERE state NOT IN ('queued', 'running') AND id NOT IN "
            "(SELECT id FROM jobs ORDER BY created_unix_ns DESC LIMIT ?)",
            (keep,),
        )
        return cursor.rowcount

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


_FIELDS = frozenset(f.name for f in fields(JobRecord))


def _record(raw: bytes) -> JobRecord:
    doc = orjson.loads(raw)
    doc["state"] = JobState(doc["state"])
    return JobRecord(**{k: v for k, v in doc.items() if k in _FIELDS})  # a field dropped since is ignored
