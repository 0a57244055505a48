"""The schedule runner against a real btrfs pool, with an injected clock: five simulated hours
take well under a second, retention prunes only the schedule's own snapshots, and a restarted
engine (new store and runner on the same data dir) carries on where the last one stopped."""

from __future__ import annotations

import asyncio
import calendar
import time
from pathlib import Path

import pytest

from engine.storage.manager import StorageManager
from engine.storage.schedules import ScheduleStore, SnapshotScheduler
from tests.utils import run

pytestmark = pytest.mark.system
T0 = calendar.timegm((2026, 11, 29, 13, 20, 0, 0, 0, 0))


class SteppingClock:
    """Time that passes only when the runner sleeps; stops the runner at ``until``."""

    def __init__(self, start: float, until: float) -> None:
        self.t, self.until, self.stop = start, until, asyncio.Event()
        self.sleeps = 0

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.t += seconds
        if self.t >= self.until or self.sleeps > 1000:
            self.stop.set()
        await asyncio.sleep(0)


def run_until(manager: StorageManager, data_dir: Path, start: float, until: float) -> SnapshotScheduler:
    async def go() -> SnapshotScheduler:
        clock = SteppingClock(start, until)
        scheduler = SnapshotScheduler(ScheduleStore(data_dir), manager, clock)
        await scheduler.run(clock.stop)
        return scheduler

    return run(go())


def test_hourly_schedule_with_retention_and_restart(
    loop_devices, manager: StorageManager, pool_name: str, tmp_path: Path
) -> None:
    run(manager.create_pool(pool_name, loop_devices(1, 256)))
    run(manager.create_volume(pool_name, "docs"))
    run(manager.create_snapshot(pool_name, "docs", "by-hand"))
    data_dir = tmp_path / "data"
    schedule = ScheduleStore(data_dir).add(pool_name, "docs", period="hourly", keep=3, now=T0)

    started = time.monotonic()
    run_until(manager, data_dir, T0, T0 + 5 * 3600)  # 13:20 -> 18:20: runs at 14:00 ... 18:00
    assert time.monotonic() - started < 30  # five hours of schedule in seconds (real btrfs work, a loaded box)
    names = [s.name for s in run(manager.list_snapshots(pool_name, "docs"))]
    assert sorted(names) == ["auto-1-20261129-160000", "auto-1-20261129-170000", "auto-1-20261129-180000", "by-hand"]
    (listed,) = ScheduleStore(data_dir).list_schedules()
    assert listed.last_snapshot == "auto-1-20261129-180000" and listed.last_result == "ok"
    assert listed.next_run_unix == T0 + 5 * 3600 + 40 * 60 == schedule.next_run_unix + 5 * 3600

    # the engine restarts three hours later: one catch-up run now, then on the hour again
    run_until(manager, data_dir, T0 + 8 * 3600, T0 + 9 * 3600)
    names = sorted(s.name for s in run(manager.list_snapshots(pool_name, "docs")))
    assert names == ["auto-1-20261129-180000", "auto-1-20261129-212000", "auto-1-20261129-220000", "by-hand"]
