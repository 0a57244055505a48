"""Subscribe floods from clients that never read (surface ``wsflood``).

``connections`` raw WebSocket clients (receive buffers of 4 KiB) each subscribe to every event type,
then send ``messages`` subscribe and unsubscribe messages back to back, and never read a byte, while
the engine publishes system.metrics every 0.2 s and a file job sends its progress. The frontend must
stay within ``rss_limit_bytes`` of where it started (a slow client loses its own oldest events; the
events are shared, the per-client queue holds at most 256 of them), a well-behaved subscriber must
keep receiving system.metrics with no gap over 3 s, and once the flooders hang up a new client must
be served as before. Every message sent is a case.
"""

from __future__ import annotations

import socket
import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import orjson

from perf.fuzz.report import SurfaceReport
from perf.fuzz.ws_cases import _Listener, _raw_frame, send_upgrade

if TYPE_CHECKING:
    from collections.abc import Callable

EVERYTHING = ["system.metrics", "agent.status", "compression.progress", "storage.event"]


def _open(url: str, headers: dict[str, str]) -> socket.socket:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        send_upgrade(sock, parts, headers)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                raise ConnectionError("the server closed the handshake")
            head += chunk
        if not head.startswith(b"HTTP/1.1 101"):
            raise ConnectionError(head.split(b"\r\n", 1)[0].decode(errors="replace"))
    except BaseException:  # a refused handshake (a slow machine's timeout) must not leave the socket to the GC
        sock.close()
        raise
    return sock


def _message(kind: str, types: list[str], n: int) -> bytes:
    return _raw_frame(0x1, orjson.dumps({"type": kind, "data": {"types": types, "n": n}}))


def fuzz_ws_flood(
    url: str,
    *,
    frontend_rss: Callable[[], int],
    busy: Callable[[], None] | None = None,
    headers: dict[str, str] | None = None,
    connections: int = 64,
    messages: int = 200,
    hold_s: float = 10.0,
    rss_limit_bytes: int = 64 << 20,
) -> SurfaceReport:
    """``busy()``: started before the hold, makes the engine publish more (a file job's progress)."""
    report = SurfaceReport("wsflood")
    report.operations = 2
    headers = dict(headers or {})
    listener = _Listener(url, headers)
    listener.start()
    rss0 = peak = frontend_rss()
    socks: list[socket.socket] = []
    try:
        for i in range(connections):
            sock = _open(url, headers)
            socks.append(sock)
            sock.sendall(_message("client.subscribe", EVERYTHING, 0))
            burst = b"".join(
                _message("client.subscribe" if k % 2 else "client.unsubscribe", EVERYTHING[k % 4 :], k)
                for k in range(messages)
            )
            sock.sendall(burst)
            report.cases += messages + 1
            report.outcomes["sent unread"] += messages + 1
            if i % 8 == 0:
                peak = max(peak, frontend_rss())
        if busy is not None:
            busy()
        deadline = time.monotonic() + hold_s
        while time.monotonic() < deadline:
            peak = max(peak, frontend_rss())
            time.sleep(0.25)
    except (OSError, ConnectionError) as exc:
        report.fail(f"flood connection {len(socks)}: {type(exc).__name__}: {exc}")
    finally:
        for sock in socks:
            sock.close()
        listener.stop.set()
        listener.join(15)
    report.outcomes["connections"] = len(socks)
    if peak - rss0 > rss_limit_bytes:
        report.fail(f"the frontend grew from {rss0 >> 20} to {peak >> 20} MiB under {len(socks)} unread subscribers")
    if listener.error or listener.events == 0 or listener.longest_gap > 3.0:
        report.fail(
            f"the well-behaved subscriber got {listener.events} events, longest gap "
            f"{listener.longest_gap:.1f} s, {listener.error or 'no error'}"
        )
    after = _Listener(url, headers)
    after.start()
    time.sleep(1.5)
    after.stop.set()
    after.join(15)
    report.record("served after" if after.events and not after.error else "not served after")
    if not after.events or after.error:
        report.fail(f"a new subscriber after the flood got {after.events} events ({after.error or 'no error'})")
    report.outcomes["rss_growth_mib"] = (peak - rss0) >> 20
    return report
