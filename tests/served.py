"""Run a real ``engined serve`` on 127.0.0.1 with ports picked by the test (shared with perf/)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from perf import procs
from perf.procs import Served, stop_served
from tests.leaks import own

if TYPE_CHECKING:
    import ssl
    from pathlib import Path

__all__ = ["Served", "start_served", "stop_served"]


def start_served(
    workdir: Path, timeout: float = 30, *, ssl_context: ssl.SSLContext | None = None, **env: str
) -> Served:
    """perf's start_served, with the engine's segments counted as this test run's (tests/leaks.py)."""
    served = procs.start_served(workdir, timeout, ssl_context=ssl_context, **env)
    own(served.proc.pid)
    return served
