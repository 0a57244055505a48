"""The ZFS side of the storage interface the manager drives: pools through ``zpool``, volumes as
datasets ``<pool>/<volume>``, snapshots ``<pool>/<volume>@<snapshot>`` through ``zfs``.

Where zpool/zfs are not installed every operation raises Unsupported saying so, and listings
report the source as unavailable; nothing is invented. Installed is not usable: without the kernel
module (OpenZFS) or the zfs-fuse daemon, or without root, every zpool run fails before it looks at
a pool. That is a state of the machine, found by the first ``zpool list`` and raised as ZfsUnusable
(an Unsupported carrying the tool's own words): the listing reports it as the zfs source's detail,
and a lookup of a pool by name skips ZFS rather than failing (an unknown pool stays a 404).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from engine.common.commands import C_LOCALE, ToolOutput, run_tool
from engine.errors import AlreadyExists, Conflict, InvalidArgument, NotFound, ToolFailed, Unsupported
from engine.storage import devices as devmod
from engine.storage.models import (
    DeviceErrors,
    Pool,
    PoolDevice,
    ScrubStatus,
    ScrubSummary,
    Snapshot,
    Volume,
    from_fields,
)
from engine.storage.ref import PoolRef
from engine.storage.zfs import jobs, tool
from engine.storage.zfs.parse import DATASET_FIELDS, SNAPSHOT_FIELDS, layout, leaf_named, leaf_path
from engine.storage.zfs.tool import NOT_INSTALLED, PACKAGE, available, operand

if TYPE_CHECKING:
    from pathlib import Path

    from engine.jobs.locks import Hold, LockTable

__all__ = ["NOT_INSTALLED", "PACKAGE", "ZfsBackend", "available", "list_pools", "pool_record"]
# the btrfs profile names callers use, as zpool vdev types; raid10 becomes pairs of mirrors
VDEV_TYPES = {
    "single": "",
    "raid0": "",
    "stripe": "",
    "raid1": "mirror",
    "mirror": "mirror",
    "raid1c3": "mirror",
    "raid5": "raidz1",
    "raidz1": "raidz1",
    "raid6": "raidz2",
    "raidz2": "raidz2",
    "raidz3": "raidz3",
}
_run = tool.run


class ZfsUnusable(Unsupported):
    """zpool is installed but cannot reach ZFS at all (no module, no zfs-fuse daemon, not root)."""


def unusable(out: ToolOutput) -> ZfsUnusable:
    """The error for a ``zpool list`` that failed: every line the tool printed, since the first alone
    rarely says it (zfs-fuse: "connect: No such file or directory", then the daemon hint, then
    "failed to initialize ZFS library")."""
    lines = [line.strip().rstrip(".") for line in out.stderr.splitlines() if line.strip()]
    reason = "; ".join(lines)[:500] or out.reason()
    metadata = {"tool": "zpool", "exit_status": out.returncode, "reason": reason}
    return ZfsUnusable(f"ZFS is installed but not usable: {reason}", code="zfs_unusable", metadata=metadata)


async def pool_names() -> list[str]:
    """The imported pools' names by the plainest ``zpool list`` every version takes (zfs-fuse's has no
    ``-p``): the run that tells the state of ZFS here. Raises Unsupported without ZFS, ZfsUnusable
    when zpool cannot reach it."""
    if not available():
        raise Unsupported(NOT_INSTALLED, metadata={"tool": "zpool"})
    out = await run_tool(["zpool", "list", "-H", "-o", "name"], 15.0, env=C_LOCALE)
    if not out.ok:
        raise unusable(out)
    return out.stdout.splitlines()


def _member(devid: int, vdev: dict[str, Any]) -> PoolDevice:
    errors = DeviceErrors(
        read_errors=vdev["read_errors"], write_errors=vdev["write_errors"], checksum_errors=vdev["checksum_errors"]
    )
    return PoolDevice(
        path=leaf_path(vdev["name"]), devid=devid, state=vdev["state"], errors=errors, error_count=errors.total
    )


def pool_record(row: dict[str, Any], status: dict[str, Any] | None, root: dict[str, Any] | None) -> Pool:
    """One pool in the common shape (engine/storage/models.py) from its zpool list row (parse_zpool_list),
    zpool status and its root dataset's row of zfs list."""
    vdevs = (status or {}).get("vdevs", [])
    members = tuple(_member(i, v) for i, v in enumerate((v for v in vdevs if v["depth"] >= 1 and not v["group"]), 1))
    scan = (status or {}).get("scan", {"state": "never"})
    last = ScrubSummary(
        state=scan["state"],
        started_unix=scan.get("started_unix", 0.0),
        duration_s=scan.get("duration_s", 0),
        errors_found=scan.get("errors", 0),
        errors_uncorrectable=scan.get("errors", 0),
    )
    mountpoint = (root or {}).get("mountpoint", "")
    return from_fields(
        Pool,
        row,
        used_bytes=row["allocated_bytes"],
        free_estimated_bytes=(root or {}).get("avail", 0),
        data_profile=layout(vdevs),
        metadata_profile="",
        level=layout(vdevs),
        devices=tuple(m.path for m in members),
        members=members,
        error_count=sum(m.error_count for m in members),
        mountpoint="" if mountpoint in ("-", "none", "legacy") else mountpoint,
        mounted=True,
        last_scrub=last,
    )


