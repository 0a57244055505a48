"""StorageService: the storage domain as the transports see it (one call per StorageService RPC).

The StorageManager decides (names, devices, confirmation, one operation per pool, the registry);
this adds what a running engine needs around it: long operations become jobs (op_jobs.py),
snapshot schedules are kept and run, SMART is read per disk, the listings cached in the Runtime
are forgotten after every change so the next one shows the real state, and start/stop: remembered
pools are mounted again and the scheduler started (engine/domain.py's open, under its background
tasks); running operations are let go at close.

Everything runs on the frontend's event loop; every tool is an asyncio subprocess with a timeout,
so nothing here blocks the loop or touches the data plane (rings, slots, workers).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import re
import stat
from typing import TYPE_CHECKING, Any, TypeVar

from engine.domain import Domain
from engine.errors import Conflict, InvalidArgument, NotFound, Unsupported
from engine.storage import smart
from engine.storage.models import (
    DeletedSchedule,
    DeletedSnapshot,
    DeletedVolume,
    DestroyedPool,
    Pool,
    ScheduleListing,
    ScrubStatus,
    SelfTestStarted,
    SmartInfo,
    Snapshot,
    SnapshotListing,
    SnapshotSchedule,
    StorageJob,
    StorageJobListing,
    Volume,
    VolumeListing,
)
from engine.storage.op_jobs import OperationJobs, storage_job
from engine.storage.schedules import MAX_KEEP, ScheduleStore, SnapshotScheduler

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from pathlib import Path

    from engine.jobs import Publish
    from engine.jobs.manager import JobManager
    from engine.storage.manager import StorageManager

logger = logging.getLogger(__name__)
T = TypeVar("T")
_DISK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:!-]{0,63}")  # kernel block names (cciss!c0d0 has a "!")
JOB_LIMIT_MAX = 1000


def disk_path(disk: str) -> str:
    """``sda``, ``nvme0n1`` or ``/dev/sda`` as the block device's path; NotFound / InvalidArgument else."""
    name = disk.removeprefix("/dev/")
    if not _DISK_NAME.fullmatch(name):
        raise InvalidArgument(
            f"disk {disk!r} is not a block device name (e.g. sda, nvme0n1)",
            code="invalid_name",
            metadata={"field": "disk", "rule": "characters"},
        )
    path = f"/dev/{name}"
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise NotFound(f"no disk {name!r} on this machine", code="unknown_disk", metadata={"disk": name}) from None
    if not stat.S_ISBLK(mode):
        raise InvalidArgument(f"{path} is not a block device", code="not_block_device", metadata={"disk": name})
    return path


