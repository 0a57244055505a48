"""EngineClient: the asyncio side of the rings, used by the frontends, perf/ and tests.

``await client.submit(kind, data, agent=None, **params)`` copies ``data`` into a leased slot,
pushes a 32-byte descriptor to the agent's worker, and returns a TaskResult whose ``data`` is
copied out of the slot: one copy in, one copy out, nothing pickled.

Waiting costs no thread: completions are drained right after a submit (a lone request polls for
``client_spin_us`` first, where the answer usually is), and otherwise the loop sleeps in
``add_reader`` on the client doorbell, which workers ring only after this side announced it
sleeps (shared flag + fence + re-check, as in ring.py).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from asyncio import get_running_loop
from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

from engine.agents.params import encode_params, max_input_bytes
from engine.agents.registry import AgentSpec, build_agents
from engine.errors import EngineClosed, PayloadTooLarge, WorkerLost, WorkerUnavailable, error_for_status
from engine.metrics import MetricsTable
from engine.resources import EngineResources
from engine.scheduler import TaskScheduler
from engine.status import Kind, WorkerState
from ipc.fence import full_fence
from ipc.layout import CLIENT_SLEEPING_WORD, WORKER_FIELD
from ipc.ring import Descriptor, SpscRing
from ipc.slots import SlotArena, SlotPool

logger = logging.getLogger(__name__)

INLINE_CAP = 16  # results completed without yielding before we yield once, so others get the loop
WATCHDOG_S = 0.25  # while tasks are pending: re-check worker epochs and liveness this often
_READY = int(WorkerState.READY)
_KINDS: dict[Any, Kind] = {**{k.label: k for k in Kind}, **{k: k for k in Kind}, **{int(k): k for k in Kind}}


class TaskResult(NamedTuple):  # a NamedTuple: built in C, ~5x cheaper than a frozen dataclass
    data: bytes
    kind: Kind
    agent: int
    worker: int
    service_ns: int  # time inside the worker's handler
    latency_ns: int  # submit to result, as this client saw it


# pending entry fields (a list: the hot path indexes it)
_FUT, _WORKER, _EPOCH, _AGENT, _SLOT, _ORPHAN, _OUT = range(7)


def _sent_to_older_epoch(entry: list[Any], *, worker: int, epoch: int) -> bool:
    return bool(entry[_WORKER] == worker and entry[_EPOCH] < epoch)


class EngineClient:
    _loop: asyncio.AbstractEventLoop | None = None
    _closed: bool = False

    def __init__(
        self, res: EngineResources, *, alive: Callable[[], bool] | None = None, scheduler: TaskScheduler | None = None
    ) -> None:
        assert res.client_bell is not None
        res.check_layout()
        cfg = self.config = res.config
        self.res = res
        buf = res.ctl_buf
        self.table = MetricsTable(buf, res.layout)
        self.sub = [
            SpscRing(buf, res.layout.submission_ring_offset(w), cfg.ring_capacity, init=False)
            for w in range(cfg.workers)
        ]
        self.comp = [
            SpscRing(buf, res.layout.completion_ring_offset(w), cfg.ring_capacity, init=False)
            for w in range(cfg.workers)
        ]
        self.arena = SlotArena(res.arena_buf, cfg.slots, cfg.slot_bytes)
        self.pool = SlotPool(cfg.slots)
        self.agents: tuple[AgentSpec, ...] = build_agents(cfg.agents, cfg.workers)
        self.scheduler = scheduler or TaskScheduler(
            self.agents, max_workers=cfg.max_workers, rate_limit=cfg.rate_limit or None, queue_limit=cfg.queue_limit
        )
        self._agent_worker = [a.worker for a in self.agents]
        self._agent_load, self._worker_load = self.scheduler.agent_load, self.scheduler.worker_load
        self._slot_views = [self.arena.memoryview(i) for i in range(cfg.slots)]
        self._epoch_word = [self.table.worker_base(w) + WORKER_FIELD["epoch"] for w in range(cfg.workers)]
        self._state_word = [self.table.worker_base(w) + WORKER_FIELD["state"] for w in range(cfg.workers)]
        words = self.table.words
        assert words is not None
        self._words = words
        self._epochs = [words[i] for i in self._epoch_word]
        self._bells = res.worker_bells
        self._bell = res.client_bell
        self._alive = alive
        self.pending: dict[int, list[Any]] = {}
        self._orphans: set[int] = set()
        self._next_id = 1
        self._inline_streak = 0
        self._spin_ns = cfg.client_spin_us * 1000
        self._active = 0  # submit() calls in progress; spinning only pays when we are alone
        # kinds whose parameters are all optional; parity has none and goes through encode_params
        self._default_param = {k: encode_params(k, {}) for k in Kind if k is not Kind.PARITY}
        self._max_input = {k: max_input_bytes(k, cfg.slot_bytes) for k in Kind}
        self._watchdog: asyncio.TimerHandle | None = None
        self._arm_scheduled = False
        self.workers_lost_tasks = 0  # tasks answered with WorkerLost because their worker died

    # public API ------------------------------------------------------------------------------
    async def submit(
        self,
        kind: str | int | Kind,
        data: bytes | bytearray | memoryview,
        agent: int | None = None,
        *,
        timeout: float | None = None,
        **params: Any,
    ) -> TaskResult:
        """Run one task; raises an EngineError subclass carrying the Status on failure."""
        try:
            kind_ = _KINDS[kind]
        except (KeyError, TypeError):
            kind_ = Kind.parse(kind)
        param = (
            self._default_param[kind_] if not params and kind_ in self._default_param else encode_params(kind_, params)
        )
        n = data.nbytes if isinstance(data, memoryview) else len(data)
        if n > self._max_input[kind_]:
            raise PayloadTooLarge(f"{kind_.label} payload of {n} bytes exceeds the {self._max_input[kind_]}-byte limit")
        agent_id = self.scheduler.pick(kind_, agent, spread=self._active > 0)
        if self._words[self._state_word[self._agent_worker[agent_id]]] != _READY:
            agent_id = self._pick_ready(kind_, agent, agent_id)
        scheduler = self.scheduler
        if self._closed:
            raise EngineClosed("engine client is closed")
        if not scheduler._waiters and scheduler._can_start():  # admission fast path, no coroutine
            scheduler.inflight += 1
        else:
            await scheduler.admit()
        slot = self.pool.lease()
        started = time.perf_counter_ns()
        self._active += 1
        try:
            view = self._slot_views[slot]
            view[:n] = data
            if self._loop is not get_running_loop():
                self._attach()
            req_id, fut = self._start(slot, n, kind_, agent_id, param)
            if fut.done() and self._inline_streak < INLINE_CAP:
                self._inline_streak += 1
                status, n_out, service_ns = fut.result()
            elif timeout is None:
                status, n_out, service_ns = await self._wait(req_id, fut, slot)
            else:
                async with asyncio.timeout(timeout):
                    status, n_out, service_ns = await self._wait(req_id, fut, slot)
            if status:
                raise error_for_status(status, f"{kind_.label} on agent {agent_id}")
            return TaskResult(
                bytes(view[:n_out]),
                kind_,
                agent_id,
                self._agent_worker[agent_id],
                service_ns,
                time.perf_counter_ns() - started,
            )
        finally:
            self._active -= 1
            self.done_with(slot)

    def _pick_ready(self, kind: Kind, named: int | None, picked: int) -> int:
        """The picked agent's worker is (re)starting: refuse a named agent, else route around it."""
        words = self._words
        down = frozenset(w for w, i in enumerate(self._state_word) if words[i] != _READY)
        if named is not None:
            raise WorkerUnavailable(
                f"agent {picked}'s worker {self._agent_worker[picked]} is restarting; retry shortly"
            )
        return self.scheduler.pick(kind, None, avoid=down)

    async def admit(self) -> None:
        """Take a place in flight (rate limit, bounded queue); pair with lease_slot() and done_with()."""
        if self._closed:
            raise EngineClosed("engine client is closed")
        scheduler = self.scheduler
        if not scheduler._waiters and scheduler._can_start():  # fast path without a coroutine
            scheduler.inflight += 1
            return
        await scheduler.admit()

    async def execute(self, slot: int, length: int, kind: int, agent: int, param: int = 0,
                      out_slot: int = -1) -> tuple[int, int, int]:  # fmt: skip
        """Run a task on a slot the caller filled; returns (status, bytes out, service ns).

        The output lands in ``out_slot`` when given (the input stays intact, e.g. to be processed
        again), else over the input. The caller holds admission and the leases (admit(),
        lease_slot()) and ends them with done_with(slot) and release_slot(out_slot). If this is
        cancelled while a worker holds the slots, they become orphans and the worker's
        completion releases them and the admission instead.
        """
        if self._loop is not get_running_loop():
            self._attach()
        self._active += 1
        try:
            req_id, fut = self._start(slot, length, kind, agent, param, out_slot)
            return await self._wait(req_id, fut, slot)
        finally:
            self._active -= 1

    def _start(self, slot: int, length: int, kind: int, agent: int, param: int,
               out_slot: int = -1) -> tuple[int, asyncio.Future[Any]]:  # fmt: skip
        """Push the task; a lone caller then polls its completion ring briefly (the usual answer).

        Only a lone caller spins: with other tasks in progress the loop has better things to do,
        and a spin that yields the CPU to busy workers can lose it for a whole time slice, which
        serialised every other caller behind it (measured: 1 MiB blocks ran one at a time). Nor
        does it spin for a worker it just had to wake: that wake-up alone takes 30-60 us here.
        """
        req_id, fut, rang = self._push(slot, length, kind, agent, param, out_slot)
        if self._active <= 1 and self._spin_ns and not rang:
            self._spin(fut, self.comp[self._agent_worker[agent]])
        return req_id, fut

    async def _wait(self, req_id: int, fut: asyncio.Future[Any], slot: int) -> tuple[int, int, int]:
        if fut.done():
            self._inline_streak += 1
            if self._inline_streak >= INLINE_CAP:  # we have kept the loop long enough: let others run
                self._inline_streak = 0
                await asyncio.sleep(0)
            return fut.result()  # type: ignore[no-any-return]
        self._inline_streak = 0
        if not self._arm_scheduled:
            # arm once the tasks that are ready now have run (they may submit more): arming on
            # every await would have workers ring us per batch while we are busy anyway
            self._arm_scheduled = True
            self._loop.call_soon(self._deferred_arm)  # type: ignore[union-attr]
        try:
            return await fut  # type: ignore[no-any-return]
        except asyncio.CancelledError:
            entry = self.pending.get(req_id)
            if entry is not None:
                entry[_ORPHAN] = True
                self._orphans.add(slot)
                if entry[_OUT] >= 0:
                    self._orphans.add(entry[_OUT])
            raise

    def lease_slot(self) -> int:
        return self.pool.lease()

    def done_with(self, slot: int) -> None:
        """Give back the slot and the admission, unless a worker still holds the slot."""
        if slot not in self._orphans:
            self.pool.release(slot)
            scheduler = self.scheduler
            if scheduler._waiters:
                scheduler.release()
            else:  # nobody queued: TaskScheduler.release() reduces to this
                scheduler.inflight -= 1

    def release_slot(self, slot: int) -> None:
        """Give back a second (output) slot, unless a worker still holds it."""
        if slot not in self._orphans:
            self.pool.release(slot)

    def slot_view(self, slot: int) -> memoryview:
        return self.arena.memoryview(slot)

    # ring traffic ----------------------------------------------------------------------------
    def _push(self, slot: int, length: int, kind: int, agent: int, param: int,
              out_slot: int = -1) -> tuple[int, asyncio.Future[Any], bool]:  # fmt: skip
        """Publish one descriptor; returns its request id, its future and whether we rang the worker."""
        worker = self._agent_worker[agent]
        epoch = self._words[self._epoch_word[worker]]
        req_id = self._next_id
        self._next_id = req_id + 1
        assert self._loop is not None
        fut = self._loop.create_future()
        self.pending[req_id] = [fut, worker, epoch, agent, slot, False, out_slot]
        ring = self.sub[worker]
        ring.try_push(req_id, slot, length, param, agent, kind, 0, epoch | (out_slot + 1) << 32)
        self._agent_load[agent] += 1  # TaskScheduler.started(), inlined: this runs per task
        self._worker_load[worker] += 1
        if ring.wake_needed():
            self._bells[worker].ring()
            return req_id, fut, True
        return req_id, fut, False

    def _spin(self, fut: asyncio.Future[Any], ring: SpscRing) -> None:
        """Poll the one ring our answer comes back on; yield the CPU each turn (see worker.py)."""
        deadline = time.perf_counter_ns() + self._spin_ns
        pop, complete, now, sched_yield = ring.pop_many, self._complete, time.perf_counter_ns, os.sched_yield
        while True:
            items = pop(ring.capacity)
            if items:
                complete(items)
                if fut.done():
                    return
            if now() > deadline:
                return
            sched_yield()

    def _drain(self) -> None:
        for ring in self.comp:
            items = ring.pop_many(ring.capacity)
            if items:
                self._complete(items)

    def _complete(self, items: list[Descriptor]) -> None:
        pending, finished = self.pending, self.scheduler.finished
        for req_id, _slot, n_out, _param, agent, _kind, status, service_ns in items:
            entry = pending.pop(req_id, None)
            if entry is None:
                continue  # already failed when its worker was lost
            finished(agent)
            if entry[_ORPHAN]:
                self._release_orphan(entry)
            else:
                fut = entry[_FUT]
                if not fut.done():
                    fut.set_result((status, n_out, service_ns))

    def _release_orphan(self, entry: list[Any]) -> None:
        for slot in (entry[_SLOT], entry[_OUT]):
            if slot >= 0 and slot in self._orphans:
                self._orphans.discard(slot)
                self.pool.release(slot)
        self.scheduler.release()

    def _arm(self) -> None:
        """Announce that this side may sleep, then look once more (see the module docstring)."""
        words = self._words
        if not words[CLIENT_SLEEPING_WORD]:
            words[CLIENT_SLEEPING_WORD] = 1
            full_fence()
        self._drain()
        if self.pending and self._watchdog is None and self._loop is not None:
            self._watchdog = self._loop.call_later(WATCHDOG_S, self._on_watchdog)

    def _deferred_arm(self) -> None:
        self._arm_scheduled = False
        if self.pending:
            self._arm()
        else:
            self._drain()

    def _on_bell(self) -> None:
        self._bell.clear()  # type: ignore[union-attr]
        self._check_epochs()
        self._drain()
        if self.pending:
            self._arm()

    def _on_watchdog(self) -> None:
        self._watchdog = None
        if self._alive is not None and not self._alive():
            self._fail_pending(lambda entry: True, EngineClosed("the engine's supervisor is gone"))
            return
        self._on_bell()

    # worker loss -----------------------------------------------------------------------------
    def _check_epochs(self) -> None:
        words = self._words
        for worker, index in enumerate(self._epoch_word):
            epoch = words[index]
            if epoch != self._epochs[worker]:
                self._drain()  # deliver every result the dead incarnation did publish
                self._epochs[worker] = epoch
                lost = self._fail_pending(partial(_sent_to_older_epoch, worker=worker, epoch=epoch), None)
                self.workers_lost_tasks += lost
                if lost:
                    logger.warning("worker %d restarted: %d in-flight task(s) answered with WorkerLost", worker, lost)

    def _fail_pending(self, match: Callable[[list[Any]], bool], error: Exception | None) -> int:
        failed = 0
        for req_id, entry in list(self.pending.items()):
            if not match(entry):
                continue
            del self.pending[req_id]
            self.scheduler.finished(entry[_AGENT])
            failed += 1
            if entry[_ORPHAN]:
                self._release_orphan(entry)
            elif not entry[_FUT].done():
                exc = error or WorkerLost(f"worker {entry[_WORKER]} died while running task {req_id}; retry it")
                entry[_FUT].set_exception(exc)
        return failed

    # lifecycle -------------------------------------------------------------------------------
    def _attach(self) -> None:
        """Listen on the doorbell from the running loop (again, if the caller moved to a new loop)."""
        assert self._bell is not None
        if self.pending:
            raise RuntimeError("tasks are pending on another event loop")
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(self._bell.fd)
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        self._arm_scheduled = False  # a callback scheduled on the old loop will never run
        self._loop = get_running_loop()
        self._loop.add_reader(self._bell.fd, self._on_bell)

    def close(self) -> None:
        """Fail what is pending, detach from the loop and release every view of shared memory."""
        if self._closed:
            return
        self._closed = True
        self._fail_pending(lambda entry: True, EngineClosed("engine client closed"))
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        if self._loop is not None and self._bell is not None and self._bell.fd >= 0 and not self._loop.is_closed():
            self._loop.remove_reader(self._bell.fd)
        for ring in (*self.sub, *self.comp):
            ring.release()
        self._slot_views = []
        self.arena.release()
        self.table.release()
        self._words = None  # type: ignore[assignment]

    @property
    def inflight(self) -> int:
        return len(self.pending)

    def worker_states(self) -> list[int]:
        return [int(self.table.workers[w]["state"]) for w in range(self.config.workers)]
