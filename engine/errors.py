"""Engine exceptions. Each carries the Status code the frontends map to HTTP and gRPC codes."""

from __future__ import annotations

from engine.status import Status


class EngineError(Exception):
    status: Status = Status.INTERNAL

    def __init__(self, message: str, *, status: Status | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status.name}, message={self.message!r})"


class TaskFailed(EngineError):
    """A worker answered the task with a non-OK status."""


class BadRequest(EngineError):
    status = Status.BAD_PARAMS


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


def error_for_status(status: int, context: str = "") -> EngineError:
    """The exception the client raises for a worker's non-OK status."""
    code = Status(status)
    text = _STATUS_MESSAGES.get(code, code.name.lower())
    message = f"{context}: {text}" if context else text
    if code in (Status.STALE, Status.WORKER_LOST):
        return WorkerLost(message)
    if code is Status.TOO_LARGE:
        return PayloadTooLarge(message)
    if code is Status.UNKNOWN_AGENT:
        return UnknownAgent(message)
    if code is Status.NOT_CAPABLE:
        return NotCapable(message)
    return TaskFailed(message, status=code)
