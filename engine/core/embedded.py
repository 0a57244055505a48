"""Engine: run the whole engine under the calling process (tests, perf/, tools).

``Engine.start(config)`` creates the shared resources here, forks a supervisor process (which
forks the workers) and returns once every worker is READY; ``engine.core.client`` is this process's
EngineClient. ``close()`` drains the supervisor and unlinks every segment. ``engined serve`` does
the same with the supervisor in its own main process and the client in the frontend process.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import time
from multiprocessing import get_context
from typing import TYPE_CHECKING, Any

from engine.config import EngineConfig
from engine.core.client import EngineClient, TaskResult
from engine.core.codes import Kind, WorkerState
from engine.core.procutil import die_with_parent, set_process_name
from engine.core.resources import EngineResources
from engine.core.supervisor import Supervisor

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess
    from types import TracebackType

logger = logging.getLogger(__name__)

READY_TIMEOUT_S = 15.0


def _supervisor_main(res: EngineResources) -> None:
    set_process_name("sv-supervisor")
    die_with_parent()
    supervisor = Supervisor(res)
    code = supervisor.run()
    sys.exit(code)


class Engine:
    res: EngineResources | None = None
    supervisor: BaseProcess | None = None
    _client: EngineClient | None = None

    def __init__(self, config: EngineConfig) -> None:
        self.config = config

    @classmethod
    def start(cls, config: EngineConfig | None = None, **overrides: Any) -> Engine:
        if config is None:
            config = EngineConfig.from_env(env_file=None, **overrides)
        self = cls(config)
        try:
            self.res = EngineResources.create(config)
            self.supervisor = get_context("fork").Process(
                target=_supervisor_main, args=(self.res,), name="sv-supervisor"
            )
            self.supervisor.start()
            self._client = EngineClient(self.res, alive=self.supervisor.is_alive)
            self.wait_ready(READY_TIMEOUT_S)
        except BaseException:
            self.close()
            raise
        return self

    @property
    def client(self) -> EngineClient:
        if self._client is None:
            raise RuntimeError("engine is closed")
        return self._client

    async def submit(
        self, kind: str | int | Kind, data: bytes | bytearray | memoryview, agent: int | None = None, **params: Any
    ) -> TaskResult:
        return await self.client.submit(kind, data, agent, **params)

    def worker_states(self) -> list[WorkerState]:
        return [WorkerState(s) for s in self.client.worker_states()]

    def worker_pids(self) -> list[int]:
        return [int(p) for p in self.client.table.workers["pid"]]

    def wait_ready(self, timeout: float) -> None:
        """Block until every worker is READY (the supervisor writes the states we poll)."""
        deadline = time.monotonic() + timeout
        while True:
            if all(s == WorkerState.READY for s in self.worker_states()):
                return
            if self.supervisor is None or not self.supervisor.is_alive():
                raise RuntimeError("the engine supervisor exited during start-up")
            if time.monotonic() > deadline:
                raise TimeoutError(f"workers not ready within {timeout} s: {self.worker_states()}")
            time.sleep(0.005)

    def close(self, timeout: float | None = None) -> None:
        """Drain and stop the supervisor and its workers, then remove the segments. Idempotent."""
        worker_pids = []
        if self._client is not None:
            worker_pids = [pid for pid in self.worker_pids() if pid > 0]
            self._client.close()
            self._client = None
        if self.supervisor is not None:
            if self.supervisor.is_alive():
                self.supervisor.terminate()
                self.supervisor.join(timeout if timeout is not None else self.config.shutdown_grace + 2)
            if self.supervisor.is_alive():
                logger.warning("supervisor did not stop in time; killing the engine's processes")
                self._kill_all(worker_pids)
            self.supervisor = None
        if self.res is not None:
            self.res.close()
            self.res.unlink()
            self.res = None

    def _kill_all(self, worker_pids: list[int]) -> None:
        assert self.supervisor is not None
        self.supervisor.kill()
        self.supervisor.join()
        # workers die with their parent (PR_SET_PDEATHSIG); this is the belt to those braces
        for pid in worker_pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def __enter__(self) -> Engine:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
