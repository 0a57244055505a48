"""AuditLog: who changed what. One row per recorded call in the engine's SQLite (the file JobStore
keeps the job history in, table ``audit``), and one log line per call on the ``sigmavault.audit``
logger.

The transports decide what is recorded and fill the entry (frontends/audit.py): every call that
changes state or is refused, with its caller, target and result. This module keeps them: ``record``
as the call answers, ``recent`` newest first, retention by age (SIGMAVAULT_AUDIT_RETENTION_DAYS)
and by count (SIGMAVAULT_AUDIT_MAX_ENTRIES admitted calls, and apart from them a tenth of that of
refused ones, so that refusals, which anyone can make, never push out a change): applied at open,
every PRUNE_EVERY records or PRUNE_INTERVAL_S, and as a filter of every listing (an entry past it is never shown).

``record`` only queues the entry (~1 us); a writer thread (``sv-audit``) writes the log lines and
the rows, a batch per transaction. Measured on this project's loaded 2-core box, one INSERT with
WAL and ``synchronous=NORMAL`` took 40-70 us, and a log line 20-30 us more: on the event loop that
would stall every read in flight behind each mutation; in the thread SQLite's I/O runs without the
GIL. ``recent`` first waits for what is queued (``flush``), so a caller reads its own calls. A
failed write (disk full, damaged file) never fails a call: it is counted and logged, and the log
line is written all the same.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.domain import Domain

if TYPE_CHECKING:
    from collections.abc import Callable

logger = logging.getLogger("sigmavault.audit")
PRUNE_EVERY = 256  # records between two retention passes (a pass is two indexed DELETEs)
PRUNE_INTERVAL_S = 3600.0  # and at least this often while no call is recorded
BATCH_MAX = 256  # entries written in one transaction
QUEUE_MAX = 10_000  # entries waiting for the writer; past it (a stalled disk) an entry keeps only its log line
LIST_LIMIT_MAX = 1000
REFUSED_SHARE = 10  # refused calls kept: a tenth of SIGMAVAULT_AUDIT_MAX_ENTRIES (admitted ones)
_DAY_NS = 86_400 * 10**9

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    time_unix_ns INTEGER NOT NULL,
    caller TEXT NOT NULL,
    uid INTEGER,
    peer TEXT NOT NULL,
    transport TEXT NOT NULL,
    call TEXT NOT NULL,
    target TEXT NOT NULL,
    result TEXT NOT NULL,
    status TEXT NOT NULL,
    duration_ms REAL NOT NULL,
    refused INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS audit_by_time ON audit (time_unix_ns);
"""
# after the column exists (a log from before it gains it at open: its rows count as admitted)
_INDEXES = "CREATE INDEX IF NOT EXISTS audit_by_kind ON audit (refused, seq);"
_COLUMNS: tuple[str, ...] = ("time_unix_ns", "caller", "uid", "peer", "transport", "call", "target", "result")
_COLUMNS = (*_COLUMNS, "status", "duration_ms", "refused")
# the seq of the oldest entry of one kind (admitted 0, refused 1) that its cap keeps; NULL: fewer than that
_OLDEST_KEPT = "(SELECT seq FROM audit WHERE refused = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)"
_OLDEST_SEQ = f"SELECT COALESCE({_OLDEST_KEPT}, 0)"
_INSERT = f"INSERT INTO audit ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One recorded call.

    ``caller``: the token's name over TCP, ``uid:<n>`` over the Unix socket, ``anonymous`` where no
    credential admitted the call (refused, or an engine without tokens); ``peer``: the TCP peer's
    address or ``unix``; ``call``: one name whatever the transport (``storage.DestroyPool``);
    ``target``: what the call names (``pool=tank volume=home``); ``result``: ``ok`` or the error
    code of the answer (``not_found``, ``unauthenticated``, ...); ``status``: the HTTP status
    (``"404"``) or the gRPC code (``"NOT_FOUND"``)."""

    time_unix_ns: int
    caller: str
    peer: str
    transport: str
    call: str
    target: str
    result: str
    status: str
    duration_ms: float
    uid: int | None = None
    refused: bool = False  # the access checks refused it: kept under its own cap (max_refused)

    def listed(self) -> ListedEntry:
        """The entry as a listing shows it (the AuditEntry message): the time as unix seconds, no
        ``refused`` (``result`` says it: unauthenticated, permission_denied, ...)."""
        return ListedEntry(
            self.time_unix_ns / 1e9,
            self.caller,
            self.uid,
            self.peer,
            self.transport,
            self.call,
            self.target,
            self.result,
            self.status,
            self.duration_ms,
        )

    def log_line(self) -> tuple[str, tuple[object, ...]]:
        """The %-style line and its arguments (never a token or a request body: neither is in an entry)."""
        uid = f" uid={self.uid}" if self.uid is not None else ""
        args = (self.call, self.target or "-", self.result, self.status, self.caller, uid, self.peer, self.transport)
        return "%s %s result=%s status=%s caller=%s%s peer=%s transport=%s %.1f ms", (*args, self.duration_ms)


@dataclass(frozen=True, slots=True)
class ListedEntry:
    """One entry of a listing: the AuditEntry message of system.proto, field for field (``uid`` None:
    the transport told none, absent from the answer)."""

    time_unix: float
    caller: str
    uid: int | None
    peer: str
    transport: str
    call: str
    target: str
    result: str
    status: str
    duration_ms: float


@dataclass(frozen=True, slots=True)
class AuditListing:
    """ListAuditEntriesResponse: newest first."""

    entries: tuple[ListedEntry, ...]


class AuditLog(Domain):
    """The audit domain (engine/domain.py): opened at construction (the table is made and pruned then);
    ``close`` writes what is queued and stops the writer thread, off the event loop."""

    name = "audit"
    _db: sqlite3.Connection | None = None
    _reader: sqlite3.Connection | None = None
    _thread: threading.Thread | None = None

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        retention_days: int,
        max_entries: int,
        max_refused: int | None = None,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        """``path``: the engine's SQLite file (the JobStore's); ``max_entries``: admitted calls kept;
        ``max_refused``: refused calls kept (default a tenth of ``max_entries``, pruned apart from
        them: no flood of refusals can push out the record of a change); ``clock``: unix ns (tests move it)."""
        self.path = Path(path)
        self.retention_ns = retention_days * _DAY_NS
        self.max_entries = max_entries
        self.max_refused = max_refused if max_refused is not None else max(1, max_entries // REFUSED_SHARE)
        self.clock = clock
        self.failures = 0
        self._since_prune = 0
        self._queue: queue.SimpleQueue[AuditEntry | None] = queue.SimpleQueue()
        self._progress = threading.Condition()
        self._queued = self._written = 0  # under _progress
        self._reading = threading.Lock()  # listings come from worker threads (asyncio.to_thread)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))  # 0600 before SQLite ever opens it
        self._db = _connect(self.path)
        self._db.executescript(_SCHEMA)
        if "refused" not in {row[1] for row in self._db.execute("PRAGMA table_info(audit)")}:
            self._db.execute("ALTER TABLE audit ADD COLUMN refused INTEGER NOT NULL DEFAULT 0")
        self._db.executescript(_INDEXES)
        self.prune()
        self._reader = _connect(self.path)
        self._thread = threading.Thread(target=self._write_loop, name="sv-audit", daemon=True)
        self._thread.start()

    def record(self, entry: AuditEntry) -> None:
        """Keep one entry and write its log line (both in the writer thread); never raises."""
        with self._progress:
            backlog = self._queued - self._written
            open_ = self._thread is not None and backlog < QUEUE_MAX
            if open_:
                self._queued += 1
                self._queue.put(entry)
        if not open_:  # closed at shutdown (a call answered after it), or the writer is stuck: the line only
            line, args = entry.log_line()
            logger.info(line, *args)
            if self._thread is not None:
                self._failed(f"{QUEUE_MAX} entries wait for the writer")

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every entry recorded so far is written (or failed); False after ``timeout``."""
        with self._progress:
            target = self._queued
            return self._progress.wait_for(lambda: self._written >= target, timeout)

    def _write_loop(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=PRUNE_INTERVAL_S)
            except queue.Empty:
                self._guarded(self.prune)
                continue
            batch = [item]
            while len(batch) < BATCH_MAX:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            entries = [entry for entry in batch if entry is not None]
            try:
                self._write(entries)
            except Exception:  # the thread's top-level loop: a bug here must not stop the audit log
                logger.exception("audit log %s: %d entries lost", self.path, len(entries))
            finally:
                with self._progress:
                    self._written += len(entries)
                    self._progress.notify_all()
            if len(entries) < len(batch):  # close()'s sentinel: everything before it is written
                return

    def _write(self, entries: list[AuditEntry]) -> None:
        for entry in entries:
            line, args = entry.log_line()
            logger.info(line, *args)
        db = self._db
        assert db is not None
        try:
            with db:  # one transaction per batch
                db.execute("BEGIN")
                db.executemany(_INSERT, [tuple(getattr(e, name) for name in _COLUMNS) for e in entries])
        except sqlite3.Error as exc:
            self._failed(str(exc))
            return
        self._since_prune += len(entries)
        if self._since_prune >= PRUNE_EVERY:
            self._guarded(self.prune)

    def _guarded(self, step: Callable[[], object]) -> None:
        try:
            step()
        except sqlite3.Error as exc:
            self._failed(str(exc))

    def _failed(self, why: str) -> None:
        with self._progress:  # from the writer and from record()
            self.failures += 1
            failures = self.failures
        if failures == 1 or failures % 1000 == 0:
            logger.warning("audit log %s: cannot record (%d failures so far): %s", self.path, failures, why)

    def prune(self) -> int:
        """Drop entries past the retention age, all but the newest ``max_entries`` admitted ones and
        all but the newest ``max_refused`` refused ones; how many went. Runs in the writer thread once
        it is started (the one user of the writing connection)."""
        assert self._db is not None
        self._since_prune = 0
        gone = self._db.execute(
            "DELETE FROM audit WHERE time_unix_ns < ?", (self.clock() - self.retention_ns,)
        ).rowcount
        for refused, cap in ((0, self.max_entries), (1, self.max_refused)):
            delete = f"DELETE FROM audit WHERE refused = ? AND seq < {_OLDEST_KEPT}"
            over = self._db.execute(delete, (refused, refused, cap - 1))
            gone += max(over.rowcount, 0)
        return max(gone, 0)

    def recent(self, *, since_unix_ns: int = 0, limit: int = 100, caller: str = "", call: str = "") -> list[AuditEntry]:
        """Newest first; ``caller`` and ``call`` match exactly when given. Blocks for the writer to
        catch up (``flush``) and for SQLite: call it from a worker thread, not the event loop."""
        self.flush()
        where = ["time_unix_ns >= ?", "((refused = 0 AND seq >= ?) OR (refused = 1 AND seq >= ?))"]  # the retention
        args: list[object] = [max(since_unix_ns, self.clock() - self.retention_ns)]
        for column, value in (("caller", caller), ("call", call)):
            if value:
                where.append(f"{column} = ?")
                args.append(value)
        # NOT INDEXED: walk the rows newest first by seq (the rowid) and stop at ``limit``; left to
        # itself SQLite read them through an index and sorted them all (100 ms at 110000 rows, now 9)
        query = (
            f"SELECT {', '.join(_COLUMNS)} FROM audit NOT INDEXED WHERE {' AND '.join(where)} ORDER BY seq DESC LIMIT ?"
        )
        with self._reading:
            if self._reader is None:
                return []
            # each kind's oldest kept seq first (an index walk of its cap: ~4 ms at 100000)
            caps = ((0, self.max_entries), (1, self.max_refused))
            oldest = [self._reader.execute(_OLDEST_SEQ, (kind, cap - 1)).fetchone()[0] for kind, cap in caps]
            args[1:1] = oldest
            rows = self._reader.execute(query, (*args, min(limit, LIST_LIMIT_MAX))).fetchall()
        return [AuditEntry(**{**dict(zip(_COLUMNS, row, strict=True)), "refused": bool(row[-1])}) for row in rows]

    async def close(self) -> None:
        """Write what is queued, stop the writer, close the database (idempotent)."""
        await super().close()
        await asyncio.to_thread(self.close_now)

    def close_now(self) -> None:
        """``close`` for code without an event loop (a tool, a test): the same, on this thread."""
        with self._progress:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(10.0)
        with self._reading:
            for db in (self._reader, self._db):
                if db is not None:
                    db.close()
            self._reader = self._db = None


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA busy_timeout=1000")  # the other connection's (or another frontend's) write: wait for it
    db.execute("PRAGMA cache_size=-256")  # listings read the newest rows by the key: little cache needed
    return db
