"""The engine's private files and directories: 0700 directories, and small state files (keys, the
pool registry, snapshot schedules, ports.json) replaced so that a crash leaves the old one or the
new one, never half of either (``write_private``: one call on engine/common/atomic.py, the same
mechanism the job outputs and sealed-file re-wraps use).
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

from engine.common.atomic import write_file

if TYPE_CHECKING:
    from pathlib import Path


def private_dir(path: Path) -> Path:
    """``path`` and every missing parent created 0700 (``mkdir(parents=True, mode=...)`` applies the
    mode to the last one only: the parents get 0755)."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):
            directory.mkdir(mode=0o700)
    return path if not missing else missing[0]


def fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (the entry lives in the directory, not the file)."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_private(path: Path, data: bytes, *, durable: bool = True, overwrite: bool = True) -> None:
    """Replace ``path`` with ``data``, mode 0600 from its first byte (engine/common/atomic.py: a
    temporary file beside it, fsynced, renamed over the old one, the directory fsynced: ``durable``).
    ``overwrite=False``: create it whole, or raise FileExistsError."""
    dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        write_file(dir_fd, path.name, data, mode=0o600, durable=durable, overwrite=overwrite)
    finally:
        os.close(dir_fd)
