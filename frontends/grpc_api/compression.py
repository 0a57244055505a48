"""CompressionService: figures and jobs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from frontends._gen.sigmavault.v1 import compression_pb2 as pb
from frontends._gen.sigmavault.v1 import compression_pb2_grpc as rpc
from frontends.grpc_api.base import Servicer, to_message

if TYPE_CHECKING:
    import grpc


class CompressionServicer(Servicer, rpc.CompressionServiceServicer):
    async def GetStats(self, request: pb.GetCompressionStatsRequest,
                       context: grpc.aio.ServicerContext[Any, Any]) -> pb.CompressionStats:  # fmt: skip
        return await self.guard("CompressionService/GetStats", context,
                                lambda: to_message(pb.CompressionStats, self.rt.compression_stats()))  # fmt: skip

    async def ListJobs(self, request: pb.ListCompressionJobsRequest,
                       context: grpc.aio.ServicerContext[Any, Any]) -> pb.ListCompressionJobsResponse:  # fmt: skip
        limit = request.limit or 50
        return await self.guard("CompressionService/ListJobs", context, lambda: to_message(
            pb.ListCompressionJobsResponse, {"jobs": self.rt.jobs.recent(limit)}))  # fmt: skip

    register = staticmethod(rpc.add_CompressionServiceServicer_to_server)
