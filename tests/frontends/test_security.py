"""The security defaults through the public surface of a real ``engined serve`` (docs/SECURITY.md):
no anonymous call on HTTP, gRPC or the WebSocket (loopback included), the admin token and a named
``read`` token, the dashboard's session cookie and the Origin checks, the per-client cap with two
named clients, private files, no secret in any log, answer or /metrics, and the refusals at
start-up. The same refusals for another local user, on every transport: test_local_users.py."""

from __future__ import annotations

import base64
import json
import os
import secrets
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
import httpx
import psutil
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from engine.access.credentials import token_digest
from frontends import pb, rpc
from frontends.auth import grpc_call_name, grpc_method_is_open, is_read
from ipc.segment import engine_segments, segment_owner
from perf.fuzz.grpc_cases import rpc_methods
from tests.served import Served, start_served, stop_served

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.multiprocess
ROOT = Path(__file__).resolve().parents[2]
TOKEN = secrets.token_hex(32)
WRONG = secrets.token_hex(32)
READER = secrets.token_hex(32)  # the named token "monitor", role read
OPS = secrets.token_hex(32)  # the named token "ops", role admin
CAP = 3
ADMIN_READS = {"system.ListAuditEntries"}  # a read, but the audit log answers only admins (frontends/audit.py)


def write_private(path: Path, text: str, mode: int = 0o600) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """An engine with a token (from a 0600 file), a per-client cap of 3 and debug logging (the most
    the log ever says: the secrets test reads all of it)."""
    workdir = tmp_path_factory.mktemp("guarded")
    token_file = write_private(workdir / "token", TOKEN + "\n")
    tokens = write_private(
        workdir / "tokens",
        f"monitor read sha256:{token_digest(READER).hex()}\nops admin sha256:{token_digest(OPS).hex()}\n",
    )
    served = start_served(
        workdir,
        SIGMAVAULT_API_TOKEN_FILE=str(token_file),
        SIGMAVAULT_API_TOKENS_FILE=str(tokens),
        SIGMAVAULT_CLIENT_MAX_INFLIGHT=str(CAP),
        SIGMAVAULT_DEBUG="1",
    )
    try:
        yield served
    finally:
        assert stop_served(served) == 0, served.output()
        assert "Traceback" not in served.output(), served.output()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def operations(served: Served) -> list[tuple[str, str]]:
    doc = httpx.get(f"{served.http}/openapi.json", headers=bearer(TOKEN), timeout=10).json()
    return [(method.upper(), path.replace("{id}", "0")) for path, ops in doc["paths"].items() for method in ops]


def error_info(exc: grpc.RpcError) -> error_details_pb2.ErrorInfo:
    status = rpc_status.from_call(exc)
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    status.details[0].Unpack(info)
    return info


def test_every_http_call_needs_a_credential_and_a_read_token_only_reads(guarded: Served) -> None:
    with httpx.Client(base_url=guarded.http, timeout=10) as http:
        for method, path in operations(guarded):
            if path in ("/healthz", "/readyz", "/"):
                assert http.request(method, path, headers=bearer(WRONG)).status_code in (200, 503), path
                continue
            refused = http.request(method, path, json={})
            assert refused.status_code == 401, (method, path)  # reads too, loopback too
            assert refused.headers["WWW-Authenticate"] == 'Bearer realm="sigmavault"'
            error = refused.json()["error"]
            assert error["code"] == "unauthenticated"
            assert str(guarded.run_dir) in error["message"] and "Authorization: Bearer" in error["message"]
            wrong = http.request(method, path, json={}, headers=bearer(WRONG))
            assert wrong.status_code == 401
            assert wrong.headers["WWW-Authenticate"] == 'Bearer realm="sigmavault", error="invalid_token"'
            assert WRONG not in wrong.text and TOKEN not in wrong.text
            lowercase = http.request(method, path, json={}, headers={"authorization": f"bearer {TOKEN}"})
            assert lowercase.status_code not in (401, 403), (method, path, lowercase.text)  # case-insensitive scheme
            reader = http.request(method, path, json={}, headers=bearer(READER))
            if method == "GET" and path not in ("/api/v1/compression/files/range", "/api/v1/audit"):
                assert reader.status_code not in (401, 403), (path, reader.text)
            else:
                assert reader.status_code == 403, (method, path, reader.text)
                assert reader.json()["error"]["code"] == "permission_denied"  # the audit log's as every other's
                assert set(reader.json()["error"]["metadata"]) == {"call", "required_role", "role"}
        echo = http.post("/api/v1/tasks", json={"kind": "echo", "data": "aGk="}, headers=bearer(OPS))
        assert echo.status_code == 200 and echo.json()["data"] == "aGk="
        assert http.post("/api/v1/tasks", json={"kind": "echo"}, headers={"Authorization": TOKEN}).status_code == 401
        assert http.get("/static/app.js").status_code == 200  # the dashboard's files carry no data


