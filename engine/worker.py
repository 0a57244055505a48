"""The worker process: pops descriptors from its submission ring, runs agent handlers on the
slots in place, pushes completions and updates the shared metrics table.

Waiting: after a batch the worker polls for ``spin_us`` (yielding the CPU every turn - two
spinning processes on one core otherwise starve each other for 60-170 us), then announces it
sleeps (ring flag + fence + re-check) and blocks on its eventfd doorbell with a 0.5 s timeout, so
an idle worker costs ~0 % CPU and still refreshes its heartbeat and notices a dead parent.
"""

from __future__ import annotations

import logging
import os
import signal
import struct
import time
from collections.abc import Callable
from types import FrameType

from engine.agents.base import TaskError
from engine.agents.registry import build_agents, build_handlers
from engine.metrics import MetricsTable
from engine.procutil import die_with_parent, pin_to_cpu, set_process_name
from engine.resources import EngineResources
from engine.status import AgentStatus, Status, WorkerState
from ipc.fence import full_fence
from ipc.layout import AGENT_FIELD, CLIENT_SLEEPING_WORD, HISTORY_DTYPE, KIND_FIELD, N_KINDS, WORKER_FIELD
from ipc.ring import Descriptor, SpscRing

logger = logging.getLogger(__name__)

BATCH = 64
EPOCH_MASK = 0xFFFF_FFFF  # a submission's aux: worker epoch | (output slot + 1) << 32, 0 = same slot
PUBLISH_AFTER_NS = 20_000  # tasks slower than this are answered at once, not with their batch
IDLE_WAIT_S = 0.5
_HISTORY = struct.Struct("<7q")
assert _HISTORY.size == HISTORY_DTYPE.itemsize

_A_STATUS, _A_TASKS, _A_ERRORS = AGENT_FIELD["status"], AGENT_FIELD["tasks"], AGENT_FIELD["errors"]
_A_IN, _A_OUT = AGENT_FIELD["bytes_in"], AGENT_FIELD["bytes_out"]
_A_LSUM, _A_LMAX, _A_LLAST = (
    AGENT_FIELD["latency_ns_sum"],
    AGENT_FIELD["latency_ns_max"],
    AGENT_FIELD["last_latency_ns"],
)
_A_LAST_TS, _A_HNEXT, _A_LAST_STATUS = (
    AGENT_FIELD["last_task_unix_ns"],
    AGENT_FIELD["history_next"],
    AGENT_FIELD["last_status"],
)
_K_TASKS, _K_ERRORS, _K_IN, _K_OUT, _K_BUSY = (
    KIND_FIELD[f] for f in ("tasks", "errors", "bytes_in", "bytes_out", "busy_ns")
)
_OK, _BUSY, _IDLE, _ERROR = int(Status.OK), int(AgentStatus.BUSY), int(AgentStatus.IDLE), int(AgentStatus.ERROR)


def worker_main(res: EngineResources, index: int, epoch: int) -> None:
    """Entry point of a forked worker process."""
    set_process_name(f"sv-worker-{index}")
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the supervisor decides
    worker = Worker(res, index, epoch)
    signal.signal(signal.SIGTERM, worker.request_stop)
    worker.run()


