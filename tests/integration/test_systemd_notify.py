"""``engined serve`` under systemd's notify protocol, with a real datagram socket as NOTIFY_SOCKET:
READY=1 once it serves, WATCHDOG=1 pings at half of WATCHDOG_USEC, STATUS= when the frontend is
restarted and back, STOPPING=1 on SIGTERM. (That the variables leave the environment, so children
never speak for the engine, is tested on Notifier itself: /proc/PID/environ keeps a process's
environment as it was at exec, whatever it unsets later.)"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import psutil
import pytest

from tests.served import start_served, stop_served
from tests.utils import wait_until


class NotifySocket:
    """systemd's side: a bound AF_UNIX datagram socket, messages with their arrival time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.05)
        self.messages: list[tuple[float, str]] = []

    def drain(self) -> list[tuple[float, str]]:
        with contextlib.suppress(TimeoutError):
            while True:
                self.messages.append((time.monotonic(), self.sock.recv(4096).decode()))
        return self.messages

    def first(self, prefix: str, timeout: float) -> tuple[float, str] | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in self.drain() if m[1].startswith(prefix)]
            if found:
                return found[0]
        return None

    def close(self) -> None:
        self.sock.close()


@pytest.mark.multiprocess
def test_ready_watchdog_status_and_stopping_over_a_real_notify_socket(tmp_path: Path) -> None:
    notify = NotifySocket(tmp_path / "notify.sock")
    served = None
    try:
        served = start_served(tmp_path, NOTIFY_SOCKET=str(notify.path), WATCHDOG_USEC="400000")
        ready = notify.first("READY=1", timeout=10)
        assert ready is not None, notify.messages
        ports = orjson.loads((served.data_dir / "run" / "ports.json").read_bytes())
        assert ready[1] == (
            f"READY=1\nSTATUS=serving: 2 workers, HTTP 127.0.0.1:{ports['http']}, gRPC 127.0.0.1:{ports['grpc']}"
        )
        assert httpx.get(f"{served.http}/readyz", timeout=5).status_code == 200
        assert sum(1 for m in notify.messages if m[1] == "READY=1" or m[1].startswith("READY=1")) == 1
        # pings every 0.2 s (WATCHDOG_USEC / 2) from the supervisor's loop, idle or not
        listen_until = time.monotonic() + 1.2
        while time.monotonic() < listen_until:
            notify.drain()  # read as they come: arrival times within the socket's 50 ms timeout
        pings = [t for t, text in notify.drain() if text == "WATCHDOG=1" and t > ready[0]]
        assert len(pings) >= 4, notify.messages
        gaps = [b - a for a, b in itertools.pairwise(pings)]
        assert max(gaps) < 0.6 and sum(gaps) / len(gaps) > 0.1
        # a frontend restart is told in STATUS= lines, and READY=1 is not sent again
        psutil.Process(ports["pid"]).send_signal(signal.SIGKILL)
        assert notify.first("STATUS=frontend exited with code -9", timeout=10) is not None, notify.messages
        back = notify.first("STATUS=serving", timeout=20)
        assert back is not None, notify.messages
        assert wait_until(lambda: httpx.get(f"{served.http}/readyz", timeout=5).status_code == 200, timeout=10)
        served.proc.send_signal(signal.SIGTERM)
        stopping = notify.first("STOPPING=1", timeout=10)
        assert stopping == (stopping[0], "STOPPING=1\nSTATUS=draining: frontend, then workers") if stopping else False
        assert served.proc.wait(20) == 0
        assert sum(1 for _, text in notify.drain() if text.startswith("READY=1")) == 1
    finally:
        if served is not None:
            stop_served(served)
        notify.close()


@pytest.mark.multiprocess
def test_workers_only_serve_is_ready_once_its_workers_are_up(tmp_path: Path) -> None:
    """engined serve --no-frontend: READY=1 once the workers alone are up (there is nothing else to
    wait for); without WATCHDOG_USEC no pings."""
    notify = NotifySocket(tmp_path / "notify.sock")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGMAVAULT_")}
    env.update(SIGMAVAULT_WORKERS="2", SIGMAVAULT_DATA_DIR=str(tmp_path / "data"), NOTIFY_SOCKET=str(notify.path))
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", "serve", "--no-frontend"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        ready = notify.first("READY=1", timeout=15)
        assert ready is not None and ready[1] == "READY=1\nSTATUS=serving: 2 workers, no frontend"
        assert not any(text == "WATCHDOG=1" for _, text in notify.drain())  # no WATCHDOG_USEC: no pings
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
        assert notify.drain()[-1][1].startswith("STOPPING=1")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        notify.close()
