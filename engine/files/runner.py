"""BlockRunner: a file's blocks through every worker, a bounded number in flight, output in order.

Each of ``depth`` lanes holds one lease of two slots (input, output) for the whole job, then takes
the next block: the source bytes are read straight into the input slot (``os.preadv`` on the slot's
memoryview, after an optional per-block header such as the sealing context), one task turns them
into the output slot, and the output is written from the slot (``os.pwrite``). File bytes never
become Python objects on the way. A lane takes its lease before its block, so the lowest unfinished
block always has slots and in-order writing cannot deadlock.

Outputs whose place is known in advance (decompressed frames, plain sealed records) are written
where they belong as soon as they are ready; the others (compressed frames, compressed sealed
records) are appended in block order, each lane waiting for its turn while holding its slots.

A worker that dies under a block (WorkerLost; the client fails its tasks once the supervisor has
reaped it, so nothing writes the slots any more) costs only time: the block is read again and sent
to a live worker, up to ``retries`` times. Blocks are idempotent, so the output is byte-identical.

File I/O runs on a small thread pool (``FileIO``) so a slow disk never stalls the event loop that
also serves the API; a slot is never given back while a thread may still read or write it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar

from engine.core.codes import Kind, Status
from engine.errors import Conflict, EngineBusy, EngineError, WorkerLost, WorkerUnavailable, from_os_error
from engine.files.errors import CorruptFile

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator

    from engine.core.client import EngineClient, Lease

T = TypeVar("T")
LEASE_WAIT_S = 60.0  # a lane waits this long for slots while the engine is saturated, then the job fails busy
RESEND_PAUSE_S = 0.05  # before sending a lost block again (a worker restarts in well under a second)


class Block(NamedTuple):
    number: int  # the block's position in the file (0, 1, ...)
    src_offset: int  # where the block's input starts in the source
    src_bytes: int  # input bytes to read
    out_offset: int  # where its output goes (relative to the runner's base); -1: appended in block order
    expect: int = -1  # output bytes the task must produce (-1: whatever it produces)


class BlockWork(Protocol):
    """What a job type tells the runner: the kind and param of its tasks and its per-block steps."""

    kind: Kind
    param: int

    def prepare(self, block: Block, slot: memoryview) -> int:
        """Write anything the task needs before the input; returns where the input goes."""
        ...

    def accept(self, block: Block, out: memoryview) -> None:
        """Check and record one block's output (called in block order when outputs are appended)."""
        ...

    def failure(self, block: Block, status: Status) -> EngineError:
        """The error that ends the job when a worker refuses a block."""
        ...


@dataclass
class RunStats:
    blocks: int = 0
    resent: int = 0  # blocks sent again after their worker died
    bytes_in: int = 0
    bytes_out: int = 0


