"""The generator processes: start them (spawn), start them together, gather their reports, stop them.

The parent never imports grpc or the scenarios; it only merges what the generators send: interval
reports into the timeline (and the live progress line), final reports into the run's totals.
A first Ctrl-C asks the generators to stop and drain (a couple of seconds at most); a second one
terminates them.
"""

from __future__ import annotations

import multiprocessing
import queue as queue_module
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from perf.load import histogram
from perf.load.generator import Shared, process_main
from perf.load.scenarios.base import TargetError

if TYPE_CHECKING:
    from types import FrameType

    from perf.load.spec import LoadSpec

READY_TIMEOUT_S = 60.0
START_DELAY_S = 0.2


@dataclass
class Interval:
    k: int
    ok: int = 0
    errors: int = 0
    nbytes: int = 0
    width_s: float = 0.0
    cpu_s: list[float] = field(default_factory=list)
    latency: list[bytes] = field(default_factory=list)
    reports: int = 0


@dataclass
class RunData:
    spec: LoadSpec
    started_unix: float = 0.0
    finals: dict[int, dict[str, Any]] = field(default_factory=dict)
    timeline: list[dict[str, Any]] = field(default_factory=list)


Progress = Callable[[dict[str, Any], float], None]  # (latest timeline row, elapsed s)


class Pool:
    def __init__(self, spec: LoadSpec, progress: Progress | None = None) -> None:
        self.spec = spec
        self.progress = progress
        self.ctx = multiprocessing.get_context("spawn")  # never fork a process that may hold grpc threads
        self.shared = Shared(self.ctx.Queue(), self.ctx.Event(), self.ctx.Event(), self.ctx.Value("d", 0.0))
        self.processes: list[multiprocessing.process.BaseProcess] = []
        self.intervals: dict[int, Interval] = {}
        self.data = RunData(spec)
        self.interrupts = 0

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        self.interrupts += 1
        self.shared.stop.set()
        if self.interrupts > 1:
            raise KeyboardInterrupt

    def run(self) -> RunData:
        previous = signal.signal(signal.SIGINT, self._on_sigint)
        try:
            self._start()
            self._await_ready()
            self.shared.start_at.value = time.time() + START_DELAY_S
            self.data.started_unix = self.shared.start_at.value
            self.shared.go.set()
            self._collect()
        finally:
            signal.signal(signal.SIGINT, previous)
            self._stop()
        return self.data

    def _start(self) -> None:
        for i in range(self.spec.procs):
            process = self.ctx.Process(
                target=process_main,
                name=f"perf-load-{i}",
                args=(self.spec.for_process(i), i, self.spec.procs, self.shared),
            )
            process.daemon = True
            process.start()
            self.processes.append(process)

    def _next(self, timeout: float) -> tuple[str, int, Any] | None:
        try:
            message: tuple[str, int, Any] = self.shared.queue.get(timeout=timeout)
        except queue_module.Empty:
            return None
        kind, index, payload = message
        if kind == "error":
            raise TargetError(payload)
        if kind == "fatal":
            raise RuntimeError(f"generator {index} failed: {payload}")
        return message

    def _dead(self) -> list[int]:
        return [i for i, p in enumerate(self.processes) if p.exitcode is not None and i not in self.data.finals]

    def _await_ready(self) -> None:
        ready: set[int] = set()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while len(ready) < len(self.processes):
            if time.monotonic() > deadline:
                raise TargetError(f"the generators were not ready in {READY_TIMEOUT_S:g} s (target too slow?)")
            if self.shared.stop.is_set():
                raise KeyboardInterrupt
            message = self._next(0.1)
            if message is None:
                if dead := self._dead():
                    raise RuntimeError(f"generator {dead[0]} exited with {self.processes[dead[0]].exitcode}")
                continue
            if message[0] == "ready":
                ready.add(message[1])

    def _collect(self) -> None:
        spec = self.spec
        bound = (spec.duration_s or 0) + spec.timeout_s + 30 if spec.duration_s else None
        started = time.monotonic()
        while len(self.data.finals) < len(self.processes):
            if bound is not None and time.monotonic() - started > bound:
                raise RuntimeError(f"the generators did not finish within {bound:g} s")
            message = self._next(0.25)
            if message is None:
                if dead := self._dead():
                    raise RuntimeError(f"generator {dead[0]} exited with {self.processes[dead[0]].exitcode}")
                continue
            kind, index, payload = message
            if kind == "tick":
                self._add_interval(payload)
            elif kind == "final":
                self.data.finals[index] = payload
                self._add_interval(payload["last_interval"], final=True)
        for k in sorted(self.intervals):
            self._close_interval(k)
        self.data.timeline.sort(key=lambda row: row["t_s"])

    def _add_interval(self, report: dict[str, Any], final: bool = False) -> None:
        k = report["k"]
        interval = self.intervals.setdefault(k, Interval(k))
        interval.ok += report["ok"]
        interval.errors += report["errors"]
        interval.nbytes += report["bytes"]
        interval.width_s = max(interval.width_s, report["width_s"])
        interval.cpu_s.append(report["cpu_s"])
        interval.latency.append(report["latency"])
        interval.reports += 1
        # an interval is complete once every generator reported it (or ended before it)
        if not final and interval.reports >= len(self.processes) - len(self.data.finals):
            self._close_interval(k)

    def _close_interval(self, k: int) -> None:
        interval = self.intervals.pop(k, None)
        if interval is None:
            return
        width = interval.width_s or self.spec.interval_s
        merged = histogram.summary_ms(histogram.merge(interval.latency))
        row = {
            "t_s": k * self.spec.interval_s,
            "width_s": width,
            "ok": interval.ok,
            "errors": interval.errors,
            "requests_per_s": (interval.ok + interval.errors) / width,
            "mb_per_s": interval.nbytes / width / 1e6,
            "p50_ms": merged["p50"],
            "p99_ms": merged["p99"],
            "max_ms": merged["max"],
            "generator_cpu_percent": max(interval.cpu_s, default=0.0) / width * 100,
        }
        self.data.timeline.append(row)
        if self.progress is not None:
            self.progress(row, time.time() - self.data.started_unix)

    def _stop(self) -> None:
        """Every generator gone: they stop on the flag; the queue is drained meanwhile, since a process
        exits only once what it put is flushed; one still there after 10 s is terminated."""
        self.shared.stop.set()
        deadline = time.monotonic() + 10
        while any(p.is_alive() for p in self.processes) and time.monotonic() < deadline:
            try:
                while True:
                    self.shared.queue.get_nowait()
            except queue_module.Empty:
                pass
            for process in self.processes:
                process.join(0.05)
        for process in self.processes:
            if process.is_alive():
                process.terminate()
                process.join(5)
        self.shared.queue.close()
        self.shared.queue.join_thread()
