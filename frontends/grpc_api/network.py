"""NetworkService: the PhantomMesh overlay."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from frontends._gen.sigmavault.v1 import network_pb2 as pb
from frontends._gen.sigmavault.v1 import network_pb2_grpc as rpc
from frontends.grpc_api.base import Servicer, to_message

if TYPE_CHECKING:
    import grpc


class NetworkServicer(Servicer, rpc.NetworkServiceServicer):
    async def GetMeshStatus(
        self, request: pb.GetMeshStatusRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.MeshStatus:
        async def call() -> pb.MeshStatus:
            return to_message(pb.MeshStatus, await self.rt.facts.mesh())

        return await self.guard("NetworkService/GetMeshStatus", context, call)

    register = staticmethod(rpc.add_NetworkServiceServicer_to_server)