class StorageService(Domain):
    name = "storage"

    def __init__(
        self,
        manager: StorageManager,
        jobs: JobManager,
        publish: Publish,
        data_dir: Path | str,
        *,
        forget: Callable[[], None],
        poll_s: float = 1.0,
    ) -> None:
        self.manager = manager
        self._forget = forget
        self.ops = OperationJobs(jobs, publish, forget, poll_s=poll_s)
        self.schedules = ScheduleStore(data_dir)
        self.scheduler = SnapshotScheduler(self.schedules, manager)
        self._stop = asyncio.Event()
        self._restored = asyncio.Event()

    # lifecycle --------------------------------------------------------------------------------
    async def open(self) -> None:
        """Mount the remembered pools again and list them once (in the background: a slow mount must
        not hold the frontend's start), then run the snapshot schedules until close (restarted with
        backoff if the runner fails)."""
        self.background.run_once("restore", self._restore())
        self.background.run_forever("snapshots", self._run_schedules)

    async def _restore(self) -> None:
        try:
            for outcome in await self.manager.restore():
                log = logger.warning if outcome.action == "failed" else logger.info
                log("storage: pool %s at start: %s (%s)", outcome.name, outcome.action, outcome.detail)
            self._forget()
            await self._survey()
        finally:
            self._restored.set()  # the schedules run once the pools are back (or their restore failed)

    async def _run_schedules(self) -> None:
        await self._restored.wait()
        await self.scheduler.run(self._stop)

    async def _survey(self) -> None:
        """One pool listing at start, so that system status says from the first what this machine's storage
        tools can do (ZFS installed but not usable, and why, is a state a new user needs to see)."""
        try:
            listing = await self.manager.list_pools()
        except Exception:  # the listing is retried by every caller; start goes on
            logger.exception("storage: the pool listing at start failed")
            return
        for source in listing.sources:
            if not source.available and source.name in ("btrfs", "zfs"):
                logger.info("storage: %s unavailable: %s", source.name, source.detail)

    async def close(self) -> None:
        """Stop following running operations (before the JobManager closes) and stop the scheduler."""
        await self.ops.close()
        self._stop.set()
        await super().close()

    async def _changed(self, call: Awaitable[T]) -> T:
        try:
            return await call
        finally:
            self._forget()

    # pools and devices ------------------------------------------------------------------------
    async def get_pool(self, pool: str) -> Pool:
        return await self.manager.get_pool(pool)

    async def create_pool(
        self, name: str, devices: list[str], *, pool_type: str, data_profile: str, metadata_profile: str, force: bool
    ) -> Pool:
        return await self._changed(
            self.manager.create_pool(
                name,
                devices,
                pool_type=pool_type or "btrfs",
                data_profile=data_profile or "single",
                metadata_profile=metadata_profile,
                force=force,
            )
        )

    async def import_pool(self, pool: str, *, degraded: bool) -> Pool:
        return await self._changed(self.manager.import_pool(pool, degraded=degraded))

    async def export_pool(self, pool: str) -> Pool:
        return await self._changed(self.manager.export_pool(pool))

    async def destroy_pool(self, pool: str, *, confirm: str) -> DestroyedPool:
        return await self._changed(self.manager.destroy_pool(pool, confirm=confirm))

    async def add_device(self, pool: str, device: str, *, force: bool) -> Pool:
        return await self._changed(self.manager.add_device(pool, device, force=force))

    async def remove_device(self, pool: str, device: str, *, confirm: str) -> StorageJob:
        return await self.ops.submit(await self.manager.remove_device(pool, device, confirm=confirm))

    async def replace_device(self, pool: str, old: str, new: str, *, force: bool) -> StorageJob:
        return await self.ops.submit(await self.manager.replace_device(pool, old, new, force=force))

    async def balance(self, pool: str, *, convert_data: str, convert_metadata: str, force: bool) -> StorageJob:
        return await self.ops.submit(
            await self.manager.balance(pool, convert_data=convert_data, convert_metadata=convert_metadata, force=force)
        )

    # volumes and snapshots ----------------------------------------------------------------------
    async def list_volumes(self, pool: str) -> VolumeListing:
        return VolumeListing(tuple(await self.manager.list_volumes(pool)))

    async def create_volume(self, pool: str, volume: str, *, quota_bytes: int) -> Volume:
        return await self._changed(self.manager.create_volume(pool, volume, quota_bytes=quota_bytes))

    async def set_quota(self, pool: str, volume: str, quota_bytes: int) -> Volume:
        return await self._changed(self.manager.set_quota(pool, volume, quota_bytes))

    async def delete_volume(self, pool: str, volume: str, *, confirm: str, with_snapshots: bool) -> DeletedVolume:
        return await self._changed(
            self.manager.delete_volume(pool, volume, confirm=confirm, with_snapshots=with_snapshots)
        )

    async def list_snapshots(self, pool: str, volume: str) -> SnapshotListing:
        return SnapshotListing(tuple(await self.manager.list_snapshots(pool, volume or None)))

    async def create_snapshot(self, pool: str, volume: str, snapshot: str) -> Snapshot:
        return await self._changed(self.manager.create_snapshot(pool, volume, snapshot))

    async def delete_snapshot(self, pool: str, volume: str, snapshot: str, *, confirm: str) -> DeletedSnapshot:
        return await self._changed(self.manager.delete_snapshot(pool, volume, snapshot, confirm=confirm))

    async def rollback(self, pool: str, volume: str, snapshot: str, *, confirm: str) -> Volume:
        return await self._changed(self.manager.rollback(pool, volume, snapshot, confirm=confirm))

    async def clone(self, pool: str, volume: str, snapshot: str, new_volume: str) -> Volume:
        return await self._changed(self.manager.clone(pool, volume, snapshot, new_volume))

    # scrub ------------------------------------------------------------------------------------
    async def start_scrub(self, pool: str) -> StorageJob:
        return await self.ops.submit(await self.manager.scrub(pool))

    async def scrub_status(self, pool: str) -> ScrubStatus:
        return dataclasses.replace(await self.manager.scrub_status(pool), job_id=self.ops.running(pool, "scrub"))

    async def cancel_scrub(self, pool: str) -> ScrubStatus:
        """Cancel the scrub's job if the engine follows it, else the scrub itself (one started
        before a restart or by hand); no scrub running is a conflict, not a tool failure."""
        job_id = self.ops.running(pool, "scrub")
        if job_id:
            await self.ops.cancel(job_id)
        elif (await self.manager.scrub_status(pool)).state != "running":
            raise Conflict(f"no scrub is running on pool {pool!r}", code="scrub_not_running", metadata={"pool": pool})
        else:
            await self.manager.cancel_scrub(pool)
        return await self.scrub_status(pool)

    # jobs ---------------------------------------------------------------------------------------
    def list_jobs(self, limit: int) -> StorageJobListing:
        if not 0 <= limit <= JOB_LIMIT_MAX:
            raise InvalidArgument(
                f"limit must be in 0-{JOB_LIMIT_MAX} (0: 50), got {limit}", metadata={"max": JOB_LIMIT_MAX}
            )
        return StorageJobListing(tuple(self.ops.list(limit or 50)))

    def get_job(self, job_id: str) -> StorageJob:
        return storage_job(self.ops.get(job_id))

    async def cancel_job(self, job_id: str) -> StorageJob:
        return await self.ops.cancel(job_id)

    # schedules --------------------------------------------------------------------------------
    def list_schedules(self) -> ScheduleListing:
        return ScheduleListing(self.schedules.list_schedules())

    async def create_schedule(
        self, pool: str, volume: str, *, period: str, interval_s: int, keep: int
    ) -> SnapshotSchedule:
        if not any(v.name == volume for v in await self.manager.list_volumes(pool)):  # checks the names too
            raise NotFound(f"pool {pool!r} has no volume {volume!r}", metadata={"pool": pool, "volume": volume})
        schedule = self.schedules.add(pool, volume, keep=keep, period=period, interval_s=interval_s)
        self.scheduler.wake()
        return schedule

    def update_schedule(self, schedule_id: int, *, enabled: bool | None, keep: int | None) -> SnapshotSchedule:
        fields: dict[str, Any] = {}
        if enabled is not None:
            fields["enabled"] = enabled
        if keep is not None:
            if not 1 <= keep <= MAX_KEEP:
                raise InvalidArgument(f"keep must be between 1 and {MAX_KEEP}", code="invalid_schedule")
            fields["keep"] = keep
        schedule = self.schedules.update(schedule_id, **fields)
        self.scheduler.wake()
        return schedule

    def delete_schedule(self, schedule_id: int) -> DeletedSchedule:
        self.schedules.remove(schedule_id)
        self.scheduler.wake()
        return DeletedSchedule(schedule_id)

    # SMART ------------------------------------------------------------------------------------
    async def get_smart(self, disk: str, *, extended: bool = False) -> SmartInfo:
        """The disk's SMART; a disk that answers none (virtio, USB bridges) is ``available: false``
        with smartctl's reason: a fact about that disk, not an error."""
        path = disk_path(disk)
        try:
            return await smart.read_smart(path, extended=extended)
        except Unsupported as exc:
            if exc.code != "no_smart":
                raise
            return SmartInfo(available=False, device=path, detail=exc.message)

    async def start_self_test(self, disk: str, kind: str) -> SelfTestStarted:
        return await smart.start_self_test(disk_path(disk), kind or "short")
