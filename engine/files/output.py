"""A job's output file: written under a temporary name beside the destination, fsynced, then renamed,
all through the destination directory's descriptor (``dir_fd=``), never by path
(engine/common/atomic.py ``AtomicFile``, the engine's one way to replace a file).

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

import os
import re
import stat
from typing import TYPE_CHECKING

from engine.common.atomic import CREATE_FLAGS, AtomicFile, set_owner
from engine.errors import AlreadyExists, EngineError, from_os_error

if TYPE_CHECKING:
    from engine.files.paths import PathPolicy

__all__ = ["CREATE_FLAGS", "AtomicOutput", "remove_stale", "set_owner", "temporary_for"]

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


class AtomicOutput(AtomicFile):
    """One job's output file in the directory open as ``dir_fd`` (engine/common/atomic.py), its
    failures told as the engine errors they mean: a full disk while it is synced is 507
    insufficient_space, a file that appeared under the final name without ``overwrite`` 409."""

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
        super().__init__(dir_fd, name, temporary, overwrite=overwrite, mode=mode, owner=owner, where=where)

    def commit(self) -> None:
        """fsync, then publish under the final name (and fsync the directory)."""
        try:
            self.sync()
        except OSError as exc:
            raise from_os_error(exc, what="syncing the output", path=self.where) from None
        try:
            self.publish()
        except FileExistsError:
            raise AlreadyExists(
                f"destination {self.where!r} appeared while the job ran; set overwrite to replace it",
                code="already_exists",
            ) from None