def _call(channel: grpc.Channel, method: Any, metadata: tuple[tuple[str, str], ...]) -> grpc.StatusCode:
    request = b""  # the empty message of any request type
    try:
        if method.client_streaming:
            call = channel.stream_stream(method.path) if method.server_streaming else channel.stream_unary(method.path)
            answer = call(iter([request]), timeout=10, metadata=metadata)
        else:
            call = channel.unary_stream(method.path) if method.server_streaming else channel.unary_unary(method.path)
            answer = call(request, timeout=10, metadata=metadata)
        if method.server_streaming:
            next(answer, None)
            answer.cancel()
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.UNAUTHENTICATED:
            info, details = error_info(exc), exc.details() or ""
            if (info.reason, info.domain) != ("UNAUTHENTICATED", "sigmavault.engine") or TOKEN in details:
                return grpc.StatusCode.UNKNOWN  # not our refusal: the caller's assert says so
        return exc.code()
    return grpc.StatusCode.OK


def test_a_read_token_refused_is_named_in_the_audit_log_on_both_transports(guarded: Served) -> None:
    """The credential was good, the role too small: the entry names who was refused ("monitor"), over
    gRPC as over HTTP, and "anonymous" stays for calls no credential was admitted for."""
    since = time.time()
    with grpc.insecure_channel(guarded.grpc) as channel, pytest.raises(grpc.RpcError) as refused:
        rpc.AgentServiceStub(channel).DrainAgent(
            pb.DrainAgentRequest(agent_id=5), timeout=10, metadata=(("authorization", f"Bearer {READER}"),)
        )
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with httpx.Client(base_url=guarded.http, timeout=10) as http:
        assert http.post("/api/v1/agents/5/drain", headers=bearer(READER)).status_code == 403
        deadline = time.monotonic() + 10
        while True:
            answer = http.get("/api/v1/audit", params={"limit": 1000}, headers=bearer(TOKEN))
            assert answer.status_code == 200, answer.text
            drains = [
                e for e in answer.json()["entries"] if e["call"] == "agent.DrainAgent" and e["time_unix"] >= since
            ]
            if len(drains) >= 2 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    assert sorted((e["transport"], e["caller"], e["result"]) for e in drains) == [
        ("grpc", "monitor", "permission_denied"),
        ("http", "monitor", "permission_denied"),
    ]


def test_grpc_every_method_needs_a_credential_and_a_read_token_only_reads(guarded: Served) -> None:
    with grpc.insecure_channel(guarded.grpc) as channel:
        for method in rpc_methods():
            if grpc_method_is_open(method.path):
                assert (
                    _call(channel, method, (("authorization", f"Bearer {WRONG}"),)) != grpc.StatusCode.UNAUTHENTICATED
                )
                continue
            assert _call(channel, method, ()) == grpc.StatusCode.UNAUTHENTICATED, method.path
            assert _call(channel, method, (("authorization", f"Bearer {WRONG}"),)) == grpc.StatusCode.UNAUTHENTICATED
            reader = _call(channel, method, (("authorization", f"Bearer {READER}"),))
            if is_read(grpc_call_name(method.path)) and grpc_call_name(method.path) not in ADMIN_READS:
                assert reader not in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED), method.path
            else:
                assert reader == grpc.StatusCode.PERMISSION_DENIED, method.path
        stub = rpc.AgentServiceStub(channel)
        echo = stub.DispatchTask(
            pb.DispatchTaskRequest(kind=pb.TASK_KIND_ECHO, data=b"hi"),
            timeout=10,
            metadata=(("authorization", f"Bearer {TOKEN}"),),
        )
        assert echo.data == b"hi"
        with pytest.raises(grpc.RpcError) as info:
            rpc.StorageServiceStub(channel).DestroyPool(
                pb.DestroyPoolRequest(pool="tank", confirm="tank"),
                timeout=10,
                metadata=(("authorization", f"Bearer {READER}"),),
            )
        assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED and "'admin'" in (info.value.details() or "")
        details = error_info(info.value)
        assert details.reason == "PERMISSION_DENIED" and details.metadata["required_role"] == "admin"
        assert details.metadata["call"] == "storage.DestroyPool"


