"""Decompress a zstd or lz4 file: in parallel when its frames are known and small, else one stream.

The plan (made at StartJob, in a thread) comes from the format modules: our zstd files have a seek
table; files of several frames that declare their sizes (``zstd``/``lz4`` CLI output concatenated,
``lz4 --content-size``) are walked frame by frame; each frame is one DECOMPRESS task whose output is
written straight where it belongs. A file that is one big frame, or whose frames do not declare
their sizes, is decoded as one stream in a thread (zstandard and lz4 release the GIL) with memory
bounded by a 1 MiB chunk (plus zstd's window): the event loop only polls its progress.

Nothing is expanded past the bound (SIGMAVAULT_JOB_MAX_OUTPUT_BYTES, else the destination's free
space): declared sizes are checked before the job starts, and a stream stops at the bound.
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.core.codes import Codec, Kind, Status
from engine.errors import EngineError, InsufficientSpace, PayloadTooLarge, error_for_status
from engine.files import lz4_frames, zstd_frames
from engine.files.errors import CorruptFile
from engine.files.jobrun import FileJobRun, SourceState, source_state
from engine.files.paths import check_free_space
from engine.files.runner import Block, RunStats

if TYPE_CHECKING:
    from collections.abc import Iterator

    from engine.files.jobrun import FileEnv, FileJobSpec
    from engine.files.zstd_seekable import SeekTable
    from engine.jobs.manager import JobContext

POLL_S = 0.25
_ZSTD, _LZ4 = 0xFD2FB528, 0x184D2204
_SKIPPABLE_MASK, _SKIPPABLE = 0xFFFFFFF0, 0x184D2A50


class StreamStopped(Exception):
    """Raised inside a stream's thread when its job was cancelled."""


@dataclass(frozen=True)
class DecompressPlan:
    state: SourceState
    codec: str
    mode: str  # seek_table, frames or stream
    table: SeekTable | None
    reason: str
    bound: int  # output bytes allowed


def detect(fd: int, size: int) -> str:
    """zstd or lz4 from the first frame's magic (skippable frames, which both formats allow, skipped)."""
    pos = 0
    while pos + 4 <= size:
        magic = int.from_bytes(os.pread(fd, 4, pos), "little")
        if magic == _ZSTD:
            return "zstd"
        if magic == _LZ4 or magic == lz4_frames.LEGACY_MAGIC:
            return "lz4"
        if magic & _SKIPPABLE_MASK != _SKIPPABLE or pos + 8 > size:
            break
        pos += 8 + int.from_bytes(os.pread(fd, 4, pos + 4), "little")
    raise CorruptFile(
        "the source is neither a zstd nor an lz4 file (no frame magic at its start)", code="not_compressed"
    )


def plan(env: FileEnv, spec: FileJobSpec) -> DecompressPlan:
    """At StartJob (in a thread): how to decode, and the refusal of an output that cannot fit."""
    fd, state = spec.source.fd, source_state(spec.source)
    codec = detect(fd, state.size)
    if spec.codec and spec.codec != codec:
        raise CorruptFile(f"the source is a {codec} file, not {spec.codec}", code="wrong_codec")
    module = zstd_frames if codec == "zstd" else lz4_frames
    decode = module.plan_decode(fd, env.slot_bytes)
    table, mode, reason = decode.table, decode.mode, decode.reason
    if table is not None and len(table) and int(table.compressed_sizes.max()) > env.slot_bytes:
        table, mode, reason = None, "stream", f"a frame is over a task's {env.slot_bytes} bytes when compressed"
    # what the frames declare, streams included, is refused here: over the cap 413, over the free space 507
    declared = decode.declared or 0
    cap = env.config.job_max_output_bytes
    if cap and declared > cap:
        raise PayloadTooLarge(
            f"the frames declare {declared} bytes, over the {cap}-byte limit (SIGMAVAULT_JOB_MAX_OUTPUT_BYTES)",
            code="too_large",
            metadata={"limit": cap, "declared": declared},
        )
    free = check_free_space(
        spec.destination.dir_fd,
        declared,
        f"decompressing {os.path.basename(spec.source.path)}",
        spec.destination.directory,
    )
    bound = min(free, cap) if cap else free
    return DecompressPlan(state, codec, mode, table, reason, bound)


