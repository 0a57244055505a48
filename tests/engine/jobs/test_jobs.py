"""JobManager, JobStore and the lock table: bounded, cancellable, persisted jobs with throttled progress events,
in-memory jobs, and the locks of jobs and short operations."""

from __future__ import annotations

import asyncio
import logging
import stat
from pathlib import Path
from typing import Any

import pytest

from engine.errors import Conflict, EngineBusy, EngineClosed, NotFound, ToolFailed
from engine.jobs.locks import VOLUME, VOLUME_OPS
from engine.jobs.manager import JobContext, JobManager
from engine.jobs.model import JobRecord, JobState
from engine.jobs.store import JobStore
from tests.utils import run


class Events:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, float, str]] = []

    def __call__(self, record: JobRecord, phase: str) -> None:
        self.seen.append((record.id, phase, record.percent, str(record.state)))


def _in_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def manager(tmp_path: Path, **kwargs: Any) -> JobManager:
    return JobManager(JobStore.in_data_dir(str(tmp_path)), progress_interval_s=0.05, **kwargs)


async def until_finished(jobs: JobManager, job_id: str) -> None:
    for _ in range(500):  # bounded: 5 s
        if jobs.get(job_id).state.finished:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"job {job_id} did not finish")


def test_a_job_runs_reports_progress_and_is_kept(tmp_path: Path) -> None:
    events = Events()

    async def body(ctx: JobContext) -> dict[str, Any]:
        for step in range(1, 11):
            ctx.progress(step * 100, 1000, f"step {step}")
            await asyncio.sleep(0.02)
        return {"bytes_out": 321}

    async def scenario() -> JobRecord:
        jobs = manager(tmp_path)
        record = jobs.submit("compress", "file", "/data/out.zst", {"codec": "zstd"}, body, on_event=events)
        assert record.state is JobState.QUEUED or record.state is JobState.RUNNING
        await until_finished(jobs, record.id)
        jobs.store.close()
        return record

    record = run(scenario())
    assert (record.state, record.percent, record.result["bytes_out"], record.eta_s) == (JobState.DONE, 100.0, 321, 0.0)
    phases = [phase for _, phase, _, _ in events.seen]
    assert phases[-1] == "done" and phases.count("done") == 1
    assert 2 <= phases.count("progress") <= 8  # throttled: not one per step
    # a fresh manager (an engine restart) still lists it
    again = manager(tmp_path)
    assert [r.id for r in again.list("file")] == [record.id]
    assert again.get(record.id).result == {"bytes_out": 321}
    assert stat.S_IMODE((tmp_path / "jobs.sqlite3").stat().st_mode) == 0o600


def test_queue_bound_lock_and_cancel(tmp_path: Path) -> None:
    release = asyncio.Event

    async def scenario() -> None:
        gate = release()
        jobs = manager(tmp_path, max_queued=1, max_running={"file": 1})

        async def slow(ctx: JobContext) -> dict[str, Any]:
            await gate.wait()
            return {}

        first = jobs.submit("compress", "file", "/a", {}, slow, on_event=Events(), lock="dest:/a")
        with pytest.raises(Conflict) as busy_target:
            jobs.submit("compress", "file", "/a", {}, slow, on_event=Events(), lock="dest:/a")
        assert busy_target.value.metadata == {"job_id": first.id}
        await asyncio.sleep(0)  # the first starts running; the queue is empty again
        second = jobs.submit("compress", "file", "/b", {}, slow, on_event=Events())
        with pytest.raises(EngineBusy):
            jobs.submit("compress", "file", "/c", {}, slow, on_event=Events())
        assert (await jobs.cancel(second.id)).state is JobState.CANCELLED  # cancelled while queued
        assert jobs.get(first.id).state is JobState.RUNNING
        cancelled = await jobs.cancel(first.id)
        assert (cancelled.state, cancelled.error) == (JobState.CANCELLED, "cancelled")
        assert (await jobs.cancel(first.id)).state is JobState.CANCELLED  # idempotent
        # the lock went with the job
        third = jobs.submit("compress", "file", "/a", {}, slow, on_event=Events(), lock="dest:/a")
        gate.set()
        await until_finished(jobs, third.id)
        assert jobs.get(third.id).state is JobState.DONE
        with pytest.raises(NotFound):
            jobs.get("job-nope")
        with pytest.raises(NotFound):
            jobs.get("'; DROP TABLE jobs; --")
        await jobs.close()

    run(scenario())


