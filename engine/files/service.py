"""FileJobs: the file-jobs domain the transports call (StartJob, GetJob, CancelJob, ListJobs, ReadRange).

A request is checked whole before anything is queued: the operation and its parameters, the paths
against the roots (engine/files/paths.py: resolved beneath their root to descriptors, the source
opened), an existing destination without ``overwrite``, and the space the output may need
(fstatvfs), each refused with its own error. The plan made then (a seek table, a sealed header) and
the descriptors go to the job, which runs on the JobManager (category "file": persisted, bounded
queue, cancel, one job per destination) and reports ``compression.progress`` events with the
FileJob message's fields, at most every 250 ms and once at the end. The descriptors are closed when
the job ends, however it ends (done, failed, cancelled while queued or running, refused at submit).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, TypeVar

from engine.core.agents.params import LEVELS
from engine.core.codes import Codec
from engine.domain import Domain
from engine.errors import BadRequest, NotFound, from_os_error
from engine.files import compress_job, decompress_job, rewrap_job, seal_job
from engine.files.jobrun import FileEnv, FileJobSpec
from engine.files.models import FileJob, RangeRead
from engine.files.output import remove_stale
from engine.files.paths import PathPolicy, Resolved, close_all
from engine.files.ranges import MAX_PREFIX_BYTES, RangeReader
from engine.files.runner import BlockRunner, FileIO
from engine.jobs.model import JobState

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from engine.config import EngineConfig
    from engine.core.client import EngineClient
    from engine.jobs import Publish
    from engine.jobs.manager import JobContext, JobManager
    from engine.jobs.model import JobRecord
    from engine.keys.service import KeyService

    Body = Callable[[JobContext], Awaitable[dict[str, Any]]]

logger = logging.getLogger(__name__)
T = TypeVar("T")

CATEGORY = "file"
OPERATIONS = ("compress", "decompress", "encrypt", "decrypt", "rewrap")
CODECS = ("zstd", "lz4")
JOB_LIMIT_MAX = 256


def lanes_for(config: EngineConfig) -> int:
    """Blocks in flight per job: enough to keep every worker busy while the frontend reads and
    writes (three per worker), never more than a quarter of the slots (two slots per block)."""
    import os

    k = int(os.environ.get("SV_LANES_PER_WORKER", "3"))
    return max(2, min(k * config.workers, config.slots // 4))


def check_request(operation: str, codec: str, level: int | None, compress: bool) -> tuple[str, int]:
    """The operation's codec and level, or BadRequest naming what does not apply."""
    if operation not in OPERATIONS:
        raise BadRequest(f"operation must be one of {', '.join(OPERATIONS)}, got {operation!r}")
    if codec and codec not in CODECS:
        raise BadRequest(f"codec must be one of {', '.join(CODECS)}, got {codec!r}")
    if compress and operation != "encrypt":
        raise BadRequest("compress applies to encrypt only (compress-then-encrypt)")
    if operation == "compress" or (operation == "encrypt" and compress):
        codec = codec or "zstd"
        if operation == "encrypt" and codec != "zstd":
            raise BadRequest("compress-then-encrypt compresses with zstd; leave codec unset or zstd")
        lo, hi, default = LEVELS[Codec[codec.upper()]]
        if level is not None and not lo <= level <= hi:
            raise BadRequest(f"{codec} level must be in {lo}-{hi}, got {level}", metadata={"min": lo, "max": hi})
        return codec, default if level is None else level
    if level is not None:
        raise BadRequest(f"level applies to compress (and encrypt with compress), not to {operation}")
    if codec and operation != "decompress":
        raise BadRequest(f"codec applies to compress and decompress, not to {operation}")
    return codec, 0


