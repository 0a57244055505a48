"""/openapi.json (OpenAPI 3.1), generated from the HTTP Endpoint list and the proto descriptors:
every request body and every answer is the JSON form of a proto message (frontends/schema.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from frontends.auth import http_path_is_open
from frontends.schema import SchemaSet

if TYPE_CHECKING:
    from frontends.http_api.routing import Endpoint

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "additionalProperties": False,
            "properties": {
                "code": {"type": "string", "description": "e.g. busy, too_large, not_capable, unknown_agent"},
                "message": {"type": "string"},
                "metadata": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                    "description": "the numbers behind the error, e.g. limit, retry_after_s",
                },
            },
        }
    },
}
_ERROR_DESCRIPTIONS = {
    400: "invalid request",
    401: "no or a wrong bearer token (docs/SECURITY.md)",
    403: "this engine has no API token and serves loopback clients only",
    404: "no such resource",
    405: "method not allowed",
    409: "conflict",
    413: "payload too large",
    422: "a system tool refused the operation",
    429: "busy, or this client is at its cap (client_limit): retry after Retry-After",
    501: "not supported on this machine",
    503: "unavailable: retry after Retry-After",
    504: "deadline exceeded",
    507: "insufficient space",
}


def _error(status: int) -> dict[str, Any]:
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    answer: dict[str, Any] = {"description": _ERROR_DESCRIPTIONS.get(status, "error"), "content": content}
    if status == 401:
        answer["headers"] = {
            "WWW-Authenticate": {
                "required": True,
                "schema": {"type": "string"},
                "description": 'Bearer realm="sigmavault"',
            }
        }
    return answer


def _operation(endpoint: Endpoint, schemas: SchemaSet) -> dict[str, Any]:
    if endpoint.content_type != "application/json":
        ok: dict[str, Any] = {endpoint.content_type: {"schema": {"type": "string"}}}
    elif endpoint.response is None:
        ok = {"application/json": {"schema": {"type": "object"}}}
    else:
        ok = {"application/json": {"schema": schemas.ref(endpoint.response)}}
    op: dict[str, Any] = {
        "summary": endpoint.summary,
        "operationId": _operation_id(endpoint),
        "responses": {"200": {"description": "OK", "content": ok}},
    }
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": endpoint.path_schema(name)}
        for name in endpoint.path_params
    ]
    parameters += [
        {
            "name": q.name,
            "in": "query",
            "required": q.required,
            "schema": q.schema,
            **({"description": q.description} if q.description else {}),
        }
        for q in endpoint.query
    ]
    if parameters:
        op["parameters"] = parameters
    if endpoint.request is not None:
        body = schemas.ref(endpoint.request, request=True, exclude=endpoint.exclude, required=endpoint.required)
        op["requestBody"] = {"required": not endpoint.body_optional, "content": {"application/json": {"schema": body}}}
    statuses = set(endpoint.errors)
    if not http_path_is_open(endpoint.path):  # the access policy and the per-client cap (frontends/auth.py)
        statuses |= {401, 403, 429}
        op["security"] = [{"bearer": []}, {"session": []}]  # or the Unix socket, which OpenAPI cannot say
    if parameters or endpoint.request is not None:
        statuses |= {400}
    if endpoint.request is not None:
        statuses |= {413}  # every JSON body is read with a bound (frontends/http_api/routing.py read_json)
    if endpoint.path_params:
        statuses |= {404}
    for status in sorted(statuses):
        op["responses"][str(status)] = _error(status)
    return op


def _operation_id(endpoint: Endpoint) -> str:
    words = [w.strip("{}") for w in endpoint.path.strip("/").replace(".", "_").split("/") if w not in ("api", "v1", "")]
    return endpoint.method.lower() + "".join(w.title().replace("_", "") for w in words or ["index"])  # "/": getIndex


def openapi_document(version: str, endpoints: list[Endpoint]) -> dict[str, Any]:
    schemas = SchemaSet()
    paths: dict[str, Any] = {}
    for endpoint in endpoints:
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(endpoint, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "SigmaVault engine",
            "version": version,
            "description": "The JSON form of the gRPC API in proto/sigmavault/v1 (see common.proto). "
            "GET / is the dashboard (HTML); its files under /static/ are not API "
            "routes and are not listed here.",
        },
        "paths": paths,
        "components": {
            "schemas": {**schemas.components, "Error": ERROR_SCHEMA},
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "the admin token (<data_dir>/api-token) or a named token of "
                    "SIGMAVAULT_API_TOKENS_FILE; every call but health needs a "
                    "credential, or the Unix socket (docs/SECURITY.md)",
                },
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "sv_session",
                    "description": "the dashboard's session: POST /api/v1/session with the token",
                },
            },
        },
    }
