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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    proc: subprocess.Popen[bytes]
    http: str
    grpc: str
    http_port: int
    grpc_port: int
    data_dir: Path
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def start_served(workdir: Path, timeout: float = 30, **env: str) -> Served:
    """``engined serve`` with 2 workers on 127.0.0.1, ready (every worker up) when this returns."""
    http_port, grpc_port = free_port(), free_port()
    log = workdir / "engined.log"
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SIGMAVAULT_")},
        "SIGMAVAULT_HOST": "127.0.0.1",
        "SIGMAVAULT_ENGINE_PORT": str(http_port),
        "SIGMAVAULT_GRPC_PORT": str(grpc_port),
        "SIGMAVAULT_WORKERS": "2",
        "SIGMAVAULT_SLOTS": "64",
        "SIGMAVAULT_DATA_DIR": str(workdir / "data"),
        "SIGMAVAULT_METRICS_INTERVAL": "0.2",
        "SIGMAVAULT_SHUTDOWN_GRACE": "3",
        **env,
    }
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "engine", "serve"], env=environ, stdout=out,
                                stderr=subprocess.STDOUT, cwd=workdir)  # fmt: skip
    served = Served(proc, f"http://127.0.0.1:{http_port}", f"127.0.0.1:{grpc_port}", http_port, grpc_port,
                    workdir / "data", log)  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"engined serve exited with {proc.returncode}:\n{served.output()}")
        if _ready(f"{served.http}/readyz"):
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
