"""One generator process: a uvloop loop driving a scenario closed-loop or open-loop, reporting to the parent.

Messages to the parent (a multiprocessing queue), as ``(kind, index, payload)``:
  ready   the scenario is open and warmed up; the process waits for the common start
  tick    one interval's counts and latency histogram, plus this process's CPU use in it
  final   everything: per-operation histograms, errors by code, CPU, schedule lag, why it stopped
  error   the target cannot run the scenario (a TargetError): one line for the user
  fatal   anything else that went wrong in the generator, with its type
The process ignores SIGINT (a Ctrl-C reaches the whole process group): the parent sets ``stop``.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import signal
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psutil
import uvloop

from perf.load import histogram, scenarios
from perf.load.recorder import Recorder
from perf.load.scenarios.base import Op, Outcome, Scenario, TargetError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from perf.load.spec import LoadSpec

WARMUP_CALLS = 2
STOP_POLL_S = 0.05
LATE_SLEEP_S = 0.05  # above this, the dispatcher waits on the stop flag instead of sleeping blindly


@dataclass
class Shared:
    """The parent's handles, inherited by each generator process."""

    queue: Any  # multiprocessing Queue
    go: Any  # multiprocessing Event: every generator is ready
    stop: Any  # multiprocessing Event: Ctrl-C or a failure elsewhere
    start_at: Any  # multiprocessing Value("d"): wall-clock start, set before go


def process_main(spec: LoadSpec, index: int, procs: int, shared: Shared) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        uvloop.run(_run(spec, index, procs, shared))
    except TargetError as exc:
        shared.queue.put(("error", index, str(exc)))
    except BaseException as exc:
        shared.queue.put(("fatal", index, f"{type(exc).__name__}: {exc}"))


async def _run(spec: LoadSpec, index: int, procs: int, shared: Shared) -> None:
    scenario = scenarios.build(spec, index)
    try:
        await scenario.open()
        await _warm_up(scenario)
        shared.queue.put(("ready", index, None))
        while not shared.go.is_set():
            if shared.stop.is_set():
                return
            await asyncio.sleep(0.01)
        t0 = time.perf_counter() + (shared.start_at.value - time.time())
        await asyncio.sleep(max(0.0, t0 - time.perf_counter()))
        driver = Driver(spec, index, procs, scenario, shared, t0)
        shared.queue.put(("final", index, await driver.run()))
    finally:
        await scenario.close()


async def _call(op: Op) -> Outcome:
    try:
        return await op.call()
    except Exception as exc:  # a failure the scenario did not classify: counted by its type, never fatal
        return Outcome(f"client_error:{type(exc).__name__}")


async def _warm_up(scenario: Scenario) -> None:
    """A few unrecorded calls per operation: connections, caches and the server's first-call paths."""
    for op in scenario.ops:
        for _ in range(WARMUP_CALLS):
            await _call(op)


