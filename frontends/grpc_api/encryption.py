"""EncryptionService: keys and counters, rotation, the public key, key listing and retirement, and
rotation of the inline-task key."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from frontends._gen.sigmavault.v1 import encryption_pb2 as pb
from frontends._gen.sigmavault.v1 import encryption_pb2_grpc as rpc
from frontends.grpc_api.base import Servicer, to_message

if TYPE_CHECKING:
    import grpc


class EncryptionServicer(Servicer, rpc.EncryptionServiceServicer):
    async def GetStatus(
        self, request: pb.GetEncryptionStatusRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.EncryptionStatus:
        return await self.guard(
            "EncryptionService/GetStatus", context, lambda: to_message(pb.EncryptionStatus, self.rt.encryption_status())
        )

    async def RotateKey(self, request: pb.RotateKeyRequest, context: grpc.aio.ServicerContext[Any, Any]) -> pb.KeyInfo:
        async def call() -> pb.KeyInfo:
            return to_message(pb.KeyInfo, await self.rt.keys.rotate())

        return await self.guard("EncryptionService/RotateKey", context, call)

    async def GetPublicKey(
        self, request: pb.GetPublicKeyRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.PublicKey:
        async def call() -> pb.PublicKey:
            answer = await self.rt.keys.public_key(request.key_id)
            raw = answer.pop("public_key")
            message = to_message(pb.PublicKey, answer)
            message.public_key = raw
            return message

        return await self.guard("EncryptionService/GetPublicKey", context, call)

    async def ListKeys(self, request: pb.ListKeysRequest, context: grpc.aio.ServicerContext[Any, Any]) -> pb.KeyList:
        async def call() -> pb.KeyList:
            return to_message(pb.KeyList, await self.rt.keys.list_keys())

        return await self.guard("EncryptionService/ListKeys", context, call)

    async def ListKeyFiles(
        self, request: pb.ListKeyFilesRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.KeyFiles:
        async def call() -> pb.KeyFiles:
            return to_message(pb.KeyFiles, await self.rt.keys.key_files(request.key_id))

        return await self.guard("EncryptionService/ListKeyFiles", context, call)

    async def RetireKey(
        self, request: pb.RetireKeyRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.RetireKeyResponse:
        async def call() -> pb.RetireKeyResponse:
            answer = await self.rt.keys.retire(request.key_id, confirm=request.confirm, force=request.force)
            return to_message(pb.RetireKeyResponse, answer)

        return await self.guard("EncryptionService/RetireKey", context, call)

    async def RotateEngineKey(
        self, request: pb.RotateEngineKeyRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.EngineKeyInfo:
        async def call() -> pb.EngineKeyInfo:
            return to_message(pb.EngineKeyInfo, await self.rt.engine_key.rotate(confirm=request.confirm))

        return await self.guard("EncryptionService/RotateEngineKey", context, call)

    register = staticmethod(rpc.add_EncryptionServiceServicer_to_server)
