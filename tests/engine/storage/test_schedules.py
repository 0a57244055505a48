"""Snapshot schedules: validation, boundaries, persistence across a restart, and the runner restarted
under the storage domain's background tasks when it fails (no root needed)."""

from __future__ import annotations

import asyncio
import calendar
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from engine.background import BackgroundTasks
from engine.errors import InvalidArgument, NotFound
from engine.storage.models import DeletedSnapshot, Snapshot
from engine.storage.schedules import Schedule, ScheduleStore, SnapshotScheduler
from tests.utils import run

if TYPE_CHECKING:
    from collections.abc import Callable

T0 = calendar.timegm((2026, 11, 29, 13, 20, 0, 0, 0, 0))  # 13:20 UTC


def test_boundaries_and_catch_up() -> None:
    hourly = Schedule(1, "tank", "docs", 3600, 24, created_unix=T0)
    assert hourly.next_run() == T0 + 40 * 60  # the next full hour
    hourly.last_run_unix = T0 + 40 * 60
    assert hourly.next_run() == T0 + 100 * 60
    hourly.last_run_unix = T0 - 5 * 86400  # the engine was down for days: one run is due now, not 120
    assert hourly.next_run() < T0
    daily = Schedule(2, "tank", "docs", 86400, 7, created_unix=T0)
    assert daily.next_run() == calendar.timegm((2026, 11, 30, 0, 0, 0, 0, 0, 0))


def test_store_persists_and_survives_a_restart(tmp_path: Path) -> None:
    store = ScheduleStore(tmp_path)
    hourly = store.add("tank", "docs", period="hourly", keep=24, now=T0)
    daily = store.add("tank", "media", period="daily", keep=7, now=T0)
    custom = store.add("tank", "docs", interval_s=900, keep=4, now=T0)
    assert [s.id for s in (hourly, daily, custom)] == [1, 2, 3]
    assert hourly.next_run_unix == T0 + 40 * 60 and custom.next_run_unix == T0 + 10 * 60
    store.update(1, last_run_unix=T0 + 2400, last_result="ok", last_snapshot="auto-1-20261129-140000")
    assert oct(store.path.stat().st_mode & 0o777) == "0o600"

    restarted = ScheduleStore(tmp_path)  # a new engine process reads the same file
    listed = {s.id: s for s in restarted.list_schedules()}
    assert listed[1].last_snapshot == "auto-1-20261129-140000" and listed[1].next_run_unix == T0 + 6000
    restarted.update(2, enabled=False)
    assert ScheduleStore(tmp_path).list_schedules()[1].next_run_unix == 0.0
    restarted.remove(3)
    assert [s.id for s in ScheduleStore(tmp_path).list_schedules()] == [1, 2]
    with pytest.raises(NotFound):
        restarted.remove(3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"period": "fortnightly", "keep": 3}, "period"),
        ({"interval_s": 10, "keep": 3}, "at least 60"),
        ({"period": "hourly", "keep": 0}, "keep"),
        ({"period": "hourly", "keep": 5000}, "keep"),
    ],
)
def test_store_refuses_bad_schedules(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        ScheduleStore(tmp_path).add("tank", "docs", **kwargs)
    with pytest.raises(InvalidArgument):
        ScheduleStore(tmp_path).add("tank", "../etc", period="hourly", keep=1)


class Volumes:
    """The snapshot calls the runner makes, kept in memory (the runner is under test, not the tools)."""

    def __init__(self) -> None:
        self.snapshots: list[str] = []

    async def create_snapshot(self, pool: str, volume: str, snapshot: str) -> Snapshot:
        self.snapshots.append(snapshot)
        return Snapshot(pool, volume, snapshot, path=f"/{pool}/{volume}/{snapshot}")

    async def list_snapshots(self, pool: str, volume: str | None = None) -> list[Snapshot]:
        return [Snapshot(pool, volume or "", name, path=f"/{pool}/{volume}/{name}") for name in self.snapshots]

    async def delete_snapshot(self, pool: str, volume: str, snapshot: str, *, confirm: str | None) -> DeletedSnapshot:
        self.snapshots.remove(snapshot)
        return DeletedSnapshot(pool, volume, snapshot)


def test_a_runner_that_fails_is_restarted_and_runs_again_once_its_store_reads(tmp_path: Path) -> None:
    """The runner as the storage domain runs it (engine/background.py run_forever): a schedule file it
    cannot read fails it at each run (counted restarts, with backoff); once the file reads again, the
    restarted runner takes the snapshot that is due, and a stop ends it cleanly (no restart)."""
    store = ScheduleStore(tmp_path)
    store.path.parent.mkdir(mode=0o700)
    store.path.write_bytes(b'[{"id": 1')  # damaged: cut short
    volumes = Volumes()
    scheduler = SnapshotScheduler(store, volumes)

    async def until(condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(10):
            while not condition():  # noqa: ASYNC110  # state of the objects under test, polled
                await asyncio.sleep(0.005)

    async def scenario() -> dict[str, int]:
        tasks = BackgroundTasks("storage", first_backoff_s=0.02, max_backoff_s=0.1)
        stop = asyncio.Event()
        tasks.run_forever("snapshots", lambda: scheduler.run(stop))
        await until(lambda: tasks.restarts()["snapshots"] >= 2)
        store.path.unlink()
        store.add("tank", "docs", period="hourly", keep=2, now=time.time() - 2 * 3600)  # a run is due
        await until(lambda: bool(volumes.snapshots))
        stop.set()
        await until(lambda: tasks.running() == [])  # a clean return ends it
        restarts = tasks.restarts()
        await tasks.close()
        return restarts

    restarts = run(scenario())
    assert restarts["snapshots"] >= 2
    assert volumes.snapshots[0].startswith("auto-1-")
    assert store.list_schedules()[0].last_result == "ok"
