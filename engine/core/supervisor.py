"""The supervisor: forks one worker per core, restarts the dead and the hung, drains on SIGTERM.

uvicorn's pattern: signal handlers only record; the loop acts. The loop sleeps in
``multiprocessing.connection.wait`` on every child's sentinel plus a self-pipe the signal
handlers write to, so a death or a signal wakes it at once and an idle supervisor costs nothing.

On a worker's death the supervisor bumps that worker's epoch *after* reaping it and rings the
client's doorbell: the client then answers every task it had sent to the old incarnation with
WorkerLost, and the new worker answers any leftover old-epoch descriptor with STALE, so no request
is left hanging and no slot is touched by two owners.

Under systemd (``NOTIFY_SOCKET``) it sends READY=1 once every worker is READY and the frontend
serves (the frontend writes one byte to a pipe when it does), WATCHDOG=1 from this loop, STATUS=
on changes and STOPPING=1 on SIGTERM (engine/core/sdnotify.py). MEMORY_SIGNAL (SIGUSR2) is recorded
like the others and acted on by the loop: a tracemalloc snapshot for ``engined profile``.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import time
from collections.abc import Callable
from multiprocessing import connection, get_context
from typing import TYPE_CHECKING, Any

from engine.core import diag
from engine.core.agents.registry import build_agents
from engine.core.codes import AgentStatus, WorkerState
from engine.core.sdnotify import Notifier, ServiceNotes
from engine.core.tables import AGENT_FIELD, KEY_GENERATION_WORD, WORKER_FIELD
from engine.core.worker import worker_main
from engine.host.numa import describe_plan, plan_affinity
from engine.keys.engine_key import receive_keys
from ipc.layout import CLIENT_SLEEPING_WORD, header_words
from ipc.ring import SpscRing

if TYPE_CHECKING:
    import socket
    from collections.abc import Sequence
    from multiprocessing.process import BaseProcess
    from types import FrameType

    from engine.core.resources import EngineResources

logger = logging.getLogger(__name__)

HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
LOOP_TICK_S = 0.5

# the frontend's entry point: called in the forked child with the resources and ``ready_fd``, a pipe
# it writes one byte to once it serves
ChildTarget = Callable[..., None]


def _forked(drop: tuple[int, ...], target: ChildTarget, *args: Any, **kwargs: Any) -> None:
    """A forked child's first steps: stop writing the supervisor's wake-up pipe on a signal, and
    close what the supervisor holds for itself or for another child (``Supervisor._not_for``)."""
    signal.set_wakeup_fd(-1)
    for fd in drop:
        with contextlib.suppress(OSError):
            os.close(fd)
    target(*args, **kwargs)


def _worker_child(res: EngineResources, index: int, *args: Any) -> None:
    res.drop_for_worker(index)
    worker_main(res, index, *args)


def _frontend_child(target: ChildTarget, res: EngineResources, *args: Any, **kwargs: Any) -> None:
    res.drop_for_frontend()
    target(res, *args, **kwargs)


def _open_fds() -> set[int]:
    """This process's open descriptors (the one listing them is closed again by the time it returns)."""
    found = set()
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, fcntl.F_GETFD)
            found.add(fd)
    return found


