"""WorkerKiller: SIGKILL a worker every few seconds while the load runs, and time each one's return.

A thread of the chaos run: it waits for the load's first interval (so the warm-up is never hit),
then every ``every_s`` seconds takes the next worker in turn, reads its pid from the tables, kills
it, and watches the tables until the supervisor's new incarnation is READY: that time, kill to
READY, is what "back in under 1 s" measures.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from perf.chaos.probe import Tables

BACK_TIMEOUT_S = 10.0


@dataclass
class Kill:
    worker: int
    pid: int
    at_s: float  # seconds after the killer started
    back_s: float | None  # kill to READY; None: not back within BACK_TIMEOUT_S


@dataclass
class WorkerKiller:
    tables: Tables
    every_s: float
    started: threading.Event  # set when the load starts measuring
    stop: threading.Event = field(default_factory=threading.Event)
    kills: list[Kill] = field(default_factory=list)
    error: str = ""
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="chaos-killer", daemon=True)
        self._thread.start()

    def join(self) -> None:
        self.stop.set()
        if self._thread is not None:
            self._thread.join(BACK_TIMEOUT_S + 5)

    def _run(self) -> None:
        try:
            if not self.started.wait(120):
                self.error = "the load never started"
                return
            t0 = time.monotonic()
            turn = 0
            while not self.stop.wait(self.every_s):
                self._kill(turn % self.tables.n_workers, time.monotonic() - t0)
                turn += 1
        except Exception as exc:  # reported, never a silent dead thread
            self.error = f"{type(exc).__name__}: {exc}"

    def _kill(self, index: int, at_s: float) -> None:
        pid = int(self.tables.workers()[index]["pid"])
        if pid <= 0:
            self.error = f"worker {index} had no pid at {at_s:.1f} s"
            return
        os.kill(pid, signal.SIGKILL)
        self.kills.append(Kill(index, pid, at_s, self.tables.wait_worker_back(index, pid, BACK_TIMEOUT_S)))

    def figures(self) -> dict[str, Any]:
        backs = [k.back_s for k in self.kills if k.back_s is not None]
        return {
            "kills": len(self.kills),
            "not_back": sum(1 for k in self.kills if k.back_s is None),
            "back_ms_max": round(1000 * max(backs), 1) if backs else None,
            "back_ms_mean": round(1000 * sum(backs) / len(backs), 1) if backs else None,
            "each": [
                {
                    "worker": k.worker,
                    "pid": k.pid,
                    "at_s": round(k.at_s, 2),
                    "back_ms": None if k.back_s is None else round(1000 * k.back_s, 1),
                }
                for k in self.kills
            ],
        }
