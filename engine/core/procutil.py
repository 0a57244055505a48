"""Linux process knobs the engine's children set on themselves (best effort elsewhere)."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal

logger = logging.getLogger(__name__)

_PR_SET_NAME = 15
_PR_SET_PDEATHSIG = 1
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3

try:
    _libc: ctypes.CDLL | None = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
except OSError:  # pragma: no cover - non-glibc platform
    _libc = None


def set_process_name(name: str) -> None:
    """What `ps -o comm`, top and /proc/PID/comm show (15 bytes)."""
    if _libc is not None:
        _libc.prctl(_PR_SET_NAME, name.encode()[:15], 0, 0, 0)


def keep_heap(trim_bytes: int = 256 << 20, mmap_bytes: int = 32 << 20) -> None:
    """Keep freed memory in the heap instead of handing it back after every task: the codecs
    allocate a fresh output of up to a slot per block, and glibc's default trimming then grew and
    shrank the heap around each one (measured: ~5 brk calls and ~1 ms of page faults per 1 MiB lz4
    block in a worker, a third of its CPU). The heap stays at its working size (a few MiB)."""
    if _libc is not None:
        _libc.mallopt(_M_TRIM_THRESHOLD, trim_bytes)
        _libc.mallopt(_M_MMAP_THRESHOLD, mmap_bytes)


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """Ask the kernel to send ``sig`` when the parent exits, then close the race with a check."""
    parent = os.getppid()
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    if os.getppid() != parent:  # parent died before prctl took effect
        os.kill(os.getpid(), sig)