class FileIO:
    """preadv/pwrite on a few threads (the syscalls release the GIL)."""

    def __init__(self, threads: int = 4) -> None:
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="sv-fileio")

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` on the pool; if the caller is cancelled, still wait for it to finish, since it
        may be reading into or writing from a slot that must not be handed out meanwhile."""
        fut = asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)
        try:
            return await asyncio.shield(fut)
        except asyncio.CancelledError:
            while not fut.done():
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait([fut])
            raise

    async def read(self, fd: int, view: memoryview, offset: int) -> int:
        return await self.call(read_full, fd, view, offset)

    async def write(self, fd: int, view: memoryview, offset: int) -> None:
        await self.call(write_full, fd, view, offset)

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def read_full(fd: int, view: memoryview, offset: int) -> int:
    """Fill ``view`` from ``offset`` (fewer bytes only at the end of the file)."""
    got, want = 0, len(view)
    while got < want:
        n = os.preadv(fd, [view[got:]], offset + got)
        if n == 0:
            break
        got += n
    return got


def write_full(fd: int, view: memoryview, offset: int) -> None:
    done, want = 0, len(view)
    try:
        while done < want:
            done += os.pwrite(fd, view[done:], offset + done)
    except OSError as exc:
        raise from_os_error(exc, what=f"writing {want} bytes of the output at offset {offset}") from None


class _Order:
    """Block-order turns for appended outputs, and the running end of the file."""

    def __init__(self, position: int) -> None:
        self.next = 0
        self.position = position
        self._waiters: dict[int, asyncio.Future[None]] = {}

    async def turn(self, index: int) -> None:
        if index != self.next:
            fut = asyncio.get_running_loop().create_future()
            self._waiters[index] = fut
            try:
                await fut
            finally:
                self._waiters.pop(index, None)

    def advance(self, n: int) -> None:
        self.position += n
        self.next += 1
        fut = self._waiters.get(self.next)
        if fut is not None and not fut.done():
            fut.set_result(None)


class BlockRunner:
    def __init__(self, client: EngineClient, io: FileIO, *, depth: int, retries: int = 8) -> None:
        self._client = client
        self._io = io
        self.depth = depth
        self.retries = retries

    async def run(
        self,
        work: BlockWork,
        blocks: Iterator[Block],
        *,
        src_fd: int,
        out_fd: int,
        base: int = 0,
        ordered: bool,
        progress: Callable[[RunStats], None],
    ) -> RunStats:
        """Run every block; returns the counts. ``base``: where outputs start in the output file
        (after a header). Ordered runs append and end at ``base + stats.bytes_out``."""
        stats, order = RunStats(), _Order(base)
        lanes = [
            asyncio.ensure_future(
                self._lane(work, blocks, src_fd, out_fd, base, order if ordered else None, stats, progress)
            )
            for _ in range(self.depth)
        ]
        try:
            done, _ = await asyncio.wait(lanes, return_when=asyncio.FIRST_EXCEPTION)
            for lane in done:
                if not lane.cancelled() and lane.exception() is not None:
                    raise lane.exception()  # type: ignore[misc]
        finally:
            for lane in lanes:
                lane.cancel()
            await asyncio.gather(*lanes, return_exceptions=True)
        return stats

    async def _lane(
        self,
        work: BlockWork,
        blocks: Iterator[Block],
        src_fd: int,
        out_fd: int,
        base: int,
        order: _Order | None,
        stats: RunStats,
        progress: Callable[[RunStats], None],
    ) -> None:
        async with self._lease() as lease:
            src, dst = lease.view(0), lease.view(1)
            for block in blocks:  # one shared iterator: each lane takes the next block
                n_out = await self._run_block(lease, work, block, src, src_fd, stats)
                out = dst[:n_out]
                try:
                    if order is not None:
                        await order.turn(block.number)
                    work.accept(block, out)
                    offset = order.position if order is not None else base + block.out_offset
                    await self._io.write(out_fd, out, offset)
                finally:
                    del out
                if order is not None:
                    order.advance(n_out)
                stats.blocks += 1
                stats.bytes_in += block.src_bytes
                stats.bytes_out += n_out
                progress(stats)

    @contextlib.asynccontextmanager
    async def _lease(self) -> AsyncIterator[Lease]:
        """Two slots for as long as the lane runs; while every slot is taken, wait and retry."""
        deadline, pause = time.monotonic() + LEASE_WAIT_S, 0.005
        while True:
            lease = self._client.lease(slots=2)
            try:
                await lease.__aenter__()
                break
            except EngineBusy:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(pause)
                pause = min(0.25, pause * 2)
        try:
            yield lease
        finally:
            await lease.__aexit__(None, None, None)

    async def _fill(self, work: BlockWork, block: Block, src: memoryview, src_fd: int) -> int:
        at = work.prepare(block, src)
        if at + block.src_bytes > len(src):  # plans keep blocks within a slot; this guards a file's own sizes
            raise CorruptFile(
                f"block {block.number} of {block.src_bytes} bytes does not fit a {len(src)}-byte slot",
                code="block_too_large",
                metadata={"block": block.number},
            )
        view = src[at : at + block.src_bytes]
        try:
            got = await self._io.read(src_fd, view, block.src_offset)
        finally:
            del view
        if got != block.src_bytes:
            raise Conflict(
                f"the source shrank while the job ran: block {block.number} needs {block.src_bytes} bytes "
                f"at offset {block.src_offset}, {got} are there",
                code="source_changed",
            )
        return at + got

    async def _run_block(
        self, lease: Lease, work: BlockWork, block: Block, src: memoryview, src_fd: int, stats: RunStats
    ) -> int:
        for attempt in range(self.retries + 1):
            if attempt:
                stats.resent += 1
                await asyncio.sleep(RESEND_PAUSE_S * attempt)
            n_in = await self._fill(work, block, src, src_fd)
            try:
                done = await lease.run(work.kind, n_in, param=work.param, out=1)
            except (WorkerLost, WorkerUnavailable):
                continue
            if done.status == Status.STALE:  # reached a worker incarnation that has since restarted
                continue
            if done.status:
                raise work.failure(block, Status(done.status))
            if block.expect >= 0 and done.n_out != block.expect:
                raise work.failure(block, Status.CORRUPT_INPUT)
            return done.n_out
        raise WorkerLost(
            f"block {block.number} was lost with its worker {self.retries + 1} times; giving up",
            metadata={"block": block.number},
        )
