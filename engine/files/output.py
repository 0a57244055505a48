"""A job's output file: written under a temporary name beside the destination, fsynced, then renamed,
all through the destination directory's descriptor (``dir_fd=``), never by path.

The temporary name is ``.<destination name>.<job id>.part`` in the destination's directory (same
filesystem, so the rename is atomic), recorded in the job's persisted parameters before it is
created: a job that is cancelled or fails removes it, and one the engine died under is removed at
the next start (``remove_stale``). Nothing appears under the final name until the whole output is on
disk. Without ``overwrite`` the final step is link() + unlink(), which fails rather than replace a
file that appeared meanwhile; with it, rename() replaces the old file atomically.

The temporary file is created ``O_EXCL | O_NOFOLLOW | O_NONBLOCK`` (nothing already there, not even
a symlink, is ever opened) and given the owner and group the job asks for (its source's) before a
byte is written, so a job run by root leaves no root-owned file in a user's share.

Blocking calls (fsync of a large file can take seconds on a disk): run ``commit`` in a thread.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from typing import TYPE_CHECKING

from engine.errors import AlreadyExists, EngineError, InsufficientSpace

if TYPE_CHECKING:
    from engine.files.paths import PathPolicy

CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_TEMPORARY = re.compile(r"^\..+\.job-[0-9a-f]{1,32}\.part$")


def temporary_for(name: str, job_id: str) -> str:
    return f".{name}.{job_id}.part"


def remove_stale(policy: PathPolicy, path: str) -> bool:
    """Remove an interrupted job's temporary file: only names this module makes, and only beneath
    the roots (its directory resolved like any job path, the name unlinked in it)."""
    if not path or not _TEMPORARY.match(os.path.basename(path)):
        return False
    try:
        with policy.locate(path) as where:
            if where.st is None or not stat.S_ISREG(where.st.st_mode):
                return False
            os.unlink(where.name, dir_fd=where.dir_fd)
    except (EngineError, OSError):  # a root gone, a directory swapped since: nothing of ours to remove
        return False
    return True


def set_owner(fd: int, owner: tuple[int, int] | None) -> None:
    """Give the file open as ``fd`` this (uid, gid); an engine that is not root may only keep its own."""
    if owner is None or owner[0] < 0:
        return
    st = os.fstat(fd)
    if (st.st_uid, st.st_gid) != owner:
        with contextlib.suppress(PermissionError):
            os.fchown(fd, *owner)


class AtomicOutput:
    """One output file in the directory open as ``dir_fd``; ``fd`` is the temporary file's descriptor
    while it is open. ``where``: the destination's path, for messages."""

    fd: int = -1
    committed: bool = False

    def __init__(
        self,
        dir_fd: int,
        name: str,
        temporary: str,
        *,
        overwrite: bool,
        mode: int = 0o600,
        owner: tuple[int, int] | None = None,
        where: str = "",
    ) -> None:
        self.dir_fd, self.name, self.temporary = dir_fd, name, temporary
        self.overwrite = overwrite
        self.mode = mode
        self.owner = owner
        self.where = where or name

    def __repr__(self) -> str:
        return f"AtomicOutput({self.where!r}, fd={self.fd}, committed={self.committed})"

    def open(self) -> int:
        self.fd = os.open(self.temporary, CREATE_FLAGS, 0o600, dir_fd=self.dir_fd)
        try:
            set_owner(self.fd, self.owner)
        except OSError:
            self.discard()
            raise
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
        d = self.dir_fd
        if self.overwrite:
            os.replace(self.temporary, self.name, src_dir_fd=d, dst_dir_fd=d)
        else:
            try:
                os.link(self.temporary, self.name, src_dir_fd=d, dst_dir_fd=d, follow_symlinks=False)
            except FileExistsError:
                raise AlreadyExists(
                    f"destination {self.where!r} appeared while the job ran; set overwrite to replace it",
                    code="already_exists",
                ) from None
            os.unlink(self.temporary, dir_fd=d)
        self.committed = True
        os.fsync(d)

    def discard(self) -> None:
        """Close and remove the temporary file (idempotent; never touches the final name)."""
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = -1
        if not self.committed:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.temporary, dir_fd=self.dir_fd)


def _space_or(exc: OSError) -> Exception:
    if exc.errno in (28, 122):  # ENOSPC, EDQUOT
        return InsufficientSpace(f"the destination's filesystem is full: {exc.strerror}", code="insufficient_space")
    return exc


def write_error(exc: OSError, where: str) -> Exception:
    """An OSError from writing the output as the engine error it means (a full disk is 507)."""
    if exc.errno in (28, 122):
        return InsufficientSpace(
            f"{where}: the destination's filesystem is full ({exc.strerror})", code="insufficient_space"
        )
    return exc
