"""Small files written so that a crash leaves the old one or the new one, never half of either.

Used for the engine's own state: keys, the pool registry, snapshot schedules, ports.json (the job
outputs, large and streamed, have their own AtomicOutput in engine/files/output.py, which ends with
the same fsync of the directory).
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

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


def write_private(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Replace ``path`` with ``data``, mode 0600 from its first byte: a temporary file in the same
    directory, fsynced, renamed over the old one, then the directory fsynced (``durable``)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if durable:
        fsync_directory(path.parent)
