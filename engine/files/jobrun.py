"""What every file job shares: its request, its environment, and one run's source and output.

``FileJobRun`` opens the source (O_NOFOLLOW, checked again as a regular file on the descriptor),
records the temporary output name in the persisted job before creating it, reports progress, and
on any exit but a commit removes the temporary file, so a failed or cancelled job leaves nothing.
The source must keep the size and modification time it had when the job was planned, and stay
under its name: progress looks every 250 ms and ``commit`` once more, and a change fails the job
(code ``source_changed``; ``source_vanished`` when the file was deleted: the job reads on through
its open descriptor, but an output of a file the user removed is not published).
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.errors import BadRequest, Conflict, NotFound
from engine.files.output import AtomicOutput, temporary_for
from engine.files.paths import kind_of

if TYPE_CHECKING:
    from pathlib import Path
    from types import TracebackType

    from engine.config import EngineConfig
    from engine.files.runner import BlockRunner, FileIO, RunStats
    from engine.jobs.manager import JobContext
    from engine.keyservice import KeyService


CHECK_S = 0.25  # how often a running job looks whether its source changed (one fstat)


@dataclass(frozen=True)
class FileJobSpec:
    """A validated StartJob request (paths resolved under the roots)."""

    operation: str  # compress, decompress, encrypt, decrypt
    source: Path
    destination: Path
    overwrite: bool = False
    codec: str = ""  # compress: zstd or lz4; decompress: "" (detect) or the expected codec
    level: int = 0
    compress: bool = False  # encrypt: each block a zstd frame before sealing (compress-then-encrypt)


@dataclass(frozen=True)
class SourceState:
    size: int
    mtime_ns: int
    mode: int


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


def open_source(path: Path, missing_raises: bool = False) -> tuple[int, SourceState]:
    """The source opened read-only without following a final symlink, and what it is now.
    ``missing_raises``: a missing file raises FileNotFoundError (for the caller to explain)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if missing_raises and isinstance(exc, FileNotFoundError):
            raise
        raise BadRequest(f"source {str(path)!r} cannot be opened: {exc.strerror}", code="invalid_path") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise BadRequest(f"source {str(path)!r} is {kind_of(st.st_mode)}; file jobs read regular files",
                         code="not_a_file")  # fmt: skip
    with contextlib.suppress(OSError):
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
    return fd, SourceState(st.st_size, st.st_mtime_ns, st.st_mode)


def vanished(path: Path, when: str) -> NotFound:
    return NotFound(f"the source {str(path)!r} was deleted {when}; nothing was written",
                    code="source_vanished", metadata={"path": str(path)[:256]})  # fmt: skip


def check_unchanged(fd: int, planned: SourceState, path: Path) -> None:
    """The open source still has its planned size and mtime, and is still the file at ``path``."""
    st = os.fstat(fd)
    try:
        now = os.stat(path)
    except FileNotFoundError:  # deleted, or moved away (the descriptor reads on either way)
        raise vanished(path, "or moved while the job ran") from None
    if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
        raise Conflict(f"the source {str(path)!r} was replaced by another file while the job ran; the output was "
                       "discarded", code="source_changed")  # fmt: skip
    if st.st_size != planned.size or st.st_mtime_ns != planned.mtime_ns:
        what = f"size from {planned.size} to {st.st_size} bytes" if st.st_size != planned.size else "its contents"
        raise Conflict(f"the source {str(path)!r} changed {what} while the job ran; the output was discarded",
                       code="source_changed", metadata={"size": planned.size, "now": st.st_size})  # fmt: skip


class FileJobRun:
    """One job run's source descriptor and output file (``async with``)."""

    src_fd: int = -1
    output: AtomicOutput | None = None

    def __init__(self, env: FileEnv, ctx: JobContext, spec: FileJobSpec, planned: SourceState, *,
                 private: bool = False) -> None:  # fmt: skip
        self.env, self.ctx, self.spec, self.planned = env, ctx, spec, planned
        self.mode = 0o600 if private else stat.S_IMODE(planned.mode) & 0o666
        self.total = planned.size
        self._checked = time.monotonic()

    async def __aenter__(self) -> FileJobRun:
        spec, io = self.spec, self.env.io
        try:
            self.src_fd, state = await io.call(open_source, spec.source, True)
        except FileNotFoundError:
            raise vanished(spec.source, "before the job started") from None
        if state.size != self.planned.size or state.mtime_ns != self.planned.mtime_ns:
            raise Conflict(f"the source {str(spec.source)!r} changed between the request and the start of the job",
                           code="source_changed")  # fmt: skip
        temporary = temporary_for(spec.destination, self.ctx.record.id)
        self.ctx.record.params["temporary"] = str(temporary)
        self.ctx.save()  # recorded before it exists: a crash after this leaves a name the next start removes
        self.output = AtomicOutput(spec.destination, temporary, overwrite=spec.overwrite, mode=self.mode)
        await io.call(self.output.open)
        self.ctx.progress(0, self.total)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:  # fmt: skip
        if self.output is not None and not self.output.committed:
            await self.env.io.call(self.output.discard)
        if self.src_fd >= 0:
            os.close(self.src_fd)
            self.src_fd = -1

    @property
    def out_fd(self) -> int:
        assert self.output is not None
        return self.output.fd

    def progress(self, stats: RunStats) -> None:
        """Report progress; every CHECK_S also look at the source, so a change fails the job early."""
        self.ctx.progress(min(stats.bytes_in, self.total), self.total, bytes_out=stats.bytes_out,
                          blocks=stats.blocks, blocks_resent=stats.resent)  # fmt: skip
        now = time.monotonic()
        if now - self._checked >= CHECK_S:
            self._checked = now
            check_unchanged(self.src_fd, self.planned, self.spec.source)

    async def commit(self, **result: Any) -> dict[str, Any]:
        """Check the source did not change, then fsync and publish the output."""
        check_unchanged(self.src_fd, self.planned, self.spec.source)
        assert self.output is not None
        await self.env.io.call(self.output.commit)
        self.ctx.progress(self.total, self.total, **result)
        self.ctx.record.percent = 100.0
        return result
