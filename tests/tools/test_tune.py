"""engined tune: a bounded run on this box writes a .env the engine accepts, saying what it measured."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import pytest

from engine.config import EngineConfig, read_env_file
from tools.tune import worker_counts

if TYPE_CHECKING:
    from pathlib import Path


def test_worker_counts() -> None:
    assert worker_counts(1) == [1]
    assert worker_counts(2) == [1, 2]
    assert worker_counts(6) == [1, 2, 4, 6]
    assert worker_counts(64) == [1, 8, 16, 32, 64]  # at most five runs, the big end kept


@pytest.mark.multiprocess
def test_tune_measures_within_its_time_and_writes_an_env_the_engine_accepts(tmp_path: Path) -> None:
    out = tmp_path / "tuned.env"
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "engine", "tune", "--seconds", "8", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    took = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert took < 45  # 8 s of measuring plus starting 9 engines and the interpreter, on a busy 2-CPU box
    settings = read_env_file(out)
    assert set(settings) == {
        "SIGMAVAULT_WORKERS",
        "SIGMAVAULT_SPIN_US",
        "SIGMAVAULT_SLOT_BYTES",
        "SIGMAVAULT_PIN_CPUS",
        "SIGMAVAULT_SLOTS",
        "SIGMAVAULT_RING_CAPACITY",
        "SIGMAVAULT_NUMA",
    }
    cfg = EngineConfig.from_env(environ={}, env_file=out)
    assert 1 <= cfg.workers <= len(os.sched_getaffinity(0)) and cfg.spin_us in (0, 50, 200)
    assert cfg.slot_bytes == 1 << 20  # the default floor: 256 KiB is measured but not recommended
    text = out.read_text()
    for measured in (
        "#   workers 1: p1 lz4",
        "#   spin 0 µs: echo p50",
        "#   slot 256 KiB: p1 lz4",
        "#   pinning on: p1",
    ):
        assert measured in text
    assert "The fewest within 5 % of the best p1" in text and "SIGMAVAULT_WORKERS=" in done.stdout


def test_tune_refuses_a_budget_too_small(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "engine", "tune", "--seconds", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 2 and "at least 5" in done.stderr