class Worker:
    def __init__(self, res: EngineResources, index: int, epoch: int) -> None:
        cfg = res.config
        assert res.client_bell is not None
        res.check_layout()
        self.index, self.epoch, self.config = index, epoch, cfg
        self.parent_pid = os.getppid()
        # an idle worker still beats well inside the supervisor's hang timeout
        self.idle_wait_s = min(IDLE_WAIT_S, cfg.hang_timeout / 4)
        self.stopping = False
        buf = res.ctl_buf
        self.table = MetricsTable(buf, res.layout)
        self.ctl_buf = buf
        self.sub = SpscRing(buf, res.layout.submission_ring_offset(index), cfg.ring_capacity, init=False)
        self.comp = SpscRing(buf, res.layout.completion_ring_offset(index), cfg.ring_capacity, init=False)
        self.bell = res.worker_bells[index]
        self.client_bell = res.client_bell
        arena = res.arena_buf
        self.slots = [arena[i * cfg.slot_bytes : (i + 1) * cfg.slot_bytes] for i in range(cfg.slots)]
        self.specs = build_agents(cfg.agents, cfg.workers)
        # capabilities of agents hosted here; other agents' entries stay empty so they are refused
        self.caps = [
            frozenset(int(k) for k in s.capabilities) if s.worker == index else frozenset() for s in self.specs
        ]
        self.handlers = build_handlers(res.data_key)
        self.wbase = self.table.worker_base(index)
        self.abase = [self.table.agent_base(a) for a in range(cfg.agents)]
        self.hoff = [self.table.history_offset_bytes(a) for a in range(cfg.agents)]

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def _boot(self) -> None:
        words, wb = self.table.words, self.wbase
        assert words is not None
        if self.config.pin_cpus:
            words[wb + WORKER_FIELD["cpu"]] = pin_to_cpu(self.index)
        else:
            words[wb + WORKER_FIELD["cpu"]] = -1
        for spec in self.specs:
            if spec.worker == self.index:
                words[self.abase[spec.id] + _A_STATUS] = _IDLE
        now = time.monotonic_ns()
        words[wb + WORKER_FIELD["pid"]] = os.getpid()
        words[wb + WORKER_FIELD["started_ns"]] = now
        words[wb + WORKER_FIELD["heartbeat_ns"]] = now
        words[wb + WORKER_FIELD["state"]] = WorkerState.READY

    def run(self) -> None:
        self._boot()
        words = self.table.words
        assert words is not None
        pop, is_empty, process = self.sub.pop_many, self.sub.is_empty, self._make_processor()
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
        words = self.table.words
        assert words is not None
        if self.sub.prepare_sleep():
            words[self.wbase + WORKER_FIELD["sleeps"]] += 1
            self.bell.wait(self.idle_wait_s)
            self.sub.cancel_sleep()
        words[self.wbase + WORKER_FIELD["heartbeat_ns"]] = time.monotonic_ns()
        if os.getppid() != self.parent_pid:
            self.stopping = True

    def _make_processor(self) -> Callable[[list[Descriptor]], None]:
        """The per-batch function, with everything it touches bound as closure locals (hot path)."""
        words = self.table.words
        assert words is not None and self.client_bell is not None
        slots, caps, handlers, abase = self.slots, self.caps, self.handlers, self.abase
        hoff, hist_pack, ctl_buf, hlen = self.hoff, _HISTORY.pack_into, self.ctl_buf, self.config.history_len
        n_slots, slot_bytes, epoch = len(slots), self.config.slot_bytes, self.epoch
        push_many, ring_client = self.comp.push_many, self.client_bell.ring
        perf_ns, time_ns, monotonic_ns = time.perf_counter_ns, time.time_ns, time.monotonic_ns
        wb = self.wbase
        w_tasks, w_errors, w_busy = (
            wb + WORKER_FIELD["tasks"],
            wb + WORKER_FIELD["errors"],
            wb + WORKER_FIELD["busy_ns"],
        )
        w_heartbeat, w_wakeups = wb + WORKER_FIELD["heartbeat_ns"], wb + WORKER_FIELD["wakeups_sent"]
        n_agents = len(caps)
        n_kinds = N_KINDS
        kbase = [self.table.kind_base(self.index, k) if k else 0 for k in range(N_KINDS)]
        stale, unknown_agent, unknown_kind = int(Status.STALE), int(Status.UNKNOWN_AGENT), int(Status.UNKNOWN_KIND)
        not_capable, bad_params, internal = int(Status.NOT_CAPABLE), int(Status.BAD_PARAMS), int(Status.INTERNAL)

        def process(batch: list[Descriptor]) -> None:
            now_unix = time_ns()
            completions: list[Descriptor] = []
            ran: list[tuple[int, int, int, int, int, int, int]] = []
            errors = 0
            for req_id, slot, length, param, agent, kind, _status, aux in batch:
                if aux & EPOCH_MASK != epoch:
                    completions.append((req_id, slot, 0, 0, agent, kind, stale, 0))
                    continue
                if agent >= n_agents or not caps[agent]:
                    completions.append((req_id, slot, 0, 0, agent, kind, unknown_agent, 0))
                    errors += 1
                    continue
                t0 = perf_ns()
                n_out = 0
                if kind not in handlers:
                    status = unknown_kind
                elif kind not in caps[agent]:
                    status = not_capable
                elif slot >= n_slots or length > slot_bytes or (aux >> 32) > n_slots:
                    status = bad_params
                else:
                    words[abase[agent] + _A_STATUS] = _BUSY
                    src = slots[slot]
                    dst = slots[(aux >> 32) - 1] if aux >> 32 else src
                    try:
                        n_out = handlers[kind](src, length, param, dst)
                        status = _OK
                    except TaskError as exc:
                        status = exc.status
                    except Exception:  # a handler bug must not take the worker down
                        logger.exception("agent %d: kind %d task %d failed", agent, kind, req_id)
                        status = internal
                dt = perf_ns() - t0
                completions.append((req_id, slot, n_out, 0, agent, kind, status, dt))
                ran.append((req_id, agent, kind, status, length, n_out, dt))
                if dt > PUBLISH_AFTER_NS:
                    # a slow task: answer it now instead of holding it until the batch ends,
                    # or the client cannot refill the slot while we work on the next one
                    publish(completions)
                    completions = []
            if completions:
                publish(completions)
            # bookkeeping after the answers are out: the client is not kept waiting for it
            busy_ns = 0
            for req_id, agent, kind, status, length, n_out, dt in ran:
                kb = kbase[kind] if kind < n_kinds else 0
                if kb:
                    words[kb + _K_TASKS] += 1
                    words[kb + _K_IN] += length
                    words[kb + _K_OUT] += n_out
                    words[kb + _K_BUSY] += dt
                    if status:
                        words[kb + _K_ERRORS] += 1
                base = abase[agent]
                busy_ns += dt
                words[base + _A_TASKS] += 1
                if status:
                    errors += 1
                    words[base + _A_ERRORS] += 1
                    words[base + _A_STATUS] = _ERROR
                else:
                    words[base + _A_STATUS] = _IDLE
                words[base + _A_IN] += length
                words[base + _A_OUT] += n_out
                words[base + _A_LSUM] += dt
                if dt > words[base + _A_LMAX]:
                    words[base + _A_LMAX] = dt
                words[base + _A_LLAST] = dt
                words[base + _A_LAST_TS] = now_unix
                words[base + _A_LAST_STATUS] = status
                h = words[base + _A_HNEXT]
                hist_pack(ctl_buf, hoff[agent] + (h % hlen) * 56, req_id, kind, status, length, n_out, dt, now_unix)
                words[base + _A_HNEXT] = h + 1
            words[w_tasks] += len(batch)
            words[w_errors] += errors
            words[w_busy] += busy_ns
            words[w_heartbeat] = monotonic_ns()

        def publish(completions: list[Descriptor]) -> None:
            push_many(completions)  # never short: ring_capacity >= slots >= tasks in flight
            full_fence()
            if words[CLIENT_SLEEPING_WORD]:
                words[CLIENT_SLEEPING_WORD] = 0
                ring_client()
                words[w_wakeups] += 1

        return process
