"""Encryption routes: the suite, the key's fingerprint and the counters."""

from __future__ import annotations

from typing import TYPE_CHECKING

from frontends._gen.sigmavault.v1 import encryption_pb2 as pb
from frontends.http_api.routing import Endpoint, JSONResponse

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from engine.runtime import Runtime


def endpoints(rt: Runtime) -> list[Endpoint]:
    async def status(request: Request) -> Response:
        return JSONResponse(rt.encryption_status())

    return [
        Endpoint("GET", "/api/v1/encryption/status", status, "Encryption algorithm, key fingerprint and counters",
                 pb.EncryptionStatus.DESCRIPTOR),
    ]  # fmt: skip