def test_websocket_needs_a_credential_at_the_upgrade_or_in_its_first_message(guarded: Served) -> None:
    url = guarded.http.replace("http", "ws", 1) + "/ws"
    with connect(url, open_timeout=10) as ws:  # no credential: the first message must bring one
        ws.send(json.dumps({"type": "client.subscribe", "data": {"types": ["system.metrics"]}}))
        error = json.loads(ws.recv(timeout=15))
        assert error["type"] == "error" and error["data"]["code"] == "unauthenticated"
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    with connect(url, open_timeout=10) as ws:
        ws.send(json.dumps({"type": "auth", "token": READER}))
        assert json.loads(ws.recv(timeout=10))["data"] == {"name": "monitor", "role": "read"}
        assert json.loads(ws.recv(timeout=10))["type"] == "server.hello"
    with pytest.raises(InvalidStatus) as info, connect(url, open_timeout=10, additional_headers=bearer(WRONG)):
        pass
    assert info.value.response.status_code == 401
    assert info.value.response.headers["WWW-Authenticate"].startswith("Bearer")
    with connect(url, open_timeout=10, additional_headers=bearer(TOKEN)) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "server.hello"
    foreign = {**bearer(TOKEN), "Origin": "http://evil.example"}
    with pytest.raises(InvalidStatus) as info, connect(url, open_timeout=10, additional_headers=foreign):
        pass
    assert info.value.response.status_code == 403


def test_the_dashboard_session_cookie_counts_for_this_origin_only(guarded: Served) -> None:
    origin = {"Origin": guarded.http}
    with httpx.Client(base_url=guarded.http, timeout=10) as http:
        assert http.get("/api/v1/session").status_code == 401  # the page asks for the token on this answer
        assert http.post("/api/v1/session", json={"token": WRONG}).status_code == 401
        assert http.post("/api/v1/session", json={"nope": 1}).status_code == 400
        assert (
            http.post("/api/v1/session", json={"token": TOKEN}, headers={"Origin": "http://evil.example"}).status_code
            == 403
        )
        login = http.post("/api/v1/session", json={"token": TOKEN}, headers=origin)
        assert login.status_code == 200 and login.json()["role"] == "admin"
        cookie = login.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie  # plain HTTP here
        assert TOKEN not in cookie
        assert http.get("/api/v1/session").json()["name"] == "admin"  # the client keeps the cookie
        assert http.get("/api/v1/swarm").status_code == 200
        task = {"kind": "echo", "data": "aGk="}
        assert http.post("/api/v1/tasks", json=task, headers=origin).status_code == 200
        for headers in ({"Origin": "http://evil.example"}, {}):  # another site's page; no Origin at all
            refused = http.post("/api/v1/tasks", json=task, headers=headers)
            assert refused.status_code == 403 and refused.json()["error"]["code"] == "cross_origin", headers
        ws_url = guarded.http.replace("http", "ws", 1) + "/ws"
        session = {"Cookie": cookie.split(";")[0]}
        with connect(ws_url, open_timeout=10, additional_headers={**session, **origin}) as ws:
            assert json.loads(ws.recv(timeout=10))["type"] == "server.hello"
        with (
            pytest.raises(InvalidStatus) as info,
            connect(ws_url, open_timeout=10, additional_headers={**session, "Origin": "http://x.example"}),
        ):
            pass
        assert info.value.response.status_code == 403
        assert http.delete("/api/v1/session", headers=origin).status_code == 200
        assert http.get("/api/v1/swarm").status_code == 401
        reader = http.post("/api/v1/session", json={"token": READER}, headers=origin)
        assert reader.json() == {"name": "monitor", "role": "read", "expires_in_s": 43200}
        assert http.post("/api/v1/agents/0/drain", headers=origin).status_code == 403


