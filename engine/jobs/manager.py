"""JobManager: runs jobs on the event loop, bounded, cancellable, persisted, and tells the WebSocket.

A job is a coroutine ``run(ctx) -> result dict`` submitted with a kind, a category and a target. At
most ``max_running[category]`` run at once; the others wait in a queue of at most ``max_queued``
(beyond that, EngineBusy). ``ctx.progress(done, total, message)`` updates the record; an event
(``on_event(record, phase)``, phase "progress" or "done") goes out at most every
``progress_interval_s`` while it runs and once at the end.

Locks: the manager owns the lock table (``locks``, locks.py) of every job and short operation. A job
submitted with ``lock=`` (a key: ``dest:<path>``, ``pool:<name>``) holds it from submit to its end,
or takes over with ``hold=`` a key its caller already holds (a long storage operation, held from the
moment it was validated); a second holder of the key is refused with Conflict. Short operations hold
a key for the duration of a call with ``locks.hold(...)``.

In-memory jobs (inline.py): ``begin(...)`` starts a job its caller runs and ends itself, listed and
found like the others but never persisted, queued, locked or run as a task (the one-block
compression jobs of the task path).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from engine.common.logsafe import safe_text
from engine.domain import Domain
from engine.errors import Conflict, EngineBusy, EngineClosed, EngineError, NotFound
from engine.jobs.inline import InlineJob, InlineJobs
from engine.jobs.locks import Hold, LockTable, busy
from engine.jobs.model import JobRecord, JobState

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from engine.jobs.model import EventSink
    from engine.jobs.store import JobStore

    JobBody = Callable[["JobContext"], Awaitable[dict[str, Any]]]

logger = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.25  # events: at most this often per job while it runs
PERSIST_INTERVAL_S = 1.0  # progress written to the store at most this often (state changes at once)
KEEP_FINISHED = 1000  # finished jobs kept in the store
PRUNE_EVERY = 100  # finished jobs between two prunings while running (not only at start)
KEEP_INLINE = 256  # in-memory jobs kept per category (running ones stay, up to twice this)


class JobContext:
    """What a running job sees of itself: report progress, read its record."""

    def __init__(self, manager: JobManager, record: JobRecord) -> None:
        self._manager = manager
        self.record = record
        self._started = time.monotonic()
        self._last_event = self._last_persist = 0.0

    def progress(self, done: int, total: int, message: str = "", **result: Any) -> None:
        """``done`` of ``total`` units (bytes, percent points...); extra keys go into the result."""
        r = self.record
        r.done_units, r.total_units = done, total
        r.percent = round(100.0 * done / total, 2) if total > 0 else 0.0
        elapsed = time.monotonic() - self._started
        r.rate_per_s = round(done / elapsed, 1) if elapsed > 0 else 0.0
        r.eta_s = round((total - done) / r.rate_per_s, 2) if r.rate_per_s > 0 and total >= done else -1.0
        if message:
            r.message = message
        r.result.update(result)
        now = time.monotonic()
        if now - self._last_event >= self._manager.progress_interval_s:
            self._last_event = now
            self._manager.emit(r, "progress")
        if now - self._last_persist >= PERSIST_INTERVAL_S:
            self._last_persist = now
            self._manager.persist(r)

    def save(self) -> None:
        """Persist the record now (a job about to create something it must clean up after a crash)."""
        self._manager.persist(self.record)


class _Entry:
    __slots__ = ("body", "lock", "on_event", "record", "task")

    def __init__(self, record: JobRecord, body: JobBody, on_event: EventSink, lock: Hold | None) -> None:
        self.record, self.body, self.on_event, self.lock = record, body, on_event, lock
        self.task: asyncio.Task[None] | None = None


class JobManager(Domain):
    """The jobs domain (engine/domain.py): ``open`` recovers what the last engine left unfinished, ``close``
    ends the live jobs "interrupted". Another domain that must clean up after its interrupted jobs
    (a file job's partial output) registers that with ``after_recover``."""

    name = "jobs"

    def __init__(
        self,
        store: JobStore,
        *,
        max_queued: int = 64,
        max_running: dict[str, int] | None = None,
        progress_interval_s: float = PROGRESS_INTERVAL_S,
    ) -> None:
        self.store = store
        self.max_queued = max_queued
        self.max_running = max_running or {}
        self.progress_interval_s = progress_interval_s
        self._live: dict[str, _Entry] = {}  # queued and running jobs
        self._queues: dict[str, deque[_Entry]] = {}
        self._running: dict[str, int] = {}
        self.locks = LockTable()
        self._inline = InlineJobs(KEEP_INLINE, progress_interval_s)
        self._closing = False  # close() is ending the jobs: nobody cancelled them, the engine is stopping
        self._finished_since_prune = 0
        self._after_recover: list[Callable[[list[JobRecord]], None]] = []

    def after_recover(self, cleanup: Callable[[list[JobRecord]], None]) -> None:
        """``cleanup(interrupted records)`` runs in a thread at ``open``, after the recovery."""
        self._after_recover.append(cleanup)

    async def open(self) -> None:
        interrupted = self.recover()
        for job in interrupted:
            logger.warning(
                "job %s (%s on %s) was interrupted when the engine last stopped",
                job.id,
                job.kind,
                safe_text(job.target),
            )
        for cleanup in self._after_recover:
            await asyncio.to_thread(cleanup, interrupted)

    def recover(self) -> list[JobRecord]:
        """At start: every job the previous engine left queued or running failed ("interrupted")."""
        interrupted = []
        for record in self.store.unfinished():
            record.state = JobState.FAILED
            record.error = "interrupted: the engine stopped while this job was " + (
                "running" if record.started_unix_ns else "queued"
            )
            record.finished_unix_ns = time.time_ns()
            self.store.save(record)
            interrupted.append(record)
        self.store.prune(KEEP_FINISHED)
        return interrupted

    # submitting and controlling ----------------------------------------------------------------
    def submit(
        self,
        kind: str,
        category: str,
        target: str,
        params: dict[str, Any],
        body: JobBody,
        *,
        on_event: EventSink,
        lock: str | None = None,
        hold: Hold | None = None,
    ) -> JobRecord:
        """Queue a job; ``lock`` a key to hold for its life, or ``hold`` one its caller holds already
        (released at the job's end even if it never starts)."""
        if lock is not None:
            self._check_lock(lock, kind, target)
        queued = sum(len(q) for q in self._queues.values())
        if queued >= self.max_queued:
            raise EngineBusy(
                f"{queued} jobs are queued (limit {self.max_queued}); retry when one finishes",
                code="busy",
                metadata={"queued": queued, "queue_limit": self.max_queued, "retry_after_s": 5},
            )
        record = JobRecord(id=f"job-{secrets.token_hex(6)}", kind=kind, category=category, target=target, params=params)
        if lock is not None:
            hold = self.locks.acquire(lock, kind, job_id=record.id)
        elif hold is not None:
            hold = self.locks.adopt(hold, record.id)
        entry = _Entry(record, body, on_event, hold)
        self._live[record.id] = entry
        self.store.save(record)
        self._queues.setdefault(category, deque()).append(entry)
        self._start_next(category)
        return record

    def _check_lock(self, key: str, kind: str, target: str) -> None:
        held = self.locks.blocker(key)
        if held is None:
            return
        entry = self._live.get(held.job_id)
        if entry is None or key.startswith("pool:"):
            raise busy(held, kind)
        holder = entry.record
        raise Conflict(
            f"{target} is busy with job {holder.id} ({holder.kind}, {holder.state})",
            code="busy_target",
            metadata={"job_id": holder.id},
        )

    def begin(self, kind: str, category: str, target: str, params: dict[str, Any], *, on_event: EventSink) -> InlineJob:
        """An in-memory job, running from now until its caller calls ``finish()`` (inline.py)."""
        return self._inline.begin(kind, category, target, params, on_event)

    def counts(self, category: str) -> tuple[int, int]:
        """In-memory jobs of ``category``: (running, started since the engine started)."""
        return self._inline.counts(category)

    def get(self, job_id: str) -> JobRecord:
        entry = self._live.get(job_id)
        if entry is not None:
            return entry.record
        inline = self._inline.get(job_id)
        if inline is not None:
            return inline
        record = self.store.load(job_id) if _looks_like_id(job_id) else None
        if record is None:
            raise NotFound(f"no job {job_id[:64]!r}", code="unknown_job")
        return record

    def list(self, category: str | None = None, limit: int = 50) -> list[JobRecord]:
        """Newest first; live records win over what the store last saw of them. A category of
        in-memory jobs lists those (the newest KEEP_INLINE)."""
        if self._inline.holds(category):
            assert category is not None
            return self._inline.recent(category, limit)
        records = self.store.recent(category, limit)
        return [self._live[r.id].record if r.id in self._live else r for r in records]

    async def cancel(self, job_id: str) -> JobRecord:
        """Cancel a queued or running job; a finished one is answered as it is."""
        entry = self._live.get(job_id)
        if entry is None:
            return self.get(job_id)
        record = entry.record
        if entry.task is None:  # still queued
            self._queues[entry.record.category].remove(entry)
            if self._closing:
                self._interrupted(entry)
            else:
                self._finish(entry, JobState.CANCELLED, "cancelled before it started")
            return entry.record
        entry.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(entry.task)
        if record.id in self._live:  # cancelled before its first step: _run never ran to end it
            self._running[record.category] -= 1
            if self._closing:
                self._interrupted(entry)
            else:
                self._finish(entry, JobState.CANCELLED, "cancelled before it started")
            self._start_next(record.category)
        return record

    async def close(self) -> None:
        """Stop: running jobs are cancelled (their bodies clean up); they and the queued ones end
        failed "interrupted", as after a crash (nobody cancelled them), each one logged."""
        self._closing = True
        for entry in list(self._live.values()):
            await self.cancel(entry.record.id)
        self.store.close()
        await super().close()

    # running -----------------------------------------------------------------------------------
    def _start_next(self, category: str) -> None:
        if self._closing:  # a job cancelled at close must not let a queued one start on the way out
            return
        queue = self._queues.get(category)
        limit = self.max_running.get(category, 1)
        while queue and self._running.get(category, 0) < limit:
            entry = queue.popleft()
            self._running[category] = self._running.get(category, 0) + 1
            entry.task = asyncio.get_running_loop().create_task(self._run(entry), name=entry.record.id)

    async def _run(self, entry: _Entry) -> None:
        record = entry.record
        record.state, record.started_unix_ns = JobState.RUNNING, time.time_ns()
        self.persist(record)
        self.emit(record, "progress")
        try:
            result = await entry.body(JobContext(self, record))
        except asyncio.CancelledError:
            if self._closing:
                self._interrupted(entry)
            else:
                self._finish(entry, JobState.CANCELLED, "cancelled")
            raise
        except EngineClosed:  # the engine is going away under the job (its supervisor died): not the job's fault
            self._interrupted(entry)
        except EngineError as exc:
            self._finish(entry, JobState.FAILED, exc.message, code=exc.code or "")
        except Exception as exc:  # a bug in a job body must end the job, not the engine
            logger.exception("job %s (%s) failed", record.id, record.kind)
            self._finish(entry, JobState.FAILED, f"internal error: {type(exc).__name__}")
        else:
            record.result.update(result)
            if record.total_units and record.done_units >= record.total_units:
                record.percent = 100.0
            self._finish(entry, JobState.DONE, "")
        finally:
            self._running[record.category] -= 1
            self._start_next(record.category)

    def _interrupted(self, entry: _Entry) -> None:
        record = entry.record
        was = "running" if record.started_unix_ns else "queued"
        logger.warning(
            "job %s (%s on %s) was interrupted: the engine is stopping",
            record.id,
            record.kind,
            safe_text(record.target),
        )
        self._finish(
            entry, JobState.FAILED, f"interrupted: the engine stopped while this job was {was}", code="interrupted"
        )

    def _finish(self, entry: _Entry, state: JobState, error: str, code: str = "") -> None:
        record = entry.record
        record.state, record.error, record.finished_unix_ns = state, error, time.time_ns()
        record.eta_s = 0.0 if state is JobState.DONE else -1.0
        if code:
            record.result["error_code"] = code
        self.persist(record)
        del self._live[record.id]
        if entry.lock is not None:
            self.locks.release(entry.lock)
        self._send(entry, "done")
        self._finished_since_prune += 1
        if self._finished_since_prune >= PRUNE_EVERY:  # an engine that runs for months keeps a bounded store
            self._finished_since_prune = 0
            try:
                self.store.prune(KEEP_FINISHED)
            except Exception:
                logger.exception("could not prune the job store")

    def persist(self, record: JobRecord) -> None:
        try:
            self.store.save(record)
        except Exception:  # a full disk must not take the job or the loop down with it
            logger.exception("could not save job %s", record.id)

    def emit(self, record: JobRecord, phase: str) -> None:
        entry = self._live.get(record.id)
        if entry is not None:
            self._send(entry, phase)

    @staticmethod
    def _send(entry: _Entry, phase: str) -> None:
        try:
            entry.on_event(entry.record, phase)
        except Exception:  # an event sink's bug must not end the job
            logger.exception("job %s: event sink failed", entry.record.id)

    @property
    def running(self) -> int:
        """Jobs running as tasks (in-memory jobs are counted by ``counts``)."""
        return sum(self._running.values())


def _looks_like_id(job_id: str) -> bool:
    return job_id.startswith("job-") and len(job_id) <= 32 and job_id[4:].isalnum()
