"""The worker process: pops descriptors from its submission ring, runs agent handlers on the
slots in place, pushes completions and updates the shared metrics table.

A batch goes through three named steps (``BatchRunner``): run each task (``_run``), publish the
answers (``_publish``: at once for a slow task, else with the batch), then book the counters and
history (``_book``) after the answers are out, so the client never waits for bookkeeping.

Waiting: after a batch the worker polls for ``spin_us`` (yielding the CPU every turn - two
spinning processes on one core otherwise starve each other for 60-170 us), then announces it
sleeps (ring flag + fence + re-check) and blocks on its eventfd doorbell with a 0.5 s timeout, so
an idle worker costs ~0 % CPU and still refreshes its heartbeat and notices a dead parent.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from typing import TYPE_CHECKING, NamedTuple

from engine.core.agents.base import TaskError
from engine.core.agents.registry import build_agents, build_handlers
from engine.core.codes import AgentStatus, Status, WorkerState
from engine.core.diag import MEMORY_SIGNAL, Diagnostics
from engine.core.procutil import die_with_parent, keep_heap, set_process_name
from engine.core.tables import AGENT_FIELD, HISTORY_ROW, KIND_FIELD, N_KINDS, WORKER_FIELD, MetricsTable
from engine.host.numa import WorkerAffinity
from ipc.fence import full_fence
from ipc.layout import CLIENT_SLEEPING_WORD, header_words
from ipc.ring import Descriptor, SpscRing

if TYPE_CHECKING:
    from types import FrameType

    from engine.config import EngineConfig
    from engine.core.agents.base import Handler
    from engine.core.resources import EngineResources
    from ipc.doorbell import Doorbell

logger = logging.getLogger(__name__)

BATCH = 64
EPOCH_MASK = 0xFFFF_FFFF  # a submission's aux: worker epoch | (output slot + 1) << 32, 0 = same slot
PUBLISH_AFTER_NS = 20_000  # tasks slower than this are answered at once, not with their batch
IDLE_WAIT_S = 0.5

_A_STATUS, _A_TASKS, _A_ERRORS = AGENT_FIELD["status"], AGENT_FIELD["tasks"], AGENT_FIELD["errors"]
_A_IN, _A_OUT, _A_LSUM = AGENT_FIELD["bytes_in"], AGENT_FIELD["bytes_out"], AGENT_FIELD["latency_ns_sum"]
_A_LMAX, _A_LLAST = AGENT_FIELD["latency_ns_max"], AGENT_FIELD["last_latency_ns"]
_A_LAST_TS = AGENT_FIELD["last_task_unix_ns"]
_A_HNEXT, _A_LAST_STATUS = AGENT_FIELD["history_next"], AGENT_FIELD["last_status"]
_K_TASKS, _K_ERRORS, _K_IN, _K_OUT, _K_BUSY = (KIND_FIELD[f] for f in KIND_FIELD)
_OK, _BUSY, _IDLE, _ERROR = int(Status.OK), int(AgentStatus.BUSY), int(AgentStatus.IDLE), int(AgentStatus.ERROR)
_STALE, _UNKNOWN_AGENT, _UNKNOWN_KIND = int(Status.STALE), int(Status.UNKNOWN_AGENT), int(Status.UNKNOWN_KIND)
_NOT_CAPABLE, _BAD_PARAMS, _INTERNAL = int(Status.NOT_CAPABLE), int(Status.BAD_PARAMS), int(Status.INTERNAL)


class TaskRecord(NamedTuple):
    """What ``_book`` needs of one task that ran (or was refused after routing)."""

    req_id: int
    agent: int
    kind: int
    status: int
    bytes_in: int
    bytes_out: int
    service_ns: int


def worker_main(res: EngineResources, index: int, epoch: int, affinity: WorkerAffinity | None = None) -> None:
    """Entry point of a forked worker process."""
    name = f"sv-worker-{index}"
    set_process_name(name)
    die_with_parent()
    keep_heap()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the supervisor decides
    # engined profile's fallback: stack dumps are faulthandler's (no Python runs); the memory toggle
    # runs between two bytecodes of the loop, only when asked
    diag = Diagnostics(res.config.data_dir, name)
    diag.install()
    signal.signal(MEMORY_SIGNAL, diag.on_memory_signal)
    worker = Worker(res, index, epoch, affinity or WorkerAffinity(None))
    signal.signal(signal.SIGTERM, worker.request_stop)
    try:
        worker.run()
    finally:
        diag.close()


class BatchRunner:
    """Runs one batch of descriptors: the worker's hot path, with its lookups built once."""

    def __init__(self, worker: Worker, handlers: dict[int, Handler]) -> None:
        cfg = worker.config
        self.handlers = handlers
        self.epoch = worker.epoch
        self.slots = worker.slots
        self.n_slots, self.slot_bytes = len(worker.slots), cfg.slot_bytes
        self.caps = worker.caps
        self.table = worker.table
        self.words = worker.words
        self.header = worker.header
        self.abase = [worker.table.agent_base(a) for a in range(cfg.agents)]
        self.history = [worker.table.history_offset_bytes(a) for a in range(cfg.agents)]
        self.kbase = [worker.table.kind_base(worker.index, k) if k else 0 for k in range(N_KINDS)]
        self.history_len = cfg.history_len
        self.region = worker.region
        self.push_many = worker.comp.push_many
        self.ring_client = worker.client_bell.ring
        wb = worker.wbase
        self.w_tasks, self.w_errors = wb + WORKER_FIELD["tasks"], wb + WORKER_FIELD["errors"]
        self.w_busy = wb + WORKER_FIELD["busy_ns"]
        self.w_heartbeat, self.w_wakeups = wb + WORKER_FIELD["heartbeat_ns"], wb + WORKER_FIELD["wakeups_sent"]

    def __call__(self, batch: list[Descriptor]) -> None:
        completions: list[Descriptor] = []
        ran: list[TaskRecord] = []
        refused = 0
        run, perf_ns = self._run, time.perf_counter_ns
        for desc in batch:
            req_id, slot, length, _param, agent, kind, _status, aux = desc
            if aux & EPOCH_MASK != self.epoch:  # sent to a dead incarnation: answer without touching the slot
                completions.append((req_id, slot, 0, 0, agent, kind, _STALE, 0))
                continue
            if agent >= len(self.caps) or not self.caps[agent]:
                completions.append((req_id, slot, 0, 0, agent, kind, _UNKNOWN_AGENT, 0))
                refused += 1
                continue
            t0 = perf_ns()
            status, n_out = run(desc)
            dt = perf_ns() - t0
            completions.append((req_id, slot, n_out, 0, agent, kind, status, dt))
            ran.append(TaskRecord(req_id, agent, kind, status, length, n_out, dt))
            if dt > PUBLISH_AFTER_NS:
                # a slow task: answer it now instead of holding it until the batch ends, or the
                # client cannot refill the slot while we work on the next one
                self._publish(completions)
                completions = []
        if completions:
            self._publish(completions)
        self._book(ran, len(batch), refused)

    def _run(self, desc: Descriptor) -> tuple[int, int]:
        """One task's handler on its slot(s): (status, bytes out). Bad input never escapes."""
        req_id, slot, length, param, agent, kind, _status, aux = desc
        handler = self.handlers.get(kind)
        if handler is None:
            return _UNKNOWN_KIND, 0
        if kind not in self.caps[agent]:
            return _NOT_CAPABLE, 0
        out_slot = aux >> 32
        if slot >= self.n_slots or length > self.slot_bytes or out_slot > self.n_slots:
            return _BAD_PARAMS, 0
        words = self.words
        words[self.abase[agent] + _A_STATUS] = _BUSY
        src = self.slots[slot]
        try:
            return _OK, handler(src, length, param, self.slots[out_slot - 1] if out_slot else src)
        except TaskError as exc:
            return int(exc.status), 0
        except Exception:  # a handler bug must not take the worker down
            logger.exception("agent %d: kind %d task %d failed", agent, kind, req_id)
            return _INTERNAL, 0

    def _publish(self, completions: list[Descriptor]) -> None:
        self.push_many(completions)  # never short: ring_capacity >= slots >= tasks in flight
        full_fence()
        header = self.header
        if header[CLIENT_SLEEPING_WORD]:
            header[CLIENT_SLEEPING_WORD] = 0
            self.ring_client()
            self.words[self.w_wakeups] += 1

    def _book(self, ran: list[TaskRecord], n_batch: int, refused: int) -> None:
        """Counters and history, after the answers are out: the client is not kept waiting for them."""
        words, kbase, abase, now_unix = self.words, self.kbase, self.abase, time.time_ns()
        pack, region, history, hlen = HISTORY_ROW.pack_into, self.region, self.history, self.history_len
        busy_ns, errors = 0, refused
        for req_id, agent, kind, status, length, n_out, dt in ran:
            kb = kbase[kind] if kind < N_KINDS else 0
            if kb:
                words[kb + _K_TASKS] += 1
                words[kb + _K_IN] += length
                words[kb + _K_OUT] += n_out
                words[kb + _K_BUSY] += dt
                words[kb + _K_ERRORS] += status != _OK
            base = abase[agent]
            busy_ns += dt
            words[base + _A_TASKS] += 1
            if status:
                errors += 1
                words[base + _A_ERRORS] += 1
            words[base + _A_STATUS] = _ERROR if status else _IDLE
            words[base + _A_IN] += length
            words[base + _A_OUT] += n_out
            words[base + _A_LSUM] += dt
            if dt > words[base + _A_LMAX]:
                words[base + _A_LMAX] = dt
            words[base + _A_LLAST] = dt
            words[base + _A_LAST_TS] = now_unix
            words[base + _A_LAST_STATUS] = status
            h = words[base + _A_HNEXT]
            pack(
                region,
                history[agent] + (h % hlen) * HISTORY_ROW.size,
                req_id,
                kind,
                status,
                length,
                n_out,
                dt,
                now_unix,
            )
            words[base + _A_HNEXT] = h + 1  # after the row: a reader never sees a half-written entry counted
        words[self.w_tasks] += n_batch
        words[self.w_errors] += errors
        words[self.w_busy] += busy_ns
        words[self.w_heartbeat] = time.monotonic_ns()


