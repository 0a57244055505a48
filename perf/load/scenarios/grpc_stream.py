"""grpc-stream: BlockService.ProcessStream, 1 MiB blocks of mixed data compressed with lz4; MB/s.

Each generator process keeps ``spec.streams`` streams open; a request is one block put on a stream
(round-robin) and its latency runs until that block's answer comes back (answers keep request order).
In a closed loop the concurrency is the number of blocks in flight over all streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import deque
from typing import TYPE_CHECKING

import grpc

from perf.load import payloads
from perf.load.scenarios._grpc import Channel, error_code
from perf.load.scenarios._proto import Proto, pb, rpc
from perf.load.scenarios.base import Op, Outcome, Scenario

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from perf.load.spec import LoadSpec


class Stream:
    """One ProcessStream call: requests fed from a queue, answers matched to futures in order."""

    def __init__(self, stub: Proto, metadata: tuple[tuple[str, str], ...] = ()) -> None:
        self.stub, self.metadata = stub, metadata
        self.queue: asyncio.Queue[Proto | None] = asyncio.Queue()
        self.pending: deque[asyncio.Future[Proto | str]] = deque()
        self.call: grpc.aio.StreamStreamCall | None = None
        self.reader: asyncio.Task[None] | None = None

    async def _requests(self) -> AsyncIterator[Proto]:
        while (request := await self.queue.get()) is not None:
            yield request

    async def _read(self, call: grpc.aio.StreamStreamCall) -> None:
        failure = "stream_ended"
        try:
            async for answer in call:
                future = self.pending.popleft()
                if not future.done():
                    future.set_result(answer)
        except grpc.RpcError as exc:
            failure = error_code(exc)
        # the stream is over: whatever was still waiting on it failed with the stream
        self.call = None
        while self.pending:
            future = self.pending.popleft()
            if not future.done():
                future.set_result(failure)

    def submit(self, request: Proto) -> asyncio.Future[Proto | str]:
        if self.call is None:
            self.queue = asyncio.Queue()
            self.call = self.stub.ProcessStream(self._requests(), metadata=self.metadata)
            self.reader = asyncio.get_running_loop().create_task(self._read(self.call))
        future: asyncio.Future[Proto | str] = asyncio.get_running_loop().create_future()
        self.pending.append(future)
        self.queue.put_nowait(request)
        return future

    async def close(self) -> None:
        if self.call is not None:
            self.queue.put_nowait(None)  # half-close: the server answers what it has, then ends
        if self.reader is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self.reader), 5)
            except TimeoutError:
                if self.call is not None:
                    self.call.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self.reader


class GrpcStream:
    streams: list[Stream]

    def __init__(self, spec: LoadSpec, index: int) -> None:
        self.spec = spec
        self.channel = Channel(spec.host, spec.grpc_port, spec.metadata)
        params = pb.TaskParams(codec=spec.stream_codec)
        blocks = payloads.mixed_set(spec.block_bytes, 4, spec.seed + index)
        self.requests = itertools.cycle(
            [pb.BlockRequest(kind=pb.TASK_KIND_COMPRESS, data=b, params=params) for b in blocks]
        )
        self.streams = []
        self.turn = itertools.count()

    async def open(self) -> None:
        stub = rpc.BlockServiceStub(await self.channel.open())
        self.streams = [Stream(stub, self.spec.metadata) for _ in range(max(1, self.spec.streams))]

    async def block(self) -> Outcome:
        request = next(self.requests)
        future = self.streams[next(self.turn) % len(self.streams)].submit(request)
        try:
            answer = await asyncio.wait_for(future, self.spec.timeout_s)
        except TimeoutError:
            return Outcome("timeout")
        if isinstance(answer, str):
            return Outcome(answer)
        if answer.error_code:
            return Outcome(answer.error_code)
        return Outcome(nbytes=len(request.data))

    async def close(self) -> None:
        for stream in self.streams:
            await stream.close()
        await self.channel.close()

    def scenario(self, weight: float = 1.0) -> Scenario:
        return Scenario(ops=[Op("block", weight, self.block)], opens=[self.open], closes=[self.close])


def build(spec: LoadSpec, index: int, weights: dict[str, float]) -> Scenario:
    return GrpcStream(spec, index).scenario(weights.get("block", 1.0))
