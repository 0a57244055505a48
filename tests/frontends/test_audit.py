"""The audit log through the public surface of a real ``engined serve`` with an API token: the calls
that change state, over HTTP and gRPC, with their caller, peer, call, target and result; failed and
refused calls with their error code; reads and tasks never; the count retention; the log line; and
GET /api/v1/audit / ListAuditEntries themselves (docs/SECURITY.md, "The audit log")."""

from __future__ import annotations

import re
import secrets
import time
from typing import TYPE_CHECKING, Any

import grpc
import httpx
import pytest

from frontends import pb, rpc
from frontends.audit import REFUSALS
from tests.contract import check
from tests.served import Served, start_served, stop_served

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.multiprocess
TOKEN = secrets.token_hex(32)
AUTH = {"Authorization": f"Bearer {TOKEN}"}
GRPC_AUTH = (("authorization", f"Bearer {TOKEN}"),)
MAX_ENTRIES = 40


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    workdir = tmp_path_factory.mktemp("audited")
    (workdir / "files").mkdir()  # the job root (the data directory never is one)
    served = start_served(
        workdir,
        SIGMAVAULT_API_TOKEN=TOKEN,
        SIGMAVAULT_AUDIT_MAX_ENTRIES=str(MAX_ENTRIES),
        SIGMAVAULT_JOB_ROOTS=str(workdir / "files"),
    )
    try:
        yield served
    finally:
        assert stop_served(served) == 0, served.output()
        assert "Traceback" not in served.output(), served.output()


@pytest.fixture
def http(engine: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=engine.http, timeout=10, headers=AUTH) as client:
        yield client


@pytest.fixture
def channel(engine: Served) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(engine.grpc) as ch:
        yield ch


def audit(http: httpx.Client, since: float, **query: Any) -> list[dict[str, Any]]:
    """The entries since ``since`` (time.time()), newest first."""
    answer = http.get("/api/v1/audit", params={"limit": 1000, **query})
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, Any]] = answer.json()["entries"]
    return [e for e in entries if e["time_unix"] >= since]


def admitted(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in entries if e["result"] not in REFUSALS]


def unrouted(http: httpx.Client) -> dict[str, int]:
    """sigmavault_unrouted_calls_total by status: the calls to no route, counted instead of recorded."""
    found = re.findall(r'^sigmavault_unrouted_calls_total\{status="(\w+)"\} (\S+)$', http.get("/metrics").text, re.M)
    return {status: int(float(value)) for status, value in found}


def by_caller(entry: dict[str, Any], caller: str = "admin") -> None:
    """Who the access checks say called (the admin token by its name; ``anonymous`` for a call refused
    before it had one) and the peer it came from."""
    assert entry["caller"] == caller and entry["peer"] == "127.0.0.1", entry


def test_http_calls_that_change_state_are_recorded_with_caller_target_and_result(
    engine: Served, http: httpx.Client
) -> None:
    since = time.time()
    assert http.post("/api/v1/agents/1/drain").status_code == 200
    assert http.post("/api/v1/agents/1/resume").status_code == 200
    source = engine.data_dir.parent / "files" / "audited.bin"
    source.write_bytes(b"audit me " * 1000)
    job = http.post(
        "/api/v1/compression/jobs",
        json={"operation": "compress", "source": str(source), "destination": f"{source}.zst"},
    )
    assert job.status_code == 200, job.text
    http.delete(f"/api/v1/compression/jobs/{job.json()['id']}")  # cancelled, or 409 if it finished already
    refused = http.delete("/api/v1/storage/pools/tank", params={"confirm": "not-tank"})
    assert refused.status_code >= 400
    entries = audit(http, since)
    assert [e["call"] for e in entries] == [
        "storage.DestroyPool",
        "compression.CancelJob",
        "compression.StartJob",
        "agent.ResumeAgent",
        "agent.DrainAgent",
    ]
    destroy, cancel, start, resume, drain = entries
    for entry in entries:
        by_caller(entry)
        assert entry["transport"] == "http" and entry["duration_ms"] >= 0
    assert (drain["target"], drain["result"], drain["status"]) == ("agent_id=1", "ok", "200")
    assert (resume["target"], resume["result"]) == ("agent_id=1", "ok")
    assert start["target"] == f"operation=compress source={source} destination={source}.zst"
    assert start["result"] == "ok"
    assert cancel["target"] == f"id={job.json()['id']}"
    assert destroy["target"] == "pool=tank"
    assert destroy["status"] == str(refused.status_code) and destroy["result"] == refused.json()["error"]["code"]


