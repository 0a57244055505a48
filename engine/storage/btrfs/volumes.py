"""Btrfs volumes (subvolumes at ``<mount>/<volume>``) and their read-only snapshots (at
``<mount>/.snapshots/<volume>/<snapshot>``), with sizes from qgroups. Names are validated by the
manager; here they are only joined onto the pool's mountpoint."""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import time
from pathlib import Path
from typing import Any

from engine.common.commands import operand
from engine.errors import AlreadyExists, Conflict, NotFound
from engine.storage.btrfs import parse
from engine.storage.btrfs.pool import SNAPSHOT_DIR
from engine.storage.btrfs.tool import btrfs, btrfs_query

SUBVOLUME_INO = 256  # every btrfs subvolume's root directory has this inode number


def is_subvolume(path: Path) -> bool:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_ino == SUBVOLUME_INO


def volume_path(mnt: str, volume: str) -> Path:
    return Path(mnt) / volume


def snapshot_path(mnt: str, volume: str, snapshot: str) -> Path:
    return Path(mnt) / SNAPSHOT_DIR / volume / snapshot


def _need(path: Path, what: str) -> Path:
    if not is_subvolume(path):
        raise NotFound(f"{what} does not exist", metadata={"path": str(path)})
    return path


def _snapshots_of(mnt: str, volume: str) -> list[Path]:
    folder = Path(mnt) / SNAPSHOT_DIR / volume
    return [p for p in folder.iterdir() if is_subvolume(p)] if folder.is_dir() else []


async def qgroups(mnt: str) -> dict[str, dict[str, Any]] | None:
    """Sizes per qgroup, or None when quotas are off on this pool (sizes unknown, not zero)."""
    result = await btrfs_query("qgroup", "show", "--raw", "-re", "--", mnt, timeout=30.0)
    return parse.parse_qgroup_show(result.stdout) if result.ok else None


def _sizes(groups: dict[str, dict[str, Any]] | None, subvol_id: int) -> dict[str, Any]:
    group = (groups or {}).get(f"0/{subvol_id}")
    return {
        "referenced_bytes": group["referenced_bytes"] if group else 0,
        "exclusive_bytes": group["exclusive_bytes"] if group else 0,
        "quota_bytes": group["limit_referenced_bytes"] if group else 0,
        "usage_known": group is not None,
    }


async def _show(path: Path) -> dict[str, Any]:
    return parse.parse_subvolume_show((await btrfs("subvolume", "show", "--raw", "--", str(path))).stdout)


async def list_volumes(mnt: str) -> list[dict[str, Any]]:
    listing = (await btrfs("subvolume", "list", "-p", "-u", "-q", "--", mnt)).stdout
    subvols = [
        s
        for s in parse.parse_subvolume_list(listing)
        if s["top_level"] == 5 and "/" not in s["path"] and not s["path"].startswith(".")
    ]
    groups, shows = await asyncio.gather(qgroups(mnt), asyncio.gather(*(_show(Path(mnt) / s["path"]) for s in subvols)))
    out = []
    for sub, info in zip(subvols, shows, strict=True):
        out.append(
            {
                "name": sub["path"],
                "path": str(Path(mnt) / sub["path"]),
                "id": sub["id"],
                "uuid": sub["uuid"],
                "created_unix": info["created_unix"],
                "readonly": info["readonly"],
                **_sizes(groups, sub["id"]),
                "snapshot_count": len(_snapshots_of(mnt, sub["path"])),
            }
        )
    return out


async def get_volume(mnt: str, volume: str) -> dict[str, Any]:
    _need(volume_path(mnt, volume), f"volume {volume!r}")
    return next(v for v in await list_volumes(mnt) if v["name"] == volume)


async def set_quota(mnt: str, volume: str, quota_bytes: int) -> None:
    """Limit the volume's referenced bytes (0 removes the limit); turns quotas on if they are off."""
    path = str(_need(volume_path(mnt, volume), f"volume {volume!r}"))
    if await qgroups(mnt) is None:
        await btrfs("quota", "enable", operand(mnt), timeout=120.0)  # takes no "--" (pool.setup_new)
    await btrfs("qgroup", "limit", "--", str(quota_bytes) if quota_bytes > 0 else "none", path)


async def create_volume(mnt: str, volume: str, quota_bytes: int = 0) -> dict[str, Any]:
    path = volume_path(mnt, volume)
    if path.exists():
        raise AlreadyExists(f"volume {volume!r} already exists", metadata={"path": str(path)})
    await btrfs("subvolume", "create", "--", str(path))
    if quota_bytes > 0:
        await set_quota(mnt, volume, quota_bytes)
    return await get_volume(mnt, volume)


