"""Every pool on the machine in one shape: Btrfs filesystems, ZFS pools and md RAID arrays.

The pool shape (each a field of the proto's Pool message):
  name, type ("btrfs" | "zfs" | "mdraid"), uuid, health (ONLINE, DEGRADED, EXPORTED (btrfs, not
  mounted), UNAVAILABLE, or the tool's own: FAULTED, ...), size_bytes / used_bytes / free_bytes
  (raw, over all devices, as ``zpool list``), allocated_bytes, free_estimated_bytes (usable: after
  redundancy), capacity_percent, data_profile, metadata_profile, level (= data_profile; md: raid1..),
  devices (paths), members (per device: path, devid, size_bytes, allocated_bytes, state, errors
  {read_errors, write_errors, checksum_errors, flush_errors, generation_errors}, error_count),
  error_count, mountpoint, mounted, last_scrub {state, started_unix, duration_s, bytes_scrubbed,
  errors_found, errors_corrected, errors_uncorrectable}, fragmentation_percent, dedup_ratio.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

from engine.common.commands import Source
from engine.errors import EngineError
from engine.storage import mdraid
from engine.storage.btrfs import pool as btrfs_pool
from engine.storage.zfs import backend as zfs_backend


def empty_pool(name: str, pool_type: str) -> dict[str, Any]:
    """A pool record with every field present (the frontends serialise all of them)."""
    return {
        "name": name,
        "type": pool_type,
        "uuid": "",
        "health": "UNKNOWN",
        "size_bytes": 0,
        "used_bytes": 0,
        "free_bytes": 0,
        "allocated_bytes": 0,
        "free_estimated_bytes": 0,
        "capacity_percent": 0.0,
        "data_profile": "",
        "metadata_profile": "",
        "level": "",
        "devices": [],
        "members": [],
        "error_count": 0,
        "mountpoint": "",
        "mounted": False,
        "last_scrub": dict(btrfs_pool.NO_SCRUB),
        "fragmentation_percent": 0.0,
        "dedup_ratio": 0.0,
    }


def _md_pool(array: dict[str, Any]) -> dict[str, Any]:
    members = [
        {
            "path": f"/dev/{d.removesuffix('(F)').removesuffix('(S)')}",
            "devid": i,
            "size_bytes": 0,
            "allocated_bytes": 0,
            "state": "FAULTY" if d.endswith("(F)") else "ONLINE",
            "errors": {
                "read_errors": 0,
                "write_errors": 0,
                "checksum_errors": 0,
                "flush_errors": 0,
                "generation_errors": 0,
            },
            "error_count": 0,
        }
        for i, d in enumerate(array["devices"], 1)
    ]
    pool = {**empty_pool(array["name"], "mdraid"), **array, "members": members}
    pool["used_bytes"] = pool["allocated_bytes"]
    pool["data_profile"] = pool["metadata_profile"] = array["level"]
    return pool


async def _btrfs(detail: bool) -> tuple[list[dict[str, Any]], Source]:
    if shutil.which("btrfs") is None:
        return [], Source("btrfs", False, "btrfs is not installed (package btrfs-progs)")
    try:
        found = await btrfs_pool.list_pools(detail=detail)
    except EngineError as exc:
        return [], Source("btrfs", False, exc.message)
    # without root, btrfs cannot open the devices of unmounted filesystems and silently skips them
    caveat = "" if os.geteuid() == 0 else "; not root: unmounted filesystems are not seen"
    return found, Source("btrfs", True, f"{len(found)} filesystem(s){caveat}")


async def _zfs() -> tuple[list[dict[str, Any]], Source]:
    if not zfs_backend.available():
        return [], Source("zfs", False, "zpool is not installed: no ZFS on this machine")
    try:
        found, detail = await zfs_backend.list_pools()
    except EngineError as exc:
        return [], Source("zfs", False, exc.message)
    return found, Source("zfs", True, detail)


async def list_pools(*, detail: bool = True) -> dict[str, Any]:
    """Every pool in one shape. ``detail=False`` (the WebSocket watcher, every 5 s): btrfs pools
    without their usage, error counters and scrub state, so the cost does not grow with the
    number of pools (three tool runs per filesystem otherwise)."""
    pools: list[dict[str, Any]] = []
    btrfs_found, btrfs_source = await _btrfs(detail)
    zfs_found, zfs_source = await _zfs()
    pools += btrfs_found + zfs_found
    try:
        arrays = mdraid.parse_mdstat(mdraid.MDSTAT.read_text())
        md = Source("mdraid", True, f"{len(arrays)} array(s)")
        pools += [_md_pool(a) for a in arrays]
    except FileNotFoundError:
        md = Source("mdraid", False, "/proc/mdstat is absent: the md driver is not loaded")
    return {"pools": pools, "sources": [zfs_source.as_dict(), md.as_dict(), btrfs_source.as_dict()]}
