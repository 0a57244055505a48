"""Endpoint: one HTTP route and what it takes and answers, the single source of both the Starlette
routes and /openapi.json (frontends/openapi.py); plus the small decoding helpers handlers share."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from engine.errors import BadRequest, NotFound
from frontends.errors import RequestError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from google.protobuf.descriptor import Descriptor
    from starlette.requests import Request

    Handler = Callable[[Request], Awaitable[Response]]


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


@dataclass(frozen=True)
class Query:
    """A query parameter: its name, JSON schema and what it means."""

    name: str
    schema: dict[str, Any]
    description: str = ""
    required: bool = False


INTEGER_PARAM: dict[str, Any] = {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
NAME_PARAM: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "maxLength": 64,
    "description": "a name: letters, digits, '_', '-', '.', ':' and space; not starting with '.' or '-'",
}
ID_PARAM: dict[str, Any] = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"}  # job ids


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    response: Descriptor | None  # the proto message of a 200 answer (None: not JSON, see content_type)
    request: Descriptor | None = None  # the proto message of the JSON body
    exclude: tuple[str, ...] = ()  # request fields this route takes elsewhere (e.g. the path)
    required: tuple[str, ...] = ()  # request fields that must be present
    query: tuple[Query, ...] = ()
    errors: tuple[int, ...] = ()  # error statuses this route answers beyond 400/404/405
    content_type: str = "application/json"
    tags: tuple[str, ...] = field(default=())
    # JSON schemas of path parameters by name; a parameter not listed is an integer id (INTEGER_PARAM)
    path_schemas: tuple[tuple[str, dict[str, Any]], ...] = ()
    body_optional: bool = False  # the JSON body may be left out (DELETE routes that also take the query)
    # path parameter -> the request field it fills where the names differ (``{name}`` -> ``pool``): the
    # audit target of a call refused before its handler ran names the fields the admitted one does
    path_fields: tuple[tuple[str, str], ...] = ()
    call: str = ""  # the call's one name on both transports (``storage.DestroyPool``: its RPC): the access
    # policy's table (frontends/auth.py CALLS) and the audit log; "" = looked up by route (auth.HTTP_CALLS)

    def path_schema(self, name: str) -> dict[str, Any]:
        return dict(self.path_schemas).get(name, INTEGER_PARAM)

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)

    @property
    def body_fields(self) -> tuple[str, ...] | None:
        if self.request is None:
            return None
        return tuple(f.name for f in self.request.fields if f.name not in self.exclude)


def path_id(request: Request, name: str = "id", *, what: str = "agent") -> int:
    """An integer path parameter; anything else is a 404 naming the rule (no such resource)."""
    raw = request.path_params[name]
    if not raw.isdigit() or len(raw) > 9:
        raise NotFound(f"no {what} {raw!r}: {what} ids are integers", code=f"unknown_{what}")
    return int(raw)


def path_name(request: Request, name: str = "id", *, what: str = "job") -> str:
    """A string path parameter (an id, ``ID_PARAM``'s pattern); anything else is a 404."""
    raw = request.path_params[name]
    if not re.fullmatch(ID_PARAM["pattern"], raw):
        raise NotFound(
            f"no {what} {raw[:64]!r}: {what} names are letters, digits, '_', '.' and '-'", code=f"unknown_{what}"
        )
    return str(raw)


def _one_query(request: Request, name: str) -> str | None:
    """The parameter's one value; given twice is refused (which one would count is anyone's guess:
    ?limit=abc&limit= passed as the default, found by the HTTP fuzzer)."""
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise BadRequest(f"{name} is given {len(values)} times; give it once")
    return values[0] if values else None


def int_query(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = _one_query(request, name)
    if raw is None:  # an empty value is not an integer either (?limit= passed as the default; the fuzzer)
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not lo <= value <= hi:
        raise BadRequest(f"{name} must be an integer in {lo}-{hi}, got {raw!r}", metadata={"min": lo, "max": hi})
    return value


def str_query(request: Request, name: str, max_len: int = 256) -> str:
    raw = _one_query(request, name) or ""
    if len(raw) > max_len:
        raise BadRequest(f"{name} is over {max_len} characters")
    return raw


async def read_json(request: Request, limit: int) -> Any:
    """The body as JSON, refused as soon as it passes ``limit`` (a chunked upload has no Content-Length)."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise RequestError(f"request body over {limit} bytes", code="too_large", http_status=413)
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise RequestError(f"request body over {limit} bytes", code="too_large", http_status=413)
            chunks.append(chunk)
    except ClientDisconnect:  # hung up mid-body: an answer nobody reads, not a crash with a traceback
        raise RequestError("the client went away before its body was complete", code="client_disconnected") from None
    body = b"".join(chunks)
    if not body:
        return {}
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RequestError(f"body is not valid JSON: {exc}", code="malformed_json") from None
