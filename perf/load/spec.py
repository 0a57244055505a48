"""LoadSpec: what one ``perf load`` run does, validated once in the parent and pickled to each generator."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field, replace

SCENARIOS = ("grpc-unary", "grpc-stream", "http", "ws", "file-jobs", "mixed")

# Operation names a scenario blends, with their default weights. For ``mixed`` the names are scenarios;
# the ws weight there is a count of subscribers per generator process (its load is set by the server's
# event interval, not by us), and file-jobs is off unless asked for (it needs the file-jobs API).
DEFAULT_WEIGHTS: dict[str, dict[str, float]] = {
    "grpc-unary": {"echo": 1, "compress": 1},
    "grpc-stream": {"block": 1},
    "http": {"status": 1, "task": 1},
    "ws": {"event": 1},
    "file-jobs": {"job": 1},
    "mixed": {"grpc-unary": 4, "http": 4, "grpc-stream": 1, "ws": 2, "file-jobs": 0},
}


class UsageError(Exception):
    """A bad command line or a target that cannot run the scenario: one line, exit code 2."""


@dataclass(frozen=True)
class LoadSpec:
    scenario: str
    host: str = "127.0.0.1"
    grpc_port: int = 9003
    http_port: int = 8001
    rate: float | None = None  # open loop: total arrivals per second over all processes
    concurrency: int | None = None  # closed loop: requests in flight (ws: subscribers)
    duration_s: float | None = None
    requests: int | None = None
    procs: int = 1
    weights: dict[str, float] = field(default_factory=dict)
    timeout_s: float = 10.0  # per request; also bounds the drain at the end
    interval_s: float = 1.0  # timeline resolution and progress report period
    max_inflight: int = 1024  # open loop, per process: beyond it arrivals wait (their latency still counts)
    echo_bytes: int = 1024
    compress_bytes: int = 64 * 1024
    block_bytes: int = 1 << 20
    stream_codec: str = "lz4"
    streams: int = 1  # gRPC streams per generator process (grpc-stream)
    job_bytes: int = 4 << 20
    job_source: str = ""  # file-jobs: a file on the engine's host; empty = one the harness writes
    job_dir: str = ""  # file-jobs: where destinations go; empty = a temporary directory
    ws_subscribers: int = 2  # per process, for mixed when its ws weight is not given
    route: str = "named"  # grpc-unary and http tasks: "named" round-robin over agents, "any": the engine picks
    seed: int = 42
    token: str = field(default="", repr=False)  # the engine's bearer token (every call needs one)

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token}"),) if self.token else ()

    @property
    def auth_header(self) -> str:
        return f"Authorization: Bearer {self.token}\r\n" if self.token else ""

    @property
    def open_loop(self) -> bool:
        return self.rate is not None

    def for_process(self, index: int) -> LoadSpec:
        """This spec's share for generator ``index``: rate, concurrency and request count split evenly."""

        def share(total: int) -> int:
            return total // self.procs + (1 if index < total % self.procs else 0)

        return replace(
            self,
            rate=None if self.rate is None else self.rate / self.procs,
            concurrency=None if self.concurrency is None else share(self.concurrency),
            requests=None if self.requests is None else share(self.requests),
        )


def parse_weights(text: str, scenario: str) -> dict[str, float]:
    """``name=w,name=w`` over the scenario's defaults; unknown names and negative weights are usage errors."""
    weights = dict(DEFAULT_WEIGHTS[scenario])
    if not text:
        return weights
    for part in text.split(","):
        name, sep, raw = part.partition("=")
        name = name.strip()
        if not sep or name not in weights:
            known = ", ".join(weights)
            raise UsageError(f"--weights: expected NAME=WEIGHT with NAME one of {known}, got {part!r}")
        try:
            value = float(raw)
        except ValueError:
            raise UsageError(f"--weights: {name} weight {raw!r} is not a number") from None
        if value < 0:
            raise UsageError(f"--weights: {name} weight must not be negative")
        weights[name] = value
    if not any(value > 0 for value in weights.values()):
        raise UsageError("--weights: at least one weight must be positive")
    return weights


def default_procs(rate: float | None, concurrency: int | None) -> int:
    """Enough generator processes that one Python loop is not the bottleneck, leaving cores to the target.

    One uvloop process drives roughly 3-5 k gRPC or HTTP requests/s; low rates need only one.
    """
    cpus = len(os.sched_getaffinity(0))
    procs = max(1, min(cpus // 2, 8))
    if rate is not None and rate <= 1000:
        procs = 1
    if concurrency is not None:
        procs = min(procs, concurrency)
    return max(1, procs)


def check_host(host: str) -> None:
    try:
        socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError) as exc:
        raise UsageError(f"cannot resolve target {host!r}: {exc.args[-1]}") from None
