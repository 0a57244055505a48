"""An engine bound beyond loopback (0.0.0.0, no token configured: it generated one), called from
another network namespace joined by a veth pair: every call but health needs the token, on HTTP,
gRPC and the WebSocket, as it does on loopback. Everything made here (namespace, veth, engine) is
removed in the fixture."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.served import Served, start_served, stop_served
from tests.system.conftest import need_root_and

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = [pytest.mark.system, pytest.mark.multiprocess]
ROOT = Path(__file__).resolve().parents[2]
CLIENT = r"""
import json, sys
import grpc, httpx
from websockets.sync.client import connect
from frontends import pb, rpc
http, target, token = sys.argv[1:4]
auth = {"Authorization": f"Bearer {token}"}
out = {}
out["get"] = httpx.get(f"{http}/api/v1/swarm", timeout=10).status_code
out["get_token"] = httpx.get(f"{http}/api/v1/swarm", headers=auth, timeout=10).status_code
out["healthz"] = httpx.get(f"{http}/healthz", timeout=10).status_code
out["post_token"] = httpx.post(f"{http}/api/v1/tasks", json={"kind": "echo", "data": "aGk="}, headers=auth,
                               timeout=10).status_code
with connect(http.replace("http", "ws", 1) + "/ws", open_timeout=10) as ws:  # no credential: its first message
    ws.send(json.dumps({"type": "auth", "token": "0" * 64}))
    out["ws"] = json.loads(ws.recv(timeout=10))["data"]["code"]
with connect(http.replace("http", "ws", 1) + "/ws", open_timeout=10, additional_headers=auth) as ws:
    out["ws_token"] = json.loads(ws.recv(timeout=10))["type"]
with grpc.insecure_channel(target) as channel:
    stub = rpc.SystemServiceStub(channel)
    try:
        stub.GetStatus(pb.GetStatusRequest(), timeout=10)
        out["grpc"] = "OK"
    except grpc.RpcError as exc:
        out["grpc"] = exc.code().name
    out["grpc_token"] = stub.GetStatus(pb.GetStatusRequest(), timeout=10,
                                       metadata=(("authorization", f"Bearer {token}"),)).state
print(json.dumps(out))
"""


def sh(*argv: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {done.stderr.strip()}")


@pytest.fixture
def netns() -> Iterator[tuple[str, str]]:
    """(namespace, the host's address as seen from it)."""
    need_root_and("ip")
    tag = os.getpid() % 100000
    name, veth_host, veth_ns = f"svexp{tag}", f"svxh{tag}", f"svxn{tag}"
    a, b = 200 + (tag // 250) % 50, tag % 250
    host_ip, ns_ip = f"10.{a}.{b}.5", f"10.{a}.{b}.6"  # /30 of its own beside the mesh test's .1/.2
    try:
        sh("ip", "netns", "add", name)
    except RuntimeError as exc:
        pytest.skip(f"cannot create a network namespace: {exc}")
    try:
        sh("ip", "link", "add", veth_host, "type", "veth", "peer", "name", veth_ns)
        sh("ip", "link", "set", veth_ns, "netns", name)
        sh("ip", "addr", "add", f"{host_ip}/30", "dev", veth_host)
        sh("ip", "link", "set", veth_host, "up")
        sh("ip", "netns", "exec", name, "ip", "addr", "add", f"{ns_ip}/30", "dev", veth_ns)
        sh("ip", "netns", "exec", name, "ip", "link", "set", veth_ns, "up")
        sh("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up")
        yield name, host_ip
    finally:
        subprocess.run(["ip", "link", "del", veth_host], capture_output=True, timeout=30)
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)


@pytest.fixture
def exposed(tmp_path: Path) -> Iterator[Served]:
    served = start_served(tmp_path, SIGMAVAULT_HOST="0.0.0.0")  # no token configured: one is generated
    try:
        yield served
    finally:
        assert stop_served(served) == 0, served.output()


def test_a_client_beyond_loopback_needs_the_generated_token(netns: tuple[str, str], exposed: Served) -> None:
    name, host_ip = netns
    done = subprocess.run(
        [
            "ip",
            "netns",
            "exec",
            name,
            sys.executable,
            "-c",
            CLIENT,
            f"http://{host_ip}:{exposed.http_port}",
            f"{host_ip}:{exposed.grpc_port}",
            exposed.token,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "get": 401,
        "get_token": 200,
        "healthz": 200,
        "post_token": 200,
        "ws": "unauthenticated",
        "ws_token": "server.hello",
        "grpc": "UNAUTHENTICATED",
        "grpc_token": "ok",
    }
