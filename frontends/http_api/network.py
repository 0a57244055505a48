"""Network routes: the PhantomMesh overlay (WireGuard) and the host's interfaces, as NetworkService
answers them (frontends/calls/network.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from frontends._gen.sigmavault.v1 import network_pb2 as pb
from frontends.calls.network import CALLS
from frontends.http_api.calls import answer
from frontends.http_api.routing import Endpoint

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from engine.runtime import Runtime


def endpoints(rt: Runtime) -> list[Endpoint]:
    async def phantommesh(request: Request) -> Response:
        return await answer(rt, CALLS["GetMeshStatus"])

    return [
        Endpoint(
            "GET",
            "/api/v1/network/phantommesh",
            phantommesh,
            "PhantomMesh overlay peers and host interfaces",
            pb.MeshStatus.DESCRIPTOR,
        ),
    ]
