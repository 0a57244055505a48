"""The load of a chaos run: perf/load's mixed scenario, open loop at a fixed rate, and what its outcomes mean.

The harness (perf/load) drives gRPC unary tasks, gRPC block streams, HTTP (status and tasks),
WebSocket subscribers and file jobs from its own processes; tasks name no agent (``route="any"``),
as most callers do, so the engine routes around a restarting worker and only tasks already in flight
on a killed one can fail. Every outcome the harness records is a code; here each code is sorted into
what it means for the chaos checks.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from perf.load.cli import run_load
from perf.load.spec import LoadSpec

if TYPE_CHECKING:
    import threading

    from perf.procs import Served

# codes that mean the request never got an answer in its deadline (the harness's own, and the engine's)
HUNG = ("timeout", "unfinished", "not_sent_by_end", "DEADLINE_EXCEEDED", "HTTP 504")
# a connection the frontend's death cut (HTTP, gRPC, the block stream, a WebSocket subscriber)
# (``INTERNAL client_side``: grpc's asyncio client failing a write on a stream that just lost its connection)
TRANSPORT = (
    "ConnectionResetError",
    "ConnectionRefusedError",
    "BrokenPipeError",
    "IncompleteReadError",
    "OSError",
    "stream_ended",
    "closed_by_server",
    "UNAVAILABLE",
    "INTERNAL client_side",
)


def classify(code: str) -> str:
    """lost (the task died with its worker), retryable (another 503 / UNAVAILABLE), transport (the
    connection was cut), hung (no answer in its deadline), or other (a failure that should not happen)."""
    if code.endswith("worker_lost"):
        return "lost"
    if code.startswith(HUNG):
        return "hung"
    if code.startswith(("HTTP 503", "UNAVAILABLE ")):
        return "retryable"
    if code in TRANSPORT or code.startswith("client_error:"):
        return "transport"
    return "other"


@dataclass(frozen=True)
class LoadPlan:
    rate: float = 150.0  # arrivals per second over every operation
    seconds: float = 60.0
    timeout_s: float = 10.0  # each request's deadline
    file_jobs: float = 0.1  # weight of file jobs in the blend (grpc-unary 4, http 4, grpc-stream 1)
    job_bytes: int = 4 << 20
    ws_subscribers: int = 2
    block_bytes: int = 256 * 1024  # grpc-stream blocks
    interval_s: float = 1.0  # the timeline's resolution (the soak compares whole minutes)


def spec_for(served: Served, plan: LoadPlan, job_dir: str) -> LoadSpec:
    weights = {
        "grpc-unary": 4.0,
        "http": 4.0,
        "grpc-stream": 1.0,
        "ws": float(plan.ws_subscribers),
        "file-jobs": plan.file_jobs,
    }
    return LoadSpec(
        scenario="mixed",
        host="127.0.0.1",
        grpc_port=served.grpc_port,
        http_port=served.http_port,
        rate=plan.rate,
        duration_s=plan.seconds,
        procs=1,
        weights=weights,
        timeout_s=plan.timeout_s,
        interval_s=plan.interval_s,
        block_bytes=plan.block_bytes,
        job_bytes=plan.job_bytes,
        job_dir=job_dir,
        route="any",
        token=served.token,
    )


def run(served: Served, plan: LoadPlan, job_dir: str, started: threading.Event) -> dict[str, Any]:
    """Run the load (in the calling thread, which must be the main one: the harness handles Ctrl-C);
    ``started`` is set when its first interval closes (the generators are warmed up and measuring)."""

    def progress(row: dict[str, Any], elapsed_s: float) -> None:
        started.set()

    figures, _ = run_load(spec_for(served, plan, job_dir), progress)
    started.set()  # a run shorter than one interval still releases the waiters
    return figures


def outcomes(figures: dict[str, Any]) -> dict[str, Any]:
    """Every operation's failures by code and by class, and the requests that succeeded."""
    by_code: Counter[str] = Counter()
    ok = requests = events = 0
    for name, op in figures["ops"].items():
        by_code.update({f"{name}: {code}": n for code, n in op["errors_by_code"].items()})
        if op["kind"] == "request":
            ok += op["ok"]
            requests += op["requests"]
        else:
            events += op["ok"]
    classes: Counter[str] = Counter()
    for key, n in by_code.items():
        classes[classify(key.split(": ", 1)[1])] += n
    return {
        "requests": requests,
        "ok": ok,
        "events": events,
        "failed": sum(by_code.values()),
        "by_class": dict(classes),
        "by_code": dict(by_code.most_common()),
        "latency_ms": figures["latency_ms"],
        "rate": figures["config"]["rate"],
        "elapsed_s": round(figures["elapsed_s"], 2),
    }
