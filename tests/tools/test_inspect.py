"""engined inspect on a real engine: rings' head/tail/flags, free slots, and a worker frozen with a task
on its ring seen as a stall with the oldest task in flight and its age; tools.shm_inspect prints the same."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import orjson
import pytest

from engine.core.embedded import Engine
from tests.utils import run, wait_until
from tools.engine_view import read_engine
from tools.ring_inspect import as_text, describe
from tools.shm_inspect import inspect as shm_inspect

if TYPE_CHECKING:
    from engine.config import EngineConfig


@pytest.mark.multiprocess
def test_a_frozen_worker_shows_as_a_stall_with_the_oldest_task_and_its_age(config: EngineConfig) -> None:
    with Engine.start(config) as engine:
        assert engine.res is not None
        name = f"{engine.res.prefix}_ctl"
        client = engine.client
        frozen = engine.worker_pids()[1]
        agent = 3  # agents i % 2 == 1 live on worker 1

        async def scenario() -> dict:
            await engine.submit("echo", b"warm", agent=agent)
            client.publish_stats()
            idle = describe(read_engine(name), stall_after=0.3)
            assert idle["oldest_inflight"] is None and idle["stalled_rings"] == []
            os.kill(frozen, signal.SIGSTOP)
            try:
                task = asyncio.ensure_future(engine.submit("echo", b"stuck", agent=agent))
                await asyncio.sleep(0.05)
                client.publish_stats()  # the frontend does this every 100 ms; here the test is the client
                await asyncio.sleep(0.6)
                client.publish_stats()
                doc = describe(read_engine(name), stall_after=0.3)
            finally:
                os.kill(frozen, signal.SIGCONT)
            await asyncio.wait_for(task, 10)
            return doc

        doc = run(scenario())
        w = doc["workers"][1]
        assert w["submission"]["occupancy"] == 1 and w["submission"]["tail"] == w["submission"]["head"] + 1
        assert w["submission"]["stalled"] and doc["stalled_rings"] == ["worker 1 submission"]
        assert not doc["workers"][0]["submission"]["stalled"]
        oldest = doc["oldest_inflight"]
        assert oldest is not None and oldest["agent"] == agent and oldest["worker"] == 1
        assert 0.5 <= oldest["age_at_least_s"] < 5
        assert doc["client"]["inflight"] == 1 and doc["client"]["slots_free"] == config.slots - 1
        text = as_text(doc)
        assert f"task {oldest['req_id']} on agent {agent} (worker 1)" in text and "STALLED" in text
        # once answered: nothing in flight, the ring drained, every slot free again
        client.publish_stats()
        assert wait_until(lambda: describe(read_engine(name))["stalled_rings"] == [], timeout=5)
        after = describe(read_engine(name))
        assert after["oldest_inflight"] is None and after["client"]["slots_free"] == config.slots
        assert after["workers"][1]["submission"]["occupancy"] == 0
        assert f"{name}: 2 workers" in shm_inspect(name)


@pytest.mark.multiprocess
def test_command_prints_text_and_json(config: EngineConfig) -> None:
    with Engine.start(config) as engine:
        assert engine.res is not None
        prefix = engine.res.prefix
        engine.client.publish_stats()
        time.sleep(0.6)  # idle workers announce they sleep
        base = [sys.executable, "-m", "engine", "inspect", "--segment", engine.res.prefix]
        text = subprocess.run(base, capture_output=True, text=True, timeout=60)
        doc = orjson.loads(subprocess.run([*base, "--json"], capture_output=True, timeout=60).stdout)
        listing = subprocess.run([sys.executable, "-m", "tools.shm_inspect", "--json"], capture_output=True, timeout=60)
    assert text.returncode == 0 and "stalled rings: none" in text.stdout and "subm" in text.stdout
    assert doc["segment"] == f"{prefix}_ctl" and doc["workers_total"] == 2
    assert doc["client"]["slots_free"] == config.slots and doc["client"]["pid"] == os.getpid()
    sub = doc["workers"][0]["submission"]
    assert sub["capacity"] == config.ring_capacity and sub["free"] == config.ring_capacity
    assert sub["consumer_sleeping"] and not sub["closed"]
    assert any(d.get("segment") == doc["segment"] for d in orjson.loads(listing.stdout))