def test_grpc_calls_are_recorded_with_the_same_names(http: httpx.Client, channel: grpc.Channel) -> None:
    since = time.time()
    agents = rpc.AgentServiceStub(channel)
    agents.DrainAgent(pb.DrainAgentRequest(agent_id=2), metadata=GRPC_AUTH, timeout=10)
    agents.ResumeAgent(pb.ResumeAgentRequest(agent_id=2), metadata=GRPC_AUTH, timeout=10)
    with pytest.raises(grpc.RpcError) as failed:
        agents.DrainAgent(pb.DrainAgentRequest(agent_id=99999), metadata=GRPC_AUTH, timeout=10)
    assert failed.value.code() == grpc.StatusCode.NOT_FOUND
    listed = rpc.SystemServiceStub(channel).ListAuditEntries(
        pb.ListAuditEntriesRequest(limit=10, call="agent.DrainAgent"), metadata=GRPC_AUTH, timeout=10
    )
    drains = [e for e in listed.entries if e.time_unix >= since]
    assert [(e.target, e.result, e.status) for e in drains] == [
        ("agent_id=99999", "unknown_agent", "NOT_FOUND"),
        ("agent_id=2", "ok", "OK"),
    ]
    entries = audit(http, since)  # both transports, one log
    assert [e["call"] for e in entries] == ["agent.DrainAgent", "agent.ResumeAgent", "agent.DrainAgent"]
    for entry in entries:
        by_caller(entry)
        assert entry["transport"] == "grpc"


def test_refused_calls_are_recorded_and_change_nothing(
    engine: Served, http: httpx.Client, channel: grpc.Channel
) -> None:
    since = time.time()
    no_token = httpx.post(f"{engine.http}/api/v1/agents/3/drain", timeout=10)
    assert no_token.status_code == 401
    wrong = httpx.post(f"{engine.http}/api/v1/agents/3/drain", headers={"Authorization": "Bearer wrong"}, timeout=10)
    assert wrong.status_code == 401
    with pytest.raises(grpc.RpcError) as refused:
        rpc.AgentServiceStub(channel).DrainAgent(pb.DrainAgentRequest(agent_id=3), timeout=10)
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert http.get("/api/v1/agents/3").json()["status"] != "drained"
    entries = audit(http, since)
    assert [(e["transport"], e["call"], e["result"], e["status"]) for e in entries] == [
        ("grpc", "agent.DrainAgent", "unauthenticated", "UNAUTHENTICATED"),
        ("http", "agent.DrainAgent", "unauthenticated", "401"),
        ("http", "agent.DrainAgent", "unauthenticated", "401"),
    ]
    for entry in entries:
        by_caller(entry, "anonymous")
        assert entry["target"] == "agent_id=3"  # refused before the handler ran: the request field's name all the same


def test_reads_and_tasks_are_not_recorded(http: httpx.Client, channel: grpc.Channel) -> None:
    since = time.time()
    for path in (
        "/api/v1/agents",
        "/api/v1/system/status",
        "/api/v1/storage/jobs",
        "/api/v1/compression/jobs",
        "/openapi.json",
        "/metrics",
        "/healthz",
    ):
        assert http.get(path).status_code == 200, path
    task = http.post("/api/v1/tasks", json={"kind": "echo", "data": "aGk="})
    assert task.status_code == 200, task.text
    agents = rpc.AgentServiceStub(channel)
    agents.ListAgents(pb.ListAgentsRequest(), metadata=GRPC_AUTH, timeout=10)
    agents.DispatchTask(pb.DispatchTaskRequest(kind=pb.TASK_KIND_ECHO, data=b"hi"), metadata=GRPC_AUTH, timeout=10)
    rpc.SystemServiceStub(channel).GetStatus(pb.GetStatusRequest(), metadata=GRPC_AUTH, timeout=10)
    assert audit(http, since) == []