class FileJobs(Domain):
    """The file jobs domain (engine/domain.py): its jobs run on the shared JobManager, which cleans up
    after the interrupted ones at its open (``clean_interrupted``); ``close`` stops its I/O threads
    (after the JobManager has ended the jobs using them)."""

    name = "files"

    def __init__(
        self, config: EngineConfig, client: EngineClient, jobs: JobManager, keys: KeyService, publish: Publish
    ) -> None:
        self.config = config
        self.jobs = jobs
        self.keys = keys
        self._publish = publish
        self.policy = policy_for(config)
        if not self.policy.roots:
            logger.warning(
                "file jobs are off: SIGMAVAULT_JOB_ROOTS names no directory (the data directory is never "
                "one), so every file job and range read is refused no_job_roots"
            )
        self.io = FileIO()
        self.env = FileEnv(config, BlockRunner(client, self.io, depth=lanes_for(config)), self.io, keys)
        self.ranges = RangeReader(self.policy, max_prefix=max(MAX_PREFIX_BYTES, config.job_block_bytes))
        jobs.after_recover(self.clean_interrupted)

    async def start(
        self,
        operation: str,
        source: str,
        destination: str = "",
        *,
        codec: str = "",
        level: int | None = None,
        overwrite: bool = False,
        compress: bool = False,
    ) -> FileJob:
        """Check the request, plan the job (in a thread: it reads the source's tail or header) and queue it."""
        codec, level = check_request(operation, codec, level, compress)
        if operation == "rewrap":
            if destination:
                raise BadRequest("rewrap rewrites the files in place; leave destination empty")
            found = await _in_thread(rewrap_job.plan, self.policy, source)
            body: Body = lambda ctx: rewrap_job.run(self.env, ctx, found)  # noqa: E731
            params = {"source": source, "files": len(found)}
            return self._submit(operation, source, params, body, lock="rewrap", held=(found.top,))
        spec, body = await _in_thread(self._plan, operation, source, destination, codec, level, overwrite, compress)
        params = {
            "source": spec.source.path,
            "destination": spec.destination.path,
            "codec": codec,
            "level": level,
            "overwrite": overwrite,
            "compress": compress,
        }
        return self._submit(
            operation,
            spec.destination.path,
            params,
            body,
            lock=f"dest:{spec.destination.path}",
            held=(spec.source, spec.destination),
        )

    def _plan(
        self, operation: str, source: str, destination: str, codec: str, level: int, overwrite: bool, compress: bool
    ) -> tuple[FileJobSpec, Body]:
        src = self.policy.source(source)
        dest: Resolved | None = None
        try:
            dest = self.policy.destination(destination, overwrite, src)
            spec = FileJobSpec(operation, src, dest, overwrite, codec, level, compress)
            return spec, self._body(spec)
        except BaseException:
            close_all((src, dest))
            raise

    def _body(self, spec: FileJobSpec) -> Body:
        env, operation = self.env, spec.operation
        if operation == "compress":
            state, _ = compress_job.plan(env, spec)
            return lambda ctx: compress_job.run(env, ctx, spec, state)
        if operation == "decompress":
            plan = decompress_job.plan(env, spec)
            return lambda ctx: decompress_job.run(env, ctx, spec, plan)
        if operation == "encrypt":
            state, _ = seal_job.plan_encrypt(env, spec)
            return lambda ctx: seal_job.run_encrypt(env, ctx, spec, state)
        sealed = seal_job.plan_decrypt(env, spec)
        return lambda ctx: seal_job.run_decrypt(env, ctx, spec, sealed)

    def _submit(
        self, operation: str, target: str, params: dict[str, Any], body: Body, lock: str, held: Sequence[Resolved]
    ) -> FileJob:
        """Queue the job; ``held`` (its descriptors) are closed when it ends, whichever way: the body's
        end, or the final event of a job cancelled before it ran."""

        async def guarded(ctx: JobContext) -> dict[str, Any]:
            try:
                return await body(ctx)
            except OSError as exc:  # EIO, EACCES, ENOSPC in a stream: the job says so, not "internal error"
                raise from_os_error(exc) from None
            finally:
                close_all(held)

        def on_event(record: JobRecord, phase: str) -> None:
            self._event(record, phase)
            if phase == "done":
                close_all(held)

        try:
            record = self.jobs.submit(operation, CATEGORY, target, params, guarded, on_event=on_event, lock=lock)
        except BaseException:
            close_all(held)
            raise
        return file_job(record)

    def _event(self, record: JobRecord, phase: str) -> None:
        self._publish("compression.progress", file_job(record).event_fields())

    def get(self, job_id: str) -> FileJob:
        return file_job(self._record(job_id))

    async def cancel(self, job_id: str) -> FileJob:
        self._record(job_id)
        return file_job(await self.jobs.cancel(job_id))

    def _record(self, job_id: str) -> JobRecord:
        record = self.jobs.get(job_id)
        if record.category != CATEGORY:
            raise NotFound(f"no file job {job_id[:64]!r}", code="unknown_job")
        return record

    def recent(self, limit: int) -> list[FileJob]:
        if not 1 <= limit <= JOB_LIMIT_MAX:
            raise BadRequest(f"limit must be in 1-{JOB_LIMIT_MAX}, got {limit}", metadata={"min": 1, "max": 256})
        return [file_job(r) for r in self.jobs.list(CATEGORY, limit)]

    async def read_range(self, path: str, offset: int, length: int) -> RangeRead:
        """Plain bytes of a seekable file, read on the range reader's threads (engine/files/ranges.py)."""
        return await self.ranges.read_async(path, offset, length)

    def clean_interrupted(self, records: list[JobRecord]) -> None:
        """At start: remove the temporary outputs of the file jobs the last engine died under (each
        resolved beneath the roots like any job path: a directory swapped since leads nowhere)."""
        for record in records:
            temporary = record.params.get("temporary", "") if record.category == CATEGORY else ""
            if temporary and self.policy.roots and remove_stale(self.policy, temporary):
                logger.info("removed %s, the partial output of interrupted job %s", temporary, record.id)

    async def close(self) -> None:
        await super().close()
        self.ranges.close()
        self.io.close()


