"""StorageService: every RPC is one entry of frontends/calls/storage.py (the table HTTP uses too),
turned here into a servicer method that counts, times and maps errors like every other."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from frontends._gen.sigmavault.v1 import storage_pb2 as pb
from frontends._gen.sigmavault.v1 import storage_pb2_grpc as rpc
from frontends.calls.storage import CALLS
from frontends.grpc_api.base import Servicer, to_message

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import grpc
    from google.protobuf.message import Message

    from frontends.calls import Call


class StorageServicer(Servicer, rpc.StorageServiceServicer):
    register = staticmethod(rpc.add_StorageServiceServicer_to_server)


def _method(name: str, call: Call) -> Callable[..., Awaitable[Message]]:
    async def method(self: StorageServicer, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Message:
        async def answer() -> Message:
            return to_message(call.response, await call.run(self.rt, request))

        return await self.guard(f"StorageService/{name}", context, answer)

    method.__name__ = method.__qualname__ = name
    return method


for _name in pb.DESCRIPTOR.services_by_name["StorageService"].methods_by_name:
    setattr(StorageServicer, _name, _method(_name, CALLS[_name]))  # a missing entry fails at import