def test_listing_filters_and_bad_queries(http: httpx.Client) -> None:
    since = time.time()
    assert http.post("/api/v1/agents/4/drain").status_code == 200
    assert http.post("/api/v1/agents/4/resume").status_code == 200
    resumes = audit(http, since, call="agent.ResumeAgent")
    assert [e["target"] for e in resumes] == ["agent_id=4"]
    mine = audit(http, since, caller=resumes[0]["caller"])
    assert [e["call"] for e in mine] == ["agent.ResumeAgent", "agent.DrainAgent"]
    assert audit(http, since, caller="nobody-by-this-name") == []
    assert audit(http, 0, since_unix=int(time.time()) + 3600) == []
    assert audit(http, 0, since_unix=2**40) == []  # the schema's maximum: far past int64 nanoseconds
    assert len(http.get("/api/v1/audit", params={"limit": 1}).json()["entries"]) == 1
    for query in ({"limit": 0}, {"limit": "x"}, {"limit": 1001}, {"since_unix": -1}, {"caller": "x" * 300}):
        answer = http.get("/api/v1/audit", params=query)
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_argument", query


def test_retention_keeps_the_newest_entries(http: httpx.Client) -> None:
    for _ in range(MAX_ENTRIES // 2 + 1):
        assert http.post("/api/v1/agents/5/drain").status_code == 200
        assert http.post("/api/v1/agents/5/resume").status_code == 200
    entries = admitted(audit(http, 0))
    assert len(entries) == MAX_ENTRIES  # SIGMAVAULT_AUDIT_MAX_ENTRIES: the oldest went
    assert entries[0]["call"] == "agent.ResumeAgent" and entries[-1]["target"] == "agent_id=5"


def test_one_log_line_per_recorded_call(engine: Served, http: httpx.Client) -> None:
    assert http.post("/api/v1/agents/6/drain").status_code == 200
    assert http.post("/api/v1/agents/6/resume").status_code == 200
    audit(http, 0)  # a listing waits for the writer: the lines are out too
    lines = [line for line in engine.output().splitlines() if "sigmavault.audit:" in line and "agent_id=6" in line]
    assert len(lines) == 2, lines
    assert "agent.DrainAgent agent_id=6 result=ok status=200 caller=" in lines[0]
    assert "peer=127.0.0.1 transport=http" in lines[0]
    assert TOKEN not in engine.output()


def test_the_route_is_described_and_answers_to_its_schema(http: httpx.Client) -> None:
    assert http.post("/api/v1/agents/7/drain").status_code == 200
    document = http.get("/openapi.json").json()
    operation = document["paths"]["/api/v1/audit"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"limit", "since_unix", "caller", "call"}
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ListAuditEntriesResponse"
    }
    body = check(document, "/api/v1/audit", "get", http.get("/api/v1/audit"))
    assert body["entries"]
    check(document, "/api/v1/audit", "get", http.get("/api/v1/audit", params={"limit": "many"}))


