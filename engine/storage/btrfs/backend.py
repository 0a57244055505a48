"""The btrfs side of the storage interface the manager drives (engine/storage/manager.py)."""

from __future__ import annotations

import os
import shutil
from typing import TYPE_CHECKING, Any

from engine.errors import Conflict, InvalidArgument, NotFound, Unsupported
from engine.storage.btrfs import jobs, parse, volumes
from engine.storage.btrfs import pool as bpool
from engine.storage.btrfs.tool import btrfs, btrfs_query
from engine.storage.kernel import btrfs_mounts, top_level_mount
from engine.storage.models import Pool, ScrubStatus, Snapshot, Volume
from engine.storage.ref import PoolRef

if TYPE_CHECKING:
    from pathlib import Path

    from engine.jobs.locks import Hold, LockTable
    from engine.storage.operations import ToolOperation


def _mounted(ref: PoolRef) -> str:
    if not ref.mountpoint:
        raise Conflict(
            f"pool {ref.name!r} is not mounted; import it first", code="pool_not_mounted", metadata={"pool": ref.name}
        )
    return ref.mountpoint


class BtrfsBackend:
    type = "btrfs"

    def require(self) -> None:
        for tool in ("btrfs", "mkfs.btrfs"):
            if shutil.which(tool) is None:
                raise Unsupported(f"{tool} is not installed on this machine (package btrfs-progs)")

    async def ready(self) -> None:
        """Before creating a pool: the tools are here (btrfs needs no daemon or module check)."""
        self.require()

    async def find(self, name: str, uuid: str = "") -> PoolRef | None:
        """The filesystem labelled ``name`` (or with that UUID); two with one label is a conflict."""
        found = [fs for fs in await bpool.show() if (fs["uuid"] == uuid if uuid else name in (fs["label"], fs["uuid"]))]
        if len(found) > 1:
            raise Conflict(
                f"{len(found)} btrfs filesystems are labelled {name!r}; name one by its UUID",
                code="ambiguous_pool",
                metadata={"uuids": ",".join(f["uuid"] for f in found)},
            )
        if not found:
            return None
        fs = found[0]
        return PoolRef(name, "btrfs", fs["uuid"], top_level_mount(fs["uuid"], btrfs_mounts()), fs)

    async def describe(self, ref: PoolRef) -> Pool:
        return await bpool.describe(ref.info, ref.mountpoint)

    async def create(
        self, name: str, devices: list[str], data: str, metadata: str, force: bool, mountpoint: Path
    ) -> PoolRef:
        data = bpool.check_profile(data, "data", force)
        metadata = bpool.check_profile(metadata or bpool.default_metadata(data, len(devices)), "metadata", force)
        for profile in (data, metadata):
            if len(devices) < bpool.MIN_DEVICES[profile]:
                raise InvalidArgument(
                    f"profile {profile} needs at least {bpool.MIN_DEVICES[profile]} devices, {len(devices)} given",
                    code="too_few_devices",
                )
        uuid = await bpool.create(name, devices, data, metadata, force)
        ref = await self.find(name, uuid)
        assert ref is not None
        await bpool.mount(ref.info, mountpoint)
        await bpool.setup_new(str(mountpoint))
        ref.mountpoint = str(mountpoint)
        return ref

    async def import_pool(self, ref: PoolRef, mountpoint: Path, degraded: bool) -> None:
        if ref.mountpoint:
            return
        await bpool.mount(ref.info, mountpoint, degraded=degraded)
        ref.mountpoint = str(mountpoint)

    async def export_pool(self, ref: PoolRef, pool_root: Path) -> None:
        if ref.mountpoint:
            await bpool.unmount(ref.mountpoint, remove_dir_under=pool_root)
            ref.mountpoint = ""

    async def destroy(self, ref: PoolRef, pool_root: Path) -> None:
        await bpool.destroy(ref.info, ref.mountpoint, pool_root)

    async def add_device(self, ref: PoolRef, device: str, force: bool) -> None:
        await bpool.add_device(_mounted(ref), device, force)

    def _member(self, ref: PoolRef, device: str) -> dict[str, Any]:
        real = os.path.realpath(device)
        for dev in ref.info["devices"]:
            if os.path.realpath(dev["path"]) == real or device == str(dev["devid"]):
                return dict(dev)
        raise NotFound(f"{device} is not a device of pool {ref.name!r}", metadata={"device": device})

    async def remove_device(self, ref: PoolRef, device: str, locks: LockTable, lease: Hold) -> ToolOperation:
        mnt = _mounted(ref)
        member = self._member(ref, device)
        usage = parse.parse_filesystem_usage((await btrfs("filesystem", "usage", "-b", "--", mnt)).stdout)
        left = len(ref.info["devices"]) - 1
        for profile in usage["profiles"]["data"] + usage["profiles"]["metadata"]:
            if left < bpool.MIN_DEVICES.get(profile, 1):
                raise Conflict(
                    f"removing {device} would leave {left} device(s), too few for {profile}; add a device first "
                    "or convert the profile with a balance",
                    code="too_few_devices",
                )
        return jobs.RemoveDeviceOperation(ref.name, mnt, member["path"], member["allocated_bytes"], locks, lease)

    async def replace_device(
        self, ref: PoolRef, old: str, new: str, force: bool, locks: LockTable, lease: Hold
    ) -> ToolOperation:
        member = self._member(ref, old)
        source = str(member["devid"]) if member["missing"] else member["path"]
        return jobs.ReplaceOperation(ref.name, _mounted(ref), source, member["devid"], new, force, locks, lease)

    async def balance(
        self, ref: PoolRef, convert_data: str, convert_metadata: str, force: bool, locks: LockTable, lease: Hold
    ) -> ToolOperation:
        data = bpool.check_profile(convert_data, "data", force) if convert_data else ""
        meta = bpool.check_profile(convert_metadata, "metadata", force) if convert_metadata else ""
        return jobs.BalanceOperation(ref.name, _mounted(ref), locks, lease, convert_data=data, convert_metadata=meta)

    async def scrub(self, ref: PoolRef, locks: LockTable, lease: Hold) -> ToolOperation:
        mnt = _mounted(ref)
        status = await self.scrub_status(ref)
        if status.state == "running":
            raise Conflict(f"a scrub is already running on {ref.name!r}", code="scrub_running")
        return jobs.ScrubOperation(ref.name, mnt, locks, lease)

    async def scrub_status(self, ref: PoolRef) -> ScrubStatus:
        result = await btrfs_query("scrub", "status", "--raw", "--", _mounted(ref))
        status = parse.parse_scrub_status(result.stdout if result.ok else "")
        done = status["status"] == "finished"
        return ScrubStatus(
            pool=ref.name,
            state=status["status"],
            started_unix=status["started_unix"],
            duration_s=status["duration_s"],
            total_bytes=status["total_bytes"],
            bytes_scrubbed=status["total_bytes"] if done else status["bytes_scrubbed"],
            percent=jobs.scrub_percent(status) if status["status"] != "never" else 0.0,
            errors_found=status["errors_found"],
            errors_corrected=status["corrected_errors"],
            errors_uncorrectable=status["uncorrectable_errors"],
        )

    async def cancel_scrub(self, ref: PoolRef) -> None:
        await btrfs("scrub", "cancel", "--", _mounted(ref))

    # volumes and snapshots (volumes.py answers them without their pool) ------------------------
    async def list_volumes(self, ref: PoolRef) -> list[Volume]:
        return [Volume(pool=ref.name, **v) for v in await volumes.list_volumes(_mounted(ref))]

    async def create_volume(self, ref: PoolRef, volume: str, quota_bytes: int) -> Volume:
        return Volume(pool=ref.name, **await volumes.create_volume(_mounted(ref), volume, quota_bytes))

    async def set_quota(self, ref: PoolRef, volume: str, quota_bytes: int) -> Volume:
        await volumes.set_quota(_mounted(ref), volume, quota_bytes)
        return Volume(pool=ref.name, **await volumes.get_volume(_mounted(ref), volume))

    async def delete_volume(self, ref: PoolRef, volume: str, with_snapshots: bool) -> None:
        await volumes.delete_volume(_mounted(ref), volume, with_snapshots=with_snapshots)

    async def list_snapshots(self, ref: PoolRef, volume: str | None) -> list[Snapshot]:
        return [Snapshot(pool=ref.name, **s) for s in await volumes.list_snapshots(_mounted(ref), volume)]

    async def create_snapshot(self, ref: PoolRef, volume: str, snapshot: str) -> Snapshot:
        return Snapshot(pool=ref.name, **await volumes.create_snapshot(_mounted(ref), volume, snapshot))

    async def delete_snapshot(self, ref: PoolRef, volume: str, snapshot: str) -> None:
        await volumes.delete_snapshot(_mounted(ref), volume, snapshot)

    async def rollback(self, ref: PoolRef, volume: str, snapshot: str) -> Volume:
        return Volume(pool=ref.name, **await volumes.rollback(_mounted(ref), volume, snapshot))

    async def clone(self, ref: PoolRef, volume: str, snapshot: str, new_volume: str) -> Volume:
        return Volume(pool=ref.name, **await volumes.clone(_mounted(ref), volume, snapshot, new_volume))
