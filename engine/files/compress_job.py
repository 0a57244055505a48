"""Compress a file: zstd (independent frames + the seekable format's seek table) or lz4 (independent
frames), one block per frame, every worker at once (docs/FORMATS.md, docs/FILE_JOBS.md).

Frames are appended in block order; each zstd frame's content checksum (its last 4 bytes) becomes
its seek table entry's checksum as it is written, and the table ends the file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.core.agents.params import encode_params, zstd_bound
from engine.core.codes import Kind, Status
from engine.errors import EngineError, error_for_status
from engine.files.jobrun import FileJobRun, SourceState, source_state
from engine.files.lz4_frames import frame_bound as lz4_frame_bound
from engine.files.paths import check_free_space
from engine.files.runner import Block, write_full
from engine.files.zstd_seekable import SeekTableBuilder

if TYPE_CHECKING:
    from collections.abc import Iterator

    from engine.files.jobrun import FileEnv, FileJobSpec
    from engine.jobs.manager import JobContext


def blocks_of(size: int, block_bytes: int, *, placed: int | None = None) -> Iterator[Block]:
    """The blocks of a ``size``-byte source (an empty source is one empty block). ``placed``: the
    stride of outputs whose place is known (plain sealed records); None appends in order."""
    n = max(1, -(-size // block_bytes))
    for i in range(n):
        start = i * block_bytes
        yield Block(i, start, min(block_bytes, size - start), -1 if placed is None else i * placed)


def output_bound(codec: str, size: int, block_bytes: int) -> int:
    """The largest file a compression of ``size`` bytes can write (for the free-space check)."""
    n = max(1, -(-size // block_bytes))
    if codec == "lz4":
        return n * lz4_frame_bound(block_bytes)
    return n * zstd_bound(block_bytes) + 8 + 12 * n + 9


class _FrameWork:
    def __init__(self, kind: Kind, param: int, codec: str) -> None:
        self.kind, self.param, self.codec = kind, param, codec
        self.table = SeekTableBuilder(checksums=True) if kind is Kind.ZSTD_FRAME else None

    def prepare(self, block: Block, slot: memoryview) -> int:
        return 0

    def accept(self, block: Block, out: memoryview) -> None:
        if self.table is not None:  # the frame ends with its content checksum: the table's entry
            self.table.add(len(out), block.src_bytes, int.from_bytes(out[len(out) - 4 :], "little"))

    def failure(self, block: Block, status: Status) -> EngineError:
        return error_for_status(status, f"{self.codec} frame of block {block.number} (offset {block.src_offset})")


def plan(env: FileEnv, spec: FileJobSpec) -> tuple[SourceState, int]:
    """At StartJob (in a thread): the source as it is, and the space the output may need."""
    state = source_state(spec.source)
    needed = output_bound(spec.codec, state.size, env.block_bytes)
    check_free_space(spec.destination.dir_fd, needed, f"compressing {state.size} bytes", spec.destination.directory)
    return state, needed


async def run(env: FileEnv, ctx: JobContext, spec: FileJobSpec, planned: SourceState) -> dict[str, Any]:
    kind = Kind.ZSTD_FRAME if spec.codec == "zstd" else Kind.LZ4_FRAME
    work = _FrameWork(kind, encode_params(kind, {"level": spec.level}), spec.codec)
    async with FileJobRun(env, ctx, spec, planned) as job:
        stats = await env.runner.run(
            work,
            blocks_of(planned.size, env.block_bytes),
            src_fd=job.src_fd,
            out_fd=job.out_fd,
            ordered=True,
            progress=job.progress,
        )
        written = stats.bytes_out
        if work.table is not None:
            table = work.table.to_bytes()
            await env.io.call(write_full, job.out_fd, memoryview(table), written)
            written += len(table)
        ratio = round(written / planned.size, 4) if planned.size else 0.0
        return await job.commit(
            bytes_out=written,
            blocks=stats.blocks,
            blocks_resent=stats.resent,
            ratio=ratio,
            format="zstd seekable" if work.table is not None else "lz4 frames",
        )
