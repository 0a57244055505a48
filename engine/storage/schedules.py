"""Periodic snapshot schedules with retention, persisted under the data dir, and their runner.

A schedule snapshots one volume every ``interval_s`` (hourly, daily, weekly or any number of
seconds >= 60), at the interval's boundaries in UTC (hourly at :00, daily at 00:00 UTC), and keeps
the newest ``keep`` of its own snapshots (named ``auto-<id>-<UTC time>``; snapshots made by hand
are never pruned). A run missed while the engine was down is taken once at start, not once per
missed interval. File: ``<data dir>/storage/schedules.json`` (0600, written atomically).

The runner is a coroutine for the frontend's loop; its clock is injectable so tests can pass days
in milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from engine.errors import Conflict, EngineError, InvalidArgument, NotFound
from engine.storage.models import DeletedSnapshot, Snapshot, SnapshotSchedule
from engine.storage.names import check_name
from engine.storage.state import read_json, write_json

logger = logging.getLogger(__name__)
PERIODS = {"hourly": 3600, "daily": 86400, "weekly": 7 * 86400}
MIN_INTERVAL_S, MAX_KEEP = 60, 1000


@dataclass
class Schedule:
    id: int
    pool: str
    volume: str
    interval_s: int
    keep: int
    created_unix: float
    enabled: bool = True
    last_run_unix: float = 0.0
    last_result: str = ""
    last_snapshot: str = ""

    @property
    def prefix(self) -> str:
        return f"auto-{self.id}-"

    def next_run(self) -> float:
        base = self.last_run_unix or self.created_unix
        return (int(base) // self.interval_s + 1) * self.interval_s

    def record(self) -> SnapshotSchedule:
        return SnapshotSchedule(**asdict(self), next_run_unix=float(self.next_run()) if self.enabled else 0.0)


class ScheduleStore:
    def __init__(self, data_dir: Path | str) -> None:
        self.path = Path(data_dir) / "storage" / "schedules.json"

    def _load(self) -> list[Schedule]:
        return [Schedule(**row) for row in read_json(self.path, [])]

    def _save(self, schedules: list[Schedule]) -> None:
        write_json(self.path, [asdict(s) for s in schedules])

    def schedules(self) -> list[Schedule]:
        return self._load()

    def list_schedules(self) -> tuple[SnapshotSchedule, ...]:
        """Every schedule with its ``next_run_unix``."""
        return tuple(s.record() for s in self._load())

    def add(
        self, pool: str, volume: str, *, keep: int, period: str = "", interval_s: int = 0, now: float | None = None
    ) -> SnapshotSchedule:
        check_name(pool, "pool")
        check_name(volume, "volume")
        if period:
            if period not in PERIODS:
                raise InvalidArgument(
                    f"period must be one of {', '.join(PERIODS)}, got {period!r}", code="invalid_schedule"
                )
            interval_s = PERIODS[period]
        if interval_s < MIN_INTERVAL_S:
            raise InvalidArgument(f"interval must be at least {MIN_INTERVAL_S} s", code="invalid_schedule")
        if not 1 <= keep <= MAX_KEEP:
            raise InvalidArgument(f"keep must be between 1 and {MAX_KEEP}", code="invalid_schedule")
        schedules = self._load()
        schedule = Schedule(
            max((s.id for s in schedules), default=0) + 1,
            pool,
            volume,
            interval_s,
            keep,
            time.time() if now is None else now,
        )
        self._save([*schedules, schedule])
        return schedule.record()

    def remove(self, schedule_id: int) -> None:
        schedules = self._load()
        if not any(s.id == schedule_id for s in schedules):
            raise NotFound(f"no snapshot schedule {schedule_id}")
        self._save([s for s in schedules if s.id != schedule_id])

    def update(self, schedule_id: int, **fields: Any) -> SnapshotSchedule:
        schedules = self._load()
        found = next((s for s in schedules if s.id == schedule_id), None)
        if found is None:
            raise NotFound(f"no snapshot schedule {schedule_id}")
        for key, value in fields.items():
            setattr(found, key, value)
        self._save(schedules)
        return found.record()


class Snapshots(Protocol):
    """What the runner needs of the StorageManager."""

    async def create_snapshot(self, pool: str, volume: str, snapshot: str) -> Snapshot: ...
    async def list_snapshots(self, pool: str, volume: str | None = None) -> list[Snapshot]: ...
    async def delete_snapshot(
        self, pool: str, volume: str, snapshot: str, *, confirm: str | None
    ) -> DeletedSnapshot: ...


class Clock(Protocol):
    def now(self) -> float: ...
    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class SnapshotScheduler:
    """Takes due snapshots and prunes beyond retention. A pool busy with another operation is
    retried after ``retry_s``; any other failure is recorded on the schedule and retried at its
    next boundary (never in a tight loop)."""

    def __init__(
        self,
        store: ScheduleStore,
        snapshots: Snapshots,
        clock: Clock | None = None,
        *,
        max_sleep_s: float = 60.0,
        retry_s: float = 60.0,
    ) -> None:
        self.store, self.snapshots, self.clock = store, snapshots, clock or SystemClock()
        self.max_sleep_s, self.retry_s = max_sleep_s, retry_s
        self._retry_at: dict[int, float] = {}
        self._wake: asyncio.Event | None = None

    def wake(self) -> None:
        """Call after adding or changing a schedule so the runner recomputes its next wake-up."""
        if self._wake is not None:
            self._wake.set()

    def _due(self, now: float) -> list[Schedule]:
        return [
            s
            for s in self.store.schedules()
            if s.enabled and s.next_run() <= now and self._retry_at.get(s.id, 0.0) <= now
        ]

    async def run_due(self) -> list[dict[str, Any]]:
        return [await self._take(schedule) for schedule in self._due(self.clock.now())]

    async def _take(self, schedule: Schedule) -> dict[str, Any]:
        now = self.clock.now()
        name = schedule.prefix + time.strftime("%Y%m%d-%H%M%S", time.gmtime(now))
        try:
            await self.snapshots.create_snapshot(schedule.pool, schedule.volume, name)
            pruned = await self._prune(schedule)
        except Conflict as exc:
            self._retry_at[schedule.id] = now + self.retry_s
            return {"schedule": schedule.id, "snapshot": "", "result": f"retrying: {exc.message}", "pruned": []}
        except EngineError as exc:
            self.store.update(schedule.id, last_run_unix=now, last_result=f"failed: {exc.message}")
            logger.warning("snapshot schedule %s failed: %s", schedule.id, exc.message)
            return {"schedule": schedule.id, "snapshot": "", "result": f"failed: {exc.message}", "pruned": []}
        self._retry_at.pop(schedule.id, None)
        self.store.update(schedule.id, last_run_unix=now, last_result="ok", last_snapshot=name)
        return {"schedule": schedule.id, "snapshot": name, "result": "ok", "pruned": pruned}

    async def _prune(self, schedule: Schedule) -> list[str]:
        ours = sorted(
            s.name
            for s in await self.snapshots.list_snapshots(schedule.pool, schedule.volume)
            if s.name.startswith(schedule.prefix)
        )  # (names sort by their UTC time)
        doomed = ours[: max(0, len(ours) - schedule.keep)]
        for name in doomed:
            await self.snapshots.delete_snapshot(schedule.pool, schedule.volume, name, confirm=name)
        return doomed

    def _delay(self) -> float:
        now = self.clock.now()
        upcoming = [max(s.next_run(), self._retry_at.get(s.id, 0.0)) for s in self.store.schedules() if s.enabled]
        return max(0.0, min([self.max_sleep_s, *[t - now for t in upcoming]]))

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Until ``stop`` is set (or the task is cancelled): take what is due, sleep until the next."""
        self._wake = asyncio.Event()
        stop = stop or asyncio.Event()
        while not stop.is_set():
            await self.run_due()
            waiters = [
                asyncio.ensure_future(self.clock.sleep(self._delay())),
                asyncio.ensure_future(self._wake.wait()),
                asyncio.ensure_future(stop.wait()),
            ]
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await waiter
                self._wake.clear()
