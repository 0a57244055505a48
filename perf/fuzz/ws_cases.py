"""WebSocket: what a hostile or broken client can send the /ws relay, while a well-behaved one listens.

Generated cases on one connection at a time (reopened whenever the server closes it): garbage text,
JSON of any shape, client messages with wrong types and unknown event names, binary frames, frames
over the 64 KiB limit. Each must get its answer (``error`` or ``client.subscribed``) or a clean close
with a code that says why (1009 too big); nothing may go unanswered. Then frames no library would send
(invalid UTF-8 in a text frame, reserved bits, an unknown opcode, a frame cut off by a hang-up) over a
raw socket, a subscribe flood that does not read its answers, and many connections opening and closing
at once. Throughout, a well-behaved subscriber must keep receiving system.metrics.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import struct
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from perf.fuzz.report import SurfaceReport

if TYPE_CHECKING:
    from urllib.parse import SplitResult

REPLY_TIMEOUT_S = 5.0
SERVER_EVENTS = frozenset({"system.metrics", "agent.status", "compression.progress", "storage.event"})
REPLIES = frozenset({"error", "client.subscribed"})
LIMIT_BYTES = 64 * 1024  # uvicorn's ws_max_size in frontends/runner.py

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
_types = st.lists(st.one_of(st.sampled_from(sorted(SERVER_EVENTS)), st.text(max_size=30)), max_size=6)
_client_message = st.fixed_dictionaries(
    {"type": st.one_of(st.sampled_from(["client.subscribe", "client.unsubscribe"]), st.text(max_size=20))},
    optional={"data": st.one_of(st.fixed_dictionaries({"types": st.one_of(_types, _json)}), _json)},
).map(json.dumps)
FRAMES = st.one_of(
    st.text(max_size=200),  # garbage text
    _json.map(json.dumps),  # JSON, mostly of the wrong shape (integers past 64 bits too)
    _client_message,
    st.binary(max_size=200),  # binary frames
    _client_message.map(str.encode),  # a valid message, as a binary frame
    st.sampled_from([LIMIT_BYTES + 1, 1 << 20]).map(lambda n: "x" * n),  # oversized
)


class _Listener(threading.Thread):
    """The well-behaved client: subscribed to system.metrics, noting the longest gap between events."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.url, self.headers = url, headers
        self.events, self.longest_gap, self.error = 0, 0.0, ""
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            with connect(self.url, additional_headers=self.headers, open_timeout=10) as ws:
                ws.recv(timeout=10)  # server.hello
                ws.send(orjson.dumps({"type": "client.subscribe", "data": {"types": ["system.metrics"]}}).decode())
                last = time.monotonic()
                while not self.stop.is_set():
                    message = orjson.loads(ws.recv(timeout=10))
                    if message["type"] == "system.metrics":
                        now = time.monotonic()
                        self.events, self.longest_gap = self.events + 1, max(self.longest_gap, now - last)
                        last = now
        except (OSError, TimeoutError, ConnectionClosed, ValueError, KeyError) as exc:
            self.error = f"{type(exc).__name__}: {exc}"


class _Runner:
    def __init__(self, url: str, headers: dict[str, str], report: SurfaceReport, deadline: float) -> None:
        self.url, self.headers, self.report, self.deadline = url, headers, report, deadline
        self.ws: ClientConnection | None = None
        self._open = contextlib.ExitStack()  # websockets wants its connections used as context managers

    def _connection(self) -> ClientConnection:
        if self.ws is None:
            self.ws = self._open.enter_context(
                connect(self.url, additional_headers=self.headers, max_size=None, open_timeout=10)
            )
            hello = orjson.loads(self.ws.recv(timeout=REPLY_TIMEOUT_S))
            assert hello["type"] == "server.hello", hello
        return self.ws

    def close(self) -> None:
        self._open.close()
        self.ws = None

    def one(self, frame: str | bytes) -> None:
        if time.monotonic() > self.deadline:
            return
        ws = self._connection()
        try:
            ws.send(frame)
            while True:  # events the case subscribed to may come first
                reply = orjson.loads(ws.recv(timeout=REPLY_TIMEOUT_S))
                if reply.get("type") not in SERVER_EVENTS:
                    break
        except TimeoutError:
            self.report.hung += 1
            self.report.fail(f"no answer in {REPLY_TIMEOUT_S} s to {frame[:100]!r} ({len(frame)} bytes)")
            self.close()
            return
        except ConnectionClosed as exc:
            self.close()
            code = exc.rcvd.code if exc.rcvd is not None else None
            self.report.record(f"closed {code}")
            if not (code == 1009 and len(frame) > LIMIT_BYTES):
                self.report.fail(f"closed with {code} after {frame[:100]!r} ({len(frame)} bytes)")
            return
        kind = reply.get("type")
        self.report.record(str(kind) if kind in REPLIES else "unexpected")
        if kind not in REPLIES:
            self.report.fail(f"answer {reply!r} to {frame[:100]!r}")
        elif len(frame) > LIMIT_BYTES:
            self.report.fail(f"a {len(frame)}-byte frame was answered, not refused")

    def batch(self, examples: int, seed: int) -> None:
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
        )
        @hypothesis_seed(seed)
        @given(frame=FRAMES)
        def run(frame: str | bytes) -> None:
            self.one(frame)

        run()


def _raw_frame(opcode: int, payload: bytes, *, fin: bool = True, rsv: int = 0) -> bytes:
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    head = bytes([(0x80 if fin else 0) | rsv << 4 | opcode])
    if len(payload) < 126:
        return head + bytes([0x80 | len(payload)]) + mask + masked
    return head + bytes([0x80 | 126]) + struct.pack("!H", len(payload)) + mask + masked


