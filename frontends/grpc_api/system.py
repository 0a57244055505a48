"""SystemService: engine and host status, and the audit log."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from frontends._gen.sigmavault.v1 import system_pb2 as pb
from frontends._gen.sigmavault.v1 import system_pb2_grpc as rpc
from frontends.audit import list_entries
from frontends.grpc_api.base import Servicer, to_message

if TYPE_CHECKING:
    import grpc


class SystemServicer(Servicer, rpc.SystemServiceServicer):
    async def GetStatus(
        self, request: pb.GetStatusRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.SystemStatus:
        return await self.guard(
            "SystemService/GetStatus", context, lambda: to_message(pb.SystemStatus, self.rt.system_status())
        )

    async def GetMetrics(
        self, request: pb.GetMetricsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.SystemMetrics:
        return await self.guard(
            "SystemService/GetMetrics", context, lambda: to_message(pb.SystemMetrics, self.rt.system_metrics())
        )

    async def ListServices(
        self, request: pb.ListServicesRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.ListServicesResponse:
        async def call() -> pb.ListServicesResponse:
            return to_message(pb.ListServicesResponse, await self.rt.list_services())

        return await self.guard("SystemService/ListServices", context, call)

    async def ListAuditEntries(
        self, request: pb.ListAuditEntriesRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.ListAuditEntriesResponse:
        async def call() -> pb.ListAuditEntriesResponse:
            r = request
            answer = await asyncio.to_thread(  # it waits for the writer to catch up, then reads SQLite
                list_entries, self.rt.audit, since_unix=r.since_unix, limit=r.limit, caller=r.caller, call=r.call
            )
            return to_message(pb.ListAuditEntriesResponse, answer)

        return await self.guard("SystemService/ListAuditEntries", context, call)

    register = staticmethod(rpc.add_SystemServiceServicer_to_server)
