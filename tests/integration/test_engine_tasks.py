"""Every task kind end to end through real worker processes, and every kind of bad input."""

from __future__ import annotations

import asyncio
import hashlib
import os
import tracemalloc
from dataclasses import replace
from typing import TYPE_CHECKING

import lz4.frame
import psutil
import pytest

from engine.core.codes import AgentStatus, Codec, Kind, Status, WorkerState
from engine.core.embedded import Engine
from engine.core.tables import WORKER_FIELD
from engine.errors import (
    BadRequest,
    EngineBusy,
    NotCapable,
    PayloadTooLarge,
    TaskFailed,
    UnknownAgent,
    WorkerUnavailable,
)
from tests.utils import run

if TYPE_CHECKING:
    from collections.abc import Iterator

    from engine.config import EngineConfig

pytestmark = pytest.mark.multiprocess


@pytest.fixture
def engine(config: EngineConfig) -> Iterator[Engine]:
    with Engine.start(config) as eng:
        yield eng


def test_all_kinds_round_trip(engine: Engine) -> None:
    data = os.urandom(1000) + bytes(30_000)

    async def scenario() -> None:
        for codec, level in (("lz4", 1), ("zstd", 3)):
            packed = await engine.submit("compress", data, codec=codec, level=level)
            assert len(packed.data) < len(data)
            assert (await engine.submit("decompress", packed.data, codec=codec)).data == data
        sealed = await engine.submit("encrypt", data)
        assert (await engine.submit("decrypt", sealed.data)).data == data
        assert (await engine.submit("hash", data, algo="sha256")).data == hashlib.sha256(data).digest()
        assert (await engine.submit("parity", b"\x01\x02\x04\x08", k=2)).data == b"\x05\x0a"
        echo = await engine.submit("echo", b"ping")
        assert echo.data == b"ping"
        assert echo.worker == engine.client.agents[echo.agent].worker
        assert echo.latency_ns >= echo.service_ns > 0

    run(scenario())


def test_bad_input_gets_an_error_and_the_workers_live_on(engine: Engine) -> None:
    pids = engine.worker_pids()
    crypto = next(a.id for a in engine.client.agents if a.role == "crypto")
    compression = next(a.id for a in engine.client.agents if a.role == "compression")
    slot_bytes = engine.config.slot_bytes

    async def scenario() -> None:
        with pytest.raises(TaskFailed) as info:
            await engine.submit("decompress", b"garbage", codec="lz4")
        assert info.value.status is Status.CORRUPT_INPUT
        sealed = bytearray((await engine.submit("encrypt", b"secret")).data)
        sealed[-1] ^= 0xFF
        with pytest.raises(TaskFailed) as info:
            await engine.submit("decrypt", bytes(sealed))
        assert info.value.status is Status.AUTH_FAILED
        with pytest.raises(PayloadTooLarge):
            await engine.submit("echo", bytes(slot_bytes + 1))
        with pytest.raises(PayloadTooLarge):  # decompression bomb: bounded by the slot
            await engine.submit("decompress", lz4.frame.compress(bytes(slot_bytes * 2)), codec="lz4")
        with pytest.raises(UnknownAgent):
            await engine.submit("echo", b"x", agent=999)
        with pytest.raises(NotCapable):
            await engine.submit("encrypt", b"x", agent=compression)
        with pytest.raises(ValueError, match="unknown task kind"):
            await engine.submit("transmogrify", b"x")
        with pytest.raises(BadRequest):
            await engine.submit("compress", b"x", codec="zstd", level=99)
        assert (
            await engine.submit("decrypt", (await engine.submit("encrypt", b"ok", crypto)).data, crypto)
        ).data == b"ok"

    run(scenario())
    assert engine.worker_pids() == pids
    assert engine.worker_states() == [WorkerState.READY] * 2
    assert engine.client.pool.free == engine.config.slots


def test_metrics_table_and_history_are_shared(engine: Engine) -> None:
    async def scenario() -> None:
        for i in range(20):
            await engine.submit("echo", bytes([i]) * 10, agent=3)
        assert engine.client.agents[3].role == "crypto"
        with pytest.raises(TaskFailed):
            await engine.submit("decrypt", b"too short", agent=3)

    run(scenario())
    rows = engine.client.table.agent_rows()
    assert rows[3]["tasks"] >= 20
    assert rows[3]["bytes_in"] >= 200
    history = engine.client.table.recent_tasks(3)
    assert len(history) == engine.config.history_len  # bounded
    assert history[0]["kind"] == "decrypt"
    assert history[0]["status"] == "corrupt_input"
    assert rows[3]["status"] == "error"  # until its next success
    assert history[0]["finished_unix_ns"] >= history[-1]["finished_unix_ns"]
    assert sum(r["errors"] for r in rows) == 1
    workers = engine.client.table.worker_rows()
    assert sum(w["tasks"] for w in workers) == sum(r["tasks"] for r in rows)
    assert all(AgentStatus[r["status"].upper()] is not AgentStatus.RESTARTING for r in rows)


