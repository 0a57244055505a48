"""Storage routes: pools and disks as the machine really has them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from frontends._gen.sigmavault.v1 import storage_pb2 as pb
from frontends.http_api.routing import Endpoint, JSONResponse

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from engine.runtime import Runtime


def endpoints(rt: Runtime) -> list[Endpoint]:
    async def pools(request: Request) -> Response:
        return JSONResponse(await rt.facts.pools())

    async def disks(request: Request) -> Response:
        return JSONResponse(await rt.facts.disks())

    return [
        Endpoint("GET", "/api/v1/storage/pools", pools, "Pools: Btrfs, ZFS and md RAID",
                 pb.ListPoolsResponse.DESCRIPTOR),
        Endpoint("GET", "/api/v1/storage/disks", disks, "Block devices with I/O counters and SMART health",
                 pb.ListDisksResponse.DESCRIPTOR),
    ]  # fmt: skip
