"""The leak check judges only this run's segments: a live engine beside the run is left alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from ipc.segment import engine_segments, segment_owner
from tests.leaks import descendants, owned_segments
from tests.utils import wait_until

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.multiprocess


def _start_foreign_engine(tmp_path: Path) -> int:
    """``engined serve --no-frontend`` re-parented away from us (the shell exits), as an operator's
    engine or a parallel test run's would be."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SIGMAVAULT_")},
        "SIGMAVAULT_WORKERS": "1",
        "SIGMAVAULT_AGENTS": "4",
        "SIGMAVAULT_SLOTS": "4",
        "SIGMAVAULT_RING_CAPACITY": "4",
        "SIGMAVAULT_SLOT_BYTES": "4096",
        "SIGMAVAULT_DATA_DIR": str(tmp_path),
    }
    out = subprocess.run(
        ["sh", "-c", f"{sys.executable} -m engine serve --no-frontend >/dev/null 2>&1 & echo $!"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return int(out.stdout.strip())


def test_a_live_foreign_engine_is_not_ours(tmp_path: Path) -> None:
    pid = _start_foreign_engine(tmp_path)
    try:
        assert wait_until(lambda: len([n for n in engine_segments() if segment_owner(n) == pid]) == 2, timeout=20)
        foreign = {n for n in engine_segments() if segment_owner(n) == pid}
        assert pid not in descendants()
        assert not foreign & owned_segments()
    finally:
        os.kill(pid, signal.SIGTERM)
    # it cleans up after itself; the autouse leak check of this very test must not have touched it
    assert wait_until(lambda: not [n for n in engine_segments() if segment_owner(n) == pid], timeout=20)