def test_many_concurrent_tasks_and_cancellation_leak_no_slot(engine: Engine) -> None:
    async def scenario() -> None:
        payloads = [os.urandom(100 + i) for i in range(300)]
        results = await asyncio.gather(*(engine.submit("echo", p) for p in payloads))
        assert [r.data for r in results] == payloads
        assert {r.worker for r in results} == {0, 1}  # spread over both workers
        # cancel tasks mid-flight: their slots come back once the workers answer
        tasks = [
            asyncio.ensure_future(engine.submit("compress", os.urandom(200_000), codec="zstd", level=19))
            for _ in range(6)
        ]
        await asyncio.sleep(0.01)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for _ in range(500):
            if engine.client.pool.free == engine.config.slots:
                break
            await asyncio.sleep(0.01)
        assert engine.client.pool.free == engine.config.slots
        assert engine.client.scheduler.inflight == 0
        with pytest.raises(TimeoutError):
            await engine.client.submit("compress", os.urandom(200_000), codec="zstd", level=22, timeout=0.001)

    run(scenario())


def test_output_to_a_second_slot_keeps_the_input(engine: Engine) -> None:
    client = engine.client
    data = os.urandom(500) + bytes(5000)

    async def scenario() -> None:
        async with client.lease(slots=2) as lease:
            lease.view(0)[: len(data)] = data
            for _ in range(3):  # the same input, compressed again and again with no refill
                done = await lease.run(Kind.COMPRESS, len(data), param=int(Codec.LZ4), out=1)
                assert done.status == 0
                assert lz4.frame.decompress(bytes(lease.view(1)[: done.n_out])) == data
                assert bytes(lease.view(0)[: len(data)]) == data
        assert client.pool.free == engine.config.slots
        assert client.scheduler.inflight == 0

        # cancelled mid-flight: both slots and the admission come back with the completion
        async def slow() -> None:
            async with client.lease(slots=2) as lease:
                lease.view(0)[:200_000] = os.urandom(200_000)  # zstd-22 on noise: ~100 ms of work
                await lease.run(Kind.COMPRESS, 200_000, param=int(Codec.ZSTD) | 22 << 8, out=1)

        task = asyncio.ensure_future(slow())
        await asyncio.sleep(0.005)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert client.pool.free < engine.config.slots  # a worker still holds them
        for _ in range(500):
            if client.pool.free == engine.config.slots and client.scheduler.inflight == 0:
                break
            await asyncio.sleep(0.01)
        assert client.pool.free == engine.config.slots
        assert client.scheduler.inflight == 0

    run(scenario())


def test_restarting_worker_is_refused_by_name_and_routed_around(engine: Engine) -> None:
    """While the supervisor marks a worker RESTARTING, named tasks for its agents get
    WorkerUnavailable (HTTP 503 / UNAVAILABLE) and unnamed ones go to another worker."""
    client = engine.client
    words = client.table.words
    assert words is not None
    state = client.table.worker_base(0) + WORKER_FIELD["state"]
    on_worker_0 = next(a.id for a in client.agents if a.worker == 0)

    async def scenario() -> None:
        words[state] = WorkerState.RESTARTING  # what the supervisor writes before re-forking
        try:
            with pytest.raises(WorkerUnavailable):
                await engine.submit("echo", b"x", agent=on_worker_0)
            results = [await engine.submit("echo", b"x") for _ in range(10)]
            assert {r.worker for r in results} == {1}
        finally:
            words[state] = WorkerState.READY
        assert (await engine.submit("echo", b"x", agent=on_worker_0)).worker == 0

    run(scenario())


def test_admission_limits_answer_busy(config: EngineConfig) -> None:
    cfg = replace(config, rate_limit=20.0, queue_limit=2, max_workers=4)
    with Engine.start(cfg) as eng:
        assert eng.client.scheduler.max_workers == 4
        assert eng.client.scheduler.bucket is not None

        async def scenario() -> list[object]:
            return await asyncio.gather(*(eng.submit("echo", b"x") for _ in range(30)), return_exceptions=True)

        outcomes = run(scenario())
    busy = [o for o in outcomes if isinstance(o, EngineBusy)]
    done = [o for o in outcomes if not isinstance(o, BaseException)]
    assert busy, "a bounded queue must answer busy instead of growing"
    assert done, "what fits the burst and the queue still runs"
    assert len(busy) + len(done) == 30


def test_workers_pinned_to_distinct_cpus(config: EngineConfig) -> None:
    with Engine.start(replace(config, pin_cpus=True)) as eng:
        rows = eng.client.table.worker_rows()
        usable = sorted(os.sched_getaffinity(0))
        assert [r["cpu"] for r in rows] == [usable[i % len(usable)] for i in range(len(rows))]
        for row in rows:
            assert psutil.Process(row["pid"]).cpu_affinity() == [row["cpu"]]


def test_client_hot_path_does_not_grow_memory(engine: Engine) -> None:
    """10k round trips leave no Python allocations behind (pending entries, futures, orphans)."""

    async def round_trips(n: int) -> None:
        payload = b"x" * 64
        for _ in range(n):
            await engine.submit("echo", payload)
        await asyncio.gather(*(engine.submit("echo", payload) for _ in range(64)))

    async def scenario() -> list[int]:
        await round_trips(2000)  # warm caches, free lists and the loop
        tracemalloc.start()
        try:
            growth = []
            for _ in range(2):  # one-off allocations land in the first window; a leak grows in both
                before = tracemalloc.get_traced_memory()[0]
                await round_trips(10_000)
                growth.append(tracemalloc.get_traced_memory()[0] - before)
            return growth
        finally:
            tracemalloc.stop()

    growth = run(scenario())
    assert growth[1] < 16 * 1024, f"{growth[1]} bytes more after another 10k tasks (first window: {growth[0]})"
    assert not engine.client.pending
    assert engine.client.pool.free == engine.config.slots
