"""Every pool on the machine in one shape (engine/storage/models.py Pool): Btrfs filesystems, ZFS
pools and md RAID arrays, with per source whether this machine has it."""

from __future__ import annotations

import os
import shutil
from typing import Any

from engine.common.commands import Source
from engine.errors import EngineError
from engine.storage import mdraid
from engine.storage.btrfs import pool as btrfs_pool
from engine.storage.models import Pool, PoolDevice, PoolListing, from_fields
from engine.storage.zfs import backend as zfs_backend


def _md_pool(array: dict[str, Any]) -> Pool:
    members = tuple(
        PoolDevice(
            path=f"/dev/{d.removesuffix('(F)').removesuffix('(S)')}",
            devid=i,
            state="FAULTY" if d.endswith("(F)") else "ONLINE",
        )
        for i, d in enumerate(array["devices"], 1)
    )
    level = array["level"]
    return from_fields(
        Pool,
        array,
        devices=tuple(array["devices"]),
        members=members,
        used_bytes=array["allocated_bytes"],
        data_profile=level,
        metadata_profile=level,
    )


async def _btrfs(detail: bool) -> tuple[list[Pool], Source]:
    if shutil.which("btrfs") is None:
        return [], Source("btrfs", False, "btrfs is not installed (package btrfs-progs)")
    try:
        found = await btrfs_pool.list_pools(detail=detail)
    except EngineError as exc:
        return [], Source("btrfs", False, exc.message)
    # without root, btrfs cannot open the devices of unmounted filesystems and silently skips them
    caveat = "" if os.geteuid() == 0 else "; not root: unmounted filesystems are not seen"
    return found, Source("btrfs", True, f"{len(found)} filesystem(s){caveat}")


async def _zfs() -> tuple[list[Pool], Source]:
    if not zfs_backend.available():
        return [], Source("zfs", False, "zpool is not installed: no ZFS on this machine")
    try:
        found, detail = await zfs_backend.list_pools()
    except EngineError as exc:
        return [], Source("zfs", False, exc.message)
    return found, Source("zfs", True, detail)


async def list_pools(*, detail: bool = True) -> PoolListing:
    """Every pool in one shape. ``detail=False`` (the WebSocket watcher, every 5 s): btrfs pools
    without their usage, error counters and scrub state, so the cost does not grow with the
    number of pools (three tool runs per filesystem otherwise)."""
    pools: list[Pool] = []
    btrfs_found, btrfs_source = await _btrfs(detail)
    zfs_found, zfs_source = await _zfs()
    pools += btrfs_found + zfs_found
    try:
        arrays = mdraid.parse_mdstat(mdraid.MDSTAT.read_text())
        md = Source("mdraid", True, f"{len(arrays)} array(s)")
        pools += [_md_pool(a) for a in arrays]
    except FileNotFoundError:
        md = Source("mdraid", False, "/proc/mdstat is absent: the md driver is not loaded")
    return PoolListing(tuple(pools), (zfs_source, md, btrfs_source))
