"""System routes: status, host metrics and services (frontends/calls/system.py, as SystemService
answers them), liveness and readiness."""

from __future__ import annotations

from typing import TYPE_CHECKING

from frontends._gen.sigmavault.v1 import system_pb2 as pb
from frontends.calls.system import CALLS
from frontends.http_api.calls import answer
from frontends.http_api.routing import Endpoint, JSONResponse

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from engine.runtime import Runtime


def endpoints(rt: Runtime) -> list[Endpoint]:
    async def status(request: Request) -> Response:
        return await answer(rt, CALLS["GetStatus"], exact=True)  # the hot read: see answer()

    async def metrics(request: Request) -> Response:
        return await answer(rt, CALLS["GetMetrics"], exact=True)

    async def services(request: Request) -> Response:
        return await answer(rt, CALLS["ListServices"])

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        ready, reasons = rt.monitor.readiness()
        return JSONResponse({"ready": ready, "reasons": reasons}, status_code=200 if ready else 503)

    return [
        Endpoint("GET", "/api/v1/system/status", status, "Engine and worker status", pb.SystemStatus.DESCRIPTOR),
        Endpoint("GET", "/api/v1/system/metrics", metrics, "Host and engine metrics", pb.SystemMetrics.DESCRIPTOR),
        Endpoint(
            "GET",
            "/api/v1/system/services",
            services,
            "NAS services (SMB, NFS, SSH, WireGuard, the engine) from systemd, or why not",
            pb.ListServicesResponse.DESCRIPTOR,
        ),
        Endpoint("GET", "/healthz", healthz, "Liveness: the frontend answers", pb.Health.DESCRIPTOR),
        Endpoint(
            "GET",
            "/readyz",
            readyz,
            "Readiness: every worker is up (503 with reasons until then)",
            pb.Readiness.DESCRIPTOR,
            errors=(503,),
        ),
    ]
