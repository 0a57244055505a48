"""The gRPC API of a real ``engined serve`` through the generated stubs, health and reflection."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from frontends import pb, rpc

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.served import Served

pytestmark = pytest.mark.multiprocess
SLOT = (1 << 20) + 16 * 1024  # SIGMAVAULT_SLOT_BYTES by default: a 1 MiB file-job block and its output fit


@pytest.fixture
def channel(served: Served) -> Iterator[grpc.Channel]:
    with served.channel(
        options=[("grpc.max_send_message_length", 8 << 20), ("grpc.max_receive_message_length", 8 << 20)]
    ) as ch:
        yield ch


def code_of(call: object, request: object, *, timeout: float | None = None, explained: bool = True) -> grpc.StatusCode:
    """The status code of a failing call; our own errors always explain themselves in details."""
    with pytest.raises(grpc.RpcError) as info:
        call(request, timeout=timeout)  # type: ignore[operator]
    if explained:
        assert info.value.details()
    return info.value.code()


def test_system_storage_network_encryption(channel: grpc.Channel) -> None:
    status = rpc.SystemServiceStub(channel).GetStatus(pb.GetStatusRequest())
    assert status.state == "ok"
    assert status.workers_ready == status.workers_total == 2
    assert status.agents_total == 40
    metrics = rpc.SystemServiceStub(channel).GetMetrics(pb.GetMetricsRequest())
    assert metrics.memory.total > 0
    assert len(metrics.load_average) == 3
    pools = rpc.StorageServiceStub(channel).ListPools(pb.ListPoolsRequest())
    assert {s.name for s in pools.sources} == {"zfs", "mdraid", "btrfs"}
    disks = rpc.StorageServiceStub(channel).ListDisks(pb.ListDisksRequest())
    assert any(s.name == "lsblk" for s in disks.sources)
    mesh = rpc.NetworkServiceStub(channel).GetMeshStatus(pb.GetMeshStatusRequest())
    assert any(i.name == "lo" for i in mesh.interfaces)
    enc = rpc.EncryptionServiceStub(channel).GetStatus(pb.GetEncryptionStatusRequest())
    assert enc.algorithm == "AES-256-GCM"
    assert len(enc.key_fingerprint) == 16


def test_agents_and_dispatch(channel: grpc.Channel) -> None:
    agents = rpc.AgentServiceStub(channel).ListAgents(pb.ListAgentsRequest()).agents
    assert len(agents) == 40
    general = next(a.id for a in agents if a.role == "general")
    stub = rpc.AgentServiceStub(channel)
    data = os.urandom(100) + bytes(5000)
    packed = stub.DispatchTask(
        pb.DispatchTaskRequest(
            agent_id=general, kind=pb.TASK_KIND_COMPRESS, data=data, params=pb.TaskParams(codec="zstd", level=1)
        )
    )
    assert packed.bytes_out < len(data)
    assert packed.agent_name == agents[general].name
    assert packed.service_ns > 0
    back = stub.DispatchTask(
        pb.DispatchTaskRequest(
            agent_id=general, kind=pb.TASK_KIND_DECOMPRESS, data=packed.data, params=pb.TaskParams(codec="zstd")
        )
    )
    assert back.data == data
    stats = rpc.CompressionServiceStub(channel).GetStats(pb.GetCompressionStatsRequest())
    assert stats.compress_tasks >= 1
    jobs = rpc.CompressionServiceStub(channel).ListJobs(pb.ListCompressionJobsRequest(limit=2)).jobs
    assert jobs[0].kind == "decompress"
    assert jobs[0].state == "done"


def test_errors_map_to_status_codes(channel: grpc.Channel) -> None:
    stub = rpc.AgentServiceStub(channel)
    agents = stub.ListAgents(pb.ListAgentsRequest()).agents
    compression = next(a.id for a in agents if a.role == "compression")
    invalid = grpc.StatusCode.INVALID_ARGUMENT
    assert code_of(stub.DispatchTask, pb.DispatchTaskRequest(agent_id=compression)) == invalid  # kind unspecified
    assert (
        code_of(stub.DispatchTask, pb.DispatchTaskRequest(agent_id=999, kind=pb.TASK_KIND_ECHO))
        == grpc.StatusCode.NOT_FOUND
    )
    assert (
        code_of(stub.DispatchTask, pb.DispatchTaskRequest(agent_id=compression, kind=pb.TASK_KIND_ENCRYPT)) == invalid
    )
    assert (
        code_of(
            stub.DispatchTask,
            pb.DispatchTaskRequest(
                agent_id=compression, kind=pb.TASK_KIND_COMPRESS, params=pb.TaskParams(codec="zstd", level=99)
            ),
        )
        == invalid
    )
    assert (
        code_of(
            stub.DispatchTask, pb.DispatchTaskRequest(agent_id=compression, kind=pb.TASK_KIND_DECOMPRESS, data=b"junk")
        )
        == invalid
    )
    over_slot = pb.DispatchTaskRequest(agent_id=compression, kind=pb.TASK_KIND_ECHO, data=bytes(SLOT + 1))
    assert code_of(stub.DispatchTask, over_slot) == grpc.StatusCode.RESOURCE_EXHAUSTED
    over_message = pb.DispatchTaskRequest(agent_id=compression, kind=pb.TASK_KIND_ECHO, data=bytes(3 << 20))
    assert code_of(stub.DispatchTask, over_message) == grpc.StatusCode.RESOURCE_EXHAUSTED
    slow = pb.DispatchTaskRequest(
        agent_id=compression,
        kind=pb.TASK_KIND_COMPRESS,
        data=os.urandom(1 << 19),
        params=pb.TaskParams(codec="zstd", level=22),
    )
    assert code_of(stub.DispatchTask, slow, timeout=0.005) == grpc.StatusCode.DEADLINE_EXCEEDED
    jobs = rpc.CompressionServiceStub(channel)
    assert code_of(jobs.ListJobs, pb.ListCompressionJobsRequest(limit=1000)) == invalid


def test_block_service_unary_and_stream(channel: grpc.Channel) -> None:
    stub = rpc.BlockServiceStub(channel)
    one = stub.Process(
        pb.BlockRequest(kind=pb.TASK_KIND_HASH, data=b"abc", request_id=7, params=pb.TaskParams(algo="sha256"))
    )
    assert one.request_id == 7
    assert one.data.hex().startswith("ba7816bf")
    blocks = [os.urandom(64) + bytes(4000 + i) for i in range(40)]

    def requests() -> Iterator[pb.BlockRequest]:
        for i, block in enumerate(blocks):
            if i == 10:  # a bad block in the middle: answered in-band, the stream goes on
                yield pb.BlockRequest(kind=pb.TASK_KIND_DECOMPRESS, data=b"garbage", request_id=i)
            else:
                yield pb.BlockRequest(
                    kind=pb.TASK_KIND_COMPRESS, data=block, request_id=i, params=pb.TaskParams(codec="lz4")
                )

    answers = list(stub.ProcessStream(requests()))
    assert [a.request_id for a in answers] == list(range(40))  # request order
    assert answers[10].error_code == "corrupt_input"
    assert all(not a.error_code for i, a in enumerate(answers) if i != 10)
    import lz4.frame

    assert lz4.frame.decompress(answers[3].data) == blocks[3]
    jobs = rpc.CompressionServiceStub(channel).ListJobs(pb.ListCompressionJobsRequest(limit=5)).jobs
    stream_job = next(j for j in jobs if j.source == "stream")
    assert stream_job.blocks == 40
    assert stream_job.errors == 1
    assert stream_job.state == "done"


def test_health_and_reflection(channel: grpc.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", "sigmavault.v1.AgentService", "sigmavault.v1.BlockService"):
        assert (
            health.Check(health_pb2.HealthCheckRequest(service=service)).status
            == health_pb2.HealthCheckResponse.SERVING
        )
    unknown = health_pb2.HealthCheckRequest(service="nope")
    assert code_of(health.Check, unknown, explained=False) == grpc.StatusCode.NOT_FOUND  # the library says nothing
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    answers = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    names = {s.name for a in answers for s in a.list_services_response.service}
    expected = {
        f"sigmavault.v1.{s}"
        for s in (
            "SystemService",
            "StorageService",
            "AgentService",
            "CompressionService",
            "EncryptionService",
            "NetworkService",
            "BlockService",
        )
    }
    assert expected | {"grpc.health.v1.Health"} <= names


def error_info(call: object, request: object, **kwargs: object) -> tuple[grpc.StatusCode, error_details_pb2.ErrorInfo]:
    """The code and the google.rpc.ErrorInfo a Go client would read with status.FromError(err).Details()."""
    with pytest.raises(grpc.RpcError) as raised:
        call(request, **kwargs)  # type: ignore[operator]
    status = rpc_status.from_call(raised.value)
    assert status is not None, "no google.rpc.Status in the trailers"
    assert status.message == raised.value.details()
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    assert info.domain == "sigmavault.engine"
    return raised.value.code(), info


def test_errors_carry_error_info_a_client_can_branch_on(channel: grpc.Channel) -> None:
    stub = rpc.AgentServiceStub(channel)
    code, info = error_info(stub.DispatchTask, pb.DispatchTaskRequest(kind=pb.TASK_KIND_ECHO, data=bytes(SLOT + 1)))
    assert (code, info.reason, info.metadata["limit"]) == (
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "TOO_LARGE",
        str(SLOT),
    )
    agents = stub.ListAgents(pb.ListAgentsRequest()).agents
    crypto = next(a.id for a in agents if a.role == "crypto")
    code, info = error_info(stub.DispatchTask, pb.DispatchTaskRequest(agent_id=crypto, kind=pb.TASK_KIND_COMPRESS))
    assert (code, info.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "NOT_CAPABLE")
    code, info = error_info(stub.GetAgent, pb.GetAgentRequest(agent_id=40))
    assert (code, info.reason, info.metadata["agents"]) == (grpc.StatusCode.NOT_FOUND, "UNKNOWN_AGENT", "40")
    code, info = error_info(stub.ListAgentTasks, pb.ListAgentTasksRequest(agent_id=1, page_size=999))
    assert (code, info.reason, info.metadata["max"]) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT", "256")


def test_agent_calls_added_for_the_go_api(channel: grpc.Channel) -> None:
    stub = rpc.AgentServiceStub(channel)
    anywhere = stub.DispatchTask(
        pb.DispatchTaskRequest(kind=pb.TASK_KIND_PARITY, data=bytes(8), params=pb.TaskParams(k=4))
    )
    assert anywhere.data == bytes(2) and anywhere.timing.total_us > 0
    agent = stub.GetAgent(pb.GetAgentRequest(agent_id=anywhere.agent_id))
    assert "parity" in agent.capabilities and agent.in_service
    page = stub.ListAgentTasks(pb.ListAgentTasksRequest(agent_id=anywhere.agent_id, page_size=1))
    assert page.tasks[0].kind == "parity" and page.total_tasks >= 1
    swarm = stub.GetSwarm(pb.GetSwarmRequest())
    assert swarm.agents_total == 40 and len(swarm.workers) == 2
    drained = stub.DrainAgent(pb.DrainAgentRequest(agent_id=anywhere.agent_id))
    try:
        assert not drained.in_service and drained.status == "drained"
        code, info = error_info(
            stub.DispatchTask, pb.DispatchTaskRequest(agent_id=anywhere.agent_id, kind=pb.TASK_KIND_ECHO)
        )
        assert (code, info.reason) == (grpc.StatusCode.UNAVAILABLE, "AGENT_DRAINED")
    finally:
        assert stub.ResumeAgent(pb.ResumeAgentRequest(agent_id=anywhere.agent_id)).in_service


def test_an_error_quoting_a_huge_input_still_reaches_the_client(channel: grpc.Channel, served: Served) -> None:
    """A 5000-byte device name is quoted by the refusal; cut to a bounded size, the answer fits grpc's 8 KiB
    trailer limit and the client reads its reason (before: RESOURCE_EXHAUSTED "Stream removed"; and the
    lookup of such a name raised ENAMETOOLONG as UNKNOWN)."""
    import httpx

    device = "/dev/" + "x" * 5000
    code, info = error_info(
        rpc.StorageServiceStub(channel).CreatePool, pb.CreatePoolRequest(name="t", devices=[device])
    )
    assert (code, info.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "DEVICE_REFUSED")
    assert len(info.metadata["device"].encode()) <= 256 and "bytes cut" in info.metadata["device"]
    answer = httpx.post(
        f"{served.http}/api/v1/storage/pools", headers=served.headers, json={"name": "t", "devices": [device]}
    ).json()
    assert answer["error"]["code"] == "device_refused" and len(answer["error"]["message"].encode()) <= 1024
    # the same lookup with a NUL byte used to surface Python's "embedded null byte" as invalid_argument
    code, info = error_info(
        rpc.StorageServiceStub(channel).CreatePool, pb.CreatePoolRequest(name="t", devices=["/dev/sd\0a"])
    )
    assert (code, info.reason, info.metadata["rule"]) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "DEVICE_REFUSED",
        "not_found",
    )
