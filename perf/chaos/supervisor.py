"""Phase 3: the supervisor SIGKILLed with a file job running, then the next start on the same data dir.

Checks: every child (workers, frontend, multiprocessing's resource tracker) exits by itself, the
frontend and workers on the PR_SET_PDEATHSIG signal the kernel sends them; the next ``engined serve``
on the same data directory comes up, no segment of the dead engine is left in /dev/shm, and the job
is listed failed "interrupted", its temporary file gone, with a log line naming it.
"""

from __future__ import annotations

import os
import signal
import time
from typing import TYPE_CHECKING, Any

import httpx
import psutil

from ipc.segment import engine_segments, segment_owner, stale_segments
from perf.chaos.filecheck import start_running_job, wait_job, write_source
from perf.chaos.report import PhaseReport

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from perf.procs import Served

CHILDREN_TIMEOUT_S = 30.0


def start_slow_job(served: Served, root: Path, size: int = 32 << 20) -> str:
    source = root / "killed-source.bin"
    write_source(source, size, seed=13)
    return start_running_job(served.http, served.headers, source, root / "killed.zst", level=19)


def children_gone(children: list[psutil.Process], timeout: float) -> tuple[float | None, list[str]]:
    """Seconds until none of ``children`` runs any more (zombies count as gone), and those left."""
    started = time.monotonic()

    def alive() -> list[psutil.Process]:
        out = []
        for child in children:
            try:
                if child.is_running() and child.status() != psutil.STATUS_ZOMBIE:
                    out.append(child)
            except psutil.NoSuchProcess:
                pass
        return out

    while time.monotonic() - started < timeout:
        if not alive():
            return time.monotonic() - started, []
        time.sleep(0.01)
    left = []
    for child in alive():
        left.append(f"{child.pid} {child.name()}")
        child.kill()
    return None, left


def kill_everything(served: Served) -> None:
    """SIGKILL the supervisor and every descendant at once (``systemctl kill -s KILL``, an OOM kill of the
    cgroup): nobody is left to remove the shared memory, not even multiprocessing's resource tracker."""
    procs = [psutil.Process(served.proc.pid), *psutil.Process(served.proc.pid).children(recursive=True)]
    for proc in procs:
        proc.send_signal(signal.SIGSTOP)  # frozen first: none can react to another's death
    for proc in procs:
        proc.kill()
    served.proc.wait(10)
    psutil.wait_procs(procs[1:], timeout=10)


def run(served: Served, root: Path, start_next: Callable[[], Served]) -> tuple[PhaseReport, Served]:
    """Kill ``served``'s supervisor, start the next engine on its data directory, then kill that one's
    whole process group at once and start a third; returns the report and the engine running at the end."""
    report = PhaseReport("supervisor SIGKILL")
    job_id = start_slow_job(served, root)
    pid = served.proc.pid
    children = psutil.Process(pid).children(recursive=True)
    names = {c.pid: c.name() for c in children}
    os.kill(pid, signal.SIGKILL)
    served.proc.wait(10)
    gone_s, left = children_gone(children, CHILDREN_TIMEOUT_S)
    stale_before = [n for n in stale_segments() if segment_owner(n) == pid]
    following = start_next()
    left_after = [n for n in engine_segments() if segment_owner(n) == pid]
    with httpx.Client(base_url=following.http, headers=following.headers, timeout=30) as http:
        job = wait_job(http, job_id, timeout=30)
    logged = [
        line
        for s in (served, following)
        for line in s.output().splitlines()
        if job_id in line and "interrupted" in line
    ]
    temporaries = sorted(p.name for p in root.glob(".*.part"))
    # the group killed at once leaves its segments: the start after it must reclaim them
    kill_everything(following)
    group_left = [n for n in engine_segments() if segment_owner(n) == following.proc.pid]
    third = start_next()
    group_after = [n for n in engine_segments() if segment_owner(n) == following.proc.pid]
    report.figures = {
        "children": sorted(names.values()),
        "children_gone_s": gone_s,
        "left_running": left,
        "segments_stale_before_restart": stale_before,
        "segments_left_after_restart": left_after,
        "job": {k: job.get(k) for k in ("id", "state", "error_code", "error")},
        "log_lines": logged,
        "temporaries": temporaries,
        "group_kill_segments_left": group_left,
        "group_kill_segments_after_next_start": group_after,
        "reclaim_logged": [x for x in third.output().splitlines() if "stale" in x.lower()],
    }
    _judge(report, report.figures, (root / "killed.zst").exists())
    return report, third


def _judge(report: PhaseReport, f: dict[str, Any], destination_exists: bool) -> None:
    gone = f["children_gone_s"]
    children = f"{len(f['children'])} children ({', '.join(f['children'])})"
    report.check(
        "every child exits by itself",
        gone is not None,
        f"{children} gone {gone:.2f} s after the kill"
        if gone is not None
        else f"still running after {CHILDREN_TIMEOUT_S:g} s: {f['left_running']}",
    )
    report.check(
        "next start reclaims the shared memory",
        not f["segments_left_after_restart"]
        and bool(f["group_kill_segments_left"])
        and not f["group_kill_segments_after_next_start"]
        and bool(f["reclaim_logged"]),
        f"supervisor killed: {len(f['segments_stale_before_restart'])} segments left before the next start "
        f"(the resource tracker removes them once the last child is gone), "
        f"{len(f['segments_left_after_restart'])} after; whole group killed at once: "
        f"{len(f['group_kill_segments_left'])} left, {len(f['group_kill_segments_after_next_start'])} after "
        f"the next start",
    )
    job = f["job"]
    report.check(
        "the job is reported interrupted",
        job["state"] == "failed" and job["error_code"] == "interrupted" and bool(f["log_lines"]),
        f"{job['state']} {job['error_code']}: {job['error']}; log: {f['log_lines'][:2]}",
    )
    report.check(
        "no partial output",
        not f["temporaries"] and not destination_exists,
        f"temporaries {f['temporaries']}, destination exists: {destination_exists}",
    )
