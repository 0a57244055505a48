"""``uvicorn engine.main:app``: the module-level ASGI app serves HTTP, the WebSocket and gRPC from
one process tree, and SIGTERM stops everything and removes the segments, like ``engined serve``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import grpc
import httpx
import orjson
import psutil
import pytest

from frontends import pb, rpc
from ipc.segment import engine_segments, segment_owner
from perf.procs import read_token
from tests.leaks import own
from tests.utils import wait_until

pytestmark = pytest.mark.multiprocess


def test_uvicorn_serves_http_websocket_and_grpc(tmp_path: Path) -> None:
    from websockets.sync.client import connect

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))  # uvicorn --fd serves a socket we bound: no port race
    http_port = listener.getsockname()[1]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SIGMAVAULT_")},
        "SIGMAVAULT_GRPC_PORT": "0",
        "SIGMAVAULT_WORKERS": "2",
        "SIGMAVAULT_DATA_DIR": str(tmp_path / "data"),
        "SIGMAVAULT_METRICS_INTERVAL": "0.2",
        "SIGMAVAULT_RUN_DIR": str(tmp_path / "sock"),
    }
    log = (tmp_path / "uvicorn.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "engine.main:app", "--fd", str(listener.fileno()), "--log-level", "info"],
        env=env,
        pass_fds=[listener.fileno()],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    own(proc.pid)
    listener.close()
    base = f"http://127.0.0.1:{http_port}"
    ports = tmp_path / "data" / "run" / "ports.json"
    try:
        assert wait_until(ports.exists, timeout=30), (tmp_path / "uvicorn.log").read_text()
        assert wait_until(lambda: _ready(base), timeout=30)
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) >= 3  # the supervisor and two workers (plus multiprocessing's tracker)
        headers = {"Authorization": f"Bearer {read_token(tmp_path / 'data')}"}  # generated at the first start
        assert httpx.get(f"{base}/api/v1/system/status").status_code == 401
        status = httpx.get(f"{base}/api/v1/system/status", headers=headers).json()
        assert status["workers_ready"] == 2
        with grpc.insecure_channel(f"unix://{tmp_path / 'sock' / 'engined.grpc.sock'}") as channel:  # root: admitted
            answer = rpc.AgentServiceStub(channel).DispatchTask(
                pb.DispatchTaskRequest(kind=pb.TASK_KIND_ECHO, data=b"asgi")
            )
        assert answer.data == b"asgi"
        with connect(f"ws://127.0.0.1:{http_port}/ws", open_timeout=5) as ws:  # the token in the first message
            ws.send(orjson.dumps({"type": "auth", "token": headers["Authorization"].split()[1]}).decode())
            assert orjson.loads(ws.recv(timeout=5))["type"] == "auth.ok"
            assert orjson.loads(ws.recv(timeout=5))["type"] == "server.hello"
            ws.send(orjson.dumps({"type": "client.subscribe", "data": {"types": ["system.metrics"]}}).decode())
            kinds = {orjson.loads(ws.recv(timeout=5))["type"] for _ in range(2)}
            assert "system.metrics" in kinds
        proc.send_signal(signal.SIGTERM)
        # uvicorn re-raises the signal once its shutdown is done, so the status is "killed by SIGTERM"
        assert proc.wait(30) == -signal.SIGTERM
        assert "Application shutdown complete" in (tmp_path / "uvicorn.log").read_text()
        assert not ports.exists()  # removed with the ports it named
        assert wait_until(
            lambda: not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE], timeout=15
        )
        assert not [n for n in engine_segments() if segment_owner(n) == proc.pid]
        assert not (tmp_path / "sock" / "engined.grpc.sock").exists()  # removed at stop
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
