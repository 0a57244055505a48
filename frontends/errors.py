"""One table from engine Status to HTTP status, gRPC code and the error code string of the JSON body."""

from __future__ import annotations

import grpc

from engine.errors import EngineError
from engine.status import Status


class RequestError(EngineError):
    """A request the frontend rejects before it reaches the engine (bad JSON, wrong types, ...)."""

    def __init__(self, message: str, *, code: str = "invalid_request", status: Status = Status.BAD_PARAMS,
                 http_status: int | None = None) -> None:  # fmt: skip
        super().__init__(message, status=status, code=code)
        self.http_status = http_status


# Status -> (HTTP status, gRPC code, JSON error code)
ERROR_TABLE: dict[Status, tuple[int, grpc.StatusCode, str]] = {
    Status.UNKNOWN_KIND: (400, grpc.StatusCode.INVALID_ARGUMENT, "unknown_kind"),
    Status.BAD_PARAMS: (400, grpc.StatusCode.INVALID_ARGUMENT, "invalid_argument"),
    Status.CORRUPT_INPUT: (400, grpc.StatusCode.INVALID_ARGUMENT, "corrupt_input"),
    Status.AUTH_FAILED: (400, grpc.StatusCode.INVALID_ARGUMENT, "auth_failed"),
    Status.NOT_CAPABLE: (400, grpc.StatusCode.INVALID_ARGUMENT, "not_capable"),
    Status.UNKNOWN_AGENT: (404, grpc.StatusCode.NOT_FOUND, "unknown_agent"),
    Status.TOO_LARGE: (413, grpc.StatusCode.RESOURCE_EXHAUSTED, "too_large"),
    Status.BUSY: (429, grpc.StatusCode.RESOURCE_EXHAUSTED, "busy"),
    Status.STALE: (503, grpc.StatusCode.UNAVAILABLE, "worker_lost"),
    Status.WORKER_LOST: (503, grpc.StatusCode.UNAVAILABLE, "worker_lost"),
    Status.UNAVAILABLE: (503, grpc.StatusCode.UNAVAILABLE, "unavailable"),
    Status.CLOSED: (503, grpc.StatusCode.UNAVAILABLE, "shutting_down"),
    Status.TIMEOUT: (504, grpc.StatusCode.DEADLINE_EXCEEDED, "deadline_exceeded"),
    Status.INTERNAL: (500, grpc.StatusCode.INTERNAL, "internal"),
    Status.NOT_FOUND: (404, grpc.StatusCode.NOT_FOUND, "not_found"),
    Status.ALREADY_EXISTS: (409, grpc.StatusCode.ALREADY_EXISTS, "already_exists"),
    Status.CONFLICT: (409, grpc.StatusCode.FAILED_PRECONDITION, "conflict"),
    Status.UNSUPPORTED: (501, grpc.StatusCode.UNIMPLEMENTED, "unsupported"),
    Status.TOOL_FAILED: (422, grpc.StatusCode.FAILED_PRECONDITION, "tool_failed"),
    Status.INSUFFICIENT_SPACE: (507, grpc.StatusCode.RESOURCE_EXHAUSTED, "insufficient_space"),
}


def describe(exc: BaseException) -> tuple[int, grpc.StatusCode, str, str]:
    """(HTTP status, gRPC code, error code, message) for any exception a handler lets through."""
    if isinstance(exc, TimeoutError):
        http, code, name = ERROR_TABLE[Status.TIMEOUT]
        return http, code, name, "the deadline passed before the task finished"
    if isinstance(exc, EngineError):
        http, code, name = ERROR_TABLE.get(exc.status, ERROR_TABLE[Status.INTERNAL])
        if exc.code:
            name = exc.code
        if isinstance(exc, RequestError):
            http = exc.http_status or http
        return http, code, name, exc.message
    if isinstance(exc, ValueError):  # e.g. an unknown task kind from Kind.parse
        http, code, _ = ERROR_TABLE[Status.BAD_PARAMS]
        return http, code, "invalid_argument", str(exc)
    http, code, name = ERROR_TABLE[Status.INTERNAL]
    return http, code, name, "internal error"


def error_body(code: str, message: str) -> dict[str, object]:
    return {"error": {"code": code, "message": message}}
