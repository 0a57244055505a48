"""BackgroundTasks (engine/background.py) on real asyncio tasks, and the Domain lifecycle around it
(engine/domain.py): restarts with backoff, failures logged with their traceback and counted, close
that cancels and waits (bounded for a task that swallows its cancel), and domains opened in order
and closed in reverse, every close running."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from typing import TYPE_CHECKING

import pytest

from engine.background import BackgroundTasks
from engine.domain import Domain, close_all, open_all
from tests.utils import run

if TYPE_CHECKING:
    from collections.abc import Callable


class Boom(Exception):
    pass


def fast(owner: str = "demo", **kwargs: float) -> BackgroundTasks:
    return BackgroundTasks(owner, **{"first_backoff_s": 0.02, "max_backoff_s": 0.08, "grace_s": 0.2, **kwargs})


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110  # the condition is the object's state: polled, as a test does
            await asyncio.sleep(0.005)


def test_a_failing_forever_task_is_restarted_with_backoff_and_counted() -> None:
    starts: list[float] = []

    async def flaky() -> None:
        starts.append(time.monotonic())
        raise Boom(f"attempt {len(starts)}")

    async def scenario() -> BackgroundTasks:
        tasks = fast()
        tasks.run_forever("flaky", flaky)
        await until(lambda: len(starts) >= 6)
        await tasks.close()
        return tasks

    tasks = run(scenario())
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # 0.02, 0.04, 0.08, then capped at 0.08 (asyncio.sleep never wakes early; 5 ms for clock grain)
    for gap, floor in zip(gaps, (0.02, 0.04, 0.08, 0.08, 0.08), strict=False):
        assert gap >= floor - 0.005, gaps
    assert max(gaps) < 0.5, gaps  # capped: never the 0.32 s a fifth doubling would be
    assert tasks.restarts()["flaky"] >= 5 and tasks.failures()["flaky"] == tasks.restarts()["flaky"]
    assert tasks.running() == []


def test_a_failure_is_logged_with_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    async def broken() -> None:
        raise Boom("the schedule file is damaged")

    async def scenario() -> None:
        tasks = fast("storage")
        tasks.run_forever("snapshots", broken)
        await until(lambda: tasks.restarts().get("snapshots", 0) >= 1)
        await tasks.close()

    with caplog.at_level(logging.ERROR, logger="engine.background"):
        run(scenario())
    record = next(r for r in caplog.records if "storage.snapshots" in r.getMessage())
    assert record.levelno == logging.ERROR and "restart 1 in 0.0 s" in record.getMessage()
    assert record.exc_info is not None and record.exc_info[0] is Boom
    assert "Traceback" in caplog.text and "the schedule file is damaged" in caplog.text


def test_a_clean_return_ends_a_forever_task_and_a_once_task_is_never_retried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[str] = []

    async def done() -> None:
        calls.append("forever")

    async def once() -> None:
        calls.append("once")
        raise Boom("restore failed")

    async def scenario() -> BackgroundTasks:
        tasks = fast()
        tasks.run_forever("done", done)
        tasks.run_once("restore", once())
        await until(lambda: tasks.running() == [])
        await asyncio.sleep(0.1)  # longer than a backoff: nothing starts again
        await tasks.close()
        return tasks

    with caplog.at_level(logging.ERROR, logger="engine.background"):
        tasks = run(scenario())
    assert sorted(calls) == ["forever", "once"]
    assert tasks.restarts() == {"done": 0} and tasks.failures() == {"done": 0, "restore": 1}
    assert any(r.exc_info is not None and "demo.restore failed (ended)" in r.getMessage() for r in caplog.records)


def test_close_cancels_and_waits_and_is_idempotent() -> None:
    ended: list[str] = []

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            await asyncio.sleep(0.01)  # cleanup that takes a turn or two: close waits for it
            ended.append("forever")

    async def once() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            ended.append("once")

    async def scenario() -> None:
        tasks = fast()
        tasks.run_forever("loop", forever)
        tasks.run_once("job", once())
        await asyncio.sleep(0.01)
        started = time.monotonic()
        await tasks.close()
        assert time.monotonic() - started < 0.2  # no grace spent: both ended at the first cancel
        assert sorted(ended) == ["forever", "once"] and tasks.running() == []
        await tasks.close()
        pending = asyncio.sleep(0)
        with pytest.raises(RuntimeError, match="closed"):
            tasks.run_once("late", pending)  # refused, and the coroutine closed (no "never awaited")
        with pytest.raises(RuntimeError, match="closed"):
            tasks.run_forever("late", forever)
        assert tasks.failures() == {"loop": 0, "job": 0} and tasks.restarts() == {"loop": 0}

    run(scenario())


def test_a_task_that_swallows_its_cancel_is_bounded(caplog: pytest.LogCaptureFixture) -> None:
    """Decided: a task still running ``grace_s`` after its cancel is cancelled again; one still running
    ``grace_s`` after that is logged as abandoned and no longer waited for (close <= 2 * grace_s)."""
    release = asyncio.Event()
    seen: list[str] = []

    async def stubborn_once() -> None:  # swallows the first cancel, ends at the second
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            seen.append("first cancel")
        await asyncio.sleep(3600)

    async def deaf() -> None:  # swallows every cancel until released
        while not release.is_set():
            try:
                await release.wait()
            except asyncio.CancelledError:
                seen.append("ignored")

    async def scenario() -> float:
        tasks = fast(grace_s=0.1)
        tasks.run_forever("stubborn", stubborn_once)
        tasks.run_once("deaf", deaf())
        await asyncio.sleep(0.01)
        started = time.monotonic()
        await tasks.close()
        took = time.monotonic() - started
        assert tasks.running() == ["deaf"]  # abandoned: still referenced, never waited again
        release.set()
        await until(lambda: tasks.running() == [])
        return took

    with caplog.at_level(logging.WARNING, logger="engine.background"):
        took = run(scenario())
    assert 0.2 - 0.01 <= took < 0.5
    assert seen.count("first cancel") == 1 and seen.count("ignored") == 2
    assert "still running 0.1 s after their cancel" in caplog.text
    assert "demo.deaf ignored its cancel twice: abandoned" in caplog.text
    assert "demo.stubborn ignored" not in caplog.text


def test_a_forever_task_failing_while_closing_is_logged_not_restarted(caplog: pytest.LogCaptureFixture) -> None:
    starts: list[int] = []

    async def fails_on_cancel() -> None:
        starts.append(1)
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            raise Boom("cleanup failed") from None

    async def scenario() -> BackgroundTasks:
        tasks = fast()
        tasks.run_forever("cleanup", fails_on_cancel)
        await asyncio.sleep(0.01)
        await tasks.close()
        await asyncio.sleep(0.1)
        return tasks

    with caplog.at_level(logging.ERROR, logger="engine.background"):
        tasks = run(scenario())
    assert starts == [1] and tasks.restarts() == {"cleanup": 0} and tasks.failures() == {"cleanup": 1}
    assert "demo.cleanup failed (while closing)" in caplog.text and "cleanup failed" in caplog.text


def test_a_name_runs_once_at_a_time() -> None:
    async def scenario() -> None:
        tasks = fast()
        tasks.run_forever("loop", lambda: asyncio.sleep(3600))
        with pytest.raises(RuntimeError, match="already runs 'loop'"):
            tasks.run_forever("loop", lambda: asyncio.sleep(3600))
        await tasks.close()

    run(scenario())


def test_half_built_objects_close_cleanly() -> None:
    class Broken(Domain):
        name = "broken"

        def __init__(self) -> None:
            raise OSError("no such device")

    half = BackgroundTasks.__new__(BackgroundTasks)
    domain = Domain.__new__(Broken)

    async def scenario() -> None:
        await half.close()
        await domain.close()
        await domain.close()

    run(scenario())
    assert half.restarts() == {} and domain.background_restarts() == {}


class Recorder(Domain):
    def __init__(self, log: list[str], *, fail_close: bool = False) -> None:
        self.log, self.fail_close = log, fail_close

    async def open(self) -> None:
        self.log.append(f"open {self.name}")
        self.background.run_forever("tick", lambda: asyncio.sleep(3600))

    async def close(self) -> None:
        self.log.append(f"close {self.name}")
        await super().close()
        if self.fail_close:
            raise Boom(f"{self.name} would not close")


def test_domains_open_in_order_and_close_in_reverse_every_close_running(caplog: pytest.LogCaptureFixture) -> None:
    log: list[str] = []
    audit, jobs, storage = (type(name, (Recorder,), {"name": name}) for name in ("audit", "jobs", "storage"))
    domains = (audit(log), jobs(log, fail_close=True), storage(log))

    async def scenario() -> None:
        await open_all(domains)
        assert all(d.background.running() == ["tick"] for d in domains)
        await close_all(domains)
        assert all(d.background.running() == [] for d in domains)

    with caplog.at_level(logging.ERROR, logger="engine.domain"):
        run(scenario())
    assert log == ["open audit", "open jobs", "open storage", "close storage", "close jobs", "close audit"]
    assert "closing the jobs domain failed" in caplog.text and "jobs would not close" in caplog.text


def test_a_domain_counts_its_restarts_under_its_name() -> None:
    class Flaky(Domain):
        name = "alerts"

        async def open(self) -> None:
            self.background.run_forever("poll", self._poll)

        async def _poll(self) -> None:
            raise Boom("no route to the mail server")

    async def scenario() -> dict[str, int]:
        async with Flaky() as domain:
            assert domain.background_restarts() == {"alerts.poll": 0}
            await until(lambda: domain.background_restarts()["alerts.poll"] >= 1)
            return domain.background_restarts()

    assert run(scenario()) == {"alerts.poll": 1}
