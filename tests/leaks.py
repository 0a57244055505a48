"""What this test run owns, so the leak checks judge only that and never touch another's.

An engine segment's name carries its creator's pid (``sigmavault_<pid>_...``). A segment is ours
when that pid is this process, one of its live descendants, or a process a test started and
registered with ``own()`` (it may be dead by the time we look). A live engine beside the test run
(an operator's, a parallel run's) owns segments under other pids and is left alone.
"""

from __future__ import annotations

import os

import psutil

from ipc.segment import engine_segments, segment_owner

_OWNED_PIDS: set[int] = {os.getpid()}


def own(pid: int) -> None:
    """Count ``pid``'s segments as this run's, even after the process has gone."""
    _OWNED_PIDS.add(pid)


def descendants() -> set[int]:
    try:
        return {child.pid for child in psutil.Process().children(recursive=True)}
    except psutil.NoSuchProcess:  # pragma: no cover - we are alive
        return set()


def owned_segments() -> set[str]:
    pids = _OWNED_PIDS | descendants()
    return {name for name in engine_segments() if segment_owner(name) in pids}