def _hold_http(served: Served, token: str) -> socket.socket:
    """A request of ``token`` kept in flight: its headers promise a body that never comes."""
    sock = socket.create_connection(("127.0.0.1", served.http_port), timeout=10)
    sock.sendall(
        b"POST /api/v1/tasks HTTP/1.1\r\nHost: engine\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer " + token.encode() + b"\r\nContent-Length: 100\r\n\r\n{"
    )
    return sock


def test_a_client_over_its_cap_is_refused_and_others_are_not(guarded: Served) -> None:
    """Client A (the admin token) holds three gRPC streams open; client B (the token "ops", from the
    same address) is unaffected until it holds three HTTP requests of its own; both recover when
    their calls end. A client is its credential's name, not its address."""
    meta = (("authorization", f"Bearer {TOKEN}"),)
    other = httpx.Client(base_url=guarded.http, timeout=10, headers=bearer(OPS))
    mine = httpx.Client(base_url=guarded.http, timeout=10, headers=bearer(TOKEN))
    with grpc.insecure_channel(guarded.grpc) as channel, mine, other:
        stop = threading.Event()

        def quiet() -> Iterator[pb.BlockRequest]:
            stop.wait(30)
            return
            yield  # a generator that sends nothing until told to end

        streams = [rpc.BlockServiceStub(channel).ProcessStream(quiet(), timeout=30, metadata=meta) for _ in range(CAP)]
        try:
            deadline = time.monotonic() + 10
            while mine.get("/api/v1/swarm").status_code != 429 and time.monotonic() < deadline:
                time.sleep(0.05)  # the streams have reached the server
            refused = mine.get("/api/v1/swarm")
            assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
            assert refused.json()["error"] == {
                "code": "client_limit",
                "message": refused.json()["error"]["message"],
                "metadata": {"limit": str(CAP), "retry_after_s": "1"},
            }
            with pytest.raises(grpc.RpcError) as info:
                rpc.SystemServiceStub(channel).GetStatus(pb.GetStatusRequest(), timeout=10, metadata=meta)
            assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert error_info(info.value).reason == "CLIENT_LIMIT"
            assert error_info(info.value).metadata["retry_after_s"] == "1"
            assert mine.get("/healthz").status_code == 200  # probes are never capped
            assert other.get("/api/v1/swarm").status_code == 200  # client B is not affected
            held = [_hold_http(guarded, OPS) for _ in range(CAP)]
            try:
                deadline = time.monotonic() + 10
                while other.get("/api/v1/swarm").status_code != 429 and time.monotonic() < deadline:
                    time.sleep(0.05)
                assert other.get("/api/v1/swarm").status_code == 429
            finally:
                for sock in held:
                    sock.close()
        finally:
            stop.set()
            for stream in streams:
                stream.cancel()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (
            mine.get("/api/v1/swarm").status_code != 200 or other.get("/api/v1/swarm").status_code != 200
        ):
            time.sleep(0.05)
        assert mine.get("/api/v1/swarm").status_code == 200 and other.get("/api/v1/swarm").status_code == 200
        metrics = mine.get("/metrics").text
        assert 'sigmavault_refused_calls_total{reason="client_limit",transport="grpc"}' in metrics
        assert 'sigmavault_refused_calls_total{reason="client_limit",transport="http"}' in metrics


