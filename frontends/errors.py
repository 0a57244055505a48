"""One table from engine Status to HTTP status, gRPC code and error code, and the error answers.

HTTP: ``{"error": {"code", "message", "metadata"}}``, with ``Retry-After`` when the error says when
to retry (busy, a worker restarting). gRPC: the status code and message, plus a google.rpc.Status in
the trailers whose ErrorInfo carries the error code (reason, upper case) and the same metadata, so a
Go client branches on ``busy`` vs ``too_large`` without parsing text (both are RESOURCE_EXHAUSTED).
"""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from engine.core.codes import Status
from engine.errors import EngineError

ERROR_DOMAIN = "sigmavault.engine"
# Errors quote what they refuse; an input of kilobytes would ride twice in the gRPC trailers (the message
# and the ErrorInfo), past the 8 KiB a client accepts by default (grpc's soft limit), and the caller would
# get RESOURCE_EXHAUSTED "Stream removed" instead of the answer (the storage fuzzer's 5000-byte device).
MESSAGE_MAX_BYTES = 1024
METADATA_VALUE_MAX_BYTES = 256


class RequestError(EngineError):
    """A request the frontend rejects before it reaches the engine (bad JSON, wrong types, ...)."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid_request",
        status: Status = Status.BAD_PARAMS,
        http_status: int | None = None,
    ) -> None:
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


class ErrorAnswer:
    """What any exception a handler lets through becomes, for both transports."""

    __slots__ = ("code", "extra_headers", "grpc_code", "http_status", "message", "metadata")

    def __init__(
        self,
        http_status: int,
        grpc_code: grpc.StatusCode,
        code: str,
        message: str,
        metadata: dict[str, str],
        extra_headers: dict[str, str] | None = None,
    ) -> None:
        self.http_status, self.grpc_code, self.code = http_status, grpc_code, code
        self.message = bounded(message, MESSAGE_MAX_BYTES)
        self.metadata = {k: bounded(str(v), METADATA_VALUE_MAX_BYTES) for k, v in metadata.items()}
        self.extra_headers = extra_headers or {}  # e.g. WWW-Authenticate on a 401

    def body(self) -> dict[str, object]:
        error: dict[str, object] = {"code": self.code, "message": self.message}
        if self.metadata:
            error["metadata"] = self.metadata
        return {"error": error}

    def headers(self) -> dict[str, str]:
        retry = self.metadata.get("retry_after_s")
        retry_after = {"Retry-After": retry} if retry and self.http_status in (429, 503) else {}
        return {**retry_after, **self.extra_headers}

    def grpc_status(self) -> grpc.Status:
        """The status with a google.rpc.Status + ErrorInfo detail in its trailing metadata."""
        info = error_details_pb2.ErrorInfo(reason=self.code.upper(), domain=ERROR_DOMAIN, metadata=self.metadata)
        detail = any_pb2.Any()
        detail.Pack(info)
        rich = status_pb2.Status(code=self.grpc_code.value[0], message=self.message, details=[detail])
        return rpc_status.to_status(rich)


def bounded(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` bytes of UTF-8 (on a character boundary), saying how much was cut."""
    raw = text.encode("utf-8", "surrogatepass")
    if len(raw) <= limit:
        return text
    return raw[: limit - 32].decode("utf-8", "ignore") + f"... ({len(raw) - limit + 32} bytes cut)"


def describe(exc: BaseException) -> ErrorAnswer:
    if isinstance(exc, TimeoutError):
        http, code, name = ERROR_TABLE[Status.TIMEOUT]
        return ErrorAnswer(http, code, name, "the deadline passed before the task finished", {})
    if isinstance(exc, EngineError):
        http, code, name = ERROR_TABLE.get(exc.status, ERROR_TABLE[Status.INTERNAL])
        if isinstance(exc, RequestError) and exc.http_status:
            http = exc.http_status
        return ErrorAnswer(http, code, exc.code or name, exc.message, exc.metadata)
    if isinstance(exc, ValueError):  # e.g. an unknown task kind from Kind.parse
        http, code, _ = ERROR_TABLE[Status.BAD_PARAMS]
        return ErrorAnswer(http, code, "invalid_argument", str(exc), {})
    http, code, name = ERROR_TABLE[Status.INTERNAL]
    return ErrorAnswer(http, code, name, "internal error", {})


def error_body(code: str, message: str) -> dict[str, object]:
    return {"error": {"code": code, "message": message}}
