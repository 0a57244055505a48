"""Named shared-memory segments: creation by the one owner, attach-by-inheritance, stale reclaim.

Names are ``sigmavault_<owner pid>_<token>_<part>`` so a later start can tell a segment whose
owner was SIGKILLed (pid gone) from one a live engine still uses. CPython creates them 0600.
Only the owner creates and unlinks; workers and the frontend inherit the mapping over fork and
never attach by name, so the resource tracker sees one register and one unregister per segment.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from multiprocessing import shared_memory

logger = logging.getLogger(__name__)

SHM_DIR = "/dev/shm"
NAME_PREFIX = "sigmavault_"
_NAME_RE = re.compile(rf"^{NAME_PREFIX}(\d+)_[0-9a-f]+_\w+$")


def instance_prefix() -> str:
    return f"{NAME_PREFIX}{os.getpid()}_{secrets.token_hex(4)}"


def create_segment(name: str, size: int) -> shared_memory.SharedMemory:
    return shared_memory.SharedMemory(name=name, create=True, size=size)


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (one we may not signal counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def segment_owner(name: str) -> int | None:
    """The pid of the process that created an engine segment (None for a name that is not ours)."""
    match = _NAME_RE.match(name)
    return int(match.group(1)) if match else None


def stale_segments(shm_dir: str = SHM_DIR) -> list[str]:
    """Names of engine segments whose owning process no longer exists."""
    try:
        names = os.listdir(shm_dir)
    except FileNotFoundError:
        return []
    return sorted(name for name in names if (owner := segment_owner(name)) is not None and not pid_alive(owner))


def reclaim_stale_segments(shm_dir: str = SHM_DIR) -> list[str]:
    """Unlink segments left by an engine that died without cleaning up; returns their names."""
    removed = []
    for name in stale_segments(shm_dir):
        try:
            os.unlink(os.path.join(shm_dir, name))
        except FileNotFoundError:
            continue
        removed.append(name)
    if removed:
        logger.warning("reclaimed %d stale shared-memory segment(s): %s", len(removed), ", ".join(removed))
    return removed


def engine_segments(shm_dir: str = SHM_DIR) -> list[str]:
    """Every segment that looks like an engine's, alive or not (for tests and tools)."""
    try:
        return sorted(n for n in os.listdir(shm_dir) if n.startswith(NAME_PREFIX))
    except FileNotFoundError:
        return []
