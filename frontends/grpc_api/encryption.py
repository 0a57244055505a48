"""EncryptionService: keys and counters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from frontends._gen.sigmavault.v1 import encryption_pb2 as pb
from frontends._gen.sigmavault.v1 import encryption_pb2_grpc as rpc
from frontends.grpc_api.base import Servicer, to_message

if TYPE_CHECKING:
    import grpc


class EncryptionServicer(Servicer, rpc.EncryptionServiceServicer):
    async def GetStatus(self, request: pb.GetEncryptionStatusRequest,
                        context: grpc.aio.ServicerContext[Any, Any]) -> pb.EncryptionStatus:  # fmt: skip
        return await self.guard("EncryptionService/GetStatus", context,
                                lambda: to_message(pb.EncryptionStatus, self.rt.encryption_status()))  # fmt: skip

    register = staticmethod(rpc.add_EncryptionServiceServicer_to_server)
