"""engine/core/sdnotify.py with real AF_UNIX datagram sockets (a path and the abstract namespace)."""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING

import pytest

from engine.core.sdnotify import Notifier, ServiceNotes

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = str(tmp_path / "notify")
    sock.bind(path)
    sock.settimeout(2)
    yield sock, path
    sock.close()


def test_environment_is_taken_and_emptied(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    environ = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid()), "HOME": "/"}
    notifier = Notifier.from_environment(environ)
    assert environ == {"HOME": "/"}  # children inherit none of it
    assert notifier.enabled and notifier.watchdog_interval_s == 15.0
    assert notifier.ready("serving: 2 workers")
    assert sock.recv(4096) == b"READY=1\nSTATUS=serving: 2 workers"
    assert notifier.watchdog() and sock.recv(4096) == b"WATCHDOG=1"
    assert notifier.stopping("draining") and sock.recv(4096) == b"STOPPING=1\nSTATUS=draining"
    notifier.close()
    assert not notifier.send("STATUS=closed")


def test_abstract_socket_address() -> None:
    name = f"sigmavault-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(2)
        notifier = Notifier.from_environment({"NOTIFY_SOCKET": "@" + name})
        assert notifier.status("up") and sock.recv(4096) == b"STATUS=up"
        notifier.close()


def test_no_socket_no_watchdog_and_not_ours() -> None:
    silent = Notifier.from_environment({})
    assert not silent.enabled and not silent.ready("x") and silent.watchdog_interval_s is None
    other_pid = Notifier.from_environment({"WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"})
    assert other_pid.watchdog_interval_s is None  # meant for another process
    vsock = Notifier.from_environment({"NOTIFY_SOCKET": "vsock:2:1234"})
    assert not vsock.enabled


def test_a_vanished_listener_is_logged_not_raised(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    notifier = Notifier(str(tmp_path / "gone"))
    assert not notifier.watchdog()
    assert "sd_notify" in caplog.text
    notifier.close()


def test_service_notes_ready_once_and_ping_on_schedule(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    notes = ServiceNotes(Notifier(path, watchdog_usec=1_000_000), "2 workers")
    assert notes.wait_timeout(0.0, 0.5) == 0.0  # the first ping is due at once
    notes.tick(0.0, ready=False)
    assert sock.recv(4096) == b"WATCHDOG=1"
    assert notes.wait_timeout(0.1, 0.5) == pytest.approx(0.05)  # polling for readiness
    notes.tick(0.2, ready=True)
    assert sock.recv(4096) == b"READY=1\nSTATUS=serving: 2 workers"
    assert notes.wait_timeout(0.2, 0.5) == pytest.approx(0.3)  # next ping at 0.5
    notes.tick(0.3, ready=True)  # neither READY again nor an early ping
    notes.tick(0.5, ready=True)
    assert sock.recv(4096) == b"WATCHDOG=1"
    notes.back_to_serving()
    assert sock.recv(4096) == b"STATUS=serving: 2 workers"
    notes.close()
