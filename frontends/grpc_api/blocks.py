"""BlockService: the data plane for high-throughput callers, through the same task service."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any

import grpc

from engine.core.codes import Kind
from engine.errors import EngineError
from frontends._gen.sigmavault.v1 import blocks_pb2 as pb
from frontends._gen.sigmavault.v1 import blocks_pb2_grpc as rpc
from frontends.errors import describe
from frontends.grpc_api.agents import task_kind, task_params
from frontends.grpc_api.base import Servicer

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from engine.core.tasks import BlockRecorder


class BlockServicer(Servicer, rpc.BlockServiceServicer):
    async def _run(
        self, request: pb.BlockRequest, timeout: float | None, job: BlockRecorder | None = None
    ) -> pb.BlockResponse:
        """One block through the task service; errors raise."""
        agent = request.agent_id if request.HasField("agent_id") else None
        outcome = await self.rt.tasks.run(
            task_kind(request.kind),
            request.data,
            task_params(request),
            agent=agent,
            timeout=timeout,
            source="block",
            job=job,
        )
        return pb.BlockResponse(
            request_id=request.request_id, data=outcome.data, agent_id=outcome.agent, service_ns=outcome.service_ns
        )

    async def Process(self, request: pb.BlockRequest, context: grpc.aio.ServicerContext[Any, Any]) -> pb.BlockResponse:
        return await self.guard("BlockService/Process", context, lambda: self._run(request, context.time_remaining()))

    async def _one(self, request: pb.BlockRequest, job: BlockRecorder | None) -> pb.BlockResponse:
        """One streamed block; a failure becomes an in-band error, never a broken stream."""
        try:
            return await self._run(request, None, job)
        except (EngineError, TimeoutError, ValueError) as exc:
            answer = describe(exc)
            return pb.BlockResponse(request_id=request.request_id, error_code=answer.code, error_message=answer.message)

    async def ProcessStream(
        self, request_iterator: AsyncIterator[pb.BlockRequest], context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[pb.BlockResponse]:
        """Blocks run concurrently (a window of 2 per worker), answers leave in request order. The
        compress/decompress blocks of one stream are one job, ended by how the stream ends."""
        window: asyncio.Queue[asyncio.Future[pb.BlockResponse] | None] = asyncio.Queue(
            maxsize=2 * self.rt.config.workers
        )
        jobs = contextlib.ExitStack()
        recorder: list[BlockRecorder] = []

        def job_for(request: pb.BlockRequest) -> BlockRecorder | None:
            if int(request.kind) not in (Kind.COMPRESS, Kind.DECOMPRESS):
                return None
            if not recorder:
                codec = request.params.codec or "lz4"
                recorder.append(jobs.enter_context(self.rt.tasks.job(Kind(request.kind), codec, "stream")))
            return recorder[0]

        async def read_requests() -> None:
            async for request in request_iterator:
                await window.put(asyncio.ensure_future(self._one(request, job_for(request))))
            await window.put(None)

        reader = asyncio.create_task(read_requests())
        start, code = time.perf_counter(), grpc.StatusCode.OK
        try:
            with jobs:
                while True:
                    getter = asyncio.ensure_future(window.get())
                    await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
                    if not getter.done():  # the reader ended without its sentinel: the client went away
                        getter.cancel()
                        reader.result()
                        break
                    item = getter.result()
                    if item is None:
                        break
                    yield await item
        except BaseException:
            code = grpc.StatusCode.CANCELLED
            raise
        finally:
            reader.cancel()
            while not window.empty():
                pending = window.get_nowait()
                if pending is not None:
                    pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
            self.observe("BlockService/ProcessStream", code, time.perf_counter() - start)

    register = staticmethod(rpc.add_BlockServiceServicer_to_server)