class _DecodeWork:
    kind = Kind.DECOMPRESS

    def __init__(self, codec: str, table: SeekTable) -> None:
        self.codec, self.table = codec, table
        self.param = int(Codec.ZSTD if codec == "zstd" else Codec.LZ4)

    def prepare(self, block: Block, slot: memoryview) -> int:
        return 0

    def accept(self, block: Block, out: memoryview) -> None:
        pass

    def failure(self, block: Block, status: Status) -> EngineError:
        where = f"{self.codec} frame {block.number} at offset {block.src_offset}"
        if status in (Status.CORRUPT_INPUT, Status.TOO_LARGE):  # TOO_LARGE: more than it declares
            return CorruptFile(
                f"{where} is corrupt or does not decode to the {block.expect} bytes it declares",
                code="corrupt_frame",
                metadata={"frame": block.number},
            )
        return error_for_status(status, where)

    def blocks(self) -> Iterator[Block]:
        t = self.table
        for i in range(len(t)):
            size = int(t.decompressed_sizes[i])
            if size:  # empty and skippable frames produce nothing
                yield Block(i, int(t.c_offsets[i]), int(t.compressed_sizes[i]), int(t.d_offsets[i]), size)


def format_of(p: DecompressPlan) -> str:
    if p.mode == "seek_table":
        return "zstd seekable"
    return f"{p.codec} {'frames' if p.mode == 'frames' else 'stream'}"


async def run(env: FileEnv, ctx: JobContext, spec: FileJobSpec, p: DecompressPlan) -> dict[str, Any]:
    ctx.progress(0, p.state.size, mode=p.mode, codec=p.codec, format=format_of(p))
    async with FileJobRun(env, ctx, spec, p.state) as job:
        if p.table is not None:
            work = _DecodeWork(p.codec, p.table)
            stats = await env.runner.run(
                work, work.blocks(), src_fd=job.src_fd, out_fd=job.out_fd, ordered=False, progress=job.progress
            )
            written, blocks, resent = p.table.decompressed_bytes, stats.blocks, stats.resent
        else:
            ctx.progress(0, p.state.size, message=f"one stream: {p.reason}")
            written, blocks, resent = await _stream(env, job, p), 1, 0
        return await job.commit(bytes_out=written, blocks=blocks, blocks_resent=resent, codec=p.codec, mode=p.mode)


async def _stream(env: FileEnv, job: FileJobRun, p: DecompressPlan) -> int:
    """One bounded-memory stream on a thread; progress polled from the loop, cancel via a flag."""
    module = zstd_frames if p.codec == "zstd" else lz4_frames
    stop, seen = threading.Event(), [0, 0]

    def on_chunk(position: int, out: int) -> None:
        seen[0], seen[1] = position, out
        if stop.is_set():
            raise StreamStopped

    src, dst = job.src_fd, job.out_fd
    decode = functools.partial(module.stream_decompress, max_output=p.bound, on_chunk=on_chunk)
    fut: asyncio.Future[int] = asyncio.ensure_future(env.io.call(decode, src, dst))
    try:
        while not fut.done():
            await asyncio.wait([fut], timeout=POLL_S)
            job.progress(RunStats(blocks=0, bytes_in=seen[0], bytes_out=seen[1]))
        return fut.result()
    except PayloadTooLarge:
        cap = env.config.job_max_output_bytes
        if not cap or p.bound < cap:  # the bound was the free space: a disk too small, not a bomb
            raise InsufficientSpace(
                f"the stream decodes to more than the {p.bound} bytes free on the destination's "
                "filesystem; nothing was written under the final name",
                code="insufficient_space",
                metadata={"free": p.bound},
            ) from None
        raise PayloadTooLarge(
            f"the stream decodes to more than {p.bound} bytes (SIGMAVAULT_JOB_MAX_OUTPUT_BYTES); "
            "refused as a decompression bomb after writing nothing under the final name",
            code="too_large",
            metadata={"limit": p.bound},
        ) from None
    except asyncio.CancelledError:
        stop.set()
        await asyncio.gather(fut, return_exceptions=True)
        raise
