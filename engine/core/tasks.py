"""TaskService: the one task path every transport calls (HTTP task routes, gRPC DispatchTask,
BlockService.Process and ProcessStream).

It validates a task's parameters, runs it through the client's lease, and keeps the compression
job bookkeeping in one ``try/finally``: a job ends done, failed (with the reason) or cancelled (the
caller went away), never left "running".
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any, NamedTuple

from engine.core.codes import Kind
from engine.errors import BadRequest, EngineError, UnknownKind

if TYPE_CHECKING:
    from collections.abc import Iterator

    from engine.core.client import EngineClient
    from engine.jobs import Job, JobTracker

# parameters each kind takes (anything else is refused with its name)
PARAMS_BY_KIND: dict[Kind, tuple[str, ...]] = {
    Kind.COMPRESS: ("codec", "level"),
    Kind.DECOMPRESS: ("codec",),
    Kind.HASH: ("algo",),
    Kind.PARITY: ("k",),
}
_JOB_KINDS = (Kind.COMPRESS, Kind.DECOMPRESS)


class TaskOutcome(NamedTuple):
    data: bytes
    kind: Kind
    agent: int
    agent_name: str
    worker: int
    bytes_in: int
    service_ns: int  # inside the agent's handler
    engine_ns: int  # submit to result through the rings


def task_params(kind: Kind, params: dict[str, Any]) -> dict[str, Any]:
    """The given parameters (None means not given), refusing any that ``kind`` does not take."""
    if not kind.public:
        raise UnknownKind(
            f"{kind.label} is not a task kind callers may send; kinds: {', '.join(k.label for k in Kind if k.public)}"
        )
    if not params:
        return params
    given = {k: v for k, v in params.items() if v is not None}
    extra = sorted(set(given) - set(PARAMS_BY_KIND.get(kind, ())))
    if extra:
        takes = ", ".join(PARAMS_BY_KIND.get(kind, ())) or "no parameters"
        raise BadRequest(f"{kind.label} does not take {', '.join(extra)} (it takes {takes})")
    return given


class TaskService:
    def __init__(self, client: EngineClient, jobs: JobTracker) -> None:
        self._client = client
        self._names = [a.name for a in client.agents]
        self.jobs = jobs

    async def run(
        self,
        kind: Kind,
        data: bytes,
        params: dict[str, Any],
        *,
        agent: int | None = None,
        timeout: float | None = None,
        source: str = "dispatch",
        job: BlockRecorder | None = None,
    ) -> TaskOutcome:
        """Run one task. Compress/decompress are a one-block job of their own, or one block of
        ``job`` (a stream's), whose outcome is counted while the job goes on."""
        kwargs = task_params(kind, params)
        if job is not None:
            try:
                outcome = await self._submit(kind, data, kwargs, agent, timeout)
            except (EngineError, TimeoutError):
                job.failed(len(data))
                raise
            job(len(data), len(outcome.data))
            return outcome
        if kind not in _JOB_KINDS:
            return await self._submit(kind, data, kwargs, agent, timeout)
        with self.job(kind, str(kwargs.get("codec", "lz4")), source) as record:
            outcome = await self._submit(kind, data, kwargs, agent, timeout)
            record(len(data), len(outcome.data))
            return outcome

    async def _submit(
        self, kind: Kind, data: bytes, kwargs: dict[str, Any], agent: int | None, timeout: float | None
    ) -> TaskOutcome:
        result = await self._client.submit(kind, data, agent, timeout=timeout, **kwargs)
        return TaskOutcome(
            result.data,
            kind,
            result.agent,
            self._names[result.agent],
            result.worker,
            len(data),
            result.service_ns,
            result.latency_ns,
        )

    @contextlib.contextmanager
    def job(self, kind: Kind, codec: str, source: str) -> Iterator[BlockRecorder]:
        """A compression job around one or many blocks; its end state follows how the block ends."""
        job = self.jobs.start(kind.label, codec, source)
        recorder = BlockRecorder(self.jobs, job)
        try:
            yield recorder
        except (asyncio.CancelledError, GeneratorExit):
            self.jobs.finish(job, cancelled=True)
            raise
        except EngineError as exc:
            recorder.failed(0)
            self.jobs.finish(job, exc.message)
            raise
        except TimeoutError:
            recorder.failed(0)
            self.jobs.finish(job, "the deadline passed before the task finished")
            raise
        except BaseException:
            self.jobs.finish(job, "internal error")
            raise
        else:
            self.jobs.finish(job, recorder.error)

    def set_drained(self, agent: int, drained: bool) -> None:
        self._client.set_drained(agent, drained)


class BlockRecorder:
    """Counts a job's blocks; a stream records each block's outcome (one bad block need not end it)."""

    def __init__(self, jobs: JobTracker, job: Job) -> None:
        self._jobs, self._job = jobs, job
        self.error = ""
        self.started_ns = time.monotonic_ns()

    def __call__(self, bytes_in: int, bytes_out: int) -> None:
        self._jobs.block_done(self._job, bytes_in, bytes_out)

    def failed(self, bytes_in: int, reason: str = "") -> None:
        self._jobs.block_done(self._job, bytes_in, 0, failed=True)
        if reason and not self.error:
            self.error = reason
