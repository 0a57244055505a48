"""The HTTP API of a real ``engined serve``: every endpoint, and bad input for each."""

from __future__ import annotations

import base64
import hashlib
import os
import re
from typing import TYPE_CHECKING

import httpx
import lz4.frame
import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.served import Served

pytestmark = pytest.mark.multiprocess
SLOT = (1 << 20) + 16 * 1024  # SIGMAVAULT_SLOT_BYTES by default: a 1 MiB file-job block and its output fit
TEN_PATHS = [
    "/api/v1/system/status",
    "/api/v1/system/metrics",
    "/api/v1/storage/pools",
    "/api/v1/storage/disks",
    "/api/v1/agents",
    "/api/v1/agents/{id}/task",
    "/api/v1/compression/stats",
    "/api/v1/compression/jobs",
    "/api/v1/encryption/status",
    "/api/v1/network/phantommesh",
]


@pytest.fixture
def http(served: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.http, headers=served.headers, timeout=10) as client:
        yield client


def task(http: httpx.Client, agent: int | str, body: object) -> httpx.Response:
    return http.post(f"/api/v1/agents/{agent}/task", json=body)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]


def test_system_status_and_metrics(http: httpx.Client) -> None:
    status = http.get("/api/v1/system/status").json()
    assert status["state"] == "ok"
    assert status["workers_total"] == status["workers_ready"] == 2
    assert status["agents_total"] == 40
    assert all(w["pid"] > 0 and w["state"] == "ready" for w in status["workers"])
    metrics = http.get("/api/v1/system/metrics").json()
    assert metrics["memory"]["total"] > 0
    assert len(metrics["load_average"]) == 3
    assert {k["kind"] for k in metrics["engine"]["kinds"]} >= {"echo", "compress"}


def test_storage_is_real_or_honestly_absent(http: httpx.Client) -> None:
    pools = http.get("/api/v1/storage/pools").json()
    assert {s["name"] for s in pools["sources"]} == {"zfs", "mdraid", "btrfs"}
    for source in pools["sources"]:
        assert source["available"] or source["detail"]
    disks = http.get("/api/v1/storage/disks").json()
    lsblk = next(s for s in disks["sources"] if s["name"] == "lsblk")
    if lsblk["available"]:
        assert disks["disks"], "lsblk ran but listed nothing"
        assert all(d["path"].startswith("/dev/") for d in disks["disks"])
        assert all("smart" in d and "io" in d for d in disks["disks"])


def test_agents_have_live_status(http: httpx.Client) -> None:
    agents = http.get("/api/v1/agents").json()["agents"]
    assert [a["id"] for a in agents] == list(range(40))
    assert {a["role"] for a in agents} == {"compression", "crypto", "integrity", "general"}
    assert all(a["status"] in ("idle", "busy", "error", "restarting") for a in agents)
    before = agents[5]["tasks"]
    assert task(http, 5, {"kind": "echo", "data": b64(b"x")}).status_code == 200
    after = http.get("/api/v1/agents").json()["agents"][5]
    assert after["tasks"] == before + 1
    assert after["recent_tasks"][0]["kind"] == "echo"


def test_dispatch_every_kind(http: httpx.Client) -> None:
    agents = http.get("/api/v1/agents").json()["agents"]
    general = next(a["id"] for a in agents if a["role"] == "general")
    data = os.urandom(2000) + bytes(20000)
    packed = task(http, general, {"kind": "compress", "data": b64(data), "params": {"codec": "zstd", "level": 5}})
    assert packed.status_code == 200, packed.text
    body = packed.json()
    assert body["agent_id"] == general
    assert body["bytes_in"] == len(data) > body["bytes_out"]
    assert body["timing"]["service_us"] > 0
    unpacked = task(http, general, {"kind": "decompress", "data": body["data"], "params": {"codec": "zstd"}})
    assert base64.b64decode(unpacked.json()["data"]) == data
    sealed = task(http, general, {"kind": "encrypt", "data": b64(b"secret")}).json()["data"]
    assert base64.b64decode(task(http, general, {"kind": "decrypt", "data": sealed}).json()["data"]) == b"secret"
    digest = task(http, general, {"kind": "hash", "data": b64(data), "params": {"algo": "sha256"}}).json()
    assert base64.b64decode(digest["data"]) == hashlib.sha256(data).digest()
    parity = task(http, general, {"kind": "parity", "data": b64(b"\x01\x02\x03\x04"), "params": {"k": 2}}).json()
    assert base64.b64decode(parity["data"]) == b"\x02\x06"


