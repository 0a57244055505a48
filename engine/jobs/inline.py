"""Compression jobs: one per compress/decompress DispatchTask, one per BlockService stream.

The frontend is the engine's only client, so it sees every compression job start, progress and
end; it keeps the last ``limit`` of them and tells the event hub (``compression.progress``),
at most every ``progress_interval_s`` per running job plus once when the job ends.
"""

from __future__ import annotations

import itertools
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from engine.errors import BadRequest

Publish = Callable[[str, dict[str, Any]], None]


@dataclass
class Job:
    id: str
    kind: str
    codec: str
    source: str
    state: str = "running"
    blocks: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    errors: int = 0
    started_unix_ns: int = 0
    finished_unix_ns: int = 0
    error: str = ""
    _last_event_ns: int = 0

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        del out["_last_event_ns"]
        return out


class JobTracker:
    def __init__(self, publish: Publish, *, limit: int = 256, progress_interval_s: float = 0.25) -> None:
        self._publish = publish
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._limit = limit
        self._interval_ns = int(progress_interval_s * 1e9)
        self._ids = itertools.count(1)
        self.total = 0

    def start(self, kind: str, codec: str, source: str) -> Job:
        job = Job(f"job-{next(self._ids)}", kind, codec, source, started_unix_ns=time.time_ns())
        self._jobs[job.id] = job
        self.total += 1
        while len(self._jobs) > self._limit:
            oldest = next(iter(self._jobs))
            if self._jobs[oldest].state == "running" and len(self._jobs) <= 2 * self._limit:
                self._jobs.move_to_end(oldest)  # keep running jobs visible; bounded at twice the limit
                break
            del self._jobs[oldest]
        return job

    def block_done(self, job: Job, bytes_in: int, bytes_out: int, failed: bool = False) -> None:
        job.blocks += 1
        job.bytes_in += bytes_in
        job.bytes_out += bytes_out
        job.errors += int(failed)
        now = time.monotonic_ns()
        if now - job._last_event_ns >= self._interval_ns:
            job._last_event_ns = now
            self._publish("compression.progress", job.as_dict())

    def finish(self, job: Job, error: str = "", *, cancelled: bool = False) -> None:
        """End a job: done, failed (``error`` says why) or cancelled (the caller went away)."""
        job.state = "cancelled" if cancelled else "failed" if error else "done"
        job.error = error or ("cancelled by the caller" if cancelled else "")
        job.finished_unix_ns = time.time_ns()
        self._publish("compression.progress", job.as_dict())

    def recent(self, limit: int) -> list[dict[str, Any]]:
        """The newest ``limit`` jobs (1-JOB_LIMIT_MAX), newest first."""
        if not 1 <= limit <= JOB_LIMIT_MAX:
            raise BadRequest(
                f"limit must be in 1-{JOB_LIMIT_MAX}, got {limit}", metadata={"min": 1, "max": JOB_LIMIT_MAX}
            )
        jobs = list(self._jobs.values())[-limit:]
        return [j.as_dict() for j in reversed(jobs)]

    @property
    def running(self) -> int:
        return sum(1 for j in self._jobs.values() if j.state == "running")


JOB_LIMIT_MAX = 256


def compression_stats(kinds: dict[str, dict[str, int]], jobs: JobTracker) -> dict[str, Any]:
    """CompressionStats from the workers' per-kind counters and the job tracker."""
    comp, decomp = kinds["compress"], kinds["decompress"]

    def rate(row: dict[str, int], field: str) -> float:
        return round(row[field] / row["busy_ns"] * 1e3, 3) if row["busy_ns"] else 0.0  # bytes/ns -> MB/s

    return {
        "compress_tasks": comp["tasks"],
        "decompress_tasks": decomp["tasks"],
        "errors": comp["errors"] + decomp["errors"],
        "bytes_in": comp["bytes_in"],
        "bytes_out": comp["bytes_out"],
        "ratio": round(comp["bytes_out"] / comp["bytes_in"], 4) if comp["bytes_in"] else 0.0,
        "compress_mb_per_s": rate(comp, "bytes_in"),
        "decompress_mb_per_s": rate(decomp, "bytes_out"),
        "jobs_running": jobs.running,
        "jobs_total": jobs.total,
    }
