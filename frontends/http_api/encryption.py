"""Encryption routes: the suite, keys and counters; key rotation; the public key to export."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from frontends._gen.sigmavault.v1 import encryption_pb2 as pb
from frontends.http_api.routing import Endpoint, JSONResponse, Query, read_json, str_query
from frontends.schema import parse_body

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from engine.runtime import Runtime

KEY_ID = Query("key_id", {"type": "string", "pattern": "^([0-9a-f]{32})?$"}, "a key of the keystore; default: current")


def endpoints(rt: Runtime) -> list[Endpoint]:
    async def status(request: Request) -> Response:
        return JSONResponse(rt.encryption_status())

    async def rotate(request: Request) -> Response:
        parse_body(await read_json(request, 1024), pb.RotateKeyRequest)
        return JSONResponse(await rt.keys.rotate())

    async def public_key(request: Request) -> Response:
        answer = await rt.keys.public_key(str_query(request, "key_id", 64))
        return JSONResponse({**answer, "public_key": base64.b64encode(answer["public_key"]).decode()})

    return [
        Endpoint("GET", "/api/v1/encryption/status", status, "Suites, keys, counters (never key material)",
                 pb.EncryptionStatus.DESCRIPTOR),
        Endpoint("POST", "/api/v1/encryption/rotate", rotate, "Make a new current key pair (older ones are kept)",
                 pb.KeyInfo.DESCRIPTOR, pb.RotateKeyRequest.DESCRIPTOR, errors=(409,), call="encryption.RotateKey"),
        Endpoint("GET", "/api/v1/encryption/public-key", public_key, "The public key other boxes seal files to",
                 pb.PublicKey.DESCRIPTOR, query=(KEY_ID,), errors=(404,)),
    ]  # fmt: skip