class Supervisor:
    def __init__(
        self,
        res: EngineResources,
        *,
        frontend: ChildTarget | None = None,
        notifier: Notifier | None = None,
        serving: str = "",
        listeners: Sequence[socket.socket] = (),
    ) -> None:
        """``serving``: what STATUS= says once ready (the ports, for ``engined serve``);
        ``listeners``: the frontend's sockets, which forked workers close at once (they serve none)."""
        self._listener_fds = tuple(sock.fileno() for sock in listeners)
        # the descriptors the supervisor holds for each child it forked (multiprocessing's two pipe
        # ends: the sentinel and the one the child watches for the parent's death): no other child's
        self._child_fds: dict[int, tuple[int, ...]] = {}
        self.res = res
        self.config = cfg = res.config
        self.ctx = get_context("fork")  # explicit: 3.14 makes forkserver the Linux default
        self.frontend_target = frontend
        self.frontend: BaseProcess | None = None
        self.workers: list[BaseProcess | None] = [None] * cfg.workers
        self.signal_queue: list[int] = []
        self.should_exit = False
        self.table = res.metrics_table()
        self.specs = build_agents(cfg.agents, cfg.workers)
        self.affinity = plan_affinity(cfg.workers, pin_cpus=cfg.pin_cpus, numa=cfg.numa)
        self.diag = diag.Diagnostics(cfg.data_dir, "sv-supervisor")
        self.notes = ServiceNotes(notifier or Notifier(), serving or f"{cfg.workers} workers")
        self._wake_r = self._wake_w = -1
        self._frontend_backoff = 0.1
        self._frontend_started = self._frontend_due = 0.0
        self._frontend_ready_r = -1  # read end of the current frontend's ready pipe
        self._frontend_ready = frontend is None
        self._degraded = False  # a worker or the frontend is being restarted (STATUS= says so)

    # signals ---------------------------------------------------------------------------------
    def _record_signal(self, signum: int, frame: FrameType | None) -> None:
        self.signal_queue.append(signum)

    def _install_signals(self) -> dict[int, object]:
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.set_wakeup_fd(self._wake_w)
        return {sig: signal.signal(sig, self._record_signal) for sig in (*HANDLED_SIGNALS, diag.MEMORY_SIGNAL)}

    def _restore_signals(self, previous: dict[int, object]) -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
        signal.set_wakeup_fd(-1)
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)

    def _handle_signals(self) -> None:
        try:
            while os.read(self._wake_r, 512):
                pass
        except BlockingIOError:
            pass
        while self.signal_queue:
            signum = self.signal_queue.pop(0)
            if signum == diag.MEMORY_SIGNAL:
                self.diag.toggle_memory()
                continue
            logger.info("supervisor: received %s, draining", signal.Signals(signum).name)
            if not self.should_exit:
                self.notes.stopping()
            self.should_exit = True

    # workers ---------------------------------------------------------------------------------
    def _wfield(self, worker: int, name: str) -> int:
        return self.table.worker_base(worker) + WORKER_FIELD[name]

    def _start_worker(self, index: int) -> None:
        words = self.table.words
        assert words is not None
        words[self._wfield(index, "state")] = WorkerState.STARTING
        args = (self.res, index, words[self._wfield(index, "epoch")], self.affinity[index])
        process = self.ctx.Process(
            target=_forked,
            args=(self._not_for(worker=True), _worker_child, *args),
            name=f"sv-worker-{index}",
            daemon=False,
        )
        self._fork(process)
        self.workers[index] = process

    def _not_for(self, *, worker: bool) -> tuple[int, ...]:
        """What a child about to be forked must close: the signal wake-up pipe, the read end of the
        frontend's ready pipe, every other child's pipes and, for a worker, the HTTP listeners (only
        the frontend serves them). The key pipe and the doorbells are the resources' to drop."""
        drop = [self._wake_r, self._wake_w, self._frontend_ready_r]
        for fds in self._child_fds.values():
            drop.extend(fds)
        if worker:
            drop.extend(self._listener_fds)
        return tuple(fd for fd in drop if fd >= 0)

    def _fork(self, process: BaseProcess) -> None:
        """Start ``process`` and note the descriptors its start left open here (its pipes)."""
        before = _open_fds()
        process.start()
        assert process.pid is not None
        self._child_fds[process.pid] = tuple(sorted(_open_fds() - before))

    def _forget(self, process: BaseProcess) -> None:
        """A reaped child: close its pipes here now (not whenever the object is collected), so their
        numbers are never taken for another child's."""
        if process.pid is not None:
            self._child_fds.pop(process.pid, None)
        process.close()

    def _retire_worker(self, index: int) -> None:
        """Bookkeeping for a reaped worker: a new epoch, and its agents marked restarting."""
        words = self.table.words
        assert words is not None
        words[self._wfield(index, "restarts")] += 1
        words[self._wfield(index, "epoch")] += 1
        words[self._wfield(index, "state")] = WorkerState.RESTARTING
        for spec in self.specs:
            if spec.worker == index:
                words[self.table.agent_base(spec.id) + AGENT_FIELD["status"]] = AgentStatus.RESTARTING

    def _on_worker_exit(self, index: int) -> None:
        process = self.workers[index]
        assert process is not None
        process.join()  # reaped: nothing of the old incarnation can still write
        self._retire_worker(index)
        assert self.res.client_bell is not None
        self.res.client_bell.ring()  # the client fails the old incarnation's tasks now
        logger.warning("worker %d (pid %s) exited with code %s; restarting", index, process.pid, process.exitcode)
        self.notes.status(f"worker {index} exited with code {process.exitcode}; restarting it")
        self._forget(process)
        self._degraded = True
        self._start_worker(index)

    def _reset_data_plane(self) -> None:
        """After the frontend (the rings' only client) died: its successor starts with every slot
        free, so no task of the dead one may still write into a slot. Kill and reap the workers,
        empty every ring, then start fresh workers (each reset counts as a restart)."""
        for process in self.workers:
            if process is not None:
                process.kill()
        for index, process in enumerate(self.workers):
            if process is not None:
                process.join()
                self._forget(process)
                self._retire_worker(index)
        self.res.reset_rings()
        header = header_words(self.res.ctl_buf)
        header[CLIENT_SLEEPING_WORD] = 0
        header.release()
        for index in range(self.config.workers):
            self._start_worker(index)

    def _kill_hung_workers(self) -> None:
        words = self.table.words
        assert words is not None
        now = time.monotonic_ns()
        limit = int(self.config.hang_timeout * 1e9)
        for index, process in enumerate(self.workers):
            if process is None or words[self._wfield(index, "state")] != WorkerState.READY:
                continue
            if now - words[self._wfield(index, "heartbeat_ns")] > limit:
                logger.error(
                    "worker %d (pid %s) silent for over %.1f s; killing it",
                    index,
                    process.pid,
                    self.config.hang_timeout,
                )
                process.kill()

    # frontend --------------------------------------------------------------------------------
    def _start_frontend(self) -> None:
        assert self.frontend_target is not None
        self._close_ready_pipe()
        self._frontend_ready = False
        ready_r, ready_w = os.pipe2(os.O_CLOEXEC)  # inherited over fork all the same; closed by exec
        self._frontend_ready_r = ready_r
        self.frontend = self.ctx.Process(
            target=_forked,
            args=(self._not_for(worker=False), _frontend_child, self.frontend_target, self.res),
            kwargs={"ready_fd": ready_w},
            name="sv-frontend",
        )
        try:
            self._fork(self.frontend)
        finally:
            os.close(ready_w)  # the child has its copy: EOF here means it died before it served
        self._frontend_started = time.monotonic()

    def _on_frontend_ready_pipe(self) -> None:
        self._frontend_ready = os.read(self._frontend_ready_r, 16) != b""
        self._close_ready_pipe()  # one byte, once: served (or EOF: the sentinel tells why)

    def _on_key_pipe(self) -> None:
        """A rotated inline key: workers (and a frontend) forked from now on inherit it. The
        generation word tells the frontend it was taken; running workers get it from the frontend."""
        message = receive_keys(self.res.key_pipe_r)
        if message is None:
            return
        generation, self.res.data_key, self.res.previous_key = message
        words = self.table.words
        assert words is not None
        words[KEY_GENERATION_WORD] = generation
        logger.info("supervisor: inline key generation %d taken for the workers it starts", generation)

    def _close_ready_pipe(self) -> None:
        if self._frontend_ready_r >= 0:
            os.close(self._frontend_ready_r)
            self._frontend_ready_r = -1

    def _workers_ready(self) -> bool:
        words = self.table.words
        assert words is not None
        return all(words[self._wfield(i, "state")] == WorkerState.READY for i in range(self.config.workers))

    # main loop -------------------------------------------------------------------------------
    def run(self) -> int:
        previous = self._install_signals()
        diag.reclaim(self.config.data_dir)
        self.diag.install()
        if self.config.numa == "node":
            logger.info("SIGMAVAULT_NUMA=node: %s", describe_plan(self.affinity))
        try:
            for index in range(self.config.workers):
                self._start_worker(index)
            if self.frontend_target is not None:
                self._start_frontend()
            while not self.should_exit:
                self._tick()
        finally:
            self._shutdown()
            self._restore_signals(previous)
            self._close_ready_pipe()
            self.diag.close()
            self.notes.close()
        return 0

    def _tick(self) -> None:
        sentinels = {p.sentinel: i for i, p in enumerate(self.workers) if p is not None}
        waitables: list[int] = [*sentinels, self._wake_r]
        if self.res.key_pipe_r >= 0:
            waitables.append(self.res.key_pipe_r)
        if self.frontend is not None:
            waitables.append(self.frontend.sentinel)
        if self._frontend_ready_r >= 0:
            waitables.append(self._frontend_ready_r)
        timeout = self.notes.wait_timeout(time.monotonic(), LOOP_TICK_S)
        if self.frontend is None and self.frontend_target is not None:
            timeout = max(0.0, min(timeout, self._frontend_due - time.monotonic()))
        ready = connection.wait(waitables, timeout=timeout)
        self._handle_signals()
        if self.should_exit:
            return
        if self._frontend_ready_r in ready:
            self._on_frontend_ready_pipe()
        if self.res.key_pipe_r >= 0 and self.res.key_pipe_r in ready:
            self._on_key_pipe()
        for fd in ready:
            if fd in sentinels:
                self._on_worker_exit(sentinels[fd])
        if self.frontend is not None and self.frontend.sentinel in ready:
            self.frontend.join()
            # back off while it keeps failing (e.g. a port taken): 0.2 s doubling to 10 s, back to
            # 0.2 s once it had stayed up for a minute
            lived = time.monotonic() - self._frontend_started
            self._frontend_backoff = 0.2 if lived > 60 else min(10.0, self._frontend_backoff * 2)
            logger.error(
                "frontend (pid %s) exited with code %s after %.1f s; restarting in %.1f s",
                self.frontend.pid,
                self.frontend.exitcode,
                lived,
                self._frontend_backoff,
            )
            self.notes.status(
                f"frontend exited with code {self.frontend.exitcode}; restarting in {self._frontend_backoff:.1f} s"
            )
            self._forget(self.frontend)
            self.frontend = None
            self._frontend_due = time.monotonic() + self._frontend_backoff
            self._degraded = True
            self._reset_data_plane()
        if self.frontend is None and self.frontend_target is not None and time.monotonic() >= self._frontend_due:
            self._start_frontend()
        self._kill_hung_workers()
        self._tell_systemd()

    def _tell_systemd(self) -> None:
        ready = self._frontend_ready and self._workers_ready()
        if ready and self._degraded:
            self._degraded = False
            self.notes.back_to_serving()
        self.notes.tick(time.monotonic(), ready=ready)

    def _shutdown(self) -> None:
        grace = self.config.shutdown_grace
        if self.frontend is not None and self.frontend.is_alive():
            # the frontend stops accepting, finishes in-flight requests, then exits
            self.frontend.terminate()
            self.frontend.join(grace + 1)
            if self.frontend.is_alive():
                self.frontend.kill()
                self.frontend.join()
        self._drain_workers(grace)

    def _drain_workers(self, grace: float) -> None:
        words = self.table.words
        assert words is not None
        layout, cap = self.res.layout, self.config.ring_capacity
        for index in range(self.config.workers):
            words[self._wfield(index, "state")] = WorkerState.DRAINING
            ring = SpscRing(self.res.ctl_buf, layout.submission_ring_offset(index), cap, init=False)
            ring.close()  # the worker finishes what is queued, then exits
            ring.release()
            self.res.worker_bells[index].ring()
        deadline = time.monotonic() + grace
        for process in self.workers:
            if process is not None:
                process.join(max(0.0, deadline - time.monotonic()))
        for index, process in enumerate(self.workers):
            if process is not None and process.is_alive():
                logger.warning("worker %d did not drain within %.1f s; killing it", index, grace)
                process.kill()
                process.join()
            words[self._wfield(index, "state")] = WorkerState.STOPPED

    def release(self) -> None:
        self.table.release()
