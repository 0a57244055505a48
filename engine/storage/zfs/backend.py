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

import shutil
from typing import TYPE_CHECKING, Any

from engine.commands import C_LOCALE, ToolOutput, run_checked, run_tool
from engine.errors import AlreadyExists, Conflict, InvalidArgument, NotFound, ToolFailed, Unsupported
from engine.storage.ref import PoolRef
from engine.storage.zfs import jobs
from engine.storage.zfs.parse import (
    DATASET_FIELDS,
    SNAPSHOT_FIELDS,
    ZPOOL_ARGV,
    layout,
    parse_zfs_list,
    parse_zpool_list,
    parse_zpool_status,
)

if TYPE_CHECKING:
    from pathlib import Path

    from engine.storage.locks import Lease, PoolLocks

PACKAGE = "zfsutils-linux"
NOT_INSTALLED = "ZFS is not installed on this machine (zpool/zfs not found; Debian package zfsutils-linux)"
# the btrfs profile names callers use, as zpool vdev types; raid10 becomes pairs of mirrors
VDEV_TYPES = {
    "single": "", "raid0": "", "stripe": "", "raid1": "mirror", "mirror": "mirror", "raid1c3": "mirror",
    "raid5": "raidz1", "raidz1": "raidz1", "raid6": "raidz2", "raidz2": "raidz2", "raidz3": "raidz3",
}  # fmt: skip


class ZfsUnusable(Unsupported):
    """zpool is installed but cannot reach ZFS at all (no module, no zfs-fuse daemon, not root)."""


def available() -> bool:
    return shutil.which("zpool") is not None and shutil.which("zfs") is not None


async def _run(*argv: str, timeout: float = 60.0) -> ToolOutput:
    if not available():
        raise Unsupported(NOT_INSTALLED, metadata={"tool": "zpool"})
    return await run_checked(list(argv), timeout, package=PACKAGE)


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


def pool_dict(row: dict[str, Any], status: dict[str, Any] | None, root: dict[str, Any] | None) -> dict[str, Any]:
    """One pool in the common shape (engine/storage/pools.py) from zpool list, zpool status and its
    root dataset's row of zfs list."""
    vdevs = (status or {}).get("vdevs", [])
    leaves = [v for v in vdevs if v["depth"] >= 1 and not v["group"]]
    members = [{"path": v["name"], "devid": i, "size_bytes": 0, "allocated_bytes": 0, "state": v["state"],
                "errors": {"read_errors": v["read_errors"], "write_errors": v["write_errors"],
                           "checksum_errors": v["checksum_errors"], "flush_errors": 0, "generation_errors": 0},
                "error_count": v["read_errors"] + v["write_errors"] + v["checksum_errors"]}
               for i, v in enumerate(leaves, 1)]  # fmt: skip
    scan = (status or {}).get("scan", {"state": "never"})
    last = {"state": scan["state"], "started_unix": scan.get("started_unix", 0.0),
            "duration_s": scan.get("duration_s", 0), "bytes_scrubbed": 0, "errors_found": scan.get("errors", 0),
            "errors_corrected": 0, "errors_uncorrectable": scan.get("errors", 0)}  # fmt: skip
    mountpoint = (root or {}).get("mountpoint", "")
    return {**row, "used_bytes": row["allocated_bytes"], "free_estimated_bytes": (root or {}).get("avail", 0),
            "data_profile": layout(vdevs), "metadata_profile": "", "level": layout(vdevs),
            "devices": [m["path"] for m in members], "members": members,
            "error_count": sum(m["error_count"] for m in members),
            "mountpoint": "" if mountpoint in ("-", "none", "legacy") else mountpoint, "mounted": True,
            "last_scrub": last}  # fmt: skip


async def list_pools() -> tuple[list[dict[str, Any]], str]:
    """(pools, detail); raises Unsupported when ZFS is absent, ZfsUnusable when it cannot be reached."""
    listed = await run_tool(ZPOOL_ARGV, 15.0, env=C_LOCALE)
    if not listed.ok:
        await pool_names()  # unreachable ZFS raises ZfsUnusable; else the failure is this listing's
        raise ToolFailed(f"zpool list: {listed.reason()}", metadata={"tool": "zpool", "exit_status": listed.returncode})
    rows = parse_zpool_list(listed.stdout)
    if not rows:
        return [], "0 pool(s)"
    status = {p["name"]: p for p in parse_zpool_status((await _run("zpool", "status", "-p", "-P")).stdout)}
    roots = await _run("zfs", "list", "-H", "-p", "-d", "0", "-o", ",".join(DATASET_FIELDS), *[r["name"] for r in rows])
    root = {r["name"]: r for r in parse_zfs_list(roots.stdout, DATASET_FIELDS)}
    return [pool_dict(r, status.get(r["name"]), root.get(r["name"])) for r in rows], f"{len(rows)} pool(s)"


