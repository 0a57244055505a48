"""EngineClient: the asyncio side of the rings, used by the frontends, perf/ and tests.

One way to hold resources: ``async with client.lease(slots=2) as lease`` takes a place in flight
from the TaskScheduler and leases slots; ``await lease.run(kind, length, out=1)`` runs a task on
them; leaving the block gives everything back. If the caller is cancelled (or times out) while a
worker still holds the slots, the lease hands them and its admission to that task's completion, so
no slot is reused while a worker writes it and nothing leaks. ``submit()`` is a few lines on top:
copy in, run, copy out (one copy each way, nothing pickled).

Waiting costs no thread: completions are drained right after a push (a lone request polls for
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
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

from engine.core.agents.params import check_input, describe_failure, encode_params, max_input_bytes
from engine.core.agents.registry import AgentSpec, build_agents
from engine.core.codes import Kind, Status, WorkerState
from engine.core.pending_age import PendingAge
from engine.core.scheduler import TaskScheduler
from engine.core.tables import AGENT_FIELD, CLIENT_FIELDS, WORKER_FIELD
from engine.errors import EngineBusy, EngineClosed, PayloadTooLarge, WorkerLost, WorkerUnavailable, error_for_status
from ipc.errors import NoFreeSlot
from ipc.fence import full_fence
from ipc.layout import CLIENT_SLEEPING_WORD, header_words
from ipc.ring import Descriptor, SpscRing
from ipc.slots import SlotArena, SlotPool

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

    from engine.core.resources import EngineResources

logger = logging.getLogger(__name__)

INLINE_CAP = 16  # results completed without yielding before we yield once, so others get the loop
WATCHDOG_S = 0.25  # while tasks are pending: re-check worker epochs and liveness this often
_READY = int(WorkerState.READY)
_STALE = int(Status.STALE)
_KINDS: dict[Any, Kind] = {**{k.label: k for k in Kind}, **{k: k for k in Kind}, **{int(k): k for k in Kind}}


class TaskResult(NamedTuple):  # a NamedTuple: built in C, ~5x cheaper than a frozen dataclass
    data: bytes
    kind: Kind
    agent: int
    worker: int
    service_ns: int  # time inside the worker's handler
    latency_ns: int  # submit to result, as this client saw it


class Completion(NamedTuple):
    """A worker's answer to one task run on a lease (the output stays in the slot)."""

    status: int  # engine.core.codes.Status; 0 = OK
    n_out: int  # bytes of output in the output slot
    service_ns: int
    agent: int
    worker: int


class _Pending:
    """One task pushed and not yet answered."""

    __slots__ = ("agent", "epoch", "fut", "handed_off", "worker")

    def __init__(self, fut: asyncio.Future[Any], worker: int, epoch: int, agent: int) -> None:
        self.fut = fut
        self.worker = worker
        self.epoch = epoch
        self.agent = agent
        self.handed_off: Lease | None = None  # the abandoned lease this task's completion gives back


def _sent_to_older_epoch(entry: _Pending, *, worker: int, epoch: int) -> bool:
    return entry.worker == worker and entry.epoch < epoch