class Driver:
    def __init__(self, spec: LoadSpec, index: int, procs: int, scenario: Scenario, shared: Shared, t0: float) -> None:
        self.spec, self.index, self.procs, self.shared, self.t0 = spec, index, procs, shared, t0
        self.ops = [op for op in scenario.ops if op.weight > 0]
        self.subscribers = scenario.subscribers
        self.rec = Recorder(scenario.primary)
        self.deadline = t0 + spec.duration_s if spec.duration_s else math.inf
        self.quota = spec.requests
        self.issued = 0
        self.events = 0
        self.stopping = asyncio.Event()
        self.stopped_by = ""
        self.missed = 0  # open loop: arrivals due before the deadline that were never sent
        self.unfinished = 0
        self.rng = random.Random(spec.seed * 7919 + index)
        self.cum = [sum(op.weight for op in self.ops[: i + 1]) for i in range(len(self.ops))]
        self.proc = psutil.Process()
        self.tick = 0  # index of the interval being recorded
        self.cpu_mark = self._cpu_s()

    def pick(self) -> Op:
        if len(self.ops) == 1:
            return self.ops[0]
        return self.rng.choices(self.ops, cum_weights=self.cum)[0]

    def _stop(self, why: str) -> None:
        if not self.stopping.is_set():
            self.stopped_by = why
            self.stopping.set()

    async def run(self) -> dict[str, Any]:
        cpu0, wall0 = self._cpu_s(), time.perf_counter()
        background = [asyncio.ensure_future(self._ticker()), asyncio.ensure_future(self._watch_stop())]
        listeners = [asyncio.ensure_future(sub(self._event, self.stopping)) for sub in self.subscribers]
        if self.ops:
            await (self._open_loop() if self.spec.open_loop else self._closed_loop())
            self._stop(
                self.stopped_by or ("requests" if self.quota is not None and self.issued >= self.quota else "duration")
            )
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self.stopping.wait(),
                    None if math.isinf(self.deadline) else max(0.0, self.deadline - time.perf_counter()),
                )
            self._stop("duration")
        stop_s = time.perf_counter() - self.t0
        if listeners:
            await asyncio.wait(listeners, timeout=5)
        cpu1, wall1 = self._cpu_s(), time.perf_counter()
        for task in [*background, *listeners]:
            task.cancel()
        await asyncio.gather(*background, *listeners, return_exceptions=True)
        return {
            **self.rec.as_message(),
            "last_interval": self._interval_message(),
            "cpu_s": cpu1 - cpu0,
            "wall_s": wall1 - wall0,
            "stopped_by": self.stopped_by,
            "stop_s": stop_s,
            "issued": self.issued,
            "missed": self.missed,
        }

    def _may_issue(self) -> bool:
        if self.stopping.is_set() or time.perf_counter() >= self.deadline:
            return False
        if self.quota is not None and self.issued >= self.quota:
            return False
        self.issued += 1
        return True

    def _event(self, op: str, delay_s: float, nbytes: int, code: str) -> None:
        self.rec.event(op, delay_s, nbytes, code, time.perf_counter() - self.t0)
        if self.rec.primary == "event":
            self.events += 1
            if self.quota is not None and self.events >= self.quota:
                self._stop("requests")

    async def _closed_loop(self) -> None:
        async def worker() -> None:
            me = asyncio.current_task()
            assert me is not None
            while self._may_issue():
                op = self.pick()
                workers[me] = op.name  # what it runs, should the drain have to cancel it
                sent = time.perf_counter()
                outcome = await _call(op)
                self.rec.request(op.name, sent, sent, time.perf_counter(), outcome, self.t0)

        workers: dict[asyncio.Task[Any], str] = {}
        for _ in range(self.spec.concurrency or 1):
            workers[asyncio.create_task(worker())] = self.ops[0].name
        watch: list[asyncio.Task[Any]] = [asyncio.create_task(self.stopping.wait())]
        if not math.isinf(self.deadline):
            watch.append(asyncio.create_task(asyncio.sleep(max(0.0, self.deadline - time.perf_counter()))))
        # the workers end by themselves (count reached) or stop issuing at the deadline or on Ctrl-C
        while not all(w.done() for w in workers) and not any(w.done() for w in watch):
            await asyncio.wait([*(w for w in workers if not w.done()), *watch], return_when=asyncio.FIRST_COMPLETED)
        for w in watch:
            w.cancel()
        await self._drain(workers)

    async def _open_loop(self) -> None:
        gate = asyncio.Semaphore(self.spec.max_inflight)
        pending: dict[asyncio.Task[Any], str] = {}
        waiting: dict[asyncio.Task[Any], str] = {}  # arrivals held at the gate (max in flight reached)

        async def one(op: Op, intended: float) -> None:
            me = asyncio.current_task()
            assert me is not None
            if gate.locked():
                waiting[me] = op.name
            async with gate:
                waiting.pop(me, None)
                sent = time.perf_counter()
                outcome = await _call(op)
            self.rec.request(op.name, intended, sent, time.perf_counter(), outcome, self.t0)

        async for intended in self._schedule():
            op = self.pick()
            task = asyncio.create_task(one(op, intended))
            pending[task] = op.name
            task.add_done_callback(pending.pop)
        # arrivals still held at the gate when the run ends were never sent: the target's backlog, counted as
        # errors (dropping them would hide the overload; waiting for them would run on past the duration)
        await asyncio.sleep(0)  # the arrivals just created reach the gate
        for task, name in list(waiting.items()):
            task.cancel()
            self.rec.unfinished(name, 1, "not_sent_by_end")
        await asyncio.gather(*waiting, return_exceptions=True)
        await self._drain(dict(pending))

    async def _schedule(self) -> AsyncIterator[float]:
        """Intended send times, each yielded once it has come; how late that was is the recorded lag."""
        period = 1.0 / (self.spec.rate or 1.0)
        phase = period * self.index / self.procs  # the processes' arrivals interleave instead of coinciding
        while True:
            intended = self.t0 + phase + self.issued * period
            if intended >= self.deadline or self.stopping.is_set():
                return
            if self.quota is not None and self.issued >= self.quota:
                return
            now = time.perf_counter()
            if now >= self.deadline:  # behind the schedule at the end: count what was never sent
                self.missed = math.ceil((self.deadline - self.t0 - phase) / period) - self.issued
                return
            if intended - now > LATE_SLEEP_S:  # a long wait: one that a Ctrl-C can cut short
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), intended - now)
                continue
            if intended > now:
                await asyncio.sleep(intended - now)
                now = time.perf_counter()
            histogram.record_s(self.rec.lag, max(0.0, now - intended))
            self.issued += 1
            yield intended

    async def _drain(self, tasks: dict[asyncio.Task[Any], str]) -> None:
        """Let requests in flight finish (each is bounded by the request timeout; on Ctrl-C only briefly),
        then cancel what is left and count it as ``unfinished``."""
        if tasks:
            await asyncio.wait([*tasks], timeout=self._grace())
        left = {task: name for task, name in tasks.items() if not task.done()}
        for task, name in left.items():
            task.cancel()
            self.rec.unfinished(name, 1, "unfinished")
        await asyncio.gather(*left, return_exceptions=True)

    def _grace(self) -> float:
        return 2.0 if self.stopped_by == "interrupt" else self.spec.timeout_s + 1.0

    async def _watch_stop(self) -> None:
        # a multiprocessing Event has no asyncio form: polled
        while not self.shared.stop.is_set():  # noqa: ASYNC110
            await asyncio.sleep(STOP_POLL_S)
        self._stop("interrupt")

    def _cpu_s(self) -> float:
        cpu = self.proc.cpu_times()
        return float(cpu.user + cpu.system)

    def _interval_message(self) -> dict[str, Any]:
        cpu_s = self._cpu_s()
        began = self.t0 + self.tick * self.spec.interval_s
        out = {
            "k": self.tick,
            **self.rec.take_interval(),
            "cpu_s": cpu_s - self.cpu_mark,
            "width_s": min(self.spec.interval_s, max(1e-3, time.perf_counter() - began)),
        }
        self.cpu_mark = cpu_s
        self.tick += 1
        return out

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(max(0.0, self.t0 + (self.tick + 1) * self.spec.interval_s - time.perf_counter()))
            self.shared.queue.put(("tick", self.index, self._interval_message()))
