"""StorageService: pools and disks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from frontends._gen.sigmavault.v1 import storage_pb2 as pb
from frontends._gen.sigmavault.v1 import storage_pb2_grpc as rpc
from frontends.grpc_api.base import Servicer, to_message

if TYPE_CHECKING:
    import grpc


class StorageServicer(Servicer, rpc.StorageServiceServicer):
    async def ListPools(self, request: pb.ListPoolsRequest,
                        context: grpc.aio.ServicerContext[Any, Any]) -> pb.ListPoolsResponse:  # fmt: skip
        async def call() -> pb.ListPoolsResponse:
            return to_message(pb.ListPoolsResponse, await self.rt.facts.pools())

        return await self.guard("StorageService/ListPools", context, call)

    async def ListDisks(self, request: pb.ListDisksRequest,
                        context: grpc.aio.ServicerContext[Any, Any]) -> pb.ListDisksResponse:  # fmt: skip
        async def call() -> pb.ListDisksResponse:
            return to_message(pb.ListDisksResponse, await self.rt.facts.disks())

        return await self.guard("StorageService/ListDisks", context, call)

    register = staticmethod(rpc.add_StorageServiceServicer_to_server)
