"""SystemService's RPCs as one table (frontends/calls/__init__.py): the engine's state, the host's
status, figures and services, and the audit log.

SystemStatus and SystemMetrics are composed here, each from the domains that own a part: the
engine's state and counters (the monitor), the host's (HostService), the storage sources as the
last pool listing found them. No tool runs for either.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from frontends._gen.sigmavault.v1 import system_pb2 as pb
from frontends.audit import list_entries
from frontends.calls.table import Call, now
from frontends.records import plain

if TYPE_CHECKING:
    from engine.access.audit import AuditListing
    from engine.runtime import Runtime


def system_status(rt: Runtime) -> dict[str, Any]:
    """SystemStatus: the engine's state, its version and env, the host's name, CPU, memory and uptime,
    and the storage sources."""
    host, engine = rt.host.status(), rt.monitor.engine_status()
    return {
        # EngineStatus's fields are SystemStatus's engine part, and the record keeps them in its
        # __dict__ (engine/core/models.py): one copy instead of eight attribute reads
        **vars(engine),
        "version": rt.version,
        "hostname": host.hostname,
        "env": rt.config.env,
        "host_uptime_s": host.host_uptime_s,
        "cpu": host.cpu,
        "memory": host.memory,
        "boot_time_unix": host.boot_time_unix,
        "storage_sources": rt.storage.manager.sources,
    }


def system_metrics(rt: Runtime) -> dict[str, Any]:
    """SystemMetrics: the host's figures as plain values, and the engine's counters (a record: orjson
    writes it as it is)."""
    answer: dict[str, Any] = plain(rt.host.metrics())
    answer["engine"] = rt.monitor.counters()
    return answer


def metrics_event(rt: Runtime) -> dict[str, Any]:
    """The ``system.metrics`` WebSocket event: SystemMetrics plus the monitor's live view."""
    return {**system_metrics(rt), **rt.monitor.live_view()}


async def _audit(rt: Runtime, r: pb.ListAuditEntriesRequest) -> AuditListing:
    # it waits for the writer to catch up, then reads SQLite: off the event loop
    return await asyncio.to_thread(
        list_entries, rt.audit, since_unix=r.since_unix, limit=r.limit, caller=r.caller, call=r.call
    )


CALLS: dict[str, Call] = {
    "GetStatus": Call(pb.GetStatusRequest, pb.SystemStatus, lambda rt, r: now(system_status(rt))),
    "GetMetrics": Call(pb.GetMetricsRequest, pb.SystemMetrics, lambda rt, r: now(system_metrics(rt))),
    "ListServices": Call(pb.ListServicesRequest, pb.ListServicesResponse, lambda rt, r: rt.host.services()),
    "ListAuditEntries": Call(pb.ListAuditEntriesRequest, pb.ListAuditEntriesResponse, _audit),
}
