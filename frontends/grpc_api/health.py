"""grpc.health.v1 as grpc_health's asyncio servicer does it, with two holes closed (both found by
the gRPC fuzzer, perf/fuzz/grpc_cases.py):

- List was not implemented: every call raised NotImplementedError, which grpc logs with a traceback,
  so anyone could fill the log (health is open to every client). Here it lists every status.
- Watch of a name the server does not have kept a Condition and a counter per name for ever, so
  watching random names grew the frontend's memory without bound. Here an unknown name gets
  SERVICE_UNKNOWN and the call stays open (as the protocol asks) holding nothing but itself.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from grpc_health.v1 import health, health_pb2

if TYPE_CHECKING:
    import grpc

_Status = health_pb2.HealthCheckResponse


class HealthServicer(health.aio.HealthServicer):  # type: ignore[misc]
    async def List(
        self, request: health_pb2.HealthListRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> health_pb2.HealthListResponse:
        return health_pb2.HealthListResponse(
            statuses={name: _Status(status=status) for name, status in self._server_status.items()}
        )

    async def Watch(self, request: health_pb2.HealthCheckRequest, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        if request.service in self._server_status:
            await super().Watch(request, context)
            return
        await context.write(_Status(status=_Status.SERVICE_UNKNOWN))
        await asyncio.get_running_loop().create_future()  # until the client leaves or the server stops
