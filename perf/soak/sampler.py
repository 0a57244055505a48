"""Sampler: every few seconds, each engine process's memory and open descriptors, and /dev/shm.

A thread of the soak run. Processes are named by what they are (``engined``, ``sv-frontend``,
``sv-worker-0``...; multiprocessing's resource tracker is ``resource_tracker``), so a restarted
worker would show as a new pid under the same name (and is reported). /dev/shm is the engine's own
segments (their count and bytes) and the filesystem's use.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import psutil

from ipc.segment import SHM_DIR, engine_segments, segment_owner


@dataclass
class Sample:
    t_s: float
    rss: dict[str, int]  # process name -> bytes, all resident pages (the shared arena's included)
    anon: dict[str, int]  # process name -> RssAnon: its own heap and stacks, what a leak grows
    fds: dict[str, int]
    pids: dict[str, int]
    shm_segments: int
    shm_size_bytes: int  # the engine's segments, their size
    shm_bytes: int  # the engine's segments, the pages written so far (tmpfs allocates a slot's pages on first use)
    shm_used_bytes: int  # all of /dev/shm (other programs included)
    loadavg: tuple[float, float, float]

    def as_dict(self) -> dict[str, Any]:
        return {
            "t_s": round(self.t_s, 2),
            "rss": self.rss,
            "anon": self.anon,
            "fds": self.fds,
            "pids": self.pids,
            "shm_segments": self.shm_segments,
            "shm_size_bytes": self.shm_size_bytes,
            "shm_bytes": self.shm_bytes,
            "shm_used_bytes": self.shm_used_bytes,
            "loadavg": self.loadavg,
        }


def _name(proc: psutil.Process) -> str:
    name = proc.name()
    if name.startswith("python") and any("resource_tracker" in part for part in proc.cmdline()):
        return "resource_tracker"
    return name


def rss_anon(pid: int) -> int:
    """RssAnon from /proc/PID/status: resident anonymous memory. Unlike RSS it leaves out the shared
    memory a process has touched (RssShmem), which grows as more of the slot arena is first used."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    return 0


def take(supervisor_pid: int, t_s: float) -> Sample:
    rss, anon, fds, pids = {}, {}, {}, {}
    root = psutil.Process(supervisor_pid)
    for proc in [root, *root.children(recursive=True)]:
        try:
            with proc.oneshot():
                name = "engined" if proc.pid == supervisor_pid else _name(proc)
                rss[name], fds[name], pids[name] = int(proc.memory_info().rss), proc.num_fds(), proc.pid
            anon[name] = rss_anon(proc.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied, FileNotFoundError, ProcessLookupError):
            continue
    ours = [n for n in engine_segments() if segment_owner(n) == supervisor_pid]
    size = allocated = 0
    for name in ours:
        with contextlib.suppress(FileNotFoundError):
            st = os.stat(os.path.join(SHM_DIR, name))
            size, allocated = size + st.st_size, allocated + st.st_blocks * 512
    shm = os.statvfs(SHM_DIR)
    used = (shm.f_blocks - shm.f_bfree) * shm.f_frsize
    return Sample(t_s, rss, anon, fds, pids, len(ours), size, allocated, used, os.getloadavg())


@dataclass
class Sampler:
    supervisor_pid: int
    every_s: float = 5.0
    samples: list[Sample] = field(default_factory=list)
    error: str = ""
    stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _t0: float = 0.0

    def start(self) -> None:
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="soak-sampler", daemon=True)
        self._thread.start()

    def join(self) -> None:
        self.stop.set()
        if self._thread is not None:
            self._thread.join(30)

    def _run(self) -> None:
        try:
            while True:
                self.samples.append(take(self.supervisor_pid, time.monotonic() - self._t0))
                if self.stop.wait(self.every_s):
                    return
        except Exception as exc:  # reported, never a silent dead thread
            self.error = f"{type(exc).__name__}: {exc}"
