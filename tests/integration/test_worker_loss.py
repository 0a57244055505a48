"""A worker SIGKILLed under load: no request hangs, it is restarted within a second and counted."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from typing import TYPE_CHECKING

import pytest

from engine.core.codes import WorkerState
from engine.core.embedded import Engine
from engine.errors import WorkerLost
from ipc.segment import engine_segments
from tests.utils import async_wait_until, run, wait_until

if TYPE_CHECKING:
    from engine.config import EngineConfig

pytestmark = pytest.mark.multiprocess


def test_killed_worker_under_load(config: EngineConfig) -> None:
    with Engine.start(config) as engine:
        victim_pid = engine.worker_pids()[0]
        names = engine.res.segment_names if engine.res else []
        outcomes: dict[str, int] = {"ok": 0, "lost": 0}

        async def load(stop: asyncio.Event) -> None:
            while not stop.is_set():
                try:
                    # slow enough that tasks are in flight on worker 0 when it dies
                    await engine.submit("compress", bytes(100_000), codec="zstd", level=15)
                    outcomes["ok"] += 1
                except WorkerLost:
                    outcomes["lost"] += 1

        async def scenario() -> float:
            stop = asyncio.Event()
            runners = [asyncio.ensure_future(load(stop)) for _ in range(8)]
            await asyncio.sleep(0.3)
            killed_at = time.monotonic()
            os.kill(victim_pid, signal.SIGKILL)
            assert await async_wait_until(
                lambda: (
                    engine.worker_pids()[0] not in (victim_pid, 0) and engine.worker_states()[0] is WorkerState.READY
                ),
                timeout=10,
            )
            restarted_after = time.monotonic() - killed_at
            await asyncio.sleep(0.3)
            stop.set()
            await asyncio.wait_for(asyncio.gather(*runners), 20)  # nothing hangs
            return restarted_after

        restarted_after = run(scenario())
        assert restarted_after < 1.0
        assert outcomes["lost"] >= 1  # the in-flight tasks were answered, with WorkerLost
        # every task that failed was lost with the worker (held by it: WorkerLost; still in its ring: STALE),
        # and the client counts both
        assert engine.client.workers_lost_tasks == outcomes["lost"]
        assert outcomes["ok"] > 0
        rows = engine.client.table.worker_rows()
        assert rows[0]["restarts"] == 1
        assert rows[0]["epoch"] == 1
        assert rows[1]["restarts"] == 0
        assert engine.client.pool.free == config.slots  # no slot lost with the worker

        async def after() -> None:  # the restarted worker serves again, on every agent it hosts
            for agent in (a.id for a in engine.client.agents if a.worker == 0):
                assert (await engine.submit("echo", b"again", agent=agent)).data == b"again"

        run(after())
    assert not set(names) & set(engine_segments())


def test_sigkill_of_a_hung_worker_is_detected(config: EngineConfig) -> None:
    from dataclasses import replace

    cfg = replace(config, hang_timeout=0.5)
    with Engine.start(cfg) as engine:
        pid = engine.worker_pids()[1]
        os.kill(pid, signal.SIGSTOP)  # alive but silent: its heartbeat stops
        assert wait_until(lambda: engine.worker_pids()[1] not in (pid, 0), timeout=10)
        assert wait_until(lambda: engine.worker_states()[1] is WorkerState.READY, timeout=5)
        assert engine.client.table.worker_rows()[1]["restarts"] == 1
