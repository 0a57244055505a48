"""A job's output file: written under a temporary name beside the destination, fsynced, then renamed.

The temporary name is ``.<destination name>.<job id>.part`` in the destination's directory (same
filesystem, so the rename is atomic), recorded in the job's persisted parameters before it is
created: a job that is cancelled or fails removes it, and one the engine died under is removed at
the next start (``remove_stale``). Nothing appears under the final name until the whole output is on
disk. Without ``overwrite`` the final step is link() + unlink(), which fails rather than replace a
file that appeared meanwhile; with it, rename() replaces the old file atomically.

Blocking calls (fsync of a large file can take seconds on a disk): run ``commit`` in a thread.
"""

from __future__ import annotations

import contextlib
import os
import re
from typing import TYPE_CHECKING

from engine.errors import AlreadyExists, InsufficientSpace
from engine.fsutil import fsync_directory

if TYPE_CHECKING:
    from pathlib import Path

_TEMPORARY = re.compile(r"^\..+\.job-[0-9a-f]{1,32}\.part$")


def temporary_for(destination: Path, job_id: str) -> Path:
    return destination.with_name(f".{destination.name}.{job_id}.part")


def remove_stale(path: str) -> bool:
    """Remove an interrupted job's temporary file; only names this module makes are touched."""
    if not path or not _TEMPORARY.match(os.path.basename(path)):
        return False
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True


class AtomicOutput:
    """One output file; ``fd`` is the temporary file's descriptor while it is open."""

    fd: int = -1
    committed: bool = False

    def __init__(self, destination: Path, temporary: Path, *, overwrite: bool, mode: int = 0o600) -> None:
        self.destination = destination
        self.temporary = temporary
        self.overwrite = overwrite
        self.mode = mode

    def __repr__(self) -> str:
        return f"AtomicOutput({str(self.destination)!r}, fd={self.fd}, committed={self.committed})"

    def open(self) -> int:
        self.fd = os.open(self.temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        return self.fd

    def commit(self) -> None:
        """fsync, then publish under the final name (and fsync the directory)."""
        fd, self.fd = self.fd, -1
        try:
            os.fchmod(fd, self.mode)
            os.fsync(fd)
        except OSError as exc:
            os.close(fd)
            raise _space_or(exc) from None
        os.close(fd)
        if self.overwrite:
            os.replace(self.temporary, self.destination)
        else:
            try:
                os.link(self.temporary, self.destination)
            except FileExistsError:
                raise AlreadyExists(f"destination {str(self.destination)!r} appeared while the job ran; "
                                    "set overwrite to replace it", code="already_exists") from None  # fmt: skip
            os.unlink(self.temporary)
        self.committed = True
        fsync_directory(self.destination.parent)

    def discard(self) -> None:
        """Close and remove the temporary file (idempotent; never touches the final name)."""
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = -1
        if not self.committed:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.temporary)


def _space_or(exc: OSError) -> Exception:
    if exc.errno in (28, 122):  # ENOSPC, EDQUOT
        return InsufficientSpace(f"the destination's filesystem is full: {exc.strerror}", code="insufficient_space")
    return exc


def write_error(exc: OSError, where: str) -> Exception:
    """An OSError from writing the output as the engine error it means (a full disk is 507)."""
    if exc.errno in (28, 122):
        return InsufficientSpace(f"{where}: the destination's filesystem is full ({exc.strerror})",
                                 code="insufficient_space")  # fmt: skip
    return exc
