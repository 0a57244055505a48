"""engine/errors.py ``from_os_error``: the one table from an OSError to the engine error, code, HTTP
status and gRPC code a caller sees."""

from __future__ import annotations

import errno
import os

import grpc
import pytest

from engine.errors import AlreadyExists, EngineError, InsufficientSpace, IoFailed, NotFound, from_os_error
from engine.files.runner import write_full
from frontends.errors import describe

FAILED = grpc.StatusCode.FAILED_PRECONDITION


@pytest.mark.parametrize(
    ("number", "cls", "http", "grpc_code", "code"),
    [
        (errno.ENOSPC, InsufficientSpace, 507, grpc.StatusCode.RESOURCE_EXHAUSTED, "insufficient_space"),
        (errno.EDQUOT, InsufficientSpace, 507, grpc.StatusCode.RESOURCE_EXHAUSTED, "insufficient_space"),
        (errno.EEXIST, AlreadyExists, 409, grpc.StatusCode.ALREADY_EXISTS, "already_exists"),
        (errno.ENOENT, NotFound, 404, grpc.StatusCode.NOT_FOUND, "not_found"),
        (errno.EACCES, IoFailed, 422, FAILED, "io_error"),
        (errno.EPERM, IoFailed, 422, FAILED, "io_error"),
        (errno.EROFS, IoFailed, 422, FAILED, "io_error"),
        (errno.ELOOP, IoFailed, 422, FAILED, "io_error"),
        (errno.EIO, IoFailed, 422, FAILED, "io_error"),
        (errno.EBADF, IoFailed, 422, FAILED, "io_error"),  # anything else: the operation's I/O failed
    ],
)
def test_each_errno_is_the_error_callers_see(
    number: int, cls: type[EngineError], http: int, grpc_code: grpc.StatusCode, code: str
) -> None:
    error = from_os_error(OSError(number, os.strerror(number)), what="writing the output", path="/srv/a/out")
    assert type(error) is cls and error.code == code
    answer = describe(error)
    assert (answer.http_status, answer.grpc_code, answer.code) == (http, grpc_code, code)
    assert error.message.startswith("writing the output: '/srv/a/out': ")
    assert os.strerror(number).lower() in error.message.lower()
    assert error.metadata == {"path": "/srv/a/out"}


def test_the_file_name_comes_from_the_error_when_not_given() -> None:
    error = from_os_error(PermissionError(errno.EACCES, "Permission denied", "/srv/a/f"))
    assert error.message == "'/srv/a/f': permission denied" and error.metadata == {"path": "/srv/a/f"}
    bare = from_os_error(OSError(errno.EIO, "Input/output error"))
    assert bare.message == "I/O error (Input/output error)" and bare.metadata == {}
    assert from_os_error(OSError("no errno at all")).code == "io_error"


def test_a_full_device_while_writing_a_job_output_is_insufficient_space() -> None:
    fd = os.open("/dev/full", os.O_WRONLY | os.O_CLOEXEC)  # every write: ENOSPC
    try:
        with pytest.raises(InsufficientSpace) as info:
            write_full(fd, memoryview(b"x" * 4096), 0)
    finally:
        os.close(fd)
    assert info.value.code == "insufficient_space" and "4096 bytes" in info.value.message
