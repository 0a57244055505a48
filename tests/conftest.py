from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

import psutil
import pytest

from engine.config import EngineConfig
from tests.leaks import owned_segments
from tests.utils import live_children, wait_until

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture(autouse=True)
def no_leftovers() -> Iterator[None]:
    """Every test must leave none of its engine segments in /dev/shm and no child process behind
    (servers shared by a whole module or session are checked when they stop). Segments of engines
    this run did not start are not ours to judge or remove (tests/leaks.py)."""
    before = owned_segments()
    before_pids = {c.pid for c in live_children()}
    yield

    def new_children() -> list[psutil.Process]:
        return [c for c in live_children() if c.pid not in before_pids]

    wait_until(lambda: not new_children(), timeout=10)
    children = []
    for child in new_children():
        with contextlib.suppress(psutil.NoSuchProcess):  # it may end between the listing and here
            children.append((child.pid, child.name()))
            child.kill()
    leaked = sorted(owned_segments() - before)
    for name in leaked:
        os.unlink(os.path.join("/dev/shm", name))
    assert not children, f"test left processes running: {children}"
    assert not leaked, f"test left shared-memory segments: {leaked}"


@pytest.fixture
def config(tmp_path: Path) -> EngineConfig:
    """A small engine: 2 workers, 8 agents, 16 slots of 256 KiB, keys under tmp_path."""
    return EngineConfig.from_env(
        environ={},
        env_file=None,
        workers=2,
        agents=8,
        slots=16,
        slot_bytes=256 * 1024,
        ring_capacity=64,
        history_len=16,
        data_dir=str(tmp_path / "data"),
        shutdown_grace=3.0,
    )


_SEGMENTS_AT_START: set[str] = set()


def pytest_sessionstart(session: pytest.Session) -> None:
    _SEGMENTS_AT_START.update(owned_segments())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The whole run must leave none of its own segments in /dev/shm."""
    stale = sorted(owned_segments() - _SEGMENTS_AT_START)
    if stale:
        session.exitstatus = 1
        print(f"\nengine segments left in /dev/shm by this test run: {stale}")
