"""Start and stop a real ``engined serve`` on free loopback ports (used by perf/ and tests/)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    import ssl


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    """A running engine and how to reach it: its admin token (``<data_dir>/api-token``, generated
    at its first start), ready-made HTTP headers and gRPC metadata, and its Unix sockets."""

    proc: subprocess.Popen[bytes]
    http: str
    grpc: str
    http_port: int
    grpc_port: int
    data_dir: Path
    log: Path
    run_dir: Path = Path()
    token: str = ""

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token}"),)

    @property
    def http_socket(self) -> Path:
        return self.run_dir / "engined.http.sock"

    @property
    def grpc_socket(self) -> Path:
        return self.run_dir / "engined.grpc.sock"

    def channel(self, options: list[tuple[str, Any]] | None = None, credentials: Any = None) -> Any:
        """A gRPC channel to the TCP port that presents the token on every call (unless a call sends its own)."""
        return authed_channel(self.grpc, self.token, options, credentials)


def read_token(data_dir: Path) -> str:
    """The admin token an engine generated at its first start (``<data_dir>/api-token``)."""
    return (data_dir / "api-token").read_text().strip()


def authed_channel(
    target: str, token: str, options: list[tuple[str, Any]] | None = None, credentials: Any = None
) -> Any:
    """``grpc.insecure_channel`` (or secure, given ``credentials``) adding ``authorization`` metadata."""
    import grpc

    from perf.grpcauth import BearerInterceptor

    channel = (
        grpc.secure_channel(target, credentials, options) if credentials else grpc.insecure_channel(target, options)
    )
    return grpc.intercept_channel(channel, BearerInterceptor(token))


def _ready(url: str, context: ssl.SSLContext | None = None) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1, context=context) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _ports(ports_file: Path) -> tuple[int, int] | None:
    try:
        doc = orjson.loads(ports_file.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return int(doc["http"]), int(doc["grpc"])


def start_served(
    workdir: Path, timeout: float = 30, *, ssl_context: ssl.SSLContext | None = None, **env: str
) -> Served:
    """``engined serve`` with 2 workers on 127.0.0.1, ready (every worker up) when this returns.
    Ports are 0 unless given: the engine binds free ones and writes them to <data dir>/run/ports.json.
    ``ssl_context``: how to reach an engine serving TLS (its CA, and a client certificate for mutual TLS)."""
    log = workdir / "engined.log"
    ports_file = Path(env.get("SIGMAVAULT_DATA_DIR", workdir / "data")) / "run" / "ports.json"
    ports_file.unlink(missing_ok=True)
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SIGMAVAULT_")},
        "SIGMAVAULT_HOST": "127.0.0.1",
        "SIGMAVAULT_ENGINE_PORT": "0",
        "SIGMAVAULT_GRPC_PORT": "0",
        "SIGMAVAULT_WORKERS": "2",
        "SIGMAVAULT_SLOTS": "64",
        "SIGMAVAULT_DATA_DIR": str(workdir / "data"),
        "SIGMAVAULT_RUN_DIR": str(workdir / "sock"),  # never the box's /run/sigmavault: engines run side by side
        "SIGMAVAULT_METRICS_INTERVAL": "0.2",
        "SIGMAVAULT_SHUTDOWN_GRACE": "3",
        **env,
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "engine", "serve"], env=environ, stdout=out, stderr=subprocess.STDOUT, cwd=workdir
        )
    data_dir = Path(environ["SIGMAVAULT_DATA_DIR"])
    served = Served(proc, "", "", 0, 0, data_dir, log, Path(environ["SIGMAVAULT_RUN_DIR"]))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"engined serve exited with {proc.returncode}:\n{served.output()}")
        ports = _ports(ports_file)
        if ports is not None:
            served.http_port, served.grpc_port = ports
            scheme = "https" if ssl_context is not None else "http"
            served.http, served.grpc = f"{scheme}://127.0.0.1:{ports[0]}", f"127.0.0.1:{ports[1]}"
            if _ready(f"{served.http}/readyz", ssl_context):
                token_file = environ.get("SIGMAVAULT_API_TOKEN_FILE")
                served.token = environ.get("SIGMAVAULT_API_TOKEN") or (
                    Path(token_file).read_text().strip() if token_file else read_token(data_dir)
                )
                return served
        time.sleep(0.05)
    stop_served(served)
    raise TimeoutError(f"engined serve not ready in {timeout} s:\n{served.output()}")


def stop_served(served: Served, timeout: float = 20) -> int:
    """SIGTERM and wait; a server that ignores it is killed and reported."""
    if served.proc.poll() is None:
        served.proc.send_signal(signal.SIGTERM)
    try:
        return served.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        served.proc.kill()
        served.proc.wait()
        raise AssertionError(f"engined serve ignored SIGTERM for {timeout} s:\n{served.output()}") from None
