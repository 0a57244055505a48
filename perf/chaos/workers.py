"""Phase 1: workers SIGKILLed every few seconds under a fixed-rate mixed load.

Checks: no request hung; every failure is retryable (503 / UNAVAILABLE); the failures are exactly the
tasks lost with the killed workers (what callers saw as worker_lost, plus the blocks file jobs sent
again, equals the engine's own ``workers_lost_tasks``); every worker was READY again within a second
of its kill and each kill is one restart in the tables; every verified file job wrote byte-identical
output; and afterwards the accounting is idle (tables, /metrics and the status API agree).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from perf.chaos import load
from perf.chaos.filecheck import VerifiedJobs
from perf.chaos.killer import WorkerKiller
from perf.chaos.probe import Tables, wait_idle
from perf.chaos.report import PhaseReport

if TYPE_CHECKING:
    from perf.procs import Served

BACK_LIMIT_S = 1.0


@dataclass(frozen=True)
class WorkerPlan:
    load: load.LoadPlan
    kill_every_s: float = 3.0
    verified_bytes: int = 16 << 20  # each verified file job's source


def jobs_resent_since(served: Served, since_ns: int) -> tuple[int, int]:
    """(file jobs created since ``since_ns``, blocks they sent again after a worker died), read from the
    engine's job store (read-only): the listing API shows the newest 256, and a minute of load at
    150/s makes several hundred (the 16 MiB verified jobs alone ~500), so it would miss resends."""
    uri = f"file:{Path(served.data_dir) / 'jobs.sqlite3'}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=10)) as db:
        rows = db.execute(
            "SELECT record FROM jobs WHERE category = 'file' AND created_unix_ns >= ?", (since_ns,)
        ).fetchall()
    records = [orjson.loads(row[0]) for row in rows]
    return len(records), sum(int((r.get("result") or {}).get("blocks_resent", 0)) for r in records)


def run(served: Served, job_dir: Path, plan: WorkerPlan) -> PhaseReport:
    report = PhaseReport("worker kills under load")
    since_ns = time.time_ns()
    with Tables(served.proc.pid) as tables:
        before, restarts0 = tables.client(), [w["restarts"] for w in tables.workers()]
        started = threading.Event()
        killer = WorkerKiller(tables, plan.kill_every_s, started)
        verified = VerifiedJobs(served.http, served.headers, job_dir, plan.verified_bytes, started)
        verified.start()
        killer.start()
        try:
            figures = load.run(served, plan.load, str(job_dir), started)
        finally:
            killer.join()
            verified.join()
        idle = wait_idle(tables, served)
        after, restarts1 = tables.client(), [w["restarts"] for w in tables.workers()]
    seen = load.outcomes(figures)
    jobs, resent = jobs_resent_since(served, since_ns)
    engine_lost = after["workers_lost_tasks"] - before["workers_lost_tasks"]
    report.figures = {
        "load": seen,
        "kills": killer.figures(),
        "verified_jobs": verified.figures(),
        "file_jobs": jobs,
        "blocks_resent": resent,
        "engine_workers_lost_tasks": engine_lost,
        "restarts": sum(restarts1) - sum(restarts0),
        "idle": idle.as_dict(),
    }
    _judge(report, seen, killer, verified, engine_lost, resent, idle.ok, idle.why)
    return report


def _judge(
    report: PhaseReport,
    seen: dict[str, Any],
    killer: WorkerKiller,
    verified: VerifiedJobs,
    engine_lost: int,
    resent: int,
    idle: bool,
    why: str,
) -> None:
    classes = seen["by_class"]
    kills = killer.figures()
    report.check(
        "load served",
        seen["ok"] > 0 and seen["requests"] > 0,
        f"{seen['ok']} of {seen['requests']} requests answered OK at {seen['rate']:g}/s, "
        f"{seen['events']} WebSocket events",
    )
    report.check(
        "0 hung", classes.get("hung", 0) == 0, f"{classes.get('hung', 0)} requests without an answer in their deadline"
    )
    bad = {k: v for k, v in seen["by_code"].items() if load.classify(k.split(": ", 1)[1]) not in ("lost",)}
    report.check(
        "every failure retryable",
        not bad,
        f"{seen['failed']} failed, all worker_lost (503 / UNAVAILABLE)"
        if not bad
        else f"failures other than worker_lost: {bad}",
    )
    lost = classes.get("lost", 0)
    report.check(
        "only tasks on the killed workers failed",
        lost + resent == engine_lost,
        f"callers saw {lost} worker_lost + file jobs resent {resent} blocks = {lost + resent}; "
        f"the engine counted {engine_lost} tasks lost with their worker",
    )
    report.check(
        "workers back in under 1 s",
        kills["kills"] > 0 and not kills["not_back"] and (kills["back_ms_max"] or 0) < 1000 * BACK_LIMIT_S,
        f"{kills['kills']} kills; kill to READY max {kills['back_ms_max']} ms, mean "
        f"{kills['back_ms_mean']} ms" + (f"; killer: {killer.error}" if killer.error else ""),
    )
    restarts = report.figures["restarts"]
    report.check(
        "each kill one restart",
        restarts == kills["kills"],
        f"{restarts} restarts in the tables for {kills['kills']} kills",
    )
    v = verified.figures()
    report.check(
        "file jobs byte-identical",
        v["jobs"] > 0 and v["identical"] == v["jobs"],
        f"{v['identical']} of {v['jobs']} jobs of {v['source_bytes'] >> 20} MiB identical after zstd -d, "
        f"{v['blocks_resent']} blocks resent"
        + (f"; {v['failed']}" if v["failed"] else "")
        + (f"; {verified.error}" if verified.error else ""),
    )
    report.check(
        "idle afterwards",
        idle,
        "slots all free, nothing in flight or queued, rings empty (tables, /metrics, status API)" if idle else why,
    )
