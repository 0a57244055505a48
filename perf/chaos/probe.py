"""What the chaos runs look at: the engine's own tables (mapped read-only, engine/core/attach.py), its status
API and /metrics, and whether its ports answer.

Nothing here sends a task. The tables are read straight from the control segment, so a worker's
death and its successor's READY are seen the moment the supervisor writes them, without a request.
"""

from __future__ import annotations

import re
import socket
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from engine.core.attach import AttachedEngine, control_segments
from ipc.segment import segment_owner

if TYPE_CHECKING:
    from perf.procs import Served

POLL_S = 0.001
IDLE_METRICS = (
    "sigmavault_free_slots",
    "sigmavault_inflight_tasks",
    "sigmavault_queued_tasks",
    "sigmavault_ring_occupancy",
    "sigmavault_worker_lost_tasks",
)
_METRIC = re.compile(r"^([a-z_]+)(\{[^}]*\})? ([0-9.eE+-]+|NaN)$")


def control_segment_of(pid: int) -> str:
    names = [n for n in control_segments() if segment_owner(n) == pid]
    if not names:
        raise RuntimeError(f"no control segment of engine pid {pid} in /dev/shm")
    return names[0]


class Tables:
    """The engine's metric tables as its supervisor and client write them (``with Tables(pid) as t``)."""

    def __init__(self, supervisor_pid: int) -> None:
        self.engine = AttachedEngine(control_segment_of(supervisor_pid))
        self.n_slots = int(self.engine.header["n_slots"])
        self.n_workers = int(self.engine.header["n_workers"])

    def __enter__(self) -> Tables:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.engine.close()

    def workers(self) -> list[dict[str, Any]]:
        assert self.engine.table is not None
        return self.engine.table.worker_rows()

    def client(self) -> dict[str, int]:
        assert self.engine.table is not None
        return self.engine.table.client_row()

    def rings(self) -> list[tuple[int, int]]:
        return self.engine.ring_occupancy()

    def wait_worker_back(self, index: int, old_pid: int, timeout: float) -> float | None:
        """Seconds until worker ``index`` has a new pid and is READY (from now), or None."""
        started = time.monotonic()
        deadline = started + timeout
        while time.monotonic() < deadline:
            row = self.workers()[index]
            if row["pid"] not in (old_pid, 0) and row["state"] == "ready":
                return time.monotonic() - started
            time.sleep(POLL_S)
        return None


def metrics(http: str, headers: dict[str, str], timeout: float = 5) -> dict[str, float]:
    """/metrics as ``{"name{labels}": value}`` (enough for gauges and counters)."""
    text = httpx.get(f"{http}/metrics", headers=headers, timeout=timeout).text
    out = {}
    for line in text.splitlines():
        match = _METRIC.match(line)
        if match:
            out[match.group(1) + (match.group(2) or "")] = float(match.group(3))
    return out


@dataclass
class Idle:
    """The accounting once the load is gone: every slot free, nothing in flight or queued, rings empty."""

    ok: bool = False
    waited_s: float = 0.0
    client_row: dict[str, int] = field(default_factory=dict)
    rings: list[tuple[int, int]] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    status: dict[str, Any] = field(default_factory=dict)
    why: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "waited_s": round(self.waited_s, 3),
            "client_row": self.client_row,
            "rings": self.rings,
            "metrics": self.metrics,
            "status": self.status,
            "why": self.why,
        }


def _why_busy(tables: Tables, served: Served) -> tuple[str, Idle]:
    idle = Idle(client_row=tables.client(), rings=tables.rings())
    row, n = idle.client_row, tables.n_slots
    reasons = []
    if (row["inflight"], row["queued"], row["slots_free"]) != (0, 0, n):
        reasons.append(
            f"client row: inflight {row['inflight']}, queued {row['queued']}, slots_free {row['slots_free']} of {n}"
        )
    if any(sub or comp for sub, comp in idle.rings):
        reasons.append(f"rings not empty: {idle.rings}")
    try:
        found = metrics(served.http, served.headers)
        idle.metrics = {k: v for k, v in found.items() if k.startswith(IDLE_METRICS)}
        status = httpx.get(f"{served.http}/api/v1/system/status", headers=served.headers, timeout=5).json()
    except (httpx.HTTPError, ValueError) as exc:
        return f"the API did not answer: {type(exc).__name__}", idle
    idle.status = {k: status.get(k) for k in ("state", "inflight", "queued", "workers_ready", "workers_total")}
    if idle.metrics.get("sigmavault_free_slots") != n:
        reasons.append(f"/metrics sigmavault_free_slots {idle.metrics.get('sigmavault_free_slots')} of {n}")
    reasons += [
        f"/metrics {name} {idle.metrics.get(name)}"
        for name in ("sigmavault_inflight_tasks", "sigmavault_queued_tasks")
        if idle.metrics.get(name) != 0
    ]
    if any(v for k, v in idle.metrics.items() if k.startswith("sigmavault_ring_occupancy")):
        reasons.append("/metrics ring occupancy not 0")
    if idle.status.get("inflight") or idle.status.get("queued") or idle.status.get("state") != "ok":
        reasons.append(f"status API: {idle.status}")
    return "; ".join(reasons), idle


def wait_idle(tables: Tables, served: Served, timeout: float = 15.0) -> Idle:
    """Poll until the tables, /metrics and the status API all say idle (the client row is refreshed
    every 100 ms; jobs and streams that were cut short take a moment to give their slots back)."""
    started = time.monotonic()
    while True:
        why, idle = _why_busy(tables, served)
        idle.waited_s = time.monotonic() - started
        if not why:
            idle.ok = True
            return idle
        if idle.waited_s > timeout:
            idle.why = why
            return idle
        time.sleep(0.1)


def http_answers(port: int, path: str = "/healthz", timeout: float = 0.25) -> int:
    """The status code of one GET on a fresh connection, 0 when nothing answered in ``timeout``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
            head = sock.recv(64)
    except OSError:
        return 0
    parts = head.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def grpc_serving(target: str, timeout: float = 0.25) -> bool:
    """gRPC health says SERVING (a fresh channel each time: the point is whether the port answers)."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    try:
        with grpc.insecure_channel(target) as channel:
            answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=timeout)
    except grpc.RpcError:
        return False
    return bool(answer.status == health_pb2.HealthCheckResponse.SERVING)