class ZfsBackend:
    type = "zfs"

    def require(self) -> None:
        if not available():
            raise Unsupported(NOT_INSTALLED, metadata={"tool": "zpool"})

    async def ready(self) -> None:
        """Before creating a pool: an unusable ZFS says why, not as a failed zpool create."""
        await pool_names()

    async def find(self, name: str, uuid: str = "") -> PoolRef | None:
        """The pool, or None; raises Unsupported (ZfsUnusable) when ZFS is absent or unreachable, for
        the manager to tell "no such pool" from "ZFS cannot say"."""
        if name not in await pool_names():  # a miss costs one plain zpool list, whatever else fails
            return None
        pools, _ = await list_pools()
        found = next((p for p in pools if p["name"] == name), None)
        return PoolRef(name, "zfs", found["uuid"], found["mountpoint"], found) if found else None

    async def describe(self, ref: PoolRef) -> dict[str, Any]:
        return ref.info

    async def create(self, name: str, devices: list[str], data: str, metadata: str, force: bool,
                     mountpoint: Path) -> PoolRef:  # fmt: skip
        if data not in VDEV_TYPES:
            raise InvalidArgument(f"data profile {data!r} has no ZFS layout; one of {', '.join(VDEV_TYPES)}",
                                  code="invalid_profile")  # fmt: skip
        vdev = VDEV_TYPES[data]
        spec = [*([vdev] if vdev else []), *devices]
        await _run("zpool", "create", *(["-f"] if force else []), "-m", str(mountpoint), name, *spec, timeout=120.0)
        ref = await self.find(name)
        assert ref is not None
        return ref

    async def import_pool(self, ref: PoolRef, mountpoint: Path, degraded: bool) -> None:
        await _run("zpool", "import", ref.name, timeout=120.0)

    async def export_pool(self, ref: PoolRef, pool_root: Path) -> None:
        await _run("zpool", "export", ref.name, timeout=120.0)

    async def destroy(self, ref: PoolRef, pool_root: Path) -> None:
        devices = list(ref.info.get("devices", []))
        await _run("zpool", "destroy", ref.name, timeout=120.0)
        for dev in devices:
            await run_tool(["zpool", "labelclear", "-f", dev], 30.0)

    async def add_device(self, ref: PoolRef, device: str, force: bool) -> None:
        await _run("zpool", "add", *(["-f"] if force else []), ref.name, device, timeout=120.0)

    async def remove_device(self, ref: PoolRef, device: str, locks: PoolLocks, lease: Lease) -> jobs.ZpoolOperation:
        self.require()
        return jobs.ZfsRemove(ref.name, device, locks, lease)

    async def replace_device(self, ref: PoolRef, old: str, new: str, force: bool, locks: PoolLocks,
                             lease: Lease) -> jobs.ZpoolOperation:  # fmt: skip
        self.require()
        return jobs.ZfsReplace(ref.name, old, new, force, locks, lease)

    async def balance(self, ref: PoolRef, convert_data: str, convert_metadata: str, force: bool, locks: PoolLocks,
                      lease: Lease) -> jobs.ZpoolOperation:  # fmt: skip
        raise InvalidArgument("ZFS has no balance: data spreads over new vdevs as it is written",
                              code="not_applicable")  # fmt: skip

    async def scrub(self, ref: PoolRef, locks: PoolLocks, lease: Lease) -> jobs.ZpoolOperation:
        self.require()
        return jobs.ZfsScrub(ref.name, locks, lease)

    async def scrub_status(self, ref: PoolRef) -> dict[str, Any]:
        self.require()
        scan = (await jobs.pool_status(ref.name))["scan"]
        errors = scan["errors"]
        return {"pool": ref.name, "state": scan["state"], "started_unix": scan["started_unix"],
                "duration_s": scan["duration_s"], "bytes_scrubbed": 0,
                "total_bytes": ref.info.get("allocated_bytes", 0), "percent": scan["percent"],
                "errors_found": errors, "errors_corrected": 0, "errors_uncorrectable": errors}  # fmt: skip

    async def cancel_scrub(self, ref: PoolRef) -> None:
        await _run("zpool", "scrub", "-s", ref.name)

    # datasets and snapshots -------------------------------------------------------------------
    async def _datasets(self, ref: PoolRef) -> list[dict[str, Any]]:
        out = await _run("zfs", "list", "-H", "-p", "-t", "filesystem", "-d", "1", "-o", ",".join(DATASET_FIELDS),
                         ref.name)  # fmt: skip
        return [d for d in parse_zfs_list(out.stdout, DATASET_FIELDS) if d["name"] != ref.name]

    async def list_snapshots(self, ref: PoolRef, volume: str | None) -> list[dict[str, Any]]:
        target = f"{ref.name}/{volume}" if volume else ref.name
        out = await _run("zfs", "list", "-H", "-p", "-t", "snapshot", "-r", "-o", ",".join(SNAPSHOT_FIELDS), target)
        snaps = []
        for s in parse_zfs_list(out.stdout, SNAPSHOT_FIELDS):
            dataset, _, snap = s["name"].partition("@")
            if dataset.count("/") != 1:
                continue
            snaps.append({"volume": dataset.split("/", 1)[1], "name": snap, "path": s["name"], "id": 0, "uuid": "",
                          "parent_uuid": "", "created_unix": float(s["creation"]), "readonly": True,
                          "referenced_bytes": s["refer"], "exclusive_bytes": s["used"], "quota_bytes": 0,
                          "usage_known": True})  # fmt: skip
        return snaps

    async def list_volumes(self, ref: PoolRef) -> list[dict[str, Any]]:
        snaps = await self.list_snapshots(ref, None)
        return [{"name": d["name"].split("/", 1)[1], "path": d["mountpoint"], "id": 0, "uuid": "",
                 "created_unix": float(d["creation"]), "readonly": False, "referenced_bytes": d["refer"],
                 "exclusive_bytes": d["usedbydataset"], "quota_bytes": d["quota"], "usage_known": True,
                 "snapshot_count": sum(1 for s in snaps if s["volume"] == d["name"].split("/", 1)[1])}
                for d in await self._datasets(ref)]  # fmt: skip

    async def _volume(self, ref: PoolRef, volume: str) -> dict[str, Any]:
        found = next((v for v in await self.list_volumes(ref) if v["name"] == volume), None)
        if found is None:
            raise NotFound(f"volume {volume!r} does not exist in pool {ref.name!r}")
        return found

    async def create_volume(self, ref: PoolRef, volume: str, quota_bytes: int) -> dict[str, Any]:
        if any(v["name"] == volume for v in await self.list_volumes(ref)):
            raise AlreadyExists(f"volume {volume!r} already exists")
        await _run("zfs", "create", *(["-o", f"quota={quota_bytes}"] if quota_bytes else []), f"{ref.name}/{volume}")
        return await self._volume(ref, volume)

    async def set_quota(self, ref: PoolRef, volume: str, quota_bytes: int) -> dict[str, Any]:
        await self._volume(ref, volume)
        await _run("zfs", "set", f"quota={quota_bytes or 'none'}", f"{ref.name}/{volume}")
        return await self._volume(ref, volume)

    async def delete_volume(self, ref: PoolRef, volume: str, with_snapshots: bool) -> None:
        found = await self._volume(ref, volume)
        if found["snapshot_count"] and not with_snapshots:
            raise Conflict(f"volume {volume!r} has {found['snapshot_count']} snapshot(s); delete them first or "
                           "pass with_snapshots", code="has_snapshots")  # fmt: skip
        await _run("zfs", "destroy", *(["-r"] if with_snapshots else []), f"{ref.name}/{volume}")

    async def create_snapshot(self, ref: PoolRef, volume: str, snapshot: str) -> dict[str, Any]:
        await self._volume(ref, volume)
        await _run("zfs", "snapshot", f"{ref.name}/{volume}@{snapshot}")
        return next(s for s in await self.list_snapshots(ref, volume) if s["name"] == snapshot)

    async def delete_snapshot(self, ref: PoolRef, volume: str, snapshot: str) -> None:
        await _run("zfs", "destroy", f"{ref.name}/{volume}@{snapshot}")

    async def rollback(self, ref: PoolRef, volume: str, snapshot: str) -> dict[str, Any]:
        # no -r: ZFS refuses when newer snapshots exist rather than destroying them silently
        await _run("zfs", "rollback", f"{ref.name}/{volume}@{snapshot}")
        return await self._volume(ref, volume)

    async def clone(self, ref: PoolRef, volume: str, snapshot: str, new_volume: str) -> dict[str, Any]:
        await _run("zfs", "clone", f"{ref.name}/{volume}@{snapshot}", f"{ref.name}/{new_volume}")
        return await self._volume(ref, new_volume)
