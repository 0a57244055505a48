"""gRPC (grpc.aio) on SIGMAVAULT_GRPC_PORT: the seven services over the shared service layer,
plus grpc.health.v1 and server reflection.

``create_server(config, service, metrics)`` returns ``(server, port)`` unstarted, so tests can
bind port 0. Errors leave as status codes from frontends/errors.py; deadlines reach the engine as
the task's timeout; BlockService streams answer bad blocks in-band and keep the stream alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf.json_format import ParseDict
from google.protobuf.message import Message
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from engine.config import EngineConfig
from engine.errors import EngineError
from engine.status import Kind
from frontends._gen.sigmavault.v1 import engine_pb2 as pb
from frontends._gen.sigmavault.v1 import engine_pb2_grpc as rpc
from frontends.errors import RequestError, describe
from frontends.prom import RequestMetrics
from frontends.service import EngineService

M = TypeVar("M", bound=Message)
SERVICE_NAMES = tuple(pb.DESCRIPTOR.services_by_name[name].full_name for name in pb.DESCRIPTOR.services_by_name)


def to_message(cls: type[M], data: dict[str, Any]) -> M:
    return ParseDict(data, cls(), ignore_unknown_fields=True)


def _kind(value: int) -> Kind:
    try:
        return Kind(value)
    except ValueError:
        raise RequestError(f"kind must be set to a TaskKind other than UNSPECIFIED, got {value}") from None


def _params(request: Any) -> dict[str, Any]:
    if not request.HasField("params"):
        return {}
    p = request.params
    given: dict[str, Any] = {"codec": p.codec or None, "algo": p.algo or None, "k": p.k or None}
    if p.HasField("level"):
        given["level"] = p.level
    return {k: v for k, v in given.items() if v is not None}


class _Base:
    def __init__(self, service: EngineService, metrics: RequestMetrics) -> None:
        self.service = service
        self.metrics = metrics
        self._children: dict[tuple[str, grpc.StatusCode], tuple[Any, Any]] = {}

    def _observe(self, method: str, code: grpc.StatusCode, seconds: float) -> None:
        """Count and time one call; labelled children are cached (labels() costs ~2 us a call)."""
        children = self._children.get((method, code))
        if children is None:
            children = self._children[method, code] = (
                self.metrics.grpc_requests.labels(method, code.name),
                self.metrics.grpc_latency.labels(method),
            )
        children[0].inc()
        children[1].observe(seconds)

    async def guard(self, method: str, context: grpc.aio.ServicerContext, call: Callable[[], M | Awaitable[M]]) -> M:
        """Run one unary call: count it, time it, and turn engine errors into status codes."""
        start = time.perf_counter()
        code = grpc.StatusCode.OK
        try:
            result = call()
            return await result if inspect.isawaitable(result) else result
        except (EngineError, TimeoutError, ValueError) as exc:
            _, code, _, message = describe(exc)
            await context.abort(code, message)
            raise  # unreachable: abort raises
        finally:
            self._observe(method, code, time.perf_counter() - start)


class SystemServicer(_Base, rpc.SystemServiceServicer):
    async def GetStatus(self, request: Any, context: grpc.aio.ServicerContext) -> pb.SystemStatus:
        return await self.guard("SystemService/GetStatus", context,
                                lambda: to_message(pb.SystemStatus, self.service.system_status()))  # fmt: skip

    async def GetMetrics(self, request: Any, context: grpc.aio.ServicerContext) -> pb.SystemMetrics:
        return await self.guard("SystemService/GetMetrics", context,
                                lambda: to_message(pb.SystemMetrics, self.service.system_metrics()))  # fmt: skip


class StorageServicer(_Base, rpc.StorageServiceServicer):
    async def ListPools(self, request: Any, context: grpc.aio.ServicerContext) -> pb.ListPoolsResponse:
        async def call() -> pb.ListPoolsResponse:
            return to_message(pb.ListPoolsResponse, await self.service.list_pools())

        return await self.guard("StorageService/ListPools", context, call)

    async def ListDisks(self, request: Any, context: grpc.aio.ServicerContext) -> pb.ListDisksResponse:
        async def call() -> pb.ListDisksResponse:
            return to_message(pb.ListDisksResponse, await self.service.list_disks())

        return await self.guard("StorageService/ListDisks", context, call)


class AgentServicer(_Base, rpc.AgentServiceServicer):
    async def ListAgents(self, request: Any, context: grpc.aio.ServicerContext) -> pb.ListAgentsResponse:
        return await self.guard("AgentService/ListAgents", context,
                                lambda: to_message(pb.ListAgentsResponse, self.service.list_agents()))  # fmt: skip

    async def DispatchTask(self, request: Any, context: grpc.aio.ServicerContext) -> pb.DispatchTaskResponse:
        async def call() -> pb.DispatchTaskResponse:
            result = await self.service.dispatch(request.agent_id, _kind(request.kind), request.data,
                                                 _params(request), context.time_remaining())  # fmt: skip
            return pb.DispatchTaskResponse(**result)  # built directly: the hot path skips ParseDict

        return await self.guard("AgentService/DispatchTask", context, call)


class CompressionServicer(_Base, rpc.CompressionServiceServicer):
    async def GetStats(self, request: Any, context: grpc.aio.ServicerContext) -> pb.CompressionStats:
        return await self.guard("CompressionService/GetStats", context,
                                lambda: to_message(pb.CompressionStats, self.service.compression_stats()))  # fmt: skip

    async def ListJobs(self, request: Any, context: grpc.aio.ServicerContext) -> pb.ListCompressionJobsResponse:
        limit = request.limit or 50
        return await self.guard("CompressionService/ListJobs", context, lambda: to_message(
            pb.ListCompressionJobsResponse, self.service.compression_jobs(limit)))  # fmt: skip


class EncryptionServicer(_Base, rpc.EncryptionServiceServicer):
    async def GetStatus(self, request: Any, context: grpc.aio.ServicerContext) -> pb.EncryptionStatus:
        return await self.guard("EncryptionService/GetStatus", context,
                                lambda: to_message(pb.EncryptionStatus, self.service.encryption_status()))  # fmt: skip


class NetworkServicer(_Base, rpc.NetworkServiceServicer):
    async def GetMeshStatus(self, request: Any, context: grpc.aio.ServicerContext) -> pb.MeshStatus:
        async def call() -> pb.MeshStatus:
            return to_message(pb.MeshStatus, await self.service.mesh_status())

        return await self.guard("NetworkService/GetMeshStatus", context, call)


class BlockServicer(_Base, rpc.BlockServiceServicer):
    async def _run_block(self, request: Any, timeout: float | None) -> pb.BlockResponse:
        """Decode one BlockRequest, run it on the engine, build its answer (errors raise)."""
        agent = request.agent_id if request.HasField("agent_id") else None
        kind = _kind(request.kind)
        kwargs = self.service.task_params(kind, _params(request))
        result = await self.service.client.submit(kind, request.data, agent, timeout=timeout, **kwargs)
        return pb.BlockResponse(request_id=request.request_id, data=result.data, agent_id=result.agent,
                                service_ns=result.service_ns)  # fmt: skip

    async def Process(self, request: Any, context: grpc.aio.ServicerContext) -> pb.BlockResponse:
        return await self.guard("BlockService/Process", context,
                                lambda: self._run_block(request, context.time_remaining()))  # fmt: skip

    async def _one(self, request: Any, job_hook: Callable[[int, str, int, int, bool], None]) -> pb.BlockResponse:
        """One streamed block; failures become an in-band error, never a broken stream."""
        codec = request.params.codec or "lz4"
        try:
            answer = await self._run_block(request, None)
        except (EngineError, TimeoutError, ValueError) as exc:
            _, _, code, message = describe(exc)
            job_hook(request.kind, codec, len(request.data), 0, True)
            return pb.BlockResponse(request_id=request.request_id, error_code=code, error_message=message)
        job_hook(request.kind, codec, len(request.data), len(answer.data), False)
        return answer

    async def ProcessStream(self, request_iterator: AsyncIterator[Any],
                            context: grpc.aio.ServicerContext) -> AsyncIterator[pb.BlockResponse]:  # fmt: skip
        """Blocks run concurrently (a window of 2 per worker), answers leave in request order."""
        window: asyncio.Queue[asyncio.Future[pb.BlockResponse] | None] = asyncio.Queue(
            maxsize=2 * self.service.config.workers
        )
        jobs = self.service.jobs
        job = None

        def job_hook(kind: int, codec: str, bytes_in: int, bytes_out: int, failed: bool) -> None:
            nonlocal job
            if kind not in (Kind.COMPRESS, Kind.DECOMPRESS):
                return
            if job is None:
                job = jobs.start(Kind(kind).label, codec, "stream")
            jobs.block_done(job, bytes_in, bytes_out, failed)

        async def read_requests() -> None:
            async for request in request_iterator:
                await window.put(asyncio.ensure_future(self._one(request, job_hook)))
            await window.put(None)

        reader = asyncio.create_task(read_requests())
        start, code = time.perf_counter(), grpc.StatusCode.OK
        try:
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
            if job is not None:
                jobs.finish(job, "" if code is grpc.StatusCode.OK else "stream cancelled")
            self._observe("BlockService/ProcessStream", code, time.perf_counter() - start)


def create_server(config: EngineConfig, service: EngineService, metrics: RequestMetrics, *,
                  host: str | None = None, port: int | None = None,
                  ) -> tuple[grpc.aio.Server, int, health.aio.HealthServicer]:  # fmt: skip
    """Build the server (not started); returns it, the bound port and its health servicer."""
    limit = config.max_message_bytes
    server = grpc.aio.server(options=[
        ("grpc.max_receive_message_length", limit),
        ("grpc.max_send_message_length", limit),
        ("grpc.so_reuseport", 0),
    ])  # fmt: skip
    rpc.add_SystemServiceServicer_to_server(SystemServicer(service, metrics), server)
    rpc.add_StorageServiceServicer_to_server(StorageServicer(service, metrics), server)
    rpc.add_AgentServiceServicer_to_server(AgentServicer(service, metrics), server)
    rpc.add_CompressionServiceServicer_to_server(CompressionServicer(service, metrics), server)
    rpc.add_EncryptionServiceServicer_to_server(EncryptionServicer(service, metrics), server)
    rpc.add_NetworkServiceServicer_to_server(NetworkServicer(service, metrics), server)
    rpc.add_BlockServiceServicer_to_server(BlockServicer(service, metrics), server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection((*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    bound = server.add_insecure_port(f"{host or config.host}:{config.grpc_port if port is None else port}")
    if bound == 0:
        raise OSError(f"cannot bind gRPC to {host or config.host}:{config.grpc_port if port is None else port}")
    return server, bound, health_servicer


async def set_serving(health_servicer: health.aio.HealthServicer, serving: bool) -> None:
    status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
    for name in ("", *SERVICE_NAMES):
        await health_servicer.set(name, status)
