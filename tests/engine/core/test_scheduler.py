from __future__ import annotations

import asyncio

import pytest

from engine.core.agents.registry import build_agents
from engine.core.codes import Kind
from engine.core.scheduler import TaskScheduler, TokenBucket
from engine.errors import EngineBusy, NotCapable, UnknownAgent
from tests.utils import run

AGENTS = build_agents(8, 2)


def test_accepts_max_workers_and_rate_limit_keywords() -> None:
    # an older design crashed at start-up on exactly these keywords
    scheduler = TaskScheduler(AGENTS, max_workers=4, rate_limit=100.0)
    assert scheduler.max_workers == 4
    assert scheduler.bucket is not None
    assert scheduler.bucket.rate == 100.0


def test_named_dispatch_checks_agent_and_capability() -> None:
    scheduler = TaskScheduler(AGENTS, max_workers=4)
    assert scheduler.pick(Kind.ECHO, 5) == 5
    with pytest.raises(UnknownAgent):
        scheduler.pick(Kind.ECHO, 8)
    compression_agent = next(a for a in AGENTS if a.role == "compression")
    with pytest.raises(NotCapable):
        scheduler.pick(Kind.ENCRYPT, compression_agent.id)


def test_least_loaded_capable_agent() -> None:
    scheduler = TaskScheduler(AGENTS, max_workers=16)
    first = scheduler.pick(Kind.PARITY)
    assert Kind.PARITY in AGENTS[first].capabilities
    scheduler.started(first)
    second = scheduler.pick(Kind.PARITY)
    assert AGENTS[second].worker != AGENTS[first].worker  # the other worker is idle
    # with load equal, rotation keeps agents of one worker evenly used
    picks = [scheduler.pick(Kind.ECHO, spread=False) for _ in range(8)]
    assert len(set(picks)) == 4
    assert all(AGENTS[p].worker == AGENTS[picks[0]].worker for p in picks)


def test_bounded_queue_answers_busy() -> None:
    async def scenario() -> None:
        scheduler = TaskScheduler(AGENTS, max_workers=1, queue_limit=2)
        await scheduler.admit()
        waiters = [asyncio.ensure_future(scheduler.admit()) for _ in range(2)]
        await asyncio.sleep(0)
        with pytest.raises(EngineBusy):
            await scheduler.admit()
        assert scheduler.rejected["queue_full"] == 1
        scheduler.release()
        await asyncio.sleep(0)
        assert waiters[0].done()
        assert not waiters[1].done()
        waiters[1].cancel()
        await asyncio.sleep(0)
        assert scheduler.queued == 0

    run(scenario())


def test_token_bucket_paces_admission() -> None:
    clock = [0.0]
    bucket = TokenBucket(rate=10.0, burst=2.0, clock=lambda: clock[0])
    assert bucket.try_take()
    assert bucket.try_take()
    assert not bucket.try_take()
    assert bucket.seconds_until_token() == pytest.approx(0.1)
    clock[0] += 0.1
    assert bucket.try_take()


def test_rate_limited_waiters_are_woken_by_the_timer() -> None:
    async def scenario() -> None:
        scheduler = TaskScheduler(AGENTS, max_workers=8, rate_limit=200.0, burst=1)
        loop = asyncio.get_running_loop()
        start = loop.time()
        for _ in range(5):
            await scheduler.admit()
        # 1 from the burst, then 4 tokens at 200/s: ~20 ms, bounded generously
        assert 0.01 < loop.time() - start < 5.0
        assert scheduler.inflight == 5

    run(scenario())
