"""Encryption routes: the suite, keys and counters; key rotation, listing and retirement; the files
sealed to a key; the public key to export; rotation of the inline-task key. Each is an
EncryptionService RPC of frontends/calls/keys.py, its request built from the path, query and body."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from engine.errors import NotFound
from frontends._gen.sigmavault.v1 import encryption_pb2 as pb
from frontends.calls.keys import CALLS
from frontends.http_api.calls import answer
from frontends.http_api.routing import Endpoint, Query, read_json, str_query
from frontends.schema import parse_body

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from engine.runtime import Runtime

KEY_ID = Query("key_id", {"type": "string", "pattern": "^([0-9a-f]{32})?$"}, "a key of the keystore; default: current")
KEY_PATH = (("id", {"type": "string", "pattern": "^[0-9a-f]{32}$", "description": "a key id (32 hex digits)"}),)
BODY_LIMIT = 1024
KEY_ID_RE = re.compile("[0-9a-f]{32}")


def _key_path(request: Request) -> str:
    """The key id of the path; one that cannot be a key id names no key (404, as an absent one)."""
    key_id: str = request.path_params["id"]
    if not KEY_ID_RE.fullmatch(key_id):
        raise NotFound(f"no key {key_id[:64]!r}: a key id is 32 lower-case hex digits", code="unknown_key")
    return key_id


async def _body(request: Request, message: Any, *, exclude: tuple[str, ...] = ()) -> Any:
    """The JSON body as ``message`` (an empty body is an empty message)."""
    doc = await read_json(request, BODY_LIMIT)
    allowed = tuple(f.name for f in message.DESCRIPTOR.fields if f.name not in exclude)
    return parse_body(doc, message, allowed=allowed)


def endpoints(rt: Runtime) -> list[Endpoint]:
    async def status(request: Request) -> Response:
        return await answer(rt, CALLS["GetStatus"])

    async def rotate(request: Request) -> Response:
        message = parse_body(await read_json(request, BODY_LIMIT), pb.RotateKeyRequest)
        return await answer(rt, CALLS["RotateKey"], message)

    async def public_key(request: Request) -> Response:
        message = pb.GetPublicKeyRequest(key_id=str_query(request, "key_id", 64))
        return await answer(rt, CALLS["GetPublicKey"], message)

    async def list_keys(request: Request) -> Response:
        return await answer(rt, CALLS["ListKeys"])

    async def key_files(request: Request) -> Response:
        return await answer(rt, CALLS["ListKeyFiles"], pb.ListKeyFilesRequest(key_id=_key_path(request)))

    async def retire(request: Request) -> Response:
        message = await _body(request, pb.RetireKeyRequest, exclude=("key_id",))
        message.key_id = _key_path(request)
        return await answer(rt, CALLS["RetireKey"], message)

    async def rotate_engine_key(request: Request) -> Response:
        message = await _body(request, pb.RotateEngineKeyRequest)
        return await answer(rt, CALLS["RotateEngineKey"], message)

    keys = "/api/v1/encryption/keys"
    return [
        Endpoint(
            "GET",
            "/api/v1/encryption/status",
            status,
            "Suites, keys, counters (never key material)",
            pb.EncryptionStatus.DESCRIPTOR,
        ),
        Endpoint(
            "POST",
            "/api/v1/encryption/rotate",
            rotate,
            "Make a new current key pair (older ones are kept)",
            pb.KeyInfo.DESCRIPTOR,
            pb.RotateKeyRequest.DESCRIPTOR,
            errors=(409,),
            call="encryption.RotateKey",
        ),
        Endpoint(
            "GET",
            "/api/v1/encryption/public-key",
            public_key,
            "The public key other boxes seal files to",
            pb.PublicKey.DESCRIPTOR,
            query=(KEY_ID,),
            errors=(404,),
        ),
        Endpoint(
            "GET",
            keys,
            list_keys,
            "Every key pair: current, active (opens older files) or retired",
            pb.KeyList.DESCRIPTOR,
        ),
        Endpoint(
            "GET",
            keys + "/{id}/files",
            key_files,
            "The files known to be sealed to a key (headers read now)",
            pb.KeyFiles.DESCRIPTOR,
            path_schemas=KEY_PATH,
            errors=(404,),
        ),
        Endpoint(
            "POST",
            keys + "/{id}/retire",
            retire,
            "Delete a key's private key (confirm = the key id); refused while files are sealed to it unless force",
            pb.RetireKeyResponse.DESCRIPTOR,
            pb.RetireKeyRequest.DESCRIPTOR,
            exclude=("key_id",),
            path_schemas=KEY_PATH,
            errors=(404, 409),
            body_optional=True,
            call="encryption.RetireKey",
            path_fields=(("id", "key_id"),),
        ),
        Endpoint(
            "POST",
            "/api/v1/encryption/engine-key/rotate",
            rotate_engine_key,
            "A new inline-task key for every worker (confirm = the current key_fingerprint)",
            pb.EngineKeyInfo.DESCRIPTOR,
            pb.RotateEngineKeyRequest.DESCRIPTOR,
            errors=(409, 503),
            body_optional=True,
            call="encryption.RotateEngineKey",
        ),
    ]