async def delete_volume(mnt: str, volume: str, *, with_snapshots: bool = False) -> None:
    path = _need(volume_path(mnt, volume), f"volume {volume!r}")
    snaps = _snapshots_of(mnt, volume)
    if snaps and not with_snapshots:
        raise Conflict(
            f"volume {volume!r} has {len(snaps)} snapshot(s); delete them first or pass with_snapshots",
            code="has_snapshots",
            metadata={"snapshots": len(snaps)},
        )
    for snap in snaps:
        await btrfs("subvolume", "delete", "--", str(snap), timeout=120.0)
    with contextlib.suppress(OSError):
        (Path(mnt) / SNAPSHOT_DIR / volume).rmdir()
    await btrfs("subvolume", "delete", "--", str(path), timeout=120.0)


async def list_snapshots(mnt: str, volume: str | None = None) -> list[dict[str, Any]]:
    listing = (await btrfs("subvolume", "list", "-s", "-u", "-q", "--", mnt)).stdout
    groups = await qgroups(mnt)
    out = []
    for sub in parse.parse_subvolume_list(listing):
        parts = sub["path"].split("/")
        if len(parts) != 3 or parts[0] != SNAPSHOT_DIR or (volume is not None and parts[1] != volume):
            continue
        out.append(
            {
                "volume": parts[1],
                "name": parts[2],
                "path": str(Path(mnt) / sub["path"]),
                "id": sub["id"],
                "uuid": sub["uuid"],
                "parent_uuid": sub["parent_uuid"],
                "created_unix": sub["created_unix"],
                "readonly": True,
                **_sizes(groups, sub["id"]),
            }
        )
    out.sort(key=lambda s: (s["volume"], s["created_unix"], s["id"]))
    return out


async def create_snapshot(mnt: str, volume: str, snapshot: str) -> dict[str, Any]:
    source = _need(volume_path(mnt, volume), f"volume {volume!r}")
    target = snapshot_path(mnt, volume, snapshot)
    if target.exists():
        raise AlreadyExists(f"snapshot {snapshot!r} of volume {volume!r} already exists")
    target.parent.mkdir(parents=True, exist_ok=True)
    await btrfs("subvolume", "snapshot", "-r", "--", str(source), str(target))
    return next(s for s in await list_snapshots(mnt, volume) if s["name"] == snapshot)


async def delete_snapshot(mnt: str, volume: str, snapshot: str) -> None:
    path = _need(snapshot_path(mnt, volume, snapshot), f"snapshot {snapshot!r} of volume {volume!r}")
    await btrfs("subvolume", "delete", "--", str(path), timeout=120.0)


async def clone(mnt: str, volume: str, snapshot: str, new_volume: str) -> dict[str, Any]:
    """A new writable volume whose content is the snapshot's (copy-on-write: no data is copied)."""
    source = _need(snapshot_path(mnt, volume, snapshot), f"snapshot {snapshot!r} of volume {volume!r}")
    target = volume_path(mnt, new_volume)
    if target.exists():
        raise AlreadyExists(f"volume {new_volume!r} already exists")
    await btrfs("subvolume", "snapshot", "--", str(source), str(target))
    return await get_volume(mnt, new_volume)


def _swap(live: Path, staged: Path, retired: Path) -> None:
    """Put ``staged`` where ``live`` is, keeping the old one at ``retired``; undone if the second
    rename fails, so the volume's path never ends up empty."""
    os.rename(live, retired)
    try:
        os.rename(staged, live)
    except OSError:
        os.rename(retired, live)
        raise


async def rollback(mnt: str, volume: str, snapshot: str) -> dict[str, Any]:
    """Make the volume's content the snapshot's. A writable copy of the snapshot is made first, then
    swapped in by two renames; the old volume is deleted only once the new one is in place."""
    live = _need(volume_path(mnt, volume), f"volume {volume!r}")
    source = _need(snapshot_path(mnt, volume, snapshot), f"snapshot {snapshot!r} of volume {volume!r}")
    quota = (await get_volume(mnt, volume))["quota_bytes"]
    stamp = time.strftime("%Y%m%dT%H%M%S")
    staged, retired = Path(mnt) / f".rollback-{volume}-{stamp}", Path(mnt) / f".replaced-{volume}-{stamp}"
    await btrfs("subvolume", "snapshot", "--", str(source), str(staged))
    try:
        _swap(live, staged, retired)
    except OSError as exc:
        await btrfs("subvolume", "delete", "--", str(staged), timeout=120.0)
        raise Conflict(f"rollback of {volume!r} could not swap in the snapshot: {exc.strerror}") from None
    if quota:
        await set_quota(mnt, volume, quota)
    await btrfs("subvolume", "delete", "--", str(retired), timeout=120.0)
    return await get_volume(mnt, volume)