def policy_for(config: EngineConfig) -> PathPolicy:
    """The roots of SIGMAVAULT_JOB_ROOTS; the data directory and the credential files are never reachable."""
    private = (config.api_token_file, config.api_tokens_file, config.key_passphrase_file, config.tls_key)
    return PathPolicy(config.job_root_list, data_dir=config.data_dir, private=private)


async def _in_thread(fn: Callable[..., T], *args: Any) -> T:
    """``fn`` on a thread; if the request is cancelled meanwhile, what it opened is closed when it ends."""
    fut = asyncio.get_running_loop().run_in_executor(None, fn, *args)
    try:
        return await asyncio.shield(fut)
    except asyncio.CancelledError:
        fut.add_done_callback(_close_result)
        raise


def _close_result(fut: asyncio.Future[Any]) -> None:
    if fut.cancelled() or fut.exception() is not None:
        return
    result = fut.result()
    held = result[0] if isinstance(result, tuple) else result  # (FileJobSpec, body) or a RewrapPlan
    held.close()


def file_job(record: JobRecord) -> FileJob:
    """A job record as the FileJob message's record (enums as their JSON labels)."""
    p, r = record.params, record.result
    files = record.kind == "rewrap"
    error_code = r.get("error_code", "")
    if not error_code and record.state is JobState.FAILED and record.error.startswith("interrupted"):
        error_code = "interrupted"
    return FileJob(
        id=record.id,
        operation=record.kind,
        state=str(record.state),
        source=p.get("source", ""),
        destination=p.get("destination", ""),
        codec=p.get("codec") or r.get("codec") or None,  # decompress: the codec found in the file
        level=p.get("level", 0),
        overwrite=p.get("overwrite", False),
        compress=p.get("compress", False),
        bytes_total=0 if files else record.total_units,
        bytes_done=0 if files else record.done_units,
        percent=record.percent,
        mb_per_s=0.0 if files else round(record.rate_per_s / 1e6, 3),
        eta_s=record.eta_s,
        bytes_out=r.get("bytes_out", 0),
        blocks=r.get("blocks", 0),
        blocks_resent=r.get("blocks_resent", 0),
        format=r.get("format", ""),
        mode=r.get("mode", ""),
        key_id=r.get("key_id", ""),
        ratio=r.get("ratio", 0.0),
        files_total=record.total_units if files else 0,
        files_done=record.done_units if files else 0,
        files_rewrapped=r.get("files_rewrapped", 0),
        created_unix_ns=record.created_unix_ns,
        started_unix_ns=record.started_unix_ns,
        finished_unix_ns=record.finished_unix_ns,
        message=record.message,
        error=record.error,
        error_code=error_code,
    )
