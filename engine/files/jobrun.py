"""What every file job shares: its request, its environment, and one run's source and output.

The request resolved its paths to descriptors (engine/files/paths.py ``Resolved``): the job reads
the source through the descriptor opened then, and creates, renames and fsyncs its output through
the destination directory's descriptor, never by name. ``FileJobRun`` records the temporary output
name in the persisted job before creating it, reports progress, and on any exit but a commit
removes the temporary file, so a failed or cancelled job leaves nothing. The source must keep the
size and modification time it had when the job was planned, and stay under its name: progress
looks every 250 ms and ``commit`` once more, and a change fails the job (code ``source_changed``;
``source_vanished`` when the file was deleted: the job reads on through its open descriptor, but
an output of a file the user removed is not published). The output gets the source's owner and
group (the engine runs as root; a share's user must own what a job wrote for them).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.errors import Conflict, NotFound
from engine.files.output import AtomicOutput, temporary_for

if TYPE_CHECKING:
    from types import TracebackType

    from engine.config import EngineConfig
    from engine.files.paths import Resolved
    from engine.files.runner import BlockRunner, FileIO, RunStats
    from engine.jobs.manager import JobContext
    from engine.keys.service import KeyService


CHECK_S = 0.25  # how often a running job looks whether its source changed (one fstat)


@dataclass(frozen=True)
class FileJobSpec:
    """A validated StartJob request (paths resolved under the roots, their descriptors held)."""

    operation: str  # compress, decompress, encrypt, decrypt
    source: Resolved  # the file, opened
    destination: Resolved  # its directory, opened; the name in it
    overwrite: bool = False
    codec: str = ""  # compress: zstd or lz4; decompress: "" (detect) or the expected codec
    level: int = 0
    compress: bool = False  # encrypt: each block a zstd frame before sealing (compress-then-encrypt)

    def close(self) -> None:
        self.source.close()
        self.destination.close()


@dataclass(frozen=True)
class SourceState:
    size: int
    mtime_ns: int
    mode: int
    uid: int = -1
    gid: int = -1


@dataclass
class FileEnv:
    """What the job bodies use: configuration, the block runner and its I/O, the keys."""

    config: EngineConfig
    runner: BlockRunner
    io: FileIO
    keys: KeyService

    @property
    def block_bytes(self) -> int:
        return self.config.job_block_bytes

    @property
    def slot_bytes(self) -> int:
        return self.config.slot_bytes


def source_state(source: Resolved) -> SourceState:
    """What the opened source is now (fstat of its descriptor)."""
    st = os.fstat(source.fd)
    return SourceState(st.st_size, st.st_mtime_ns, st.st_mode, st.st_uid, st.st_gid)


def vanished(source: Resolved, when: str) -> NotFound:
    return NotFound(
        f"the source {source.path!r} was deleted {when}; nothing was written",
        code="source_vanished",
        metadata={"path": source.path[:256]},
    )


def check_unchanged(source: Resolved, planned: SourceState) -> None:
    """The open source still has its planned size and mtime, and is still the file under its name
    (looked up in its directory's descriptor, not by path)."""
    st = os.fstat(source.fd)
    now = source.lstat()
    if now is None:  # deleted, or moved away (the descriptor reads on either way)
        raise vanished(source, "or moved while the job ran")
    if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
        raise Conflict(
            f"the source {source.path!r} was replaced by another file while the job ran; the output was discarded",
            code="source_changed",
        )
    if st.st_size != planned.size or st.st_mtime_ns != planned.mtime_ns:
        what = f"size from {planned.size} to {st.st_size} bytes" if st.st_size != planned.size else "its contents"
        raise Conflict(
            f"the source {source.path!r} changed {what} while the job ran; the output was discarded",
            code="source_changed",
            metadata={"size": planned.size, "now": st.st_size},
        )


class FileJobRun:
    """One job run's source descriptor and output file (``async with``)."""

    src_fd: int = -1
    output: AtomicOutput | None = None

    def __init__(
        self, env: FileEnv, ctx: JobContext, spec: FileJobSpec, planned: SourceState, *, private: bool = False
    ) -> None:
        self.env, self.ctx, self.spec, self.planned = env, ctx, spec, planned
        self.mode = 0o600 if private else stat.S_IMODE(planned.mode) & 0o666
        self.total = planned.size
        self._checked = time.monotonic()

    async def __aenter__(self) -> FileJobRun:
        spec, io = self.spec, self.env.io
        self.src_fd = spec.source.fd
        if spec.source.lstat() is None:
            raise vanished(spec.source, "before the job started")
        state = source_state(spec.source)
        if state.size != self.planned.size or state.mtime_ns != self.planned.mtime_ns:
            raise Conflict(
                f"the source {spec.source.path!r} changed between the request and the start of the job",
                code="source_changed",
            )
        with contextlib.suppress(OSError):
            os.posix_fadvise(self.src_fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
        dest = spec.destination
        temporary = temporary_for(dest.name, self.ctx.record.id)
        self.ctx.record.params["temporary"] = f"{dest.directory}/{temporary}"
        self.ctx.save()  # recorded before it exists: a crash after this leaves a name the next start removes
        self.output = AtomicOutput(
            dest.dir_fd,
            dest.name,
            temporary,
            overwrite=spec.overwrite,
            mode=self.mode,
            owner=(self.planned.uid, self.planned.gid),
            where=dest.path,
        )
        try:
            await io.call(self.output.open)
        except BaseException:
            # a cancel that lands while the thread opens the temporary file still lets it finish
            # (io.call waits): __aexit__ does not run for a failed __aenter__, so close and remove it here
            await asyncio.shield(io.call(self.output.discard))
            raise
        self.ctx.progress(0, self.total)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.output is not None and not self.output.committed:
            await self.env.io.call(self.output.discard)
        self.src_fd = -1  # the descriptor is the request's (spec.source): closed when the job ends

    @property
    def out_fd(self) -> int:
        assert self.output is not None
        return self.output.fd

    def progress(self, stats: RunStats) -> None:
        """Report progress; every CHECK_S also look at the source, so a change fails the job early."""
        self.ctx.progress(
            min(stats.bytes_in, self.total),
            self.total,
            bytes_out=stats.bytes_out,
            blocks=stats.blocks,
            blocks_resent=stats.resent,
        )
        now = time.monotonic()
        if now - self._checked >= CHECK_S:
            self._checked = now
            check_unchanged(self.spec.source, self.planned)

    async def commit(self, **result: Any) -> dict[str, Any]:
        """Check the source did not change, then fsync and publish the output."""
        check_unchanged(self.spec.source, self.planned)
        assert self.output is not None
        await self.env.io.call(self.output.commit)
        self.ctx.progress(self.total, self.total, **result)
        self.ctx.record.percent = 100.0
        return result
