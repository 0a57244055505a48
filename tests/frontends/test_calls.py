"""The domains' call tables (frontends/calls/): every RPC of a service has one entry and its servicer
method is built from it; a domain's record becomes the same message over gRPC (to_message) as the
JSON its HTTP route answers (project); and over a real server both transports answer alike."""

from __future__ import annotations

import base64
import dataclasses
from typing import TYPE_CHECKING, Any

import grpc
import httpx
import orjson
import pytest
from google.protobuf import descriptor_pool
from google.protobuf.json_format import ParseDict

from engine.access.audit import AuditEntry, AuditListing, ListedEntry
from engine.common.commands import Source
from engine.core.models import (
    Agent,
    AgentList,
    AgentTasks,
    EngineCounters,
    KindStats,
    RecentTask,
    RoleSummary,
    Swarm,
    WorkerInfo,
    WorkerLoad,
)
from engine.core.tasks import CompressionJob, CompressionStats
from engine.files.models import FileJob, JobListing, RangeRead
from engine.files.service import file_job
from engine.host import network
from engine.host.models import MeshStatus, Service, ServiceList
from engine.jobs.model import JobRecord, JobState
from engine.keys.models import KeyList, KeyRetirement, KeyState, KeystoreStatus, PublicKey
from frontends import pb, rpc
from frontends.calls import Call, agents, compression, keys, storage, system
from frontends.calls import network as network_calls
from frontends.grpc_api.agents import AgentServicer
from frontends.grpc_api.base import Servicer, to_message
from frontends.grpc_api.compression import CompressionServicer
from frontends.grpc_api.encryption import EncryptionServicer
from frontends.grpc_api.network import NetworkServicer
from frontends.grpc_api.storage import StorageServicer
from frontends.grpc_api.system import SystemServicer
from frontends.grpc_api.table import add_calls
from frontends.schema import from_labels, project

if TYPE_CHECKING:
    from google.protobuf.message import Message

    from tests.served import Served

TABLES: tuple[tuple[str, dict[str, Call], type[Servicer], tuple[str, ...]], ...] = (
    ("SystemService", system.CALLS, SystemServicer, ()),
    ("NetworkService", network_calls.CALLS, NetworkServicer, ()),
    ("EncryptionService", keys.CALLS, EncryptionServicer, ()),
    ("StorageService", storage.CALLS, StorageServicer, ()),
    ("AgentService", agents.CALLS, AgentServicer, agents.HAND_WRITTEN),
    ("CompressionService", compression.CALLS, CompressionServicer, ()),
)
POOL = descriptor_pool.Default()  # the generated modules register every proto file there
WG_DUMP = "wg0\tcHJpdmF0ZQ==\tcHVibGlj\t51820\t0x10\nwg0\tcGVlcg==\t(none)\t(none)\t(none)\t0\t0\t0\toff\n"


def test_every_rpc_has_one_entry_and_a_method_built_from_it() -> None:
    for service, calls, servicer, hand_written in TABLES:
        methods = POOL.FindServiceByName(f"sigmavault.v1.{service}").methods_by_name
        assert set(calls) | set(hand_written) == set(methods) and not set(calls) & set(hand_written), service
        for name, method in methods.items():
            assert getattr(servicer, name).__name__ == name  # not the generated UNIMPLEMENTED one
            if name in hand_written:
                continue
            call = calls[name]
            assert call.request.DESCRIPTOR is method.input_type and call.response.DESCRIPTOR is method.output_type
            assert getattr(servicer, name).__name__ == name  # not the generated UNIMPLEMENTED one


def test_a_missing_or_unknown_entry_fails_at_build() -> None:
    class Partial(Servicer):
        pass

    system_file = POOL.FindFileByName("sigmavault/v1/system.proto")
    missing = {k: v for k, v in system.CALLS.items() if k != "ListServices"}
    with pytest.raises(KeyError, match="ListServices"):
        add_calls(Partial, system_file, "SystemService", missing)
    extra = {**system.CALLS, "Reboot": Call(pb.GetStatusRequest, pb.SystemStatus, system.CALLS["GetStatus"].run)}
    with pytest.raises(KeyError, match="no RPC Reboot"):
        add_calls(Partial, system_file, "SystemService", extra)


