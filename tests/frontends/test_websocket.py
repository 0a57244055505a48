"""The /ws event relay of a real ``engined serve`` through a real WebSocket client."""

from __future__ import annotations

import base64
import threading
import time
from typing import TYPE_CHECKING, Any

import httpx
import orjson
import pytest
from websockets.sync.client import ClientConnection, connect

from perf.engine import make_blocks

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.served import Served

pytestmark = pytest.mark.multiprocess


@pytest.fixture
def ws(served: Served) -> Iterator[ClientConnection]:
    with connect(f"ws://127.0.0.1:{served.http_port}/ws", additional_headers=served.headers, open_timeout=5) as conn:
        raw = conn.recv(timeout=5)
        assert isinstance(raw, str)  # every message is a JSON text frame (browsers get strings, not Blobs)
        hello = orjson.loads(raw)
        assert hello["type"] == "server.hello"
        assert set(hello["data"]["events"]) == {
            "system.metrics",
            "agent.status",
            "compression.progress",
            "storage.event",
        }
        yield conn


def send(conn: ClientConnection, message: Any) -> dict[str, Any]:
    conn.send(message if isinstance(message, str) else orjson.dumps(message).decode())
    return orjson.loads(conn.recv(timeout=5))


def wait_for(conn: ClientConnection, kind: str, predicate: Any = lambda d: True, timeout: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        raw = conn.recv(timeout=max(0.01, deadline - time.monotonic()))
        assert isinstance(raw, str)
        message = orjson.loads(raw)
        assert set(message) == {"type", "ts", "data"}
        if message["type"] == kind and predicate(message["data"]):
            return message
    raise AssertionError(f"no {kind} event in {timeout} s")


def test_subscribe_receive_unsubscribe(ws: ClientConnection) -> None:
    ack = send(ws, {"type": "client.subscribe", "data": {"types": ["system.metrics"]}})
    assert ack["type"] == "client.subscribed"
    assert ack["data"]["subscribed"] == ["system.metrics"]
    first = wait_for(ws, "system.metrics")
    assert first["data"]["memory"]["total"] > 0
    assert first["ts"] > 0
    second = wait_for(ws, "system.metrics")
    assert second["ts"] > first["ts"]
    ack = send(ws, {"type": "client.unsubscribe", "data": {"types": ["system.metrics"]}})
    assert ack["data"]["subscribed"] == []


def test_malformed_messages_get_errors_not_disconnects(ws: ClientConnection) -> None:
    assert send(ws, "{nope")["data"]["code"] == "malformed_json"
    assert send(ws, {"type": "client.dance"})["data"]["code"] == "unknown_event_type"
    assert (
        send(ws, {"type": "client.subscribe", "data": {"types": ["disk.melted"]}})["data"]["code"]
        == "unknown_event_type"
    )
    assert (
        send(ws, {"type": "client.subscribe", "data": {"types": "system.metrics"}})["data"]["code"] == "invalid_message"
    )
    assert send(ws, [1, 2])["type"] == "error"
    # still connected and still served
    assert send(ws, {"type": "client.subscribe", "data": {"types": ["agent.status"]}})["type"] == "client.subscribed"


def test_agent_status_and_compression_progress(ws: ClientConnection, served: Served) -> None:
    send(ws, {"type": "client.subscribe", "data": {"types": ["agent.status", "compression.progress"]}})
    agents = httpx.get(f"{served.http}/api/v1/agents", headers=served.headers).json()["agents"]
    agent = next(a["id"] for a in agents if a["role"] == "compression")
    # ~350 ms of zstd-19: the agent is busy across several of the watcher's 100 ms polls
    block = make_blocks(1, 900 * 1024)[0]
    body = {"kind": "compress", "data": base64.b64encode(block).decode(), "params": {"codec": "zstd", "level": 19}}
    url = f"{served.http}/api/v1/agents/{agent}/task"
    worker = threading.Thread(target=lambda: httpx.post(url, headers=served.headers, json=body, timeout=30))
    worker.start()
    try:
        busy = wait_for(ws, "agent.status", lambda d: d["id"] == agent and d["status"] == "busy")
        assert busy["data"]["previous"] in ("idle", "error")
        done = wait_for(ws, "compression.progress", lambda d: d["state"] == "done")
        assert done["data"]["bytes_in"] == len(block)
        wait_for(ws, "agent.status", lambda d: d["id"] == agent and d["status"] == "idle")
    finally:
        worker.join(30)


def test_a_client_that_never_reads_does_not_slow_the_others(served: Served) -> None:
    url = f"ws://127.0.0.1:{served.http_port}/ws"
    with (
        connect(url, additional_headers=served.headers) as stalled,
        connect(url, additional_headers=served.headers) as reader,
    ):
        for conn in (stalled, reader):
            conn.recv(timeout=5)
            send(conn, {"type": "client.subscribe", "data": {"types": ["system.metrics"]}})
        # the stalled client reads nothing from here on; the reader keeps getting every tick
        stamps = [wait_for(reader, "system.metrics", timeout=5)["ts"] for _ in range(5)]
        assert stamps == sorted(stamps)
        assert stamps[-1] - stamps[0] < 5


def test_drain_and_resume_show_in_agent_status_events(ws: ClientConnection, served: Served) -> None:
    send(ws, {"type": "client.subscribe", "data": {"types": ["agent.status"]}})
    with httpx.Client(base_url=served.http, headers=served.headers, timeout=10) as http:
        assert http.post("/api/v1/agents/13/drain").status_code == 200
        try:
            drained = wait_for(ws, "agent.status", lambda d: d["id"] == 13 and d["status"] == "drained")
            assert drained["data"]["name"] and drained["data"]["role"]
        finally:
            assert http.post("/api/v1/agents/13/resume").status_code == 200
        back = wait_for(ws, "agent.status", lambda d: d["id"] == 13 and d["previous"] == "drained")
        assert back["data"]["status"] in ("idle", "busy", "error")


def test_metrics_endpoint_shows_admission_and_rings(served: Served) -> None:
    text = httpx.get(f"{served.http}/metrics", headers=served.headers, timeout=10).text
    for series in (
        "sigmavault_queued_tasks ",
        "sigmavault_inflight_tasks ",
        "sigmavault_queue_limit ",
        "sigmavault_free_slots ",
        'sigmavault_rejected_tasks_total{reason="no_slot"}',
        'sigmavault_ring_occupancy{ring="submission",worker="0"}',
        'sigmavault_ring_occupancy{ring="completion",worker="1"}',
        "sigmavault_admitted_tasks_total",
        'sigmavault_agent_status{agent="0"',
    ):
        assert series in text, series
