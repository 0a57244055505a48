"""Compression routes: the workers' figures and the recent jobs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.jobs import JOB_LIMIT_MAX
from frontends._gen.sigmavault.v1 import compression_pb2 as pb
from frontends.http_api.routing import Endpoint, JSONResponse, Query, int_query

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from engine.runtime import Runtime

LIMIT = Query("limit", {"type": "integer", "minimum": 1, "maximum": JOB_LIMIT_MAX, "default": 50},
              "how many jobs, newest first")  # fmt: skip


def endpoints(rt: Runtime) -> list[Endpoint]:
    async def stats(request: Request) -> Response:
        return JSONResponse(rt.compression_stats())

    async def jobs(request: Request) -> Response:
        limit = int_query(request, "limit", 50, 1, JOB_LIMIT_MAX)
        return JSONResponse({"jobs": rt.jobs.recent(limit)})

    return [
        Endpoint("GET", "/api/v1/compression/stats", stats, "Compression totals", pb.CompressionStats.DESCRIPTOR),
        Endpoint("GET", "/api/v1/compression/jobs", jobs, "Recent compression jobs, newest first",
                 pb.ListCompressionJobsResponse.DESCRIPTOR, query=(LIMIT,)),
    ]  # fmt: skip