def test_a_hand_written_rpc_is_left_to_the_servicer_and_must_be_there() -> None:
    """AgentService's DispatchTask stays the servicer's own method (the hot path, no table layer)."""
    assert AgentServicer.DispatchTask.__qualname__ == "AgentServicer.DispatchTask"
    assert AgentServicer.GetSwarm.__qualname__ == "GetSwarm"  # built from the table

    class Partial(Servicer):
        pass

    agents_file = POOL.FindFileByName("sigmavault/v1/agents.proto")
    with pytest.raises(KeyError, match="DispatchTask is hand-written"):  # the servicer has no such method
        add_calls(Partial, agents_file, "AgentService", agents.CALLS, hand_written=agents.HAND_WRITTEN)
    with pytest.raises(KeyError, match="DispatchTask"):  # neither entry nor method
        add_calls(Partial, agents_file, "AgentService", agents.CALLS)


def _same_both_ways(message: type[Message], record: Any) -> dict[str, Any]:
    """The record as gRPC sends it equals its HTTP JSON read back as the message (enums: their JSON
    labels, "compress", as numbers); the JSON is returned."""
    doc = orjson.loads(orjson.dumps(project(message.DESCRIPTOR, record)))  # exactly what goes on the wire
    assert to_message(message, record) == ParseDict(from_labels(message.DESCRIPTOR, doc), message())
    return doc


def test_records_convert_the_same_for_both_transports() -> None:
    names, peers = network.parse_wg_dump(WG_DUMP, now=1700000000)
    mesh = MeshStatus(
        enabled=bool(names),
        peers=tuple(peers),
        wireguard_interfaces=tuple(network.parse_wg_interfaces(WG_DUMP)),
        interfaces=tuple(network.interfaces()),
        sources=(Source("wireguard", True, "1 interface(s)"),),
    )
    doc = _same_both_ways(pb.MeshStatus, mesh)
    assert doc["wireguard_interfaces"] == [
        {"name": "wg0", "public_key": "cHVibGlj", "listen_port": 51820, "fwmark": 16}
    ]
    assert doc["peers"][0]["allowed_ips"] == [] and doc["peers"][0]["state"] == "stale"
    assert doc["sources"] == [{"name": "wireguard", "available": True, "detail": "1 interface(s)"}]
    unit = Service(
        "ssh", "ssh.service", "OpenSSH", True, "loaded", "failed", "failed", "enabled", 1.5, "exit-code", 255, 0, 5
    )
    services = _same_both_ways(pb.ListServicesResponse, ServiceList((unit,), (Source("systemd", True, "1 of 1"),)))
    assert services["services"][0]["exit_status"] == 255 and services["services"][0]["name"] == "ssh"
    state = KeyState("ab" * 16, "cd" * 32, 1700000000, "retired", retired_unix=1700000100)
    assert _same_both_ways(pb.KeyList, KeyList((state,)))["keys"][0]["state"] == "retired"
    retired = _same_both_ways(pb.RetireKeyResponse, KeyRetirement(state, ("/srv/a.sv",), 1))
    assert retired == {
        "key": _same_both_ways(pb.KeyState, state),
        "files_abandoned": ["/srv/a.sv"],
        "files_abandoned_total": 1,
    }


def _exact(message: type[Message], record: Any) -> dict[str, Any]:
    """HTTP's ``exact`` answer (orjson of the record itself) is the message's JSON form (project)."""
    doc: dict[str, Any] = orjson.loads(orjson.dumps(record))
    assert doc == _same_both_ways(message, record)
    assert set(doc) == {f.name for f in message.DESCRIPTOR.fields}
    return doc