def test_a_flood_of_refusals_never_displaces_the_admitted_entries(engine: Served, http: httpx.Client) -> None:
    for _ in range(MAX_ENTRIES // 2):
        assert http.post("/api/v1/agents/7/drain").status_code == 200
        assert http.post("/api/v1/agents/7/resume").status_code == 200
    before = admitted(audit(http, 0))
    assert len(before) == MAX_ENTRIES
    counted = unrouted(http)
    since = time.time()
    with httpx.Client(base_url=engine.http, timeout=10) as anonymous:
        for n in range(3 * MAX_ENTRIES):  # refused: kept apart, under a tenth of the admitted cap
            assert anonymous.post("/api/v1/agents/7/drain").status_code == 401
            assert anonymous.delete("/api/v1/storage/pools/tank").status_code == 401
            assert anonymous.post(f"/api/v1/no-such-route/{n}").status_code == 401  # no route: not recorded
        assert http.put("/api/v1/no-such-route").status_code == 404
        assert http.put("/api/v1/agents/7/drain").status_code == 405  # no route of that method
    entries = audit(http, 0)
    assert admitted(entries) == before  # every change still on record
    refused = [e for e in entries if e["time_unix"] >= since]
    assert len(refused) == MAX_ENTRIES // 10, refused
    assert {(e["call"], e["target"], e["result"]) for e in refused} <= {
        ("agent.DrainAgent", "agent_id=7", "unauthenticated"),
        ("storage.DestroyPool", "pool=tank", "unauthenticated"),
    }
    now = unrouted(http)
    grown = {status: now[status] - counted.get(status, 0) for status in now}
    assert {status: n for status, n in grown.items() if n} == {"401": 120, "404": 1, "405": 1}


def test_refused_and_admitted_calls_name_the_same_target_fields(engine: Served, http: httpx.Client) -> None:
    since = time.time()
    assert httpx.delete(f"{engine.http}/api/v1/storage/pools/tank", timeout=10).status_code == 401
    assert http.delete("/api/v1/storage/pools/tank", params={"confirm": "tank"}).status_code >= 400  # no such pool
    found = audit(http, since, call="storage.DestroyPool")
    assert [(e["caller"], e["target"]) for e in found] == [("admin", "pool=tank"), ("anonymous", "pool=tank")]


def test_sign_in_and_out_are_session_calls_of_the_token_named(engine: Served, http: httpx.Client) -> None:
    since = time.time()
    with httpx.Client(base_url=engine.http, timeout=10) as browser:
        assert browser.post("/api/v1/session", json={"token": "wrong"}).status_code == 401
        signed_in = browser.post("/api/v1/session", json={"token": TOKEN})
        assert signed_in.status_code == 200, signed_in.text
        put = browser.put("/api/v1/session", headers={"Origin": engine.http})
        assert put.status_code == 405 and put.headers["Allow"] == "DELETE, GET, HEAD, POST"
        assert browser.head("/api/v1/session").status_code == 200  # HEAD is allowed, as the Allow header says
        assert browser.delete("/api/v1/session", headers={"Origin": engine.http}).status_code == 200
    entries = audit(http, since)
    assert [(e["call"], e["caller"], e["result"]) for e in entries] == [
        ("session.Close", "admin", "ok"),
        ("session.Open", "admin", "ok"),
        ("session.Open", "anonymous", "unauthenticated"),
    ]


def test_every_recorded_call_is_a_policy_name(http: httpx.Client) -> None:
    from frontends.auth import CALLS

    for entry in audit(http, 0):
        assert entry["call"] in CALLS or entry["call"] in ("session.Open", "session.Close"), entry


def test_a_request_cannot_forge_or_colour_a_log_line(engine: Served) -> None:
    forged = "2026-12-07 14:00:00,000 INFO sv-frontend sigmavault.audit: storage.DestroyPool pool=tank result=ok"
    marker = secrets.token_hex(8)
    path = f"/api/v1/{marker}%0a{forged.replace(' ', '%20')}%20caller=admin%1b%5b31m%0d"
    for method in ("GET", "POST"):  # GET: the access log's refusal only; POST: also looked up for the audit log
        answer = httpx.request(method, engine.http + path, timeout=10)
        assert answer.status_code == 401
    with httpx.Client(base_url=engine.http, timeout=10, headers=AUTH) as client:
        audit(client, 0)  # the audit writer has caught up: its lines are out too
    output = engine.output()
    lines = [line for line in output.splitlines() if marker in line or "caller=admin\\x1b" in line]
    assert len(lines) == 2, lines  # one refusal line per request, nothing after a newline of its own
    assert all("sigmavault.access" in line and "\\x0a2026-12-07" in line for line in lines), lines
    assert not any(line.startswith("2026-12-07 14:00:00,000") for line in output.splitlines())
    assert "\x1b" not in output and "\r" not in output
