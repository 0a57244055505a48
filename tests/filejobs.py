"""What the file-job tests share: a served engine with a job root, and a client for its jobs."""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Any

import httpx
import orjson
import psutil
from websockets.sync.client import connect

from tests.served import start_served, stop_served

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from websockets.sync.client import ClientConnection

    from tests.served import Served

FINISHED = ("done", "failed", "cancelled")
BLOCK = 64 * 1024  # small blocks: a few MiB make dozens of them


@contextlib.contextmanager
def served_with_root(workdir: Path, **env: str) -> Iterator[tuple[Served, Path]]:
    root = workdir / "files"
    root.mkdir(exist_ok=True)
    settings: dict[str, Any] = {"SIGMAVAULT_JOB_ROOTS": str(root), "SIGMAVAULT_JOB_BLOCK_BYTES": str(BLOCK), **env}
    served = start_served(workdir, 30, **settings)
    try:
        yield served, root
    finally:
        code = stop_served(served)
        assert code == 0, served.output()[-3000:]


class JobsClient:
    def __init__(self, served: Served) -> None:
        self.served = served
        self.http = httpx.Client(base_url=served.http, headers=served.headers, timeout=30)

    def close(self) -> None:
        self.http.close()

    def start(self, **body: Any) -> dict[str, Any]:
        answer = self.http.post("/api/v1/compression/jobs", json=body)
        assert answer.status_code == 200, answer.text
        job: dict[str, Any] = answer.json()
        assert job["state"] in ("queued", "running")
        return job

    def refused(self, status: int, **body: Any) -> dict[str, Any]:
        answer = self.http.post("/api/v1/compression/jobs", json=body)
        assert answer.status_code == status, answer.text
        error: dict[str, Any] = answer.json()["error"]
        return error

    def get(self, job_id: str) -> dict[str, Any]:
        answer = self.http.get(f"/api/v1/compression/jobs/{job_id}")
        assert answer.status_code == 200, answer.text
        job: dict[str, Any] = answer.json()
        return job

    def wait(self, job_id: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.get(job_id)
            if job["state"] in FINISHED:
                return job
            time.sleep(0.02)
        raise AssertionError(f"job {job_id} still {job['state']} after {timeout} s")

    def run(self, **body: Any) -> dict[str, Any]:
        return self.wait(self.start(**body)["id"])

    def until(self, job_id: str, predicate: Any, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.get(job_id)
            if predicate(job):
                return job
            assert job["state"] not in FINISHED, f"job ended before the condition: {job}"
            time.sleep(0.005)
        raise AssertionError(f"job {job_id}: condition not met in {timeout} s")

    def blocks_in_flight(self, worker: int) -> int:
        """Tasks routed to ``worker`` and not yet answered (the client's own count, GET /api/v1/swarm)."""
        workers = self.http.get("/api/v1/swarm").json()["workers"]
        return int(next(w for w in workers if w["id"] == worker)["inflight"])


@contextlib.contextmanager
def progress_events(served: Served) -> Iterator[ClientConnection]:
    with connect(
        f"ws://127.0.0.1:{served.http_port}/ws", additional_headers=served.headers, open_timeout=5, max_size=None
    ) as ws:
        assert orjson.loads(ws.recv(timeout=5))["type"] == "server.hello"
        ws.send(orjson.dumps({"type": "client.subscribe", "data": {"types": ["compression.progress"]}}).decode())
        assert orjson.loads(ws.recv(timeout=5))["type"] == "client.subscribed"
        yield ws


def events_until_done(ws: ClientConnection, job_id: str, timeout: float = 60) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = orjson.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        data = message["data"]
        if message["type"] == "compression.progress" and data.get("id") == job_id:
            events.append({**data, "_ts": message["ts"]})
            if data["state"] in FINISHED:
                return events
    raise AssertionError(f"no final event for {job_id} in {timeout} s")


def engine_processes(served: Served) -> dict[str, psutil.Process]:
    """The engine's children by name; one that exits between the listing and its name is left out (a
    worker being replaced: callers poll until the new one shows)."""
    found = {}
    for proc in psutil.Process(served.proc.pid).children():
        try:
            found[proc.name()] = proc
        except psutil.NoSuchProcess:
            continue
    return found


def leftovers(root: Path) -> list[str]:
    """Temporary outputs (``.<name>.job-….part``) anywhere under ``root``."""
    return sorted(str(p) for p in root.rglob(".*.part"))
