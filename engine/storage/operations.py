"""Long storage operations (scrub, balance, device removal, replace) as objects a job wrapper drives.

The contract, for engine/jobs (the lead's jobs manager) or any caller:

    op = await manager.scrub("tank")       # validated, pool lease taken; nothing runs yet
    await op.start()                        # the tool is running; returns at once
    p = await op.progress()                 # polls the tool: Progress(state, percent, errors...)
    await op.cancel()                       # asks the tool to stop, waits (bounded) for it

``progress()`` is cheap enough to call every second. Once it reports a final state (done, failed,
cancelled) the pool's hold (``pool:<name>`` in the JobManager's lock table) is released and later
calls return that same final Progress.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from engine.common.commands import C_LOCALE, first_error_line, run_tool
from engine.errors import Conflict, Unsupported

if TYPE_CHECKING:
    from collections.abc import Callable

    from engine.jobs.locks import Hold, LockTable

RUNNING, DONE, FAILED, CANCELLED = "running", "done", "failed", "cancelled"


@dataclass
class Progress:
    state: str = "pending"  # pending | running | done | failed | cancelled
    percent: float = 0.0
    message: str = ""
    errors_found: int = 0
    errors_corrected: int = 0
    errors_uncorrectable: int = 0

    @property
    def done(self) -> bool:
        return self.state in (DONE, FAILED, CANCELLED)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "done": self.done}


class LongOperation(ABC):
    """One long operation on one pool; holds the pool's key (``lease``) from creation to its end."""

    kind: ClassVar[str]

    def __init__(self, pool: str, target: str, locks: LockTable, lease: Hold) -> None:
        self.pool, self.target = pool, target
        self._locks, self.lease = locks, lease
        self.last = Progress()
        self.started_unix = 0.0
        self.finished_unix = 0.0

    async def start(self) -> None:
        if self.last.state != "pending":
            raise Conflict(f"{self.kind} on {self.pool!r} was already started", code="already_started")
        try:
            await self._begin()
        except BaseException:
            self._locks.release(self.lease)
            self.last = Progress(FAILED, message="did not start")
            raise
        self.started_unix = time.time()
        self.last = Progress(RUNNING)

    async def progress(self) -> Progress:
        if self.last.done or self.last.state == "pending":
            return self.last
        progress = await self._poll()
        if self.last.done:  # closed while the tool was polled: that end stands
            return self.last
        self._record(progress)
        return progress

    async def cancel(self) -> Progress:
        if self.last.done:
            return self.last
        if self.last.state == "pending":
            self._record(Progress(CANCELLED, message="cancelled before it started"))
            return self.last
        await self._cancel()
        return await self.progress()

    def discard(self) -> None:
        """For an operation that will never start (its job was cancelled while queued, or could not
        be queued): it ends cancelled and gives the pool's lease back. Nothing to do once started."""
        if self.last.state == "pending":
            self._record(Progress(CANCELLED, message="cancelled before it started"))

    async def close(self) -> None:
        """For shutdown: stop following the operation (the kernel's work, if any, carries on, as
        after a crash); it ends failed, saying so, and the pool's lease goes back."""
        if not self.last.done:
            self._record(Progress(FAILED, self.last.percent, "engine stopped following the operation"))

    def describe(self) -> dict[str, Any]:
        """The job-facing shape: what runs where, its latest progress and its times."""
        return {
            "kind": self.kind,
            "pool": self.pool,
            "target": self.target,
            **self.last.as_dict(),
            "started_unix": self.started_unix,
            "finished_unix": self.finished_unix,
        }

    def _record(self, progress: Progress) -> None:
        self.last = progress
        if progress.done:
            self.finished_unix = time.time()
            self._locks.release(self.lease)

    @abstractmethod
    async def _begin(self) -> None: ...

    @abstractmethod
    async def _poll(self) -> Progress: ...

    @abstractmethod
    async def _cancel(self) -> None: ...


class ToolOperation(LongOperation):
    """A long operation carried by one blocking tool run (``btrfs scrub start -B`` and the like):
    its exit ends the operation; a second, short tool reports progress; a third cancels."""

    cancel_wait_s: ClassVar[float] = 60.0

    def __init__(self, pool: str, target: str, locks: LockTable, lease: Hold, argv: list[str]) -> None:
        super().__init__(pool, target, locks, lease)
        self.argv = argv
        self._proc: asyncio.subprocess.Process | None = None
        self._output: asyncio.Future[tuple[bytes, bytes]] | None = None
        self.cancel_requested = False

    async def _begin(self) -> None:
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env={**os.environ, **C_LOCALE},
            )
        except FileNotFoundError:
            raise Unsupported(f"{self.argv[0]} is not installed on this machine") from None
        # communicate() drains both pipes, so a chatty tool can never block on a full pipe
        self._output = asyncio.ensure_future(self._proc.communicate())

    async def _poll(self) -> Progress:
        assert self._proc is not None and self._output is not None
        if self._output.done():
            out, err = (b.decode(errors="replace") for b in self._output.result())
            return await self._final(self._proc.returncode or 0, out, err)
        return await self._running()

    async def _cancel(self) -> None:
        self.cancel_requested = True
        result = await run_tool(self.cancel_argv(), timeout=30.0, env=C_LOCALE)
        assert self._output is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._output), self.cancel_wait_s)
        if not self._output.done():
            self.last.message = f"cancel requested; still stopping ({result.reason() if not result.ok else 'ok'})"

    async def close(self) -> None:
        """For shutdown: stop waiting on the tool (the kernel operation itself carries on)."""
        if self._proc is not None and self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()
            await self._proc.wait()
        if self._output is not None:
            with contextlib.suppress(Exception):
                await self._output
        await super().close()

    def failure(self, returncode: int, out: str, err: str) -> Progress:
        """The final Progress of a tool that exited non-zero: cancelled if we asked, else failed."""
        reason = first_error_line(err) or first_error_line(out) or f"exited {returncode}"
        if self.cancel_requested:
            return Progress(CANCELLED, self.last.percent, f"cancelled ({reason})")
        return Progress(FAILED, self.last.percent, reason)

    @abstractmethod
    def cancel_argv(self) -> list[str]: ...

    @abstractmethod
    async def _running(self) -> Progress: ...

    @abstractmethod
    async def _final(self, returncode: int, out: str, err: str) -> Progress: ...


async def follow(
    op: LongOperation, *, interval_s: float = 1.0, on_progress: Callable[[LongOperation, Progress], None] | None = None
) -> Progress:
    """Poll ``op`` until it ends (what a job wrapper does, minus the job table)."""
    while True:
        progress = await op.progress()
        if on_progress is not None:
            on_progress(op, progress)
        if progress.done:
            return progress
        await asyncio.sleep(interval_s)
