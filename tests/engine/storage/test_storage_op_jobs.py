"""Long storage operations as jobs (engine/storage/op_jobs.py) on a real JobManager and its lock table.

The operation here is a small LongOperation whose progress the test sets step by step (the tool
operations themselves are driven on real pools in tests/system); what is under test is the job
wrapper: progress and storage.event messages, errors found, cancel, a job cancelled while queued,
failure, and letting go at engine stop."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any, ClassVar

import orjson
import pytest

from engine.errors import Conflict, NotFound
from engine.jobs.locks import VOLUME, VOLUME_OPS, LockTable
from engine.jobs.manager import JobContext, JobManager
from engine.jobs.store import JobStore
from engine.storage.models import StorageJob
from engine.storage.op_jobs import OperationJobs
from engine.storage.operations import CANCELLED, DONE, FAILED, RUNNING, LongOperation, Progress
from tests.utils import run


class Stepped(LongOperation):
    """An operation whose next progress is whatever the test put in ``steps`` (the last repeats)."""

    kind: ClassVar[str] = "scrub"

    def __init__(self, locks: LockTable, pool: str, steps: list[Progress]) -> None:
        super().__init__(pool, f"/mnt/{pool}", locks, locks.acquire(f"pool:{pool}", "scrub", allows=VOLUME_OPS))
        self.steps, self.began, self.cancelled = steps, False, False

    async def _begin(self) -> None:
        self.began = True

    async def _poll(self) -> Progress:
        return self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]

    async def _cancel(self) -> None:
        self.cancelled = True
        self.steps = [Progress(CANCELLED, self.last.percent, "scrub cancelled")]


class Harness:
    def __init__(self, tmp_path: Path, **running: int) -> None:
        self.jobs = JobManager(
            JobStore.in_data_dir(str(tmp_path)), max_running={"storage": 4, **running}, progress_interval_s=0.0
        )
        self.events: list[dict[str, Any]] = []
        self.forgotten = 0
        self.locks = self.jobs.locks  # one table: the jobs' and the short operations'
        self.ops = OperationJobs(self.jobs, self._publish, self._forget, poll_s=0.01)

    def _publish(self, kind: str, data: Any) -> None:
        # as the event hub sends it (frontends/events.py encode): the data through orjson
        self.events.append({"type": kind, **orjson.loads(orjson.dumps(data))})

    def _forget(self) -> None:
        self.forgotten += 1

    async def until_ended(self, job_id: str) -> StorageJob:
        for _ in range(500):  # bounded: 5 s
            job = self.ops.list(50)
            mine = next(j for j in job if j.id == job_id)
            if mine.state in ("done", "failed", "cancelled"):
                return mine
            await asyncio.sleep(0.01)
        raise AssertionError(f"job {job_id} did not end")

    def actions(self, job_id: str) -> list[str]:
        return [e["action"] for e in self.events if e["job"]["id"] == job_id]


def test_progress_errors_found_and_done_are_told(tmp_path: Path) -> None:
    async def scenario() -> tuple[Harness, StorageJob]:
        h = Harness(tmp_path)
        op = Stepped(
            h.locks,
            "tank",
            [
                Progress(RUNNING, 40.0, "scrubbing"),
                Progress(RUNNING, 70.0, "", 1, 0, 0),
                Progress(DONE, 100.0, "1 error(s) found, 1 corrected", 1, 1, 0),
            ],
        )
        job = await h.ops.submit(op)
        assert (job.kind, job.pool, job.target, job.state) == ("scrub", "tank", "/mnt/tank", "running")
        assert h.ops.running("tank", "scrub") == job.id
        with pytest.raises(Conflict) as busy:  # the pool's key is held from submit to the end
            h.locks.acquire("pool:tank", "add_device")
        assert busy.value.code == "pool_busy"
        assert busy.value.metadata == {"pool": "tank", "running_operation": "scrub"}
        assert busy.value.message.startswith("pool 'tank' is busy: scrub is running (for 0 s); add_device can")
        with h.locks.hold("pool:tank", "create_snapshot", group=VOLUME):  # a scrub lets volume operations by
            assert [(x.operation, x.job_id) for x in h.locks.running("pool:tank")] == [
                ("scrub", job.id),
                ("create_snapshot", ""),
            ]
        return h, await h.until_ended(job.id)

    h, job = run(scenario())
    assert (job.state, job.percent, job.errors_found, job.errors_corrected) == ("done", 100.0, 1, 1)
    assert job.message == "1 error(s) found, 1 corrected" and job.finished_unix >= job.started_unix > 0
    actions = h.actions(job.id)
    assert actions[0] == "job_progress" and actions[-1] == "job_done" and actions.count("errors_found") == 1
    assert all(e["type"] == "storage.event" for e in h.events)
    done = [e for e in h.events if e["action"] == "job_done"][-1]["job"]
    assert done == dataclasses.asdict(job)  # the event's job: the record's fields, the JSON it always had
    assert list(done) == [f.name for f in dataclasses.fields(StorageJob)]
    assert h.locks.running() == [] and h.forgotten >= 2 and h.ops.running("tank", "scrub") == ""


def test_cancel_runs_the_operations_own_cancel(tmp_path: Path) -> None:
    async def scenario() -> tuple[Harness, Stepped, StorageJob]:
        h = Harness(tmp_path)
        op = Stepped(h.locks, "tank", [Progress(RUNNING, 10.0, "scrubbing")])
        job = await h.ops.submit(op)
        await asyncio.sleep(0.05)
        cancelled = await h.ops.cancel(job.id)
        return h, op, cancelled

    h, op, job = run(scenario())
    assert op.cancelled and job.state == "cancelled" and job.message == "scrub cancelled"
    assert h.actions(job.id)[-1] == "job_done" and h.locks.running() == []


def test_a_job_cancelled_while_queued_gives_its_pool_back(tmp_path: Path) -> None:
    async def scenario() -> tuple[Harness, Stepped, StorageJob]:
        h = Harness(tmp_path, storage=1)
        first = Stepped(h.locks, "tank", [Progress(RUNNING, 10.0)])
        second = Stepped(h.locks, "other", [Progress(RUNNING, 10.0)])
        await h.ops.submit(first)
        queued = await h.ops.submit(second)
        assert queued.state == "queued"  # the storage category is full
        cancelled = await h.ops.cancel(queued.id)
        await h.ops.close()  # engine stop: the running one is let go, not cancelled
        return h, second, cancelled

    h, second, job = run(scenario())
    assert job.state == "cancelled" and not second.began and second.last.state == CANCELLED
    assert h.locks.running() == []
    stopped = next(j for j in h.ops.list(10) if j.id != job.id)
    assert (stopped.state, stopped.error) == ("failed", "engine stopped following the operation")
    assert stopped.error_code == "operation_failed"


def test_failed_and_outside_cancelled_operations_end_their_jobs_so(tmp_path: Path) -> None:
    async def scenario() -> tuple[StorageJob, StorageJob]:
        h = Harness(tmp_path)
        failed = await h.ops.submit(Stepped(h.locks, "a", [Progress(FAILED, 30.0, "ERROR: device went away")]))
        outside = await h.ops.submit(Stepped(h.locks, "b", [Progress(CANCELLED, 30.0, "scrub cancelled")]))
        return await h.until_ended(failed.id), await h.until_ended(outside.id)

    failed, outside = run(scenario())
    assert (failed.state, failed.error, failed.error_code) == (
        "failed",
        "ERROR: device went away",
        "operation_failed",
    )
    assert outside.state == "cancelled"


def test_only_storage_jobs_are_storage_jobs(tmp_path: Path) -> None:
    async def body(ctx: JobContext) -> dict[str, Any]:
        return {}

    async def scenario() -> None:
        h = Harness(tmp_path)
        file_job = h.jobs.submit("compress", "file", "/data/x", {}, body, on_event=lambda r, p: None)
        with pytest.raises(NotFound) as unknown:
            h.ops.get(file_job.id)
        assert unknown.value.code == "unknown_job"
        with pytest.raises(NotFound):
            await h.ops.cancel("job-nothing")
        await h.jobs.close()

    run(scenario())
