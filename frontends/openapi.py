"""The OpenAPI 3.1 document served at /openapi.json, built from the same route table as the app."""

from __future__ import annotations

from typing import Any

from engine.status import Kind

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}

TASK_REQUEST_SCHEMA = {
    "type": "object",
    "required": ["kind"],
    "additionalProperties": False,
    "properties": {
        "kind": {"type": "string", "enum": [k.label for k in Kind]},
        "data": {"type": "string", "contentEncoding": "base64", "description": "payload, base64"},
        "params": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "codec": {"type": "string", "enum": ["lz4", "zstd"]},
                "level": {"type": "integer"},
                "algo": {"type": "string", "enum": ["blake2b", "sha256"]},
                "k": {"type": "integer", "minimum": 2, "maximum": 255},
            },
        },
        "timeout_ms": {"type": "number", "exclusiveMinimum": 0},
    },
}

TASK_RESPONSE_SCHEMA = {
    "type": "object",
    "properties": {
        "agent_id": {"type": "integer"},
        "agent_name": {"type": "string"},
        "worker": {"type": "integer"},
        "kind": {"type": "string"},
        "data": {"type": "string", "contentEncoding": "base64"},
        "bytes_in": {"type": "integer"},
        "bytes_out": {"type": "integer"},
        "timing": {
            "type": "object",
            "properties": {"service_us": {"type": "number"}, "engine_us": {"type": "number"},
                           "total_us": {"type": "number"}},
        },
    },
}  # fmt: skip

# (path, method, summary, error statuses, extra operation fields)
ROUTES: list[tuple[str, str, str, tuple[int, ...]]] = [
    ("/api/v1/system/status", "get", "Engine and worker status", ()),
    ("/api/v1/system/metrics", "get", "Host and engine metrics", ()),
    ("/api/v1/storage/pools", "get", "ZFS pools and md RAID arrays", ()),
    ("/api/v1/storage/disks", "get", "Block devices with I/O counters and SMART health", ()),
    ("/api/v1/agents", "get", "All agents with live status and recent tasks", ()),
    ("/api/v1/agents/{id}/task", "post", "Run a task on one agent", (400, 404, 413, 429, 503, 504)),
    ("/api/v1/compression/stats", "get", "Compression totals", ()),
    ("/api/v1/compression/jobs", "get", "Recent compression jobs, newest first", (400,)),
    ("/api/v1/encryption/status", "get", "Encryption algorithm, key fingerprint and counters", ()),
    ("/api/v1/network/phantommesh", "get", "PhantomMesh overlay peers and host interfaces", ()),
    ("/healthz", "get", "Liveness: the frontend answers", ()),
    ("/readyz", "get", "Readiness: every worker is up", (503,)),
    ("/metrics", "get", "Prometheus metrics (text format)", ()),
]


def openapi_document(version: str) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for path, method, summary, errors in ROUTES:
        op: dict[str, Any] = {
            "summary": summary,
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
            },
        }
        if path.endswith("/task"):
            op["parameters"] = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]
            op["requestBody"] = {"required": True, "content": {"application/json": {"schema": TASK_REQUEST_SCHEMA}}}
            op["responses"]["200"]["content"]["application/json"]["schema"] = TASK_RESPONSE_SCHEMA
        if path.endswith("/jobs"):
            op["parameters"] = [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                          "maximum": 256}}]  # fmt: skip
        if path == "/metrics":
            op["responses"]["200"]["content"] = {"text/plain": {"schema": {"type": "string"}}}
        for status in errors:
            op["responses"][str(status)] = {
                "description": "error",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        paths.setdefault(path, {})[method] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "SigmaVault engine", "version": version},
        "paths": paths,
        "components": {"schemas": {"Error": ERROR_SCHEMA}},
    }