def _key_material(data_dir: Path) -> list[bytes]:
    """Every secret the engine keeps: the data key, and the private part of every key-pair file."""
    keys = [(data_dir / "keys" / "engine.key").read_bytes()]
    for path in sorted((data_dir / "keys").glob("hpke-*.json")):
        private = json.loads(path.read_text())["private_key"]
        values = private.values() if isinstance(private, dict) else [private]
        keys += [str(v).encode() for v in values if isinstance(v, str) and len(v) >= 16]
    return keys


def _spellings(secret: bytes) -> set[bytes]:
    return {
        secret,
        secret.hex().encode(),
        secret.hex().upper().encode(),
        base64.b64encode(secret),
        base64.urlsafe_b64encode(secret),
        base64.b64encode(secret).rstrip(b"="),
        base64.urlsafe_b64encode(secret).rstrip(b"="),
    }


def test_no_token_or_key_in_logs_answers_errors_or_metrics(guarded: Served) -> None:
    answers: list[bytes] = []
    meta = (("authorization", f"Bearer {TOKEN}"),)
    with httpx.Client(base_url=guarded.http, timeout=10) as http:
        for headers in ({}, bearer(TOKEN), bearer(WRONG), {"Authorization": f"Basic {TOKEN}"}, bearer(READER)):
            for method, path in operations(guarded):
                body = {"kind": "encrypt", "data": base64.b64encode(b"secret payload").decode()}
                answer = http.request(method, path, headers=headers, json=body if method != "GET" else None)
                answers += [answer.content, str(answer.headers).encode()]
        sealed = http.post("/api/v1/tasks", headers=bearer(TOKEN), json={"kind": "encrypt", "data": "aGVsbG8="})
        for data in (sealed.json()["data"], "AAAA" * 20, "not base64"):
            answer = http.post("/api/v1/tasks", headers=bearer(TOKEN), json={"kind": "decrypt", "data": data})
            answers.append(answer.content)
        metrics = http.get("/metrics", headers=bearer(TOKEN)).content
        answers.append(http.post("/api/v1/session", json={"token": TOKEN}).content)
    with grpc.insecure_channel(guarded.grpc) as channel:
        stub = rpc.AgentServiceStub(channel)
        for kind, data in ((pb.TASK_KIND_ENCRYPT, b"secret payload"), (pb.TASK_KIND_DECRYPT, b"x" * 64)):
            try:
                answers.append(
                    stub.DispatchTask(
                        pb.DispatchTaskRequest(kind=kind, data=data), timeout=10, metadata=meta
                    ).SerializeToString()
                )
            except grpc.RpcError as exc:
                answers += [str(exc.details()).encode(), str(exc.trailing_metadata()).encode()]
        for metadata in ((), (("authorization", f"Bearer {WRONG}"),)):
            try:
                stub.DrainAgent(pb.DrainAgentRequest(agent_id=0), timeout=10, metadata=metadata)
            except grpc.RpcError as exc:
                answers += [str(exc.details()).encode(), str(exc.trailing_metadata()).encode()]
        answers.append(
            rpc.EncryptionServiceStub(channel)
            .GetStatus(pb.GetEncryptionStatusRequest(), timeout=10, metadata=meta)
            .SerializeToString()
        )
    env = {**os.environ, "SIGMAVAULT_API_TOKEN": TOKEN, "SIGMAVAULT_DATA_DIR": str(guarded.data_dir)}
    config = subprocess.run([sys.executable, "-m", "engine", "config"], env=env, capture_output=True, timeout=60)
    answers += [config.stdout, config.stderr]
    env["SIGMAVAULT_API_TOKEN"] = TOKEN[:10]  # too short: the error must not echo it either
    answers.append(
        subprocess.run([sys.executable, "-m", "engine", "config"], env=env, capture_output=True, timeout=60).stderr
    )
    log = guarded.log.read_bytes()
    secrets_ = [TOKEN.encode(), WRONG.encode(), READER.encode(), OPS.encode(), *_key_material(guarded.data_dir)]
    for name, text in (("the engine's log", log), ("/metrics", metrics), ("the answers", b"\n".join(answers))):
        for secret in secrets_:
            for spelling in _spellings(secret):
                assert spelling not in text, f"{name} holds a secret ({spelling[:6]!r}...)"
    assert b"<redacted>" in config.stdout


