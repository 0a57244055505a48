"""Run a real ``engined serve`` on 127.0.0.1 with ports picked by the test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.utils import free_port


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


def start_served(tmp: Path, **env: str) -> Served:
    http_port, grpc_port = free_port(), free_port()
    log = tmp / "engined.log"
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SIGMAVAULT_")},
        "SIGMAVAULT_HOST": "127.0.0.1",
        "SIGMAVAULT_ENGINE_PORT": str(http_port),
        "SIGMAVAULT_GRPC_PORT": str(grpc_port),
        "SIGMAVAULT_WORKERS": "2",
        "SIGMAVAULT_SLOTS": "64",
        "SIGMAVAULT_SLOT_BYTES": str(1 << 20),
        "SIGMAVAULT_DATA_DIR": str(tmp / "data"),
        "SIGMAVAULT_METRICS_INTERVAL": "0.2",
        "SIGMAVAULT_SHUTDOWN_GRACE": "3",
        **env,
    }
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "engine", "serve"], env=environ, stdout=out,
                                stderr=subprocess.STDOUT, cwd=tmp)  # fmt: skip
    served = Served(proc, f"http://127.0.0.1:{http_port}", f"127.0.0.1:{grpc_port}", http_port, grpc_port,
                    tmp / "data", log)  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"engined serve exited with {proc.returncode}:\n{served.output()}")
        try:
            if httpx.get(f"{served.http}/readyz", timeout=1).status_code == 200:
                return served
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    stop_served(served)
    raise TimeoutError(f"engined serve not ready in 30 s:\n{served.output()}")


def stop_served(served: Served, timeout: float = 20) -> int:
    """SIGTERM, wait, and check the engine left nothing behind."""
    if served.proc.poll() is None:
        served.proc.send_signal(signal.SIGTERM)
    try:
        return served.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        served.proc.kill()
        served.proc.wait()
        raise AssertionError(f"engined serve ignored SIGTERM for {timeout} s:\n{served.output()}") from None