def test_engine_records_convert_the_same_for_both_transports() -> None:
    task = RecentTask(7, "compress", "ok", 100, 40, 1500, 1700000000000000000)
    agent = Agent(
        3,
        "compressor-1",
        "compressor",
        ("compress", "decompress"),
        1,
        "drained",
        9,
        1,
        900,
        400,
        10,
        20,
        30,
        40,
        "ok",
        in_service=False,
        inflight=0,
        recent_tasks=(task,),
    )
    doc = _exact(pb.Agent, agent)
    assert doc["in_service"] is False and doc["recent_tasks"][0]["kind"] == "compress"
    assert _exact(pb.ListAgentsResponse, AgentList((agent,)))["agents"] == [doc]
    assert _exact(pb.ListAgentTasksResponse, AgentTasks((task,), "12.1", 12, 256))["next_page_token"] == "12.1"
    swarm = Swarm(
        4,
        3,
        {"idle": 3, "drained": 1},
        (RoleSummary("compressor", 4, 3, {"idle": 3, "drained": 1}, 9, 0),),
        (WorkerLoad(0, "ready", 4, 0, 9, 1.25, 0),),
        0,
        0,
        1024,
        64,
        {"queue_full": 0, "no_slot": 2},
    )
    assert _exact(pb.Swarm, swarm)["roles"][0]["by_status"] == {"idle": 3, "drained": 1}
    row: dict[str, Any] = {"id": 0, "pid": 42, "state": "ready", "restarts": 1, "epoch": 2, "tasks": 9}
    worker = WorkerInfo.from_row({**row, "errors": 0, "busy_ns": 5, "cpu": -1, "sleeps": 3})
    assert worker == WorkerInfo(0, 42, "ready", 1, 2, 9, 0, 5, -1, 3) and worker.cpu == -1  # the same record
    assert _exact(pb.WorkerInfo, worker)["pid"] == 42
    kind = KindStats.from_row(
        {"kind": "compress", "tasks": 9, "errors": 1, "bytes_in": 900, "bytes_out": 4, "busy_ns": 7}
    )
    counters = EngineCounters.from_row(
        {
            "tasks": 9,
            "errors": 1,
            "bytes_in": 900,
            "bytes_out": 4,
            "worker_restarts": 1,
            "inflight": 0,
            "kinds": (kind,),
        }
    )
    assert _exact(pb.EngineCounters, counters)["kinds"] == [_exact(pb.KindStats, kind)]


def test_bytes_are_base64_in_json_and_raw_in_proto() -> None:
    raw = bytes(range(256)) * 5
    key = PublicKey("ab" * 16, "cd" * 32, 1, 2, "suite", False, "-----BEGIN", raw, 0x4D, 1, 2)
    doc = _same_both_ways(pb.PublicKey, key)
    assert base64.b64decode(doc["public_key"]) == raw and to_message(pb.PublicKey, key).public_key == raw


def test_absent_fields_stay_absent() -> None:
    """None in a record: left out of the JSON (as before records) and unset in the message."""
    opening = KeystoreStatus("suite", False, 0, 0, 0, 0, 0, 0, 1700000000, keystore_error="the keystore is opening")
    doc = _same_both_ways(pb.EncryptionStatus, opening)
    assert "key_id" not in doc and "keys" not in doc and doc["keystore_error"] == "the keystore is opening"
    open_ = KeystoreStatus("suite", True, 0, 0, 0, 0, 0, 0, 1, key_id="ab" * 16, keys=2, passphrase_protected=False)
    doc = _same_both_ways(pb.EncryptionStatus, open_)
    assert "keystore_error" not in doc and doc["keys"] == 2 and doc["passphrase_protected"] is False


def _file_jobs() -> tuple[FileJob, FileJob]:
    """A compress job done (codec, ratio, blocks) and a rewrap running (no codec: files, not bytes)."""
    done = JobRecord("job-1", "compress", "file", "/srv/a.zst", JobState.DONE, total_units=1 << 20)
    done.params = {"source": "/srv/a", "destination": "/srv/a.zst", "codec": "zstd", "level": 3, "overwrite": False}
    done.result = {"bytes_out": 4096, "blocks": 1, "format": "zstd seekable", "ratio": 0.0039}
    done.done_units, done.percent, done.rate_per_s = 1 << 20, 100.0, 2.5e8
    rewrap = JobRecord("job-2", "rewrap", "file", "/srv", JobState.RUNNING, params={"source": "/srv", "files": 3})
    rewrap.total_units, rewrap.done_units, rewrap.eta_s = 3, 1, 2.5
    return file_job(done), file_job(rewrap)