class Lease:
    """A place in flight and ``len(slots)`` slots held by one caller. Use ``async with``."""

    __slots__ = ("_admitted", "_client", "_running", "slots")

    def __init__(self, client: EngineClient, n_slots: int) -> None:
        if n_slots < 1:
            raise ValueError("a lease holds at least one slot")
        self._client = client
        self._admitted = False
        self._running = 0  # request id of the task on this lease's slots, 0 when none
        self.slots: tuple[int, ...] = (-1,) * n_slots

    async def __aenter__(self) -> Lease:
        client = self._client
        if client._closed:
            raise EngineClosed("engine client is closed")
        scheduler = client.scheduler
        if not scheduler.try_admit():
            await scheduler.admit()
        self._admitted = True
        try:
            pool = client.pool
            self.slots = tuple(pool.lease() for _ in self.slots) if len(self.slots) > 1 else (pool.lease(),)
        except NoFreeSlot:
            self._give_back()  # what was leased, and the admission: nothing leaks
            scheduler.reject("no_slot")
            raise EngineBusy(
                f"all {client.config.slots} slots are in use; retry shortly",
                code="busy",
                metadata={"slots": client.config.slots, "retry_after_s": 1},
            ) from None
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        running = self._running
        if running:
            entry = self._client.pending.get(running)
            if entry is not None:  # a worker still holds our slots: its completion gives them back
                entry.handed_off = self
                return
        self._give_back()

    def _give_back(self) -> None:
        pool = self._client.pool
        for slot in self.slots:
            if slot >= 0:
                pool.release(slot)
        self.slots = (-1,) * len(self.slots)
        if self._admitted:
            self._admitted = False
            self._client.scheduler.release()

    def view(self, index: int = 0) -> memoryview:
        """Slot ``index`` of this lease, zero-copy (the whole slot; write the input at its start)."""
        return self._client._slot_views[self.slots[index]]

    async def run(
        self,
        kind: Kind | int,
        length: int,
        *,
        agent: int | None = None,
        param: int = 0,
        slot: int = 0,
        out: int | None = None,
        timeout: float | None = None,
    ) -> Completion:
        """Run one task on ``view(slot)[:length]``; the output lands in ``view(out)`` (default: over
        the input). ``agent`` None picks the least-loaded capable agent. Raises only for loss of
        the task (WorkerLost, EngineClosed, TimeoutError); a worker's refusal is ``Completion.status``."""
        client = self._client
        kind_ = _KINDS.get(kind) or Kind.parse(kind)
        agent_id = client.route(kind_, agent)
        out_slot = -1 if out is None else self.slots[out]
        if client._loop is not get_running_loop():
            client._attach()
        req_id, fut = client._start(self.slots[slot], length, kind_, agent_id, param, out_slot)
        self._running = req_id
        if fut.done() and client._inline_streak < INLINE_CAP:
            client._inline_streak += 1
            status, n_out, service_ns = fut.result()
        elif timeout is None:
            status, n_out, service_ns = await client._wait(fut)
        else:
            async with asyncio.timeout(timeout):
                status, n_out, service_ns = await client._wait(fut)
        self._running = 0
        return Completion(status, n_out, service_ns, agent_id, client._agent_worker[agent_id])

    async def run_control(self, kind: Kind, length: int, agent: int, *, timeout: float = 5.0) -> Completion:
        """The engine's own task (SET_KEY) on ``agent``, drained or not: a drained agent takes no new
        work, yet must hold the same keys when it is resumed. Raises like ``run``."""
        client = self._client
        if client._loop is not get_running_loop():
            client._attach()
        worker = client._agent_worker[agent]
        if client._words[client._state_word[worker]] != _READY:
            raise WorkerUnavailable(f"worker {worker} is restarting; retry shortly", metadata={"retry_after_s": 1})
        req_id, fut = client._start(self.slots[0], length, kind, agent, 0)
        self._running = req_id
        async with asyncio.timeout(timeout):
            status, n_out, service_ns = await client._wait(fut)
        self._running = 0
        return Completion(status, n_out, service_ns, agent, worker)


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
        self.table = res.metrics_table()
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
        self._slot_views = [self.arena.memoryview(i) for i in range(cfg.slots)]
        self._epoch_word = [self.table.worker_base(w) + WORKER_FIELD["epoch"] for w in range(cfg.workers)]
        self._state_word = [self.table.worker_base(w) + WORKER_FIELD["state"] for w in range(cfg.workers)]
        words = self.table.words
        assert words is not None
        self._words = words
        self._header = header_words(buf)
        self._epochs = [words[i] for i in self._epoch_word]
        self._bells = res.worker_bells
        self._bell = res.client_bell
        self._alive = alive
        self.pending: dict[int, _Pending] = {}
        self._next_id = 1
        self._inline_streak = 0
        self._spin_ns = cfg.client_spin_us * 1000
        self._spin_skip = self._spin_backoff = 0  # spins to skip after misses (adaptive, see _spin)
        self._active = 0  # tasks pushed by callers still in run(); spinning only pays when we are alone
        # kinds whose parameters are all optional; parity has none and goes through encode_params
        self._default_param = {k: encode_params(k, {}) for k in Kind if k is not Kind.PARITY}
        self._max_input = {k: max_input_bytes(k, cfg.slot_bytes) for k in Kind}
        self._watchdog: asyncio.TimerHandle | None = None
        self._arm_scheduled = False
        # tasks lost with a worker that died: answered WorkerLost (it held them), or STALE by its successor
        # (they were still in its ring); both reach callers as worker_lost (503 / UNAVAILABLE)
        self.workers_lost_tasks = 0
        self._pending_age = PendingAge()
        self._agent_inflight_word = [self.table.agent_base(a) + AGENT_FIELD["inflight"] for a in range(cfg.agents)]

    # public API ------------------------------------------------------------------------------
    def lease(self, slots: int = 1) -> Lease:
        """Admission plus ``slots`` slots for ``async with``; see the module docstring."""
        return Lease(self, slots)

    async def submit(
        self,
        kind: str | int | Kind,
        data: bytes | bytearray | memoryview,
        agent: int | None = None,
        *,
        timeout: float | None = None,
        **params: Any,
    ) -> TaskResult:
        """Run one task on ``data``; raises an EngineError subclass carrying the Status on failure."""
        kind_, param, n = self.prepare(kind, data, params)
        started = time.perf_counter_ns()
        async with Lease(self, 1) as lease:
            view = lease.view()
            view[:n] = data
            done = await lease.run(kind_, n, agent=agent, param=param, timeout=timeout)
            if done.status:
                detail, numbers = describe_failure(kind_, param, Status(done.status), n, self.config.slot_bytes)
                raise error_for_status(done.status, f"{kind_.label} on agent {done.agent}", detail, numbers)
            return TaskResult(
                bytes(view[: done.n_out]),
                kind_,
                done.agent,
                done.worker,
                done.service_ns,
                time.perf_counter_ns() - started,
            )

    def prepare(
        self, kind: str | int | Kind, data: bytes | bytearray | memoryview, params: dict[str, Any]
    ) -> tuple[Kind, int, int]:
        """Check a task before anything is leased: (kind, packed parameters, input bytes)."""
        kind_ = _KINDS.get(kind) if not isinstance(kind, (bytes, bytearray)) else None
        if kind_ is None:
            kind_ = Kind.parse(kind)
        if not params and kind_ in self._default_param:
            param = self._default_param[kind_]
        else:
            param = encode_params(kind_, params)
        n = data.nbytes if isinstance(data, memoryview) else len(data)
        limit = self._max_input[kind_]
        if n > limit:
            raise PayloadTooLarge(
                f"{kind_.label} input of {n} bytes is over the {limit}-byte limit (one slot)",
                metadata={"limit": limit, "size": n},
            )
        check_input(kind_, param, n)
        return kind_, param, n

    def route(self, kind: Kind, agent: int | None) -> int:
        """The agent for a task: the named one, or the least-loaded capable one on a ready worker."""
        agent_id = self.scheduler.pick(kind, agent, spread=self._active > 0)
        if self._words[self._state_word[self._agent_worker[agent_id]]] == _READY:
            return agent_id
        words = self._words
        down = frozenset(w for w, i in enumerate(self._state_word) if words[i] != _READY)
        if agent is not None:
            raise WorkerUnavailable(
                f"agent {agent_id}'s worker {self._agent_worker[agent_id]} is restarting; retry shortly",
                metadata={"retry_after_s": 1},
            )
        return self.scheduler.pick(kind, None, avoid=down)

    def set_drained(self, agent: int, drained: bool) -> None:
        """Take an agent out of service (no new tasks; in-flight ones finish) or back; visible to
        every reader of the tables (``agent.status`` events, ``engined top``)."""
        self.scheduler.set_drained(agent, drained)
        self._words[self.table.agent_base(agent) + AGENT_FIELD["drain"]] = int(drained)

    def publish_stats(self) -> None:
        """Write this client's admission and slot figures to its row of the tables, and each agent's
        tasks in flight to the agent's row (readers such as ``engined top`` and ``engined inspect``
        see them without asking this process)."""
        scheduler, words, base = self.scheduler, self._words, self.table.client_base()
        now = time.monotonic_ns()
        oldest = next(iter(self.pending), None)  # insertion order: request ids ascend
        since = self._pending_age.observe(self._next_id, oldest, now)
        entry = self.pending[oldest] if oldest is not None else None
        values = (
            os.getpid(),
            scheduler.inflight,
            scheduler.queued,
            scheduler.admitted,
            scheduler.rejected["queue_full"],
            scheduler.rejected["no_slot"],
            self.workers_lost_tasks,
            self.pool.free,
            now,
            oldest or 0,
            entry.agent if entry else -1,
            entry.worker if entry else -1,
            since,
        )
        for i, value in enumerate(values):
            words[base + i] = value
        assert len(values) == len(CLIENT_FIELDS)
        inflight = self._agent_inflight_word
        for agent, load in enumerate(scheduler.agent_load):
            words[inflight[agent]] = load

    @property
    def inflight(self) -> int:
        return len(self.pending)

    def admission(self) -> dict[str, Any]:
        """Live figures for EngineMonitor: tasks on workers, the queue, load per agent and worker."""
        s = self.scheduler
        return {
            "inflight": len(self.pending),
            "queued": s.queued,
            "admitted": s.admitted,
            "rejected": s.rejected,
            "queue_limit": s.queue_limit,
            "max_inflight": s.max_workers,
            "agent_load": s.agent_load,
            "worker_load": s.worker_load,
            "slots_free": self.pool.free,
            "workers_lost_tasks": self.workers_lost_tasks,
        }

    def ring_depths(self) -> list[tuple[int, int]]:
        """Per worker: descriptors waiting in its submission ring and in its completion ring."""
        return [(len(sub), len(comp)) for sub, comp in zip(self.sub, self.comp, strict=True)]

    def worker_states(self) -> list[int]:
        return [int(self._words[i]) for i in self._state_word]

    # ring traffic ----------------------------------------------------------------------------
    def _start(
        self, slot: int, length: int, kind: int, agent: int, param: int, out_slot: int = -1
    ) -> tuple[int, asyncio.Future[Any]]:
        """Push the task; a lone caller then polls its completion ring briefly (the usual answer).

        Only a lone caller spins: with other tasks in progress the loop has better things to do,
        and a spin that yields the CPU to busy workers can lose it for a whole time slice, which
        serialised every other caller behind it (measured: 1 MiB blocks ran one at a time). Nor
        does it spin for a worker it just had to wake: that wake-up alone takes 30-60 us here.
        """
        worker = self._agent_worker[agent]
        epoch = self._words[self._epoch_word[worker]]
        req_id = self._next_id
        self._next_id = req_id + 1
        assert self._loop is not None
        fut = self._loop.create_future()
        self.pending[req_id] = _Pending(fut, worker, epoch, agent)
        ring = self.sub[worker]
        ring.try_push(req_id, slot, length, param, agent, kind, 0, epoch | (out_slot + 1) << 32)
        self.scheduler.started(agent)
        if ring.wake_needed():
            self._bells[worker].ring()
        elif self._active == 0 and self._spin_ns:
            if self._spin_skip:
                self._spin_skip -= 1
            elif self._spin(fut, self.comp[worker]):
                self._spin_backoff = 0
            else:  # the answer did not come in time: the worker is short of CPU, so stop spinning a while
                self._spin_backoff = min(64, 2 * self._spin_backoff or 1)
                self._spin_skip = self._spin_backoff
        return req_id, fut

    async def _wait(self, fut: asyncio.Future[Any]) -> tuple[int, int, int]:
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
        self._active += 1
        try:
            return await fut  # type: ignore[no-any-return]
        finally:
            self._active -= 1

    def _spin(self, fut: asyncio.Future[Any], ring: SpscRing) -> bool:
        """Poll the one ring our answer comes back on; yield the CPU each turn (see worker.py).
        True when the answer came. A spin that keeps missing is backed off (``_start``): under load
        on a box with fewer cores than busy processes the worker is not running, and the spin only
        takes CPU from the transports (measured: 10 % of the frontend's CPU under gRPC load here)."""
        deadline = time.perf_counter_ns() + self._spin_ns
        pop, complete, now, sched_yield = ring.pop_many, self._complete, time.perf_counter_ns, os.sched_yield
        while True:
            items = pop(ring.capacity)
            if items:
                complete(items)
                if fut.done():
                    return True
            if now() > deadline:
                return False
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
            if status == _STALE:  # it sat in the ring of a worker that died: lost with it, like WorkerLost
                self.workers_lost_tasks += 1
            if entry.handed_off is not None:
                entry.handed_off._give_back()
            elif not entry.fut.done():
                entry.fut.set_result((status, n_out, service_ns))

    def _arm(self) -> None:
        """Announce that this side may sleep, then look once more (see the module docstring)."""
        header = self._header
        if not header[CLIENT_SLEEPING_WORD]:
            header[CLIENT_SLEEPING_WORD] = 1
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
        self._bell.clear()
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

    def _fail_pending(self, match: Callable[[_Pending], bool], error: Exception | None) -> int:
        failed = 0
        for req_id, entry in list(self.pending.items()):
            if not match(entry):
                continue
            del self.pending[req_id]
            self.scheduler.finished(entry.agent)
            failed += 1
            if entry.handed_off is not None:
                entry.handed_off._give_back()  # the old incarnation is reaped: nothing writes the slots now
            elif not entry.fut.done():
                exc = error or WorkerLost(
                    f"worker {entry.worker} died while running task {req_id}; retry it",
                    metadata={"worker": entry.worker, "retry_after_s": 1},
                )
                entry.fut.set_exception(exc)
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
        self._header.release()
        self._words = None  # type: ignore[assignment]
