"""CompressionService: figures, jobs (one-block and file jobs) and range reads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from frontends._gen.sigmavault.v1 import compression_pb2 as pb
from frontends._gen.sigmavault.v1 import compression_pb2_grpc as rpc
from frontends.file_jobs import start_args
from frontends.grpc_api.base import Servicer, to_message
from frontends.records import plain
from frontends.schema import from_labels

if TYPE_CHECKING:
    import grpc


def _job(answer: dict[str, Any]) -> pb.FileJob:
    return to_message(pb.FileJob, from_labels(pb.FileJob.DESCRIPTOR, answer))


class CompressionServicer(Servicer, rpc.CompressionServiceServicer):
    async def GetStats(
        self, request: pb.GetCompressionStatsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.CompressionStats:
        return await self.guard(
            "CompressionService/GetStats", context, lambda: to_message(pb.CompressionStats, self.rt.compression_stats())
        )

    async def ListJobs(
        self, request: pb.ListCompressionJobsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.ListCompressionJobsResponse:
        limit = request.limit or 50

        def call() -> pb.ListCompressionJobsResponse:
            answer = {"jobs": plain(self.rt.tasks.recent_jobs(limit)), "file_jobs": self.rt.files.recent(limit)}
            return to_message(
                pb.ListCompressionJobsResponse, from_labels(pb.ListCompressionJobsResponse.DESCRIPTOR, answer)
            )

        return await self.guard("CompressionService/ListJobs", context, call)

    async def StartJob(
        self, request: pb.StartFileJobRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.FileJob:
        async def call() -> pb.FileJob:
            return _job(await self.rt.files.start(**start_args(request)))

        return await self.guard("CompressionService/StartJob", context, call)

    async def GetJob(self, request: pb.GetFileJobRequest, context: grpc.aio.ServicerContext[Any, Any]) -> pb.FileJob:
        return await self.guard("CompressionService/GetJob", context, lambda: _job(self.rt.files.get(request.id)))

    async def CancelJob(
        self, request: pb.CancelFileJobRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.FileJob:
        async def call() -> pb.FileJob:
            return _job(await self.rt.files.cancel(request.id))

        return await self.guard("CompressionService/CancelJob", context, call)

    async def ReadRange(
        self, request: pb.ReadRangeRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.ReadRangeResponse:
        async def call() -> pb.ReadRangeResponse:
            got = await self.rt.files.read_range(request.path, request.offset, request.length)
            return pb.ReadRangeResponse(data=got.data, offset=got.offset, file_bytes=got.file_bytes)

        return await self.guard("CompressionService/ReadRange", context, call)

    register = staticmethod(rpc.add_CompressionServiceServicer_to_server)
