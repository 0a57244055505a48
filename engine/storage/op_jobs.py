"""Long storage operations (scrub, balance, device removal, replace) as jobs of the engine's JobManager.

The StorageManager hands over a LongOperation that holds its pool's key (``pool:<name>`` in the
JobManager's lock table) but has not started; here it becomes a job (category "storage") that takes
that hold over for its life, whose body starts the operation and polls
``op.progress()`` every ``poll_s`` until it ends. Every change is told to the WebSocket as a
``storage.event``::

    {"action": "job_progress", "job": StorageJob}   while it runs (throttled by the JobManager)
    {"action": "errors_found", "job": StorageJob}   each time the count of errors found grows
    {"action": "job_done", "job": StorageJob}       once, at the end (done, failed or cancelled)

(the record itself: the hub's orjson writes its fields, in the message's order, as the HTTP answer has them).

Cancelling the job runs the tool's own cancel (``btrfs scrub cancel``...). At engine stop the
operations are closed first: the engine stops following them (the kernel's work carries on, as it
would after a crash) and their jobs end failed saying so, not "cancelled".
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from engine.errors import NotFound, ToolFailed
from engine.storage.models import StorageJob
from engine.storage.operations import CANCELLED, FAILED, Progress

if TYPE_CHECKING:
    from collections.abc import Callable

    from engine.jobs import Publish
    from engine.jobs.manager import JobContext, JobManager
    from engine.jobs.model import JobRecord
    from engine.storage.operations import LongOperation

CATEGORY = "storage"
POLL_S = 1.0
CLOSE_WAIT_S = 5.0


def storage_job(record: JobRecord) -> StorageJob:
    """A job record as the proto's StorageJob."""
    result = record.result
    return StorageJob(
        id=record.id,
        kind=record.kind,
        state=str(record.state),
        pool=record.target,
        target=str(record.params.get("target", record.target)),
        percent=record.percent,
        message=record.message,
        errors_found=int(result.get("errors_found", 0)),
        errors_corrected=int(result.get("errors_corrected", 0)),
        errors_uncorrectable=int(result.get("errors_uncorrectable", 0)),
        created_unix=record.created_unix_ns / 1e9,
        started_unix=record.started_unix_ns / 1e9,
        finished_unix=record.finished_unix_ns / 1e9,
        error=record.error,
        error_code=str(result.get("error_code", "")),
    )


def _counts(progress: Progress) -> dict[str, int]:
    return {
        "errors_found": progress.errors_found,
        "errors_corrected": progress.errors_corrected,
        "errors_uncorrectable": progress.errors_uncorrectable,
    }


class OperationJobs:
    def __init__(
        self, jobs: JobManager, publish: Publish, forget: Callable[[], None], *, poll_s: float = POLL_S
    ) -> None:
        self.jobs, self.publish, self._forget, self.poll_s = jobs, publish, forget, poll_s
        self._ops: dict[str, LongOperation] = {}  # job id -> the operation its body follows
        self._ended: dict[str, asyncio.Event] = {}
        self._closing = asyncio.Event()

    async def submit(self, op: LongOperation) -> StorageJob:
        """Queue ``op`` as a job; it starts at once unless the storage category is full, and the
        answer says which (one turn of the loop lets the job's task mark itself running)."""
        try:
            record = self.jobs.submit(
                op.kind,
                CATEGORY,
                op.pool,
                {"target": op.target},
                lambda ctx: self._follow(ctx, op),
                on_event=self._on_event,
                hold=op.lease,
            )
        except BaseException:
            op.discard()
            raise
        self._ops[record.id] = op
        self._ended[record.id] = asyncio.Event()
        await asyncio.sleep(0)
        return storage_job(record)

    def running(self, pool: str, kind: str) -> str:
        """The id of the job following a ``kind`` operation on ``pool``, "" if none."""
        return next(
            (job_id for job_id, op in self._ops.items() if op.pool == pool and op.kind == kind and not op.last.done), ""
        )

    async def _follow(self, ctx: JobContext, op: LongOperation) -> dict[str, Any]:
        await op.start()
        self._forget()
        reported = 0
        try:
            while True:
                progress = await op.progress()
                ctx.progress(round(progress.percent * 10), 1000, progress.message, **_counts(progress))
                if progress.errors_found > reported:
                    reported = progress.errors_found
                    self.publish("storage.event", {"action": "errors_found", "job": storage_job(ctx.record)})
                if progress.done:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), self.poll_s)
        except asyncio.CancelledError:
            if not op.last.done:  # CancelJob: the tool's own cancel, bounded in time
                await op.cancel()
                ctx.record.message = op.last.message
            raise
        if progress.state == FAILED:
            raise ToolFailed(progress.message or f"{op.kind} failed", code="operation_failed")
        if progress.state == CANCELLED:  # cancelled outside the job (CancelScrub, or by hand)
            raise asyncio.CancelledError
        return {"outcome": progress.message}

    def _on_event(self, record: JobRecord, phase: str) -> None:
        if phase == "done":
            op = self._ops.pop(record.id, None)
            if op is not None:
                op.discard()  # cancelled while queued: the pool's key goes back
            ended = self._ended.pop(record.id, None)
            if ended is not None:
                ended.set()
            self._forget()
        action = "job_done" if phase == "done" else "job_progress"
        self.publish("storage.event", {"action": action, "job": storage_job(record)})

    def get(self, job_id: str) -> JobRecord:
        record = self.jobs.get(job_id)
        if record.category != CATEGORY:
            raise NotFound(f"no storage job {job_id[:64]!r}", code="unknown_job")
        return record

    async def cancel(self, job_id: str) -> StorageJob:
        self.get(job_id)
        return storage_job(await self.jobs.cancel(job_id))

    def list(self, limit: int) -> list[StorageJob]:
        return [storage_job(r) for r in self.jobs.list(CATEGORY, limit)]

    async def close(self) -> None:
        """Stop following every operation: kill the tools we wait on, let the jobs end "failed:
        engine stopped following the operation" (bounded), before the JobManager closes."""
        self._closing.set()
        started = [job_id for job_id, op in self._ops.items() if op.started_unix]
        for op in list(self._ops.values()):
            await op.close()
        waiters = [asyncio.ensure_future(self._ended[job_id].wait()) for job_id in started if job_id in self._ended]
        if waiters:
            await asyncio.wait(waiters, timeout=CLOSE_WAIT_S)
        for waiter in waiters:
            waiter.cancel()