async def list_pools() -> tuple[list[Pool], str]:
    """(pools, detail) of the imported pools; raises Unsupported when ZFS is absent, ZfsUnusable when
    it cannot be reached."""
    try:
        rows = await tool.zpool_list()
    except ToolFailed:
        await pool_names()  # unreachable ZFS raises ZfsUnusable; else the failure is this listing's
        raise
    if not rows:
        return [], "0 pool(s)"
    status = {p["name"]: p for p in await tool.zpool_status()}
    roots = await tool.datasets([r["name"] for r in rows], DATASET_FIELDS, "filesystem", 0)
    root = {r["name"]: r for r in roots}
    return [pool_record(r, status.get(r["name"]), root.get(r["name"])) for r in rows], f"{len(rows)} pool(s)"


def exported_pool(entry: dict[str, Any]) -> Pool:
    """A pool ``zpool import`` lists, in the common shape: health EXPORTED when all of it is there,
    else the state ZFS gives it (DEGRADED: importable with devices missing; UNAVAIL, FAULTED)."""
    row = {"name": entry["name"], "type": "zfs", "health": "", "uuid": entry["id"], "allocated_bytes": 0}
    pool = pool_record(row, entry, None)
    health = "EXPORTED" if entry["state"] == "ONLINE" else entry["state"]
    return dataclasses.replace(pool, health=health, mounted=False, mountpoint="")


def _one(found: list[Pool], name: str, uuid: str) -> Pool | None:
    found = [p for p in found if (p.uuid == uuid if uuid else p.name == name)]
    if len(found) > 1:
        raise Conflict(
            f"{len(found)} ZFS pools named {name!r} can be imported; name one by its id",
            code="ambiguous_pool",
            metadata={"uuids": ",".join(p.uuid for p in found)},
        )
    return found[0] if found else None


def _exported(ref: PoolRef) -> bool:
    return ref.pool is not None and not ref.pool.mounted


def _imported(ref: PoolRef) -> None:
    """Devices, scrubs and datasets are the imported pool's; an exported one says so, as btrfs does."""
    if _exported(ref):
        raise Conflict(
            f"pool {ref.name!r} is exported; import it first", code="pool_not_mounted", metadata={"pool": ref.name}
        )


