"""Stress the sleep/wake handshake: no spinning at all on either side, so every wait goes through
the flag + fence + re-check + eventfd path. A lost wake-up would hang a task: every timeout that
could rescue it is pushed out of reach, and each burst is bounded in time, so a hang fails the
test instead of hiding. (Without the re-check in SpscRing.prepare_sleep this fails within seconds.)"""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

import engine.core.client as client_module
import engine.core.worker as worker_module
from engine.core.embedded import Engine
from tests.utils import run

if TYPE_CHECKING:
    from engine.config import EngineConfig

pytestmark = pytest.mark.multiprocess


def test_no_lost_wakeups_with_zero_spin(config: EngineConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    # the client's watchdog re-drains every 0.25 s; push it past the test's bounds so only the
    # doorbell protocol itself can deliver completions
    monkeypatch.setattr(client_module, "WATCHDOG_S", 3600.0)
    # likewise the workers' idle timeout (inherited over fork) and the hang detector it feeds
    monkeypatch.setattr(worker_module, "IDLE_WAIT_S", 3600.0)
    cfg = replace(config, spin_us=0, client_spin_us=0, hang_timeout=3600.0)
    rng = random.Random(1234)
    with Engine.start(cfg) as engine:

        async def burst(n: int) -> None:
            payloads = [rng.randbytes(rng.randint(1, 300)) for _ in range(n)]
            results = await asyncio.wait_for(asyncio.gather(*(engine.submit("echo", p) for p in payloads)), 20)
            assert [r.data for r in results] == payloads

        async def scenario() -> int:
            done = 0
            for _ in range(3000):
                n = rng.choice((1, 1, 1, 2, 3, 8, 16))
                await burst(n)
                done += n
                if rng.random() < 0.1:
                    await asyncio.sleep(rng.random() / 500)  # let both sides fall asleep
            return done

        done = run(scenario(), timeout=150)
        sleeps = sum(w["sleeps"] for w in engine.client.table.worker_rows())
    assert done >= 3000
    assert sleeps > 100  # the workers really went through the sleep path