def test_file_jobs_convert_the_same_for_both_transports_and_their_event() -> None:
    """FileJob's enums are labels in JSON and numbers in proto; a job without a codec leaves it out
    of the HTTP answer, the message and the compression.progress event alike."""
    done, rewrap = _file_jobs()
    doc = _same_both_ways(pb.FileJob, done)
    assert (doc["operation"], doc["state"], doc["codec"], doc["mb_per_s"]) == ("compress", "done", "zstd", 250.0)
    sent = to_message(pb.FileJob, done)
    assert (sent.operation, sent.state, sent.codec) == (
        pb.FILE_OPERATION_COMPRESS,
        pb.FILE_JOB_STATE_DONE,
        pb.FILE_CODEC_ZSTD,
    )
    assert set(doc) == {f.name for f in pb.FileJob.DESCRIPTOR.fields}
    assert orjson.loads(orjson.dumps(done.event_fields())) == doc  # the event: the answer's JSON
    running = _same_both_ways(pb.FileJob, rewrap)
    assert "codec" not in running and to_message(pb.FileJob, rewrap).codec == pb.FILE_CODEC_UNSPECIFIED
    assert (running["files_total"], running["files_done"], running["bytes_total"]) == (3, 1, 0)
    assert orjson.loads(orjson.dumps(rewrap.event_fields())) == running and "codec" not in rewrap.event_fields()
    one_block = CompressionJob("cj-1", "compress", "lz4", "dispatch", "done", 1, 10, 5, 0, 1, 2, "")
    listing = _same_both_ways(pb.ListCompressionJobsResponse, JobListing((one_block,), (done, rewrap)))
    assert [j["id"] for j in listing["file_jobs"]] == ["job-1", "job-2"] and listing["jobs"][0]["codec"] == "lz4"
    stats = CompressionStats(3, 2, 0, 100, 50, 0.5, 12.5, 30.0, 1, 4)
    assert _same_both_ways(pb.CompressionStats, stats)["ratio"] == 0.5


def test_a_range_read_goes_to_grpc_as_raw_bytes() -> None:
    data = bytes(range(256)) * 64
    got = RangeRead(data=data, offset=4096, length=len(data), file_bytes=1 << 20)
    doc = _same_both_ways(pb.ReadRangeResponse, got)
    assert base64.b64decode(doc["data"]) == data and "length" not in doc
    assert to_message(pb.ReadRangeResponse, got) == pb.ReadRangeResponse(data=data, offset=4096, file_bytes=1 << 20)


def test_an_audit_listing_is_its_messages_fields() -> None:
    """ListedEntry is the AuditEntry message field for field; no uid (HTTP) stays absent."""
    assert [f.name for f in dataclasses.fields(ListedEntry)] == [f.name for f in pb.AuditEntry.DESCRIPTOR.fields]
    http = AuditEntry(
        1_700_000_000_500_000_000, "ops", "10.0.0.7", "http", "storage.DestroyPool", "pool=tank", "ok", "200", 1.5
    )
    unix = AuditEntry(10**9, "uid:0", "unix", "grpc", "agent.DrainAgent", "agent_id=1", "ok", "OK", 0.2, uid=0)
    doc = _same_both_ways(pb.ListAuditEntriesResponse, AuditListing((http.listed(), unix.listed())))
    assert "uid" not in doc["entries"][0] and doc["entries"][1]["uid"] == 0
    assert doc["entries"][0]["time_unix"] == 1_700_000_000.5