class Worker:
    def __init__(self, res: EngineResources, index: int, epoch: int, affinity: WorkerAffinity) -> None:
        cfg: EngineConfig = res.config
        assert res.client_bell is not None
        res.check_layout()
        self.index, self.epoch, self.config = index, epoch, cfg
        self.affinity = affinity
        self.parent_pid = os.getppid()
        # an idle worker still beats well inside the supervisor's hang timeout
        self.idle_wait_s = min(IDLE_WAIT_S, cfg.hang_timeout / 4)
        self.stopping = False
        self.region = res.tables_region
        self.table = MetricsTable(self.region, res.tables)
        assert self.table.words is not None
        self.words = self.table.words
        self.header = header_words(res.ctl_buf)
        buf = res.ctl_buf
        self.sub = SpscRing(buf, res.layout.submission_ring_offset(index), cfg.ring_capacity, init=False)
        self.comp = SpscRing(buf, res.layout.completion_ring_offset(index), cfg.ring_capacity, init=False)
        self.bell: Doorbell = res.worker_bells[index]
        self.client_bell: Doorbell = res.client_bell
        arena = res.arena_buf
        self.slots = [arena[i * cfg.slot_bytes : (i + 1) * cfg.slot_bytes] for i in range(cfg.slots)]
        # capabilities of agents hosted here; other agents' entries stay empty so they are refused
        self.caps = [
            frozenset(int(k) for k in s.capabilities) if s.worker == index else frozenset()
            for s in build_agents(cfg.agents, cfg.workers)
        ]
        self.wbase = self.table.worker_base(index)
        self.handlers = build_handlers(res.data_key, res.previous_key)

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def _boot(self) -> None:
        words, wb = self.words, self.wbase
        if self.affinity.cpus is not None:
            os.sched_setaffinity(0, self.affinity.cpus)
        words[wb + WORKER_FIELD["cpu"]] = self.affinity.cpu
        words[wb + WORKER_FIELD["node"]] = self.affinity.node
        for agent, caps in enumerate(self.caps):
            if caps:
                words[self.table.agent_base(agent) + AGENT_FIELD["worker"]] = self.index
                words[self.table.agent_base(agent) + _A_STATUS] = _IDLE
        now = time.monotonic_ns()
        words[wb + WORKER_FIELD["pid"]] = os.getpid()
        words[wb + WORKER_FIELD["started_ns"]] = now
        words[wb + WORKER_FIELD["heartbeat_ns"]] = now
        words[wb + WORKER_FIELD["state"]] = WorkerState.READY

    def run(self) -> None:
        self._boot()
        words, process = self.words, BatchRunner(self, self.handlers)
        pop, is_empty = self.sub.pop_many, self.sub.is_empty
        spin_ns = self.config.spin_us * 1000
        heartbeat = self.wbase + WORKER_FIELD["heartbeat_ns"]
        monotonic_ns, sched_yield = time.monotonic_ns, os.sched_yield
        while True:
            batch = pop(BATCH)
            if batch:
                process(batch)
                continue
            now = monotonic_ns()
            words[heartbeat] = now
            spin_until = now + spin_ns
            while is_empty() and monotonic_ns() < spin_until:
                sched_yield()
            if is_empty():
                if self.stopping or self.sub.closed:
                    break
                self._sleep()
        words[self.wbase + WORKER_FIELD["state"]] = WorkerState.STOPPED

    def _sleep(self) -> None:
        if self.sub.prepare_sleep():
            self.words[self.wbase + WORKER_FIELD["sleeps"]] += 1
            self.bell.wait(self.idle_wait_s)
            self.sub.cancel_sleep()
        self.words[self.wbase + WORKER_FIELD["heartbeat_ns"]] = time.monotonic_ns()
        if os.getppid() != self.parent_pid:
            self.stopping = True
