"""On-demand diagnostics inside every engine process (supervisor, workers, frontend): the built-in
fallback of ``engined profile`` (tools/profile.py) when py-spy is not installed.

- ``STACKS_SIGNAL`` (SIGUSR1): faulthandler appends the Python stack of every thread to
  ``<data dir>/run/diag/<name>.<pid>.stacks``. It is faulthandler's own C signal handler: no Python
  code runs, the GIL is not taken, nothing waits; the process pays the write of one dump (a few
  hundred bytes, some tens of µs). ``engined profile`` sends it N times a second and turns the dumps
  into flame graphs. Python-level waits the signal interrupts are resumed (PEP 475).
- ``MEMORY_SIGNAL`` (SIGUSR2): the first starts tracemalloc, the next writes a snapshot to
  ``<name>.<pid>.tracemalloc`` and stops it. Tracing slows allocation only between the two.

Only the file's presence under the process's own pid tells ``engined profile`` that a process
listens: SIGUSR1's default action ends a process, so a process without one is never sent it. The
file is a bare close-on-exec descriptor: a program the engine runs never inherits it, and nothing
runs at fork (uvloop runs Python's at-fork hooks in every child it spawns, before exec, in a process
with gRPC's threads: no place for our code). An engine process forked from another (a worker from
the supervisor) replaces the handler it inherited and closes the inherited descriptor when it
installs its own.
"""

from __future__ import annotations

import contextlib
import faulthandler
import logging
import os
import signal
import tracemalloc
from pathlib import Path

from engine.common.fsutil import private_dir

logger = logging.getLogger(__name__)

STACKS_SIGNAL = signal.SIGUSR1
MEMORY_SIGNAL = signal.SIGUSR2
TRACEMALLOC_FRAMES = 16
STACKS_SUFFIX, MEMORY_SUFFIX = ".stacks", ".tracemalloc"


def diag_dir(data_dir: str) -> Path:
    return Path(data_dir) / "run" / "diag"


class Diagnostics:
    """``install()`` once in a process (after fork), ``toggle_memory()`` on MEMORY_SIGNAL, ``close()`` at exit."""

    _fd: int = -1
    _pid: int = -1

    def __init__(self, data_dir: str, name: str) -> None:
        self.dir = diag_dir(data_dir)
        self.name = name

    def path(self, suffix: str) -> Path:
        return self.dir / f"{self.name}.{os.getpid()}{suffix}"

    def install(self) -> None:
        """Open this process's stacks file and register the dump on STACKS_SIGNAL. A failure (a
        read-only data dir) is logged, not raised: the engine runs without the fallback profiler."""
        _close_inherited()
        try:
            private_dir(self.dir)
            # append (a reader truncates it after reading), and 0600: stacks name the code paths
            self._fd = os.open(self.path(STACKS_SUFFIX), os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            faulthandler.unregister(STACKS_SIGNAL)  # not the parent's file either: the default again
            logger.warning("%s: no stack dumps on SIGUSR1 (%s)", self.name, exc)
            return
        self._pid = os.getpid()
        faulthandler.register(STACKS_SIGNAL, file=self._fd, all_threads=True, chain=False)

    def toggle_memory(self) -> Path | None:
        """Start tracemalloc, or write its snapshot and stop it (returns the snapshot's path)."""
        if not tracemalloc.is_tracing():
            tracemalloc.start(TRACEMALLOC_FRAMES)
            return None
        snapshot = tracemalloc.take_snapshot()
        tracemalloc.stop()
        path = self.path(MEMORY_SUFFIX)
        tmp = path.with_suffix(".tmp")
        try:
            snapshot.dump(str(tmp))
            tmp.replace(path)  # a reader never sees half a snapshot
        except OSError as exc:
            logger.warning("%s: cannot write the tracemalloc snapshot (%s)", self.name, exc)
            return None
        return path

    def on_memory_signal(self, signum: int = 0, frame: object = None) -> None:
        self.toggle_memory()

    def close(self) -> None:
        """Unregister and remove this process's files (idempotent; a no-op in a forked child)."""
        if self._fd < 0 or self._pid != os.getpid():
            return
        faulthandler.unregister(STACKS_SIGNAL)
        os.close(self._fd)
        self._fd = -1
        for suffix in (STACKS_SUFFIX, MEMORY_SUFFIX):
            with contextlib.suppress(OSError):
                self.path(suffix).unlink()


def _close_inherited() -> None:
    """Close a stack-dump descriptor inherited over fork from another engine process."""
    suffix = f".{os.getpid()}{STACKS_SUFFIX}"
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.endswith(STACKS_SUFFIX) and not target.endswith(suffix) and "/run/diag/" in target:
            with contextlib.suppress(OSError):
                os.close(int(fd))


def reclaim(data_dir: str) -> None:
    """Remove the files of processes that are gone (a killed worker cannot remove its own)."""
    try:
        entries = list(diag_dir(data_dir).iterdir())
    except OSError:
        return
    for path in entries:
        pid = path.name.split(".")[-2] if path.name.count(".") >= 2 else ""
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            with contextlib.suppress(OSError):
                path.unlink()