def send_upgrade(sock: socket.socket, parts: SplitResult, headers: dict[str, str]) -> None:
    """The client's half of a WebSocket handshake, written by hand (the fuzzers then send raw frames)."""
    key = base64.b64encode(os.urandom(16)).decode()
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    sock.sendall(
        f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade"
        f"\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n".encode()
    )


def _raw_case(url: str, headers: dict[str, str], data: bytes, *, hang_up: bool) -> str:
    """Send ``data`` after a handshake over a plain socket; the server's answer: ``closed N`` or ``dropped``."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=REPLY_TIMEOUT_S) as sock:
        send_upgrade(sock, parts, headers)
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            chunk = sock.recv(65536)
            if not chunk:
                return "refused"
            buffer += chunk
        sock.sendall(data)
        if hang_up:
            return "hung up"
        buffer = buffer.split(b"\r\n\r\n", 1)[1]
        while True:  # skip server.hello; the server must close (0x88) with a code
            while len(buffer) < 2 or len(buffer) < 2 + (buffer[1] & 0x7F if buffer[1] & 0x7F < 126 else 2):
                chunk = sock.recv(65536)
                if not chunk:
                    return "dropped"
                buffer += chunk
            length, start = buffer[1] & 0x7F, 2
            if length == 126:
                length, start = struct.unpack("!H", buffer[2:4])[0], 4
            while len(buffer) < start + length:
                chunk = sock.recv(65536)
                if not chunk:
                    return "dropped"
                buffer += chunk
            opcode, payload, buffer = buffer[0] & 0x0F, buffer[start : start + length], buffer[start + length :]
            if opcode == 0x8:
                return f"closed {struct.unpack('!H', payload[:2])[0] if len(payload) >= 2 else None}"


RAW_CASES: tuple[tuple[str, bytes, bool, frozenset[str]], ...] = (
    ("invalid UTF-8 in a text frame", _raw_frame(0x1, b"\xff\xfe\xfd"), False, frozenset({"closed 1007"})),
    ("reserved bits set", _raw_frame(0x1, b"{}", rsv=0b111), False, frozenset({"closed 1002"})),
    ("unknown opcode 0x3", _raw_frame(0x3, b"{}"), False, frozenset({"closed 1002"})),
    ("unmasked frame", bytes([0x81, 2]) + b"{}", False, frozenset({"closed 1002"})),
    ("a frame cut off by a hang-up", _raw_frame(0x1, b"x" * 200)[:50], True, frozenset({"hung up"})),
    ("a fragment never finished", _raw_frame(0x1, b"{", fin=False), True, frozenset({"hung up"})),
)


def _churn(url: str, headers: dict[str, str], connections: int) -> tuple[int, list[str]]:
    """``connections`` clients at once, each saying one thing (or nothing) and leaving."""

    def one(i: int) -> str:
        try:
            with connect(url, additional_headers=headers, open_timeout=10) as ws:
                ws.recv(timeout=REPLY_TIMEOUT_S)
                if i % 2:
                    ws.send('{"type": "client.subscribe", "data": {"types": ["agent.status"]}}')
                    ws.recv(timeout=REPLY_TIMEOUT_S)
            return ""
        except (OSError, TimeoutError, ConnectionClosed, InvalidStatus) as exc:
            return f"connection {i}: {type(exc).__name__}: {exc}"

    with ThreadPoolExecutor(max_workers=32) as pool:
        errors = [e for e in pool.map(one, range(connections)) if e]
    return connections, errors


def _flood(url: str, headers: dict[str, str], messages: int) -> str:
    """Subscribe ``messages`` times without reading, then expect the connection to still answer."""
    with connect(url, additional_headers=headers, open_timeout=10, max_size=None) as ws:
        ws.recv(timeout=REPLY_TIMEOUT_S)
        for i in range(messages):
            ws.send(orjson.dumps({"type": "client.subscribe", "data": {"types": ["agent.status"], "n": i}}).decode())
        ws.send('{"type": "client.unsubscribe", "data": {"types": ["agent.status"]}}')
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            reply: dict[str, Any] = orjson.loads(ws.recv(timeout=REPLY_TIMEOUT_S))
            if reply["type"] == "client.subscribed" and reply["data"]["subscribed"] == []:
                return ""
        return "the flood's last answer never came"


def fuzz_ws(
    url: str,
    *,
    cases: int,
    seconds: float,
    headers: dict[str, str] | None = None,
    seed: int = 0,
    connections: int = 100,
    flood: int = 1000,
) -> SurfaceReport:
    report = SurfaceReport("websocket")
    headers = dict(headers or {})
    listener = _Listener(url, headers)
    listener.start()
    runner = _Runner(url, headers, report, time.monotonic() + seconds)
    report.operations = 1
    try:
        for round_ in range(1_000_000):
            if report.cases >= cases or time.monotonic() > runner.deadline:
                break
            runner.batch(50, seed + round_)
        runner.close()
        for name, data, hang_up, expected in RAW_CASES:
            outcome = _raw_case(url, headers, data, hang_up=hang_up)
            report.record(outcome)
            if outcome not in expected:
                report.fail(f"{name}: {outcome}, expected {' or '.join(sorted(expected))}")
        made, errors = _churn(url, headers, connections)
        report.cases += made - 1
        report.record("churned")
        for error in errors:
            report.fail(error)
        if problem := _flood(url, headers, flood):
            report.fail(problem)
        report.record("flooded")
    finally:
        listener.stop.set()
        listener.join(REPLY_TIMEOUT_S * 3)
    if listener.error or listener.events == 0 or listener.longest_gap > 3.0:
        report.fail(
            f"the well-behaved subscriber got {listener.events} events, longest gap "
            f"{listener.longest_gap:.1f} s, {listener.error or 'no error'}"
        )
    return report
