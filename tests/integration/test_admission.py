"""Admission through the lease API and the task service: nothing leaks when a lease cannot get its
slots, a cancelled caller's job ends cancelled, and a busy engine says when to retry (HTTP 429 with
Retry-After, gRPC RESOURCE_EXHAUSTED with ErrorInfo reason BUSY)."""

from __future__ import annotations

import asyncio
import base64
import os
import threading
from typing import TYPE_CHECKING, Any

import grpc
import httpx
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from engine.config import EngineConfig
from engine.core.codes import Kind
from engine.core.embedded import Engine
from engine.core.tasks import TaskService
from engine.errors import EngineBusy
from engine.jobs.manager import JobManager
from engine.jobs.store import JobStore
from frontends import pb, rpc
from tests.served import start_served, stop_served
from tests.utils import run, wait_until

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.multiprocess


def test_a_lease_without_slots_gives_its_admission_back(config: EngineConfig) -> None:
    cfg = EngineConfig.from_env(
        environ={},
        env_file=None,
        workers=2,
        agents=4,
        slots=2,
        slot_bytes=65536,
        ring_capacity=4,
        data_dir=config.data_dir,
    )
    with Engine.start(cfg) as engine:
        client = engine.client

        async def scenario() -> None:
            async with client.lease(slots=2):  # both slots; admission has room for one more task
                assert client.scheduler.inflight == 1
                with pytest.raises(EngineBusy) as busy:
                    async with client.lease():
                        raise AssertionError("leased a slot that does not exist")
                assert busy.value.metadata == {"slots": "2", "retry_after_s": "1"}
                assert client.scheduler.inflight == 1, "the refused lease kept its admission"
                assert client.scheduler.rejected["no_slot"] == 1
            assert (client.scheduler.inflight, client.pool.free) == (0, 2)
            # and the engine still works afterwards
            assert (await client.submit("echo", b"ok")).data == b"ok"

        run(scenario())


def test_jobs_end_cancelled_or_failed_never_running(config: EngineConfig, tmp_path: Path) -> None:
    with Engine.start(config) as engine:
        jobs = JobManager(JobStore.in_data_dir(str(tmp_path)))
        events: list[tuple[str, Any]] = []
        tasks = TaskService(engine.client, jobs, lambda kind, data: events.append((kind, data)))
        noise = os.urandom(200_000)  # zstd-22 on noise: ~100 ms of work

        async def scenario() -> None:
            slow = asyncio.ensure_future(tasks.run(Kind.COMPRESS, noise, {"codec": "zstd", "level": 22}))
            await asyncio.sleep(0.01)
            slow.cancel()
            with pytest.raises(asyncio.CancelledError):
                await slow
            with pytest.raises(TimeoutError):
                await tasks.run(Kind.COMPRESS, noise, {"codec": "zstd", "level": 22}, timeout=0.001)
            done = await tasks.run(Kind.COMPRESS, b"abc" * 100, {"codec": "lz4"})
            assert done.bytes_in == 300
            for _ in range(300):  # the abandoned tasks' slots come back with their completions
                if engine.client.pool.free == engine.config.slots:
                    break
                await asyncio.sleep(0.01)

        run(scenario())
        states = [(j.state, j.error) for j in tasks.recent_jobs(10)]
        assert states == [
            ("done", ""),
            ("failed", "the deadline passed before the task finished"),
            ("cancelled", "cancelled by the caller"),
        ]
        # in-memory jobs of the one manager: counted, never written to its store
        assert jobs.counts("compression") == (0, 3) and jobs.store.recent(None, 10) == []
        ends = [data for kind, data in events if kind == "compression.progress" and data.state != "running"]
        assert [(e.state, e.blocks, e.bytes_in) for e in ends][-1] == ("done", 1, 300)
        jobs.store.close()
        assert engine.client.pool.free == engine.config.slots
        assert engine.client.scheduler.inflight == 0


def in_flight(http: httpx.Client) -> int:
    return int(http.get("/api/v1/system/status").json()["inflight"])


def _first_refusal(stub: rpc.AgentServiceStub) -> Any:
    try:
        stub.DispatchTask(pb.DispatchTaskRequest(kind=pb.TASK_KIND_ECHO))
    except grpc.RpcError as exc:
        return exc
    return None


def test_a_busy_engine_says_when_to_retry(tmp_path: Path) -> None:
    # one task at a time and no queue: a second concurrent task is refused at once
    served = start_served(tmp_path, SIGMAVAULT_MAX_WORKERS="1", SIGMAVAULT_QUEUE_LIMIT="0")
    slow = {
        "kind": "compress",
        "data": base64.b64encode(os.urandom(400_000)).decode(),
        "params": {"codec": "zstd", "level": 19},
    }
    answers: list[int] = []
    try:
        with httpx.Client(base_url=served.http, headers=served.headers, timeout=30) as http:
            blocker = threading.Thread(target=lambda: answers.append(http.post("/api/v1/tasks", json=slow).status_code))
            blocker.start()
            assert wait_until(lambda: in_flight(http) == 1, timeout=20)  # the one place is taken
            refused = http.post("/api/v1/tasks", json={"kind": "echo"})
            blocker.join(30)
            assert refused.status_code == 429, refused.text
            assert refused.headers["retry-after"] == "1"
            error = refused.json()["error"]
            assert error["code"] == "busy"
            assert error["metadata"]["queue_limit"] == "0" and error["metadata"]["max_inflight"] == "1"
            assert answers == [200]
            with served.channel() as channel:
                stub = rpc.AgentServiceStub(channel)
                request = pb.DispatchTaskRequest(
                    kind=pb.TASK_KIND_COMPRESS, data=os.urandom(400_000), params=pb.TaskParams(codec="zstd", level=19)
                )
                pending = stub.DispatchTask.future(request)
                assert wait_until(lambda: in_flight(http) == 1, timeout=20)
                refusal = _first_refusal(stub)
                assert refusal is not None and refusal.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
                status = rpc_status.from_call(refusal)
                assert status is not None
                info = error_details_pb2.ErrorInfo()
                status.details[0].Unpack(info)
                assert (info.reason, info.metadata["retry_after_s"]) == ("BUSY", "1")
                assert pending.result(timeout=30).bytes_in == 400_000
            metrics = http.get("/metrics").text
            assert 'sigmavault_rejected_tasks_total{reason="queue_full"}' in metrics
            assert "sigmavault_queued_tasks 0.0" in metrics
    finally:
        assert stop_served(served) == 0
