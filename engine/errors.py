"""Engine exceptions. Each carries the Status code the frontends map to HTTP and gRPC codes."""

from __future__ import annotations

import errno
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


class IoFailed(EngineError):
    """The operation's own reading or writing failed (EIO, EACCES, EROFS...): 422 io_error."""

    status = Status.TOOL_FAILED
    code = "io_error"


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


# What an OSError met while reading or writing means for the caller: errno -> (error, code, reason).
# A full disk or quota is 507 insufficient_space, a name taken 409 already_exists, a name gone 404
# not_found; every other failure (permission, read-only filesystem, a symlink loop, EIO...) is the
# operation's I/O failing: 422 io_error, the reason saying which. Checking a caller's input gives its
# own codes instead (engine/files/paths.py: 400 invalid_path), as do a domain's known conditions
# (a job root that cannot be opened: 409 root_unavailable).
_OS_ERRORS: dict[int, tuple[type[EngineError], str, str]] = {
    errno.ENOSPC: (InsufficientSpace, "insufficient_space", "the filesystem is full"),
    errno.EDQUOT: (InsufficientSpace, "insufficient_space", "the disk quota is exceeded"),
    errno.EEXIST: (AlreadyExists, "already_exists", "the name exists already"),
    errno.ENOENT: (NotFound, "not_found", "no such file or directory"),
    errno.EACCES: (IoFailed, "io_error", "permission denied"),
    errno.EPERM: (IoFailed, "io_error", "operation not permitted"),
    errno.EROFS: (IoFailed, "io_error", "the filesystem is read-only"),
    errno.ELOOP: (IoFailed, "io_error", "too many levels of symbolic links"),
    errno.EIO: (IoFailed, "io_error", "I/O error"),
}
_IO_ERROR = (IoFailed, "io_error", "I/O error")


def from_os_error(exc: OSError, *, what: str = "", path: str = "") -> EngineError:
    """The engine error ``exc`` means (``_OS_ERRORS``). ``what``: the operation, first in the message
    ("writing the output"); ``path``: the file, in the message and in ``metadata["path"]`` (the
    error's own file name when not given)."""
    cls, code, reason = _OS_ERRORS.get(exc.errno or 0, _IO_ERROR)
    path = path or (str(exc.filename) if exc.filename else "")
    detail = exc.strerror or str(exc)
    message = f"{reason} ({detail})" if detail and detail.lower() != reason.lower() else reason
    if path:
        message = f"{path!r}: {message}"
    if what:
        message = f"{what}: {message}"
    return cls(message, code=code, metadata={"path": path[:256]} if path else None)
