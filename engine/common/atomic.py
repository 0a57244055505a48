"""The engine's one way to replace a file: a crash leaves the old file or the new one, never half of either.

A temporary file is created beside the target (same directory, so same filesystem and the rename is
atomic) through the directory's descriptor (``dir_fd=``), ``O_EXCL | O_NOFOLLOW | O_NONBLOCK``: nothing
already there, not even a symlink planted under the temporary name, is ever opened. It is created
0600 and given its owner before a byte is written; it gets its final mode, is fsynced (``durable``)
and closed; then it is renamed over the target (or, without ``overwrite``, linked under the final
name, which fails rather than replace a file that appeared meanwhile, and unlinked) and the
directory is fsynced (the entry lives in the directory, not the file). On any failure before the
rename the temporary file is removed.

``AtomicFile`` is the mechanism (a job's large streamed output, engine/files/output.py, and a
sealed file's re-wrap, engine/files/sealed_files.py, write into its ``fd`` between ``open`` and
``commit``); ``write_file`` is a small whole write on top of it (keys, the pool registry,
schedules, ports.json: engine/common/fsutil.py ``write_private``). Blocking calls: run them in a
thread from async code.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import TracebackType

CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def set_owner(fd: int, owner: tuple[int, int] | None) -> None:
    """Give the file open as ``fd`` this (uid, gid); an engine that is not root may only keep its own."""
    if owner is None or owner[0] < 0:
        return
    st = os.fstat(fd)
    if (st.st_uid, st.st_gid) != owner:
        with contextlib.suppress(PermissionError):
            os.fchown(fd, *owner)


def write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class AtomicFile:
    """The file ``name`` in the directory open as ``dir_fd``, replaced through the temporary file
    ``temporary`` beside it; ``fd`` is the temporary file's descriptor between ``open`` and
    ``commit``. ``where``: the target's path, for messages. As a context manager it discards the
    temporary file unless it was committed."""

    fd: int = -1
    committed: bool = False
    made: bool = False

    def __init__(
        self,
        dir_fd: int,
        name: str,
        temporary: str,
        *,
        overwrite: bool = True,
        mode: int = 0o600,
        owner: tuple[int, int] | None = None,
        durable: bool = True,
        where: str = "",
    ) -> None:
        self.dir_fd, self.name, self.temporary = dir_fd, name, temporary
        self.overwrite = overwrite
        self.mode = mode
        self.owner = owner
        self.durable = durable
        self.where = where or name

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.where!r}, fd={self.fd}, committed={self.committed})"

    def open(self) -> int:
        """Create the temporary file (0600 until ``sync``) and give it its owner."""
        self.fd = os.open(self.temporary, CREATE_FLAGS, 0o600, dir_fd=self.dir_fd)
        self.made = True
        try:
            set_owner(self.fd, self.owner)
        except OSError:
            self.discard()
            raise
        return self.fd

    def sync(self) -> None:
        """Give the temporary file its mode (after the owner: fchown clears set-id bits), fsync it
        (``durable``) and close it. On failure it is closed and the error raised; ``discard`` removes it."""
        fd, self.fd = self.fd, -1
        try:
            os.fchmod(fd, self.mode)
            if self.durable:
                os.fsync(fd)
        finally:
            os.close(fd)

    def publish(self) -> None:
        """Put the synced temporary file under the final name, then fsync the directory (``durable``).
        Without ``overwrite`` a file that appeared under the name raises FileExistsError."""
        d = self.dir_fd
        if self.overwrite:
            os.replace(self.temporary, self.name, src_dir_fd=d, dst_dir_fd=d)
        else:
            os.link(self.temporary, self.name, src_dir_fd=d, dst_dir_fd=d, follow_symlinks=False)
            os.unlink(self.temporary, dir_fd=d)
        self.committed = True
        if self.durable:
            os.fsync(d)

    def commit(self) -> None:
        self.sync()
        self.publish()

    def discard(self) -> None:
        """Close and remove the temporary file (idempotent; never touches the final name)."""
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = -1
        if self.made and not self.committed:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.temporary, dir_fd=self.dir_fd)
            self.made = False

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self.committed:
            self.discard()


def temporary_name(name: str) -> str:
    """A small write's temporary name: this process's and thread's, so two never share one."""
    return f".{name}.{os.getpid()}.{threading.get_native_id()}.tmp"


def write_file(
    dir_fd: int,
    name: str,
    data: bytes | memoryview,
    *,
    mode: int = 0o600,
    durable: bool = True,
    overwrite: bool = True,
) -> None:
    """Replace ``name`` in the directory open as ``dir_fd`` with ``data``, mode ``mode`` from its first
    byte. ``overwrite=False`` creates it: FileExistsError if the name is taken (then, or by a racer
    meanwhile), and a reader never sees it half written, unlike ``O_CREAT | O_EXCL`` and a write."""
    temporary = temporary_name(name)
    with contextlib.suppress(FileNotFoundError):  # left by a crashed process that had this pid (a container's)
        os.unlink(temporary, dir_fd=dir_fd)
    with AtomicFile(dir_fd, name, temporary, mode=mode, durable=durable, overwrite=overwrite) as out:
        write_all(out.open(), data)
        out.commit()
