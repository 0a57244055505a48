"""The security defaults through the public surface of a real ``engined serve`` (docs/SECURITY.md):
the API token on HTTP, gRPC and the WebSocket, the per-client cap with two clients (127.0.0.1 and
127.0.0.2), private files, no secret in any log, answer or /metrics, and the refusals at start-up."""

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
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from frontends import pb, rpc
from frontends.auth import grpc_method_is_open, grpc_method_is_read
from ipc.segment import engine_segments, segment_owner
from perf.fuzz.grpc_cases import rpc_methods
from tests.served import Served, start_served, stop_served

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.multiprocess
ROOT = Path(__file__).resolve().parents[2]
TOKEN = secrets.token_hex(32)
WRONG = secrets.token_hex(32)
CAP = 3


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
    served = start_served(workdir, SIGMAVAULT_API_TOKEN_FILE=str(token_file),
                          SIGMAVAULT_CLIENT_MAX_INFLIGHT=str(CAP), SIGMAVAULT_DEBUG="1")  # fmt: skip
    try:
        yield served
    finally:
        assert stop_served(served) == 0, served.output()
        assert "Traceback" not in served.output(), served.output()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def operations(served: Served) -> list[tuple[str, str]]:
    doc = httpx.get(f"{served.http}/openapi.json", timeout=10).json()
    return [(method.upper(), path.replace("{id}", "0")) for path, ops in doc["paths"].items() for method in ops]


def error_info(exc: grpc.RpcError) -> error_details_pb2.ErrorInfo:
    status = rpc_status.from_call(exc)
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    status.details[0].Unpack(info)
    return info


def test_mutating_http_calls_need_the_token_and_reads_stay_open_on_loopback(guarded: Served) -> None:
    with httpx.Client(base_url=guarded.http, timeout=10) as http:
        for method, path in operations(guarded):
            if method == "GET":
                assert http.get(path).status_code != 401, path
                wrong = http.get(path, headers=bearer(WRONG))
                expected = 200 if path in ("/healthz", "/readyz") else 401
                assert wrong.status_code == expected, (path, wrong.text)
                continue
            refused = http.request(method, path, json={})
            assert refused.status_code == 401, (method, path)
            assert refused.headers["WWW-Authenticate"] == 'Bearer realm="sigmavault"'
            assert refused.json()["error"]["code"] == "unauthenticated"
            wrong = http.request(method, path, json={}, headers=bearer(WRONG))
            assert wrong.status_code == 401
            assert wrong.headers["WWW-Authenticate"] == 'Bearer realm="sigmavault", error="invalid_token"'
            assert WRONG not in wrong.text and TOKEN not in wrong.text
            lowercase = http.request(method, path, json={}, headers={"authorization": f"bearer {TOKEN}"})
            assert lowercase.status_code != 401, (method, path, lowercase.text)  # the scheme is case-insensitive
        echo = http.post("/api/v1/tasks", json={"kind": "echo", "data": "aGk="}, headers=bearer(TOKEN))
        assert echo.status_code == 200 and echo.json()["data"] == "aGk="
        assert http.post("/api/v1/tasks", json={"kind": "echo"}, headers={"Authorization": TOKEN}).status_code == 401


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


def test_grpc_every_method_but_reads_needs_the_token(guarded: Served) -> None:
    with grpc.insecure_channel(guarded.grpc) as channel:
        for method in rpc_methods():
            name = method.path.rpartition("/")[2]
            if grpc_method_is_open(method.path):
                assert (
                    _call(channel, method, (("authorization", f"Bearer {WRONG}"),)) != grpc.StatusCode.UNAUTHENTICATED
                )
                continue
            assert grpc_method_is_read(method.path) == name.startswith(("Get", "List", "Watch")) or \
                method.path.startswith("/grpc.reflection.")  # fmt: skip
            anonymous = _call(channel, method, ())
            if grpc_method_is_read(method.path):
                assert anonymous != grpc.StatusCode.UNAUTHENTICATED, method.path
                wrong = _call(channel, method, (("authorization", f"Bearer {WRONG}"),))
                assert wrong == grpc.StatusCode.UNAUTHENTICATED, method.path
            else:
                assert anonymous == grpc.StatusCode.UNAUTHENTICATED, method.path
        stub = rpc.AgentServiceStub(channel)
        echo = stub.DispatchTask(pb.DispatchTaskRequest(kind=pb.TASK_KIND_ECHO, data=b"hi"), timeout=10,
                                 metadata=(("authorization", f"Bearer {TOKEN}"),))  # fmt: skip
        assert echo.data == b"hi"