def test_failures_are_recorded_and_interrupted_jobs_are_marked(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def refused(ctx: JobContext) -> dict[str, Any]:
        raise ToolFailed("btrfs: device busy", code="tool_failed")

    async def buggy(ctx: JobContext) -> dict[str, Any]:
        raise ZeroDivisionError

    async def forever(ctx: JobContext) -> dict[str, Any]:
        ctx.progress(5, 10)
        await asyncio.Event().wait()
        return {}

    async def scenario() -> tuple[str, str, str]:
        jobs = manager(tmp_path, max_running={"storage": 3})
        a = jobs.submit("scrub", "storage", "tank", {}, refused, on_event=Events())
        b = jobs.submit("scrub", "storage", "pool2", {}, buggy, on_event=Events())
        c = jobs.submit("balance", "storage", "pool3", {}, forever, on_event=Events())
        await asyncio.sleep(0.05)
        jobs.store.close()  # the engine dies here: nothing more is written
        return a.id, b.id, c.id

    a, b, c = run(scenario())
    after = manager(tmp_path)
    seen: list[tuple[list[str], bool]] = []
    after.after_recover(lambda records: seen.append(([r.id for r in records], not _in_loop())))
    with caplog.at_level(logging.WARNING, logger="engine.jobs.manager"):
        run(after.open())  # the domain's open: recover, log each, then the cleanups (in a thread)
    assert seen == [([c], True)]
    assert f"job {c} (balance on pool3) was interrupted when the engine last stopped" in caplog.text
    interrupted = after.list("storage")
    assert [r.id for r in interrupted if r.error.startswith("interrupted")] == [c]
    assert after.get(c).error == "interrupted: the engine stopped while this job was running"
    assert after.get(a).state is JobState.FAILED and after.get(a).error == "btrfs: device busy"
    assert after.get(a).result["error_code"] == "tool_failed"
    assert after.get(b).error == "internal error: ZeroDivisionError"
    assert {r.id for r in after.list("storage")} == {a, b, c}
    assert after.list("file") == []


def test_a_stopping_engine_interrupts_its_jobs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Nobody cancelled them: at close a running and a queued job end failed "interrupted", as after a
    crash, the running one's body having cleaned up; so does a job whose tasks failed because the engine
    went away under it (EngineClosed); each is logged."""
    cleaned: list[str] = []

    async def forever(ctx: JobContext) -> dict[str, Any]:
        try:
            await asyncio.Event().wait()
        finally:
            cleaned.append(ctx.record.id)
        return {}

    async def engine_gone(ctx: JobContext) -> dict[str, Any]:  # its tasks failed: the supervisor died
        raise EngineClosed("the engine's supervisor is gone")

    async def scenario() -> tuple[str, str, str]:
        jobs = manager(tmp_path, max_running={"file": 1, "storage": 1})
        gone = jobs.submit("scrub", "storage", "tank", {}, engine_gone, on_event=Events())
        running = jobs.submit("compress", "file", "/a", {}, forever, on_event=Events())
        queued = jobs.submit("compress", "file", "/b", {}, forever, on_event=Events())
        await asyncio.sleep(0.02)
        await jobs.close()
        return gone.id, running.id, queued.id

    gone, running, queued = run(scenario())
    after = manager(tmp_path)
    assert after.recover() == []  # already ended: nothing left for the next start to mark
    for job_id, was in ((gone, "running"), (running, "running"), (queued, "queued")):
        record = after.get(job_id)
        assert (record.state, record.error, record.result["error_code"]) == (
            JobState.FAILED,
            f"interrupted: the engine stopped while this job was {was}",
            "interrupted",
        )
    assert cleaned == [running]
    assert sum("was interrupted: the engine is stopping" in r.getMessage() for r in caplog.records) == 3


def test_a_running_engine_keeps_its_store_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Finished jobs are pruned while the engine runs, not only at its next start (a soak of 4,500 file
    jobs showed the store, and SQLite's page cache in the frontend, growing for the whole run)."""
    from engine.jobs import manager as manager_module

    monkeypatch.setattr(manager_module, "KEEP_FINISHED", 5)
    monkeypatch.setattr(manager_module, "PRUNE_EVERY", 4)

    async def body(ctx: JobContext) -> dict[str, Any]:
        return {}

    async def scenario() -> tuple[list[str], list[str]]:
        jobs = manager(tmp_path)
        ids = []
        for i in range(12):
            record = jobs.submit("compress", "file", f"/data/{i}.zst", {}, body, on_event=Events())
            await until_finished(jobs, record.id)
            ids.append(record.id)
        kept = [r.id for r in reversed(jobs.list("file", limit=50))]
        jobs.store.close()
        return ids, kept

    ids, kept = run(scenario())
    assert kept == ids[-5:]  # pruned to the newest 5 at the 4th, 8th and 12th finish


def test_in_memory_jobs_are_jobs_of_the_manager_without_its_costs(tmp_path: Path) -> None:
    jobs = manager(tmp_path, max_queued=0)  # no room in the queue: in-memory jobs never use it
    events = Events()
    first = jobs.begin("compress", "compression", "dispatch", {"codec": "lz4"}, on_event=events)
    first.record.done_units += 1
    first.changed()
    first.changed()  # within the progress interval: no second event
    assert jobs.counts("compression") == (1, 1) and jobs.get(first.record.id) is first.record
    first.finish("the deadline passed")
    first.finish()  # once ended, it stays as it ended
    second = jobs.begin("decompress", "compression", "stream", {"codec": "zstd"}, on_event=events)
    second.finish(cancelled=True)
    assert [(i, p, s) for i, p, _, s in events.seen] == [
        (first.record.id, "progress", "running"),
        (first.record.id, "done", "failed"),
        (second.record.id, "done", "cancelled"),
    ]
    listed = jobs.list("compression", 10)
    assert [(r.id, r.state, r.error) for r in listed] == [
        (second.record.id, JobState.CANCELLED, "cancelled by the caller"),
        (first.record.id, JobState.FAILED, "the deadline passed"),
    ]
    assert listed[1].finished_unix_ns >= listed[1].started_unix_ns > 0
    assert jobs.counts("compression") == (0, 2) and jobs.store.recent(None, 10) == []  # never persisted
    assert first.record.id != second.record.id and first.record.id.startswith("job-")
    jobs.store.close()


def test_in_memory_jobs_keep_the_newest_and_the_running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.jobs import manager as manager_module

    monkeypatch.setattr(manager_module, "KEEP_INLINE", 3)
    jobs = manager(tmp_path)
    running = jobs.begin("compress", "compression", "stream", {}, on_event=Events())
    for _ in range(5):
        jobs.begin("compress", "compression", "dispatch", {}, on_event=Events()).finish()
    kept = jobs.list("compression", 10)
    assert len(kept) == 3 and running.record in kept  # the oldest, still running, stays listed
    assert jobs.counts("compression") == (1, 6)
    jobs.store.close()


def test_a_scrub_lets_volume_operations_by_and_nothing_else(tmp_path: Path) -> None:
    locks = manager(tmp_path).locks
    scrub = locks.acquire("pool:tank", "scrub", allows=VOLUME_OPS)
    with locks.hold("pool:tank", "create_snapshot", group=VOLUME):
        with pytest.raises(Conflict) as second:  # volume operations do not share with each other
            locks.acquire("pool:tank", "delete_volume", group=VOLUME)
        assert second.value.metadata == {"pool": "tank", "running_operation": "create_snapshot"}
    for operation in ("balance", "add_device", "scrub"):
        with pytest.raises(Conflict) as busy:
            locks.acquire("pool:tank", operation)
        assert (busy.value.code, busy.value.metadata) == ("pool_busy", {"pool": "tank", "running_operation": "scrub"})
        assert busy.value.message == (
            f"pool 'tank' is busy: scrub is running (for 0 s); {operation} can start when it ends"
        )
    assert [h.operation for h in locks.running()] == ["scrub"]
    with locks.hold("pool:other", "add_device"):  # another pool is another key
        pass
    locks.release(scrub)
    locks.release(scrub)  # idempotent
    with locks.hold("pool:tank", "create_volume", group=VOLUME):  # a volume operation first, then a scrub
        locks.release(locks.acquire("pool:tank", "scrub", allows=VOLUME_OPS))
        with pytest.raises(Conflict, match="create_volume is running"):
            locks.acquire("pool:tank", "balance")
    assert locks.running() == []
    with pytest.raises(ZeroDivisionError), locks.hold("pool:tank", "destroy"):  # released on the way out
        raise ZeroDivisionError
    assert locks.running() == []


def test_a_jobs_lock_goes_when_it_fails_is_cancelled_or_never_runs(tmp_path: Path) -> None:
    async def refused(ctx: JobContext) -> dict[str, Any]:
        raise ToolFailed("btrfs: device busy", code="tool_failed")

    async def forever(ctx: JobContext) -> dict[str, Any]:
        await asyncio.Event().wait()
        return {}

    async def scenario() -> None:
        jobs = manager(tmp_path, max_running={"storage": 1})
        failed = jobs.submit("balance", "storage", "tank", {}, refused, on_event=Events(), lock="pool:tank")
        await until_finished(jobs, failed.id)
        assert jobs.locks.running() == []
        running = jobs.submit("balance", "storage", "tank", {}, forever, on_event=Events(), lock="pool:tank")
        with pytest.raises(Conflict) as busy:  # a job's pool key: the pool_busy users know
            jobs.submit("remove_device", "storage", "tank", {}, forever, on_event=Events(), lock="pool:tank")
        assert (busy.value.code, busy.value.metadata) == ("pool_busy", {"pool": "tank", "running_operation": "balance"})
        # a hold taken before the job (a storage operation, validated) is taken over, and goes with it
        held = jobs.locks.acquire("pool:other", "scrub", allows=VOLUME_OPS)
        queued = jobs.submit("scrub", "storage", "other", {}, forever, on_event=Events(), hold=held)
        assert [h.job_id for h in jobs.locks.running("pool:other")] == [queued.id]
        await jobs.cancel(queued.id)  # cancelled while queued: it never ran, its hold goes back
        # cancelled before its task took its first step (nothing awaited since submit): it ends all the same
        stopped = await jobs.cancel(running.id)
        assert (stopped.state, stopped.error) == (JobState.CANCELLED, "cancelled before it started")
        assert jobs.locks.running() == [] and jobs.running == 0
        await jobs.close()

    run(scenario())