class ZfsBackend:
    type = "zfs"

    def require(self) -> None:
        if not available():
            raise Unsupported(NOT_INSTALLED, metadata={"tool": "zpool"})

    async def ready(self) -> None:
        """Before creating a pool: an unusable ZFS says why, not as a failed zpool create."""
        await pool_names()

    async def find(self, name: str, uuid: str = "") -> PoolRef | None:
        """The imported pool ``name`` (or with that guid), else one ``zpool import`` can see (exported:
        ``mountpoint`` "" and ``pool.mounted`` False). Raises Unsupported (ZfsUnusable) when ZFS is
        absent or unreachable, for the manager to tell "no such pool" from "ZFS cannot say"."""
        found = None
        if name in await pool_names() or uuid:  # the plainest zpool list: it says whether ZFS answers at all
            pools, _ = await list_pools()
            found = _one(pools, name, uuid)
        if found is None:  # exported pools are found by the import scan
            found = _one([exported_pool(p) for p in await tool.importable()], name, uuid)
        return PoolRef(name, "zfs", found.uuid, found.mountpoint, pool=found) if found else None

    async def describe(self, ref: PoolRef) -> Pool:
        assert ref.pool is not None  # find() gave the ref
        return ref.pool

    async def exported(self, names: set[str]) -> list[Pool]:
        """The pools among ``names`` that ``zpool import`` can see (one scan), in the common shape."""
        if not names:
            return []
        return [exported_pool(p) for p in await tool.importable() if p["name"] in names]

    async def create(
        self, name: str, devices: list[str], data: str, metadata: str, force: bool, mountpoint: Path
    ) -> PoolRef:
        if data not in VDEV_TYPES:
            raise InvalidArgument(
                f"data profile {data!r} has no ZFS layout; one of {', '.join(VDEV_TYPES)}", code="invalid_profile"
            )
        vdev = VDEV_TYPES[data]
        spec = [*([vdev] if vdev else []), *devices]
        force_flag = ["-f"] if force else []
        await _run("zpool", "create", *force_flag, "-m", str(mountpoint), "--", name, *spec, timeout=120.0)
        ref = await self.find(name)
        assert ref is not None
        return ref

    async def import_pool(self, ref: PoolRef, mountpoint: Path, degraded: bool) -> None:
        """Import an exported pool by its id and mount it at ``mountpoint``. ``degraded`` maps to no
        zpool flag: ZFS imports a pool with missing devices its redundancy covers on its own, so here
        it is consent, as for btrfs: without it a pool the listing calls DEGRADED is refused. (Not
        -F, which rewinds the pool and discards its last transactions, nor -m, a missing log device.)
        The mountpoint is the root dataset's ``mountpoint`` property (what ``zpool create -m`` set),
        changed after import when it differs: -R would prefix every dataset's path and not persist."""
        if ref.pool is None or ref.pool.mounted:
            return  # imported already
        health = ref.pool.health
        if health != "EXPORTED" and not degraded:
            raise Conflict(
                f"pool {ref.name!r} is {health}: some devices are missing or damaged; "
                "pass degraded to import it anyway",
                code="pool_degraded",
                metadata={"pool": ref.name, "health": health},
            )
        await _run("zpool", "import", "--", ref.uuid or ref.name, timeout=120.0)
        current = (await _run("zfs", "get", "-H", "-o", "value", "mountpoint", "--", ref.name)).stdout.strip()
        if current != str(mountpoint):
            await _run("zfs", "set", operand(f"mountpoint={mountpoint}", "mountpoint"), ref.name, timeout=120.0)
        ref.mountpoint = str(mountpoint)

    async def export_pool(self, ref: PoolRef, pool_root: Path) -> None:
        if not _exported(ref):
            await tool.unmounting("zpool", "export", "--", ref.name)
            ref.mountpoint = ""

    async def destroy(self, ref: PoolRef, pool_root: Path) -> None:
        """Destroy the pool (imported first if exported: ZFS destroys only imported pools), then
        clear its labels so no tool takes the devices for a pool member any more."""
        devices = [d for d in (ref.pool.devices if ref.pool else ()) if d.startswith("/dev/")]
        if _exported(ref):
            await _run("zpool", "import", "--", ref.uuid or ref.name, timeout=120.0)
        await tool.unmounting("zpool", "destroy", "--", ref.name)
        for dev in devices:
            # zfs-fuse has no labelclear; wipefs erases the zfs_member labels too
            if not (await run_tool(["zpool", "labelclear", "-f", "--", dev], 30.0)).ok:
                await devmod.wipe(dev)

    async def add_device(self, ref: PoolRef, device: str, force: bool) -> None:
        _imported(ref)
        force_flag = ["-f"] if force else []
        await _run("zpool", "add", *force_flag, "--", ref.name, device, timeout=120.0)

    async def _member(self, ref: PoolRef, device: str) -> str:
        """The leaf vdev ``device`` names in the pool's current ``zpool status`` (its path, or its
        guid when missing: then its old path, "was /dev/sdc", names it too); anything else is refused
        before zpool runs, so a "device" such as ``-f`` never reaches it."""
        _imported(ref)
        found = leaf_named(device, (await jobs.pool_status(ref.name))["vdevs"])
        if found is None:
            raise NotFound(
                f"{device} is not a device of pool {ref.name!r}", metadata={"device": device, "pool": ref.name}
            )
        return found

    async def remove_device(self, ref: PoolRef, device: str, locks: LockTable, lease: Hold) -> jobs.ZpoolOperation:
        self.require()
        return jobs.ZfsRemove(ref.name, operand(await self._member(ref, device)), locks, lease)

    async def replace_device(
        self, ref: PoolRef, old: str, new: str, force: bool, locks: LockTable, lease: Hold
    ) -> jobs.ZpoolOperation:
        self.require()
        return jobs.ZfsReplace(ref.name, await self._member(ref, old), new, force, locks, lease)

    async def balance(
        self, ref: PoolRef, convert_data: str, convert_metadata: str, force: bool, locks: LockTable, lease: Hold
    ) -> jobs.ZpoolOperation:
        raise InvalidArgument("ZFS has no balance: data spreads over new vdevs as it is written", code="not_applicable")

    async def scrub(self, ref: PoolRef, locks: LockTable, lease: Hold) -> jobs.ZpoolOperation:
        self.require()
        _imported(ref)
        return jobs.ZfsScrub(ref.name, locks, lease)

    async def scrub_status(self, ref: PoolRef) -> ScrubStatus:
        self.require()
        _imported(ref)
        scan = (await jobs.pool_status(ref.name))["scan"]
        errors = scan["errors"]
        return ScrubStatus(
            pool=ref.name,
            state=scan["state"],
            started_unix=scan["started_unix"],
            duration_s=scan["duration_s"],
            bytes_scrubbed=0,
            total_bytes=ref.pool.allocated_bytes if ref.pool else 0,
            percent=scan["percent"],
            errors_found=errors,
            errors_corrected=0,
            errors_uncorrectable=errors,
        )

    async def cancel_scrub(self, ref: PoolRef) -> None:
        _imported(ref)
        await _run("zpool", "scrub", "-s", "--", ref.name)

    # datasets and snapshots -------------------------------------------------------------------
    async def _datasets(self, ref: PoolRef) -> list[dict[str, Any]]:
        _imported(ref)
        found = await tool.datasets([ref.name], DATASET_FIELDS, "filesystem", 1)
        return [d for d in found if d["name"] != ref.name]

    async def list_snapshots(self, ref: PoolRef, volume: str | None) -> list[Snapshot]:
        _imported(ref)
        target = f"{ref.name}/{volume}" if volume else ref.name
        snaps = []
        for s in await tool.datasets([target], SNAPSHOT_FIELDS, "snapshot", None):
            dataset, _, snap = s["name"].partition("@")
            if dataset.count("/") != 1:
                continue
            snaps.append(
                Snapshot(
                    pool=ref.name,
                    volume=dataset.split("/", 1)[1],
                    name=snap,
                    path=s["name"],
                    created_unix=float(s["creation"]),
                    readonly=True,
                    referenced_bytes=s["refer"],
                    exclusive_bytes=s["used"],
                    usage_known=True,
                )
            )
        return snaps

    async def list_volumes(self, ref: PoolRef) -> list[Volume]:
        snaps = await self.list_snapshots(ref, None)
        return [
            Volume(
                pool=ref.name,
                name=d["name"].split("/", 1)[1],
                path=d["mountpoint"],
                created_unix=float(d["creation"]),
                readonly=False,
                referenced_bytes=d["refer"],
                exclusive_bytes=d["usedbydataset"],
                quota_bytes=d["quota"],
                usage_known=True,
                snapshot_count=sum(1 for s in snaps if s.volume == d["name"].split("/", 1)[1]),
            )
            for d in await self._datasets(ref)
        ]

    async def _volume(self, ref: PoolRef, volume: str) -> Volume:
        found = next((v for v in await self.list_volumes(ref) if v.name == volume), None)
        if found is None:
            raise NotFound(f"volume {volume!r} does not exist in pool {ref.name!r}")
        return found

    async def create_volume(self, ref: PoolRef, volume: str, quota_bytes: int) -> Volume:
        if any(v.name == volume for v in await self.list_volumes(ref)):
            raise AlreadyExists(f"volume {volume!r} already exists")
        quota = ["-o", f"quota={quota_bytes}"] if quota_bytes else []
        await _run("zfs", "create", *quota, "--", f"{ref.name}/{volume}")
        return await self._volume(ref, volume)

    async def set_quota(self, ref: PoolRef, volume: str, quota_bytes: int) -> Volume:
        await self._volume(ref, volume)
        # no "--": zfs-fuse's set takes no options and reads it as an argument (tool.py)
        await _run("zfs", "set", f"quota={quota_bytes or 'none'}", operand(f"{ref.name}/{volume}", "volume"))
        return await self._volume(ref, volume)

    async def delete_volume(self, ref: PoolRef, volume: str, with_snapshots: bool) -> None:
        found = await self._volume(ref, volume)
        if found.snapshot_count and not with_snapshots:
            raise Conflict(
                f"volume {volume!r} has {found.snapshot_count} snapshot(s); delete them first or pass with_snapshots",
                code="has_snapshots",
            )
        recursive = ["-r"] if with_snapshots else []
        await tool.unmounting(
            "zfs", "destroy", *recursive, "--", f"{ref.name}/{volume}"
        )  # unmounts: busy is waited out

    async def create_snapshot(self, ref: PoolRef, volume: str, snapshot: str) -> Snapshot:
        await self._volume(ref, volume)
        await _run("zfs", "snapshot", "--", f"{ref.name}/{volume}@{snapshot}")
        return next(s for s in await self.list_snapshots(ref, volume) if s.name == snapshot)

    async def delete_snapshot(self, ref: PoolRef, volume: str, snapshot: str) -> None:
        _imported(ref)
        await _run("zfs", "destroy", "--", f"{ref.name}/{volume}@{snapshot}")

    async def rollback(self, ref: PoolRef, volume: str, snapshot: str) -> Volume:
        _imported(ref)
        # no -r: ZFS refuses when newer snapshots exist rather than destroying them silently
        await _run("zfs", "rollback", "--", f"{ref.name}/{volume}@{snapshot}")
        return await self._volume(ref, volume)

    async def clone(self, ref: PoolRef, volume: str, snapshot: str, new_volume: str) -> Volume:
        _imported(ref)
        await _run("zfs", "clone", "--", f"{ref.name}/{volume}@{snapshot}", f"{ref.name}/{new_volume}")
        return await self._volume(ref, new_volume)