def test_websocket_is_a_read_open_on_loopback_and_a_wrong_token_is_refused(guarded: Served) -> None:
    url = guarded.http.replace("http", "ws", 1) + "/ws"
    with connect(url, open_timeout=10) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "server.hello"
    with pytest.raises(InvalidStatus) as info, connect(url, open_timeout=10, additional_headers=bearer(WRONG)):
        pass
    assert info.value.response.status_code == 401
    assert info.value.response.headers["WWW-Authenticate"].startswith("Bearer")
    with connect(url, open_timeout=10, additional_headers=bearer(TOKEN)) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "server.hello"


def _hold_http(served: Served, source: str) -> socket.socket:
    """A request from ``source`` kept in flight: its headers promise a body that never comes."""
    sock = socket.create_connection(("127.0.0.1", served.http_port), timeout=10, source_address=(source, 0))
    sock.sendall(b"POST /api/v1/tasks HTTP/1.1\r\nHost: engine\r\nContent-Type: application/json\r\n"
                 b"Authorization: Bearer " + TOKEN.encode() + b"\r\nContent-Length: 100\r\n\r\n{")  # fmt: skip
    return sock


def test_a_client_over_its_cap_is_refused_and_others_are_not(guarded: Served) -> None:
    """Client A (127.0.0.1) holds three gRPC streams open; client B (127.0.0.2) is unaffected until it
    holds three HTTP requests of its own; both recover when their calls end."""
    meta = (("authorization", f"Bearer {TOKEN}"),)
    other = httpx.Client(base_url=guarded.http, timeout=10, transport=httpx.HTTPTransport(local_address="127.0.0.2"))
    with grpc.insecure_channel(guarded.grpc) as channel, httpx.Client(base_url=guarded.http, timeout=10) as mine, other:
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
            assert refused.json()["error"] == {"code": "client_limit", "message": refused.json()["error"]["message"],
                                               "metadata": {"limit": str(CAP), "retry_after_s": "1"}}  # fmt: skip
            with pytest.raises(grpc.RpcError) as info:
                rpc.SystemServiceStub(channel).GetStatus(pb.GetStatusRequest(), timeout=10)
            assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert error_info(info.value).reason == "CLIENT_LIMIT"
            assert error_info(info.value).metadata["retry_after_s"] == "1"
            assert mine.get("/healthz").status_code == 200  # probes are never capped
            assert other.get("/api/v1/swarm").status_code == 200  # client B is not affected
            held = [_hold_http(guarded, "127.0.0.2") for _ in range(CAP)]
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
        while time.monotonic() < deadline and (mine.get("/api/v1/swarm").status_code != 200 or
                                               other.get("/api/v1/swarm").status_code != 200):  # fmt: skip
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
    return {secret, secret.hex().encode(), secret.hex().upper().encode(), base64.b64encode(secret),
            base64.urlsafe_b64encode(secret), base64.b64encode(secret).rstrip(b"="),
            base64.urlsafe_b64encode(secret).rstrip(b"=")}  # fmt: skip