def test_keys_state_files_and_segments_are_private(guarded: Served) -> None:
    paths = list(guarded.data_dir.rglob("*"))
    assert any(p.name == "engine.key" for p in paths) and any(p.name == "ports.json" for p in paths)
    for path in [guarded.data_dir, *paths]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        want = 0o700 if path.is_dir() else 0o600
        assert mode & 0o077 == 0 and (not path.is_dir() or mode == want), f"{path} has mode {mode:04o}"
    segments = [name for name in engine_segments() if segment_owner(name) == guarded.proc.pid]
    assert segments
    workers = [p for p in psutil.Process(guarded.proc.pid).children() if p.name().startswith("sv-worker")]
    for worker in workers:  # the frontend's listeners were closed in each forked worker
        assert not [c for c in worker.net_connections(kind="all") if c.laddr], worker.name()
    assert workers
    for name in segments:
        assert stat.S_IMODE(os.stat(f"/dev/shm/{name}").st_mode) == 0o600, name


def _engined(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SIGMAVAULT_")}
    return subprocess.run(
        [sys.executable, "-m", "engine", *args], env={**clean, **env}, capture_output=True, text=True, timeout=60
    )


def test_start_up_refuses_bad_credential_files_and_socket_paths_in_one_line(tmp_path: Path) -> None:
    data = {
        "SIGMAVAULT_DATA_DIR": str(tmp_path / "data"),
        "SIGMAVAULT_ENGINE_PORT": "0",
        "SIGMAVAULT_GRPC_PORT": "0",
        "SIGMAVAULT_RUN_DIR": str(tmp_path / "sock"),
    }
    exposed = _engined({**data, "SIGMAVAULT_HOST": "0.0.0.0"}, "config")  # a token always exists: no refusal
    assert exposed.returncode == 0, exposed.stderr
    loose = write_private(tmp_path / "loose-token", TOKEN, mode=0o644)
    done = _engined({**data, "SIGMAVAULT_HOST": "::", "SIGMAVAULT_API_TOKEN_FILE": str(loose)}, "serve")
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1
    assert "SIGMAVAULT_API_TOKEN_FILE" in done.stderr and "chmod it 0600" in done.stderr
    short = write_private(tmp_path / "short-token", "abc123")
    done = _engined({**data, "SIGMAVAULT_API_TOKEN_FILE": str(short)}, "serve")
    assert done.returncode == 2 and "at least 16" in done.stderr and "abc123" not in done.stderr
    done = _engined({**data, "SIGMAVAULT_RUN_DIR": "/" + "r" * 100}, "serve")
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1
    assert "SIGMAVAULT_RUN_DIR" in done.stderr and "too long for a Unix socket path" in done.stderr
    done = _engined({**data, "SIGMAVAULT_SOCKET_GROUP": "no-such-group-sv"}, "serve")
    assert done.returncode == 2 and "must name a group" in done.stderr
    loose_tokens = write_private(tmp_path / "tokens", f"ops admin sha256:{'0' * 64}\n", mode=0o644)
    done = _engined({**data, "SIGMAVAULT_API_TOKENS_FILE": str(loose_tokens)}, "serve")
    assert done.returncode != 0 and "chmod it 0600" in done.stderr


def test_token_commands_print_a_token_once_and_keep_only_its_hash(tmp_path: Path) -> None:
    env = {"SIGMAVAULT_DATA_DIR": str(tmp_path / "data")}
    added = _engined(env, "token", "add", "prometheus", "--role", "read")
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip()
    kept = (tmp_path / "data" / "api-tokens").read_text()
    assert len(token) == 64 and token not in kept and f"sha256:{token_digest(token).hex()}" in kept
    assert stat.S_IMODE((tmp_path / "data" / "api-tokens").stat().st_mode) == 0o600
    assert _engined(env, "token", "add", "prometheus").returncode == 2  # a name is given once
    assert _engined(env, "token", "list").stdout == "prometheus\tread\n"
    assert _engined(env, "token", "remove", "prometheus").returncode == 0
    assert _engined(env, "token", "list").stdout == "" and _engined(env, "token", "remove", "x").returncode == 1
