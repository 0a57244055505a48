"""Engine exceptions. Each carries the Status code the frontends map to HTTP and gRPC codes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.core.codes import Status

if TYPE_CHECKING:
    from collections.abc import Mapping


class EngineError(Exception):
    """Base of every error a caller can be told about.

    ``status`` picks the HTTP status and gRPC code (frontends/errors.py); ``code`` overrides the
    error code string of the answer (default: the status's), e.g. ``confirmation_required``;
    ``metadata`` are the numbers a client can branch on (``{"limit": "262144"}``), sent as the
    gRPC ErrorInfo metadata and in the JSON body.
    """

    status: Status = Status.INTERNAL
    code: str | None = None

    def __init__(
        self,
        message: str,
        *,
        status: Status | None = None,
        code: str | None = None,
        metadata: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        self.message = message
        self.metadata = {k: str(v) for k, v in (metadata or {}).items()}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status.name}, message={self.message!r})"


class TaskFailed(EngineError):
    """A worker answered the task with a non-OK status."""


class BadRequest(EngineError):
    """The caller's input breaks a rule the message names (400 / INVALID_ARGUMENT)."""

    status = Status.BAD_PARAMS


InvalidArgument = BadRequest


class NotFound(EngineError):
    status = Status.NOT_FOUND


class AlreadyExists(EngineError):
    status = Status.ALREADY_EXISTS


class Conflict(EngineError):
    """The target is busy with another operation or in the wrong state (409 / FAILED_PRECONDITION)."""

    status = Status.CONFLICT


class Unsupported(EngineError):
    """This machine lacks what the call needs, e.g. ZFS or SMART (501 / UNIMPLEMENTED)."""

    status = Status.UNSUPPORTED


class ToolFailed(EngineError):
    """A system tool refused the operation; the message carries the tool's own short reason."""

    status = Status.TOOL_FAILED


class InsufficientSpace(EngineError):
    status = Status.INSUFFICIENT_SPACE


class UnknownKind(EngineError):
    status = Status.UNKNOWN_KIND


class PayloadTooLarge(EngineError):
    status = Status.TOO_LARGE


class UnknownAgent(EngineError):
    status = Status.UNKNOWN_AGENT


class NotCapable(EngineError):
    status = Status.NOT_CAPABLE


class EngineBusy(EngineError):
    """The scheduler's queue is full or the rate limit cannot admit the task in time."""

    status = Status.BUSY


class WorkerLost(EngineError):
    """The worker running the task died; the task's outcome is unknown and it may be retried."""

    status = Status.WORKER_LOST


class WorkerUnavailable(EngineError):
    """The agent's worker is restarting; retry in a moment."""

    status = Status.UNAVAILABLE


class EngineClosed(EngineError):
    status = Status.CLOSED


_STATUS_MESSAGES = {
    Status.UNKNOWN_KIND: "unknown task kind",
    Status.BAD_PARAMS: "bad task parameters",
    Status.CORRUPT_INPUT: "input is corrupt or not in the expected format",
    Status.AUTH_FAILED: "authentication failed: the data or its tag was altered, or the key is wrong",
    Status.TOO_LARGE: "data does not fit the size bound",
    Status.NOT_CAPABLE: "agent is not capable of this task kind",
    Status.UNKNOWN_AGENT: "no such agent",
    Status.STALE: "worker restarted before running the task",
    Status.INTERNAL: "internal error in the worker",
}


def error_for_status(
    status: int, context: str = "", detail: str = "", metadata: Mapping[str, object] | None = None
) -> EngineError:
    """The exception the client raises for a worker's non-OK status (``detail`` replaces the
    generic text when the caller knows what the status means for its task)."""
    code = Status(status)
    text = detail or _STATUS_MESSAGES.get(code, code.name.lower())
    message = f"{context}: {text}" if context else text
    if code in (Status.STALE, Status.WORKER_LOST):
        return WorkerLost(message, metadata=metadata)
    if code is Status.TOO_LARGE:
        return PayloadTooLarge(message, metadata=metadata)
    if code is Status.UNKNOWN_AGENT:
        return UnknownAgent(message, metadata=metadata)
    if code is Status.NOT_CAPABLE:
        return NotCapable(message, metadata=metadata)
    return TaskFailed(message, status=code, metadata=metadata)