@pytest.mark.multiprocess
def test_both_transports_answer_alike(served: Served) -> None:
    with (
        served.channel() as channel,
        httpx.Client(base_url=served.http, headers=served.headers, timeout=10) as http,
    ):
        enc = rpc.EncryptionServiceStub(channel)
        listed = http.get("/api/v1/encryption/keys").json()
        assert ParseDict(listed, pb.KeyList()) == enc.ListKeys(pb.ListKeysRequest())
        current = next(k["key_id"] for k in listed["keys"] if k["state"] == "current")
        public = http.get("/api/v1/encryption/public-key", params={"key_id": current}).json()
        assert ParseDict(public, pb.PublicKey()) == enc.GetPublicKey(pb.GetPublicKeyRequest(key_id=current))
        files = http.get(f"/api/v1/encryption/keys/{current}/files").json()
        assert ParseDict(files, pb.KeyFiles()) == enc.ListKeyFiles(pb.ListKeyFilesRequest(key_id=current))
        status = http.get("/api/v1/encryption/status").json()
        assert "keystore_error" not in status and status["key_id"] == current
        over_grpc = enc.GetStatus(pb.GetEncryptionStatusRequest())
        assert (over_grpc.key_id, over_grpc.suite, over_grpc.keys) == (current, status["suite"], status["keys"])
        system_stub = rpc.SystemServiceStub(channel)
        services = http.get("/api/v1/system/services").json()
        assert ParseDict(services, pb.ListServicesResponse()) == system_stub.ListServices(pb.ListServicesRequest())
        mesh = http.get("/api/v1/network/phantommesh").json()  # the gRPC call within mesh_ttl_s: the same answer
        assert ParseDict(mesh, pb.MeshStatus()) == rpc.NetworkServiceStub(channel).GetMeshStatus(
            pb.GetMeshStatusRequest()
        )
        doc = http.get("/api/v1/system/status").json()  # orjson of the records: the message's fields exactly
        assert set(doc) == {f.name for f in pb.SystemStatus.DESCRIPTOR.fields}
        assert doc["hostname"] == system_stub.GetStatus(pb.GetStatusRequest()).hostname
        with pytest.raises(grpc.RpcError) as refused:
            enc.ListKeyFiles(pb.ListKeyFilesRequest(key_id="xyz"))
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        comp = rpc.CompressionServiceStub(channel)
        jobs = http.get("/api/v1/compression/jobs", params={"limit": 5}).json()
        listing = pb.ListCompressionJobsResponse.DESCRIPTOR
        assert ParseDict(from_labels(listing, jobs), pb.ListCompressionJobsResponse()) == comp.ListJobs(
            pb.ListCompressionJobsRequest(limit=5)
        )
        assert http.get("/api/v1/compression/jobs/job-none").status_code == 404
        with pytest.raises(grpc.RpcError) as unknown:
            comp.GetJob(pb.GetFileJobRequest(id="job-none"))
        assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
        agent_stub = rpc.AgentServiceStub(channel)
        one = http.get("/api/v1/agents/0").json()
        assert ParseDict(one, pb.Agent()) == agent_stub.GetAgent(pb.GetAgentRequest(agent_id=0))
        listed_agents = http.get("/api/v1/agents").json()
        assert ParseDict(listed_agents, pb.ListAgentsResponse()) == agent_stub.ListAgents(pb.ListAgentsRequest())
        page = http.get("/api/v1/agents/0/tasks", params={"page_size": 2}).json()
        over_grpc_page = agent_stub.ListAgentTasks(pb.ListAgentTasksRequest(agent_id=0, page_size=2))
        assert ParseDict(page, pb.ListAgentTasksResponse()) == over_grpc_page
        swarm = http.get("/api/v1/swarm").json()
        assert set(swarm) == {f.name for f in pb.Swarm.DESCRIPTOR.fields}
        assert (
            swarm["agents_total"]
            == agent_stub.GetSwarm(pb.GetSwarmRequest()).agents_total
            == len(listed_agents["agents"])
        )
        drained = http.post("/api/v1/agents/1/drain").json()
        assert drained["in_service"] is False and drained["status"] in ("drained", "draining")
        resumed = agent_stub.ResumeAgent(pb.ResumeAgentRequest(agent_id=1))
        assert resumed.in_service and ParseDict(http.get("/api/v1/agents/1").json(), pb.Agent()).in_service
        missing = http.get("/api/v1/agents/999")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "unknown_agent"
        with pytest.raises(grpc.RpcError) as unknown:
            agent_stub.DrainAgent(pb.DrainAgentRequest(agent_id=999))
        assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
