"""BackgroundTasks: every background task has a parent (trio's nurseries, ``asyncio.TaskGroup``).

A domain starts its long-lived work through its own BackgroundTasks (engine/domain.py) instead of a
bare ``create_task``, so that nothing is fired and forgotten:

- ``run_forever(name, factory)``: ``factory()`` is awaited again whenever it raises, after a delay
  that doubles from ``first_backoff_s`` up to ``max_backoff_s`` (a run that lasted ``max_backoff_s``
  or more starts the doubling over); a clean return ends the task.
- ``run_once(name, coroutine)``: awaited once; a failure is logged, never retried.

Every failure is logged with its traceback and counted per task name (``failures()``; the restarts
it caused in ``restarts()``: /metrics shows them as ``sigmavault_background_restarts_total``).
``close()`` cancels every task and waits for it. A task that swallows its cancel is bounded: after
``grace_s`` it is cancelled a second time, and one still running ``grace_s`` after that is logged as
abandoned and no longer waited for, so a close takes at most ``2 * grace_s``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine

logger = logging.getLogger(__name__)

FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 60.0
GRACE_S = 5.0  # a cancelled task's time to end (twice for one that swallows the first cancel)


class BackgroundTasks:
    """The background tasks of one owner (``owner`` prefixes their names in logs: "storage.snapshots")."""

    _closed = False
    _tasks: dict[str, asyncio.Task[None]] | None = None  # live tasks by name (a half-built object has none)

    def __init__(
        self,
        owner: str,
        *,
        first_backoff_s: float = FIRST_BACKOFF_S,
        max_backoff_s: float = MAX_BACKOFF_S,
        grace_s: float = GRACE_S,
    ) -> None:
        self.owner = owner
        self.first_backoff_s, self.max_backoff_s, self.grace_s = first_backoff_s, max_backoff_s, grace_s
        self._tasks = {}
        self._failures: dict[str, int] = {}
        self._restarts: dict[str, int] = {}

    def __repr__(self) -> str:
        names = sorted(self._tasks or ())
        return f"BackgroundTasks({self.owner!r}, tasks={names}, closed={self._closed})"

    def run_forever(self, name: str, factory: Callable[[], Awaitable[None]]) -> None:
        """Run ``factory()`` until it returns; restarted with backoff each time it raises."""
        self._spawn(name, self._forever(name, factory))
        self._restarts.setdefault(name, 0)  # listed from its start: /metrics shows a 0 before the first restart

    def run_once(self, name: str, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run ``coroutine`` once; a failure is logged with its traceback and counted, not retried."""
        self._spawn(name, coroutine)

    def restarts(self) -> dict[str, int]:
        """Restarts per run_forever task name (0 until its first failure; each failure is followed by a restart)."""
        return dict(self._restarts) if self._tasks is not None else {}

    def failures(self) -> dict[str, int]:
        """Failures per task name, of either kind (0 for a task that never failed)."""
        return dict(self._failures) if self._tasks is not None else {}

    def running(self) -> list[str]:
        return sorted(self._tasks or ())

    def _spawn(self, name: str, coroutine: Coroutine[Any, Any, None]) -> None:
        tasks = self._tasks
        if self._closed or tasks is None or name in tasks:
            coroutine.close()  # never started: no "coroutine was never awaited" warning
            problem = "closed" if self._closed or tasks is None else f"already runs {name!r}"
            raise RuntimeError(f"background tasks of {self.owner}: {problem}")
        task = asyncio.get_running_loop().create_task(coroutine, name=f"{self.owner}.{name}")
        tasks[name] = task  # a strong reference: the loop keeps only weak ones
        self._failures.setdefault(name, 0)
        task.add_done_callback(lambda done: self._ended(name, done))

    def _ended(self, name: str, task: asyncio.Task[None]) -> None:
        if self._tasks is not None and self._tasks.get(name) is task:
            del self._tasks[name]
        if task.cancelled():
            return
        exc = task.exception()  # retrieved: never "Task exception was never retrieved"
        if exc is not None:
            self._failed(name, exc, "ended")

    def _failed(self, name: str, exc: BaseException, outcome: str) -> None:
        self._failures[name] = self._failures.get(name, 0) + 1
        logger.error("background task %s.%s failed (%s)", self.owner, name, outcome, exc_info=exc)

    async def _forever(self, name: str, factory: Callable[[], Awaitable[None]]) -> None:
        delay = self.first_backoff_s
        while True:
            started = time.monotonic()
            try:
                await factory()
            except Exception as exc:
                if self._closed:  # failed on its way out (e.g. after swallowing the cancel): logged, not run again
                    self._failed(name, exc, "while closing")
                    return
                if time.monotonic() - started >= self.max_backoff_s:
                    delay = self.first_backoff_s  # it ran a good while: a new failure, not the same one again
                self._restarts[name] = self._restarts.get(name, 0) + 1
                self._failed(name, exc, f"restart {self._restarts[name]} in {delay:.1f} s")
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff_s)
            else:
                return

    async def close(self) -> None:
        """Cancel every task and wait for it (bounded: see the module's docstring); idempotent."""
        self._closed = True
        if not self._tasks:
            return
        pending: set[asyncio.Task[None]] = set(self._tasks.values())
        for attempt in ("cancel", "second cancel"):
            if not pending:
                return
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=self.grace_s)
            if pending:
                names = ", ".join(sorted(t.get_name() for t in pending))
                logger.warning(
                    "background task(s) %s still running %.1f s after their %s", names, self.grace_s, attempt
                )
        for task in pending:
            logger.error("background task %s ignored its cancel twice: abandoned", task.get_name())