def test_bad_task_requests(http: httpx.Client) -> None:
    agents = http.get("/api/v1/agents").json()["agents"]
    compression = next(a["id"] for a in agents if a["role"] == "compression")
    url = f"/api/v1/agents/{compression}/task"
    assert_error(http.post(url, content=b"{not json"), 400, "malformed_json")
    assert_error(http.post(url, content=b"[1, 2]"), 400, "invalid_request")
    assert_error(task(http, compression, {"kind": 7}), 400, "invalid_request")
    assert_error(task(http, compression, {"kind": "echo", "data": 5}), 400, "invalid_request")
    assert_error(task(http, compression, {"kind": "echo", "data": "!!!"}), 400, "invalid_base64")
    assert_error(task(http, compression, {"kind": "echo", "params": []}), 400, "invalid_request")
    assert_error(task(http, compression, {"kind": "echo", "extra": 1}), 400, "invalid_request")
    assert_error(task(http, compression, {"kind": "echo", "timeout_ms": -1}), 400, "invalid_request")
    assert_error(task(http, compression, {"kind": "frobnicate"}), 400, "unknown_kind")
    assert_error(
        task(http, compression, {"kind": "compress", "params": {"codec": "zstd", "level": 99}}), 400, "invalid_argument"
    )
    assert_error(task(http, compression, {"kind": "echo", "params": {"level": 1}}), 400, "invalid_argument")
    assert_error(task(http, compression, {"kind": "encrypt", "data": b64(b"x")}), 400, "not_capable")
    assert_error(task(http, compression, {"kind": "decompress", "data": b64(b"garbage")}), 400, "corrupt_input")
    assert_error(task(http, 999, {"kind": "echo"}), 404, "unknown_agent")
    assert_error(task(http, "abc", {"kind": "echo"}), 404, "unknown_agent")
    too_big = b64(bytes(SLOT + 1))
    assert_error(task(http, compression, {"kind": "echo", "data": too_big}), 413, "too_large")
    assert_error(http.post(url, content=b"x" * (2 << 20)), 413, "too_large")

    def chunked() -> Iterator[bytes]:  # no Content-Length: the server must stop reading by itself
        for _ in range(64):
            yield b"x" * 65536

    assert_error(http.post(url, content=chunked()), 413, "too_large")
    bomb = lz4.frame.compress(bytes(4 << 20))
    assert_error(task(http, compression, {"kind": "decompress", "data": b64(bomb)}), 413, "too_large")
    crypto = next(a["id"] for a in agents if a["role"] == "crypto")
    sealed = bytearray(base64.b64decode(task(http, crypto, {"kind": "encrypt", "data": b64(b"abc")}).json()["data"]))
    sealed[-1] ^= 1
    assert_error(task(http, crypto, {"kind": "decrypt", "data": b64(bytes(sealed))}), 400, "auth_failed")
    slow = {
        "kind": "compress",
        "data": b64(os.urandom(1 << 19)),
        "params": {"codec": "zstd", "level": 22},
        "timeout_ms": 1,
    }
    assert_error(task(http, compression, slow), 504, "deadline_exceeded")
    assert http.get("/readyz").status_code == 200  # the engine is fine after all of that


def test_compression_stats_and_jobs(http: httpx.Client) -> None:
    agents = http.get("/api/v1/agents").json()["agents"]
    general = next(a["id"] for a in agents if a["role"] == "general")
    task(http, general, {"kind": "compress", "data": b64(bytes(10000)), "params": {"codec": "lz4"}})
    stats = http.get("/api/v1/compression/stats").json()
    assert stats["compress_tasks"] >= 1
    assert 0 < stats["ratio"] < 1
    jobs = http.get("/api/v1/compression/jobs", params={"limit": 5}).json()["jobs"]
    assert jobs[0]["kind"] == "compress"
    assert jobs[0]["state"] == "done"
    assert jobs[0]["bytes_in"] == 10000
    for bad in ("x", 0, -1, 257, ""):  # every one says the rule with its numbers
        answer = http.get("/api/v1/compression/jobs", params={"limit": bad})
        assert_error(answer, 400, "invalid_argument")
        assert "must be an integer in 1-256" in answer.json()["error"]["message"]
        assert answer.json()["error"]["metadata"] == {"min": "1", "max": "256"}
    twice = http.get("/api/v1/compression/jobs?limit=abc&limit=")  # the last one used to win, as the default
    assert_error(twice, 400, "invalid_argument")
    assert "limit is given 2 times" in twice.json()["error"]["message"]
    assert_error(http.get("/api/v1/agents/0/tasks?page_token=a&page_token=b"), 400, "invalid_argument")


def test_encryption_and_mesh(http: httpx.Client, served: Served) -> None:
    enc = http.get("/api/v1/encryption/status").json()
    key = (served.data_dir / "keys" / "engine.key").read_bytes()
    assert enc["algorithm"] == "AES-256-GCM"
    assert enc["key_fingerprint"] == hashlib.sha256(key).hexdigest()[:16]
    assert key.hex()[:16] not in str(enc)
    assert isinstance(enc["pq_available"], bool)
    mesh = http.get("/api/v1/network/phantommesh").json()
    assert any(i["name"] == "lo" and "127.0.0.1" in i["addresses"] for i in mesh["interfaces"])
    wireguard = mesh["sources"][0]
    assert wireguard["name"] == "wireguard"
    assert wireguard["available"] or "not" in wireguard["detail"]


def test_health_ready_metrics_openapi(http: httpx.Client) -> None:
    assert http.get("/healthz").json() == {"status": "ok"}
    assert http.get("/readyz").json() == {"ready": True, "reasons": []}
    text = http.get("/metrics").text
    assert 'sigmavault_agent_tasks_total{agent="0"' in text
    assert "sigmavault_worker_ready" in text
    assert "sigmavault_http_request_seconds_bucket" in text
    # every domain's and watcher's forever task, listed from its start (0 until it fails and is restarted)
    tasks = re.findall(r'^sigmavault_background_restarts_total\{task="([\w.]+)"\} \d', text, re.M)
    assert {"storage.snapshots", "events.metrics", "events.agents", "events.storage"} <= set(tasks), text
    doc = http.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert set(TEN_PATHS) <= set(doc["paths"])
    assert_error(http.get("/api/v1/nope"), 404, "not_found")
    assert_error(http.delete("/api/v1/agents"), 405, "method_not_allowed")