def test_no_token_or_key_in_logs_answers_errors_or_metrics(guarded: Served) -> None:
    answers: list[bytes] = []
    meta = (("authorization", f"Bearer {TOKEN}"),)
    with httpx.Client(base_url=guarded.http, timeout=10) as http:
        for headers in ({}, bearer(TOKEN), bearer(WRONG), {"Authorization": f"Basic {TOKEN}"}):
            for method, path in operations(guarded):
                body = {"kind": "encrypt", "data": base64.b64encode(b"secret payload").decode()}
                answer = http.request(method, path, headers=headers, json=body if method != "GET" else None)
                answers += [answer.content, str(answer.headers).encode()]
        sealed = http.post("/api/v1/tasks", headers=bearer(TOKEN), json={"kind": "encrypt", "data": "aGVsbG8="})
        for data in (sealed.json()["data"], "AAAA" * 20, "not base64"):
            answer = http.post("/api/v1/tasks", headers=bearer(TOKEN), json={"kind": "decrypt", "data": data})
            answers.append(answer.content)
        metrics = http.get("/metrics").content
    with grpc.insecure_channel(guarded.grpc) as channel:
        stub = rpc.AgentServiceStub(channel)
        for kind, data in ((pb.TASK_KIND_ENCRYPT, b"secret payload"), (pb.TASK_KIND_DECRYPT, b"x" * 64)):
            try:
                answers.append(stub.DispatchTask(pb.DispatchTaskRequest(kind=kind, data=data), timeout=10,
                                                 metadata=meta).SerializeToString())  # fmt: skip
            except grpc.RpcError as exc:
                answers += [str(exc.details()).encode(), str(exc.trailing_metadata()).encode()]
        for metadata in ((), (("authorization", f"Bearer {WRONG}"),)):
            try:
                stub.DrainAgent(pb.DrainAgentRequest(agent_id=0), timeout=10, metadata=metadata)
            except grpc.RpcError as exc:
                answers += [str(exc.details()).encode(), str(exc.trailing_metadata()).encode()]
        answers.append(rpc.EncryptionServiceStub(channel).GetStatus(pb.GetEncryptionStatusRequest(), timeout=10,
                                                                    metadata=meta).SerializeToString())  # fmt: skip
    env = {**os.environ, "SIGMAVAULT_API_TOKEN": TOKEN, "SIGMAVAULT_DATA_DIR": str(guarded.data_dir)}
    config = subprocess.run([sys.executable, "-m", "engine", "config"], env=env, capture_output=True, timeout=60)
    answers += [config.stdout, config.stderr]
    env["SIGMAVAULT_API_TOKEN"] = TOKEN[:10]  # too short: the error must not echo it either
    answers.append(subprocess.run([sys.executable, "-m", "engine", "config"], env=env, capture_output=True,
                                  timeout=60).stderr)  # fmt: skip
    log = guarded.log.read_bytes()
    secrets_ = [TOKEN.encode(), WRONG.encode(), *_key_material(guarded.data_dir)]
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
    for name in segments:
        assert stat.S_IMODE(os.stat(f"/dev/shm/{name}").st_mode) == 0o600, name


def _engined(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SIGMAVAULT_")}
    return subprocess.run([sys.executable, "-m", "engine", *args], env={**clean, **env}, capture_output=True,
                          text=True, timeout=60)  # fmt: skip


def test_start_up_refuses_an_exposed_engine_without_a_token_in_one_line(tmp_path: Path) -> None:
    data = {"SIGMAVAULT_DATA_DIR": str(tmp_path / "data"), "SIGMAVAULT_ENGINE_PORT": "0", "SIGMAVAULT_GRPC_PORT": "0"}
    done = _engined({**data, "SIGMAVAULT_HOST": "0.0.0.0"}, "serve")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "engined: configuration error: SIGMAVAULT_HOST='0.0.0.0' is invalid: an address beyond loopback needs "
        "SIGMAVAULT_API_TOKEN_FILE (or SIGMAVAULT_API_TOKEN): see docs/SECURITY.md"]  # fmt: skip
    loose = write_private(tmp_path / "loose-token", TOKEN, mode=0o644)
    done = _engined({**data, "SIGMAVAULT_HOST": "::", "SIGMAVAULT_API_TOKEN_FILE": str(loose)}, "serve")
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1
    assert "SIGMAVAULT_API_TOKEN_FILE" in done.stderr and "chmod it 0600" in done.stderr
    short = write_private(tmp_path / "short-token", "abc123")
    done = _engined({**data, "SIGMAVAULT_API_TOKEN_FILE": str(short)}, "serve")
    assert done.returncode == 2 and "at least 16" in done.stderr and "abc123" not in done.stderr


def test_uvicorn_refuses_an_exposed_engine_without_a_token(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SIGMAVAULT_")}
    done = subprocess.run([str(Path(sys.executable).parent / "uvicorn"), "engine.main:app", "--host", "0.0.0.0",
                           "--port", "0"], env={**clean, "SIGMAVAULT_DATA_DIR": str(tmp_path)}, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if "configuration error" in line]
    assert len(lines) == 1 and "uvicorn --host='0.0.0.0' is invalid: an address beyond loopback" in lines[0]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "run" / "ports.json").exists()  # nothing was started
