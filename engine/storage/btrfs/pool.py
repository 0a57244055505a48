"""Btrfs filesystems as pools: listing in the common pool shape, create, mount, unmount, destroy,
add a device. Inputs are already validated by engine/storage/manager.py (names, devices, confirm)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import Any

from engine.common.commands import operand, run_checked
from engine.errors import InvalidArgument
from engine.storage import devices as devmod
from engine.storage.btrfs import parse
from engine.storage.btrfs.tool import btrfs, btrfs_query
from engine.storage.kernel import btrfs_mounts, top_level_mount
from engine.storage.models import NO_SCRUB, DeviceErrors, Pool, PoolDevice, ScrubSummary

PROFILES = ("single", "dup", "raid0", "raid1", "raid10", "raid1c3", "raid1c4", "raid5", "raid6")
# upstream's words (btrfs-progs, mkfs and balance): raid5/6 is refused unless the caller forces it
RAID56_WARNING = (
    "RAID5/6 support has known problems and is strongly discouraged to be used besides "
    "testing or evaluation (btrfs-progs)"
)
MIN_DEVICES = {
    "single": 1,
    "dup": 1,
    "raid0": 1,
    "raid1": 2,
    "raid10": 2,
    "raid1c3": 3,
    "raid1c4": 4,
    "raid5": 2,
    "raid6": 3,
}
SNAPSHOT_DIR = ".snapshots"


def check_profile(profile: str, what: str, force: bool) -> str:
    profile = profile.lower()
    if profile not in PROFILES:
        raise InvalidArgument(
            f"{what} profile {profile!r} is unknown; one of {', '.join(PROFILES)}",
            code="invalid_profile",
            metadata={"field": what},
        )
    if profile in ("raid5", "raid6") and not force:
        raise InvalidArgument(
            f"{what} profile {profile} is refused without force: {RAID56_WARNING}",
            code="raid56_refused",
            metadata={"field": what},
        )
    return profile


def default_metadata(data: str, n_devices: int) -> str:
    """Metadata at least as redundant as the data, and never lost to one bad sector."""
    if n_devices == 1:
        return "dup"
    return {"raid1c3": "raid1c3", "raid1c4": "raid1c4", "raid6": "raid1c3"}.get(data, "raid1")


def _member(dev: dict[str, Any], stats: dict[str, dict[str, int]]) -> PoolDevice:
    counters = stats.get(dev["path"]) or stats.get(f"devid:{dev['devid']}", {})  # a missing device has no path
    errors = DeviceErrors(
        read_errors=counters.get("read_io_errs", 0),
        write_errors=counters.get("write_io_errs", 0),
        flush_errors=counters.get("flush_io_errs", 0),
        checksum_errors=counters.get("corruption_errs", 0),
        generation_errors=counters.get("generation_errs", 0),
    )
    return PoolDevice(
        path=dev["path"],
        devid=dev["devid"],
        size_bytes=dev["size_bytes"],
        allocated_bytes=dev["allocated_bytes"],
        state="MISSING" if dev["missing"] else "ONLINE",
        errors=errors,
        error_count=errors.total,
    )


def _last_scrub(scrub: dict[str, Any]) -> ScrubSummary:
    return ScrubSummary(
        state=scrub["status"],
        started_unix=scrub["started_unix"],
        duration_s=scrub["duration_s"],
        bytes_scrubbed=scrub["bytes_scrubbed"],
        errors_found=scrub["errors_found"],
        errors_corrected=scrub["corrected_errors"],
        errors_uncorrectable=scrub["uncorrectable_errors"],
    )


def pool_record(
    fs: dict[str, Any],
    mountpoint: str,
    usage: dict[str, Any] | None,
    stats: dict[str, dict[str, int]],
    scrub: dict[str, Any] | None,
) -> Pool:
    """One filesystem in the shape shared with ZFS and md pools (engine/storage/models.py)."""
    members = tuple(_member(d, stats) for d in fs["devices"])
    size = usage["device_size_bytes"] if usage else sum(d["size_bytes"] for d in fs["devices"])
    used = usage["used_bytes"] if usage else 0
    profiles = usage["profiles"] if usage else {"data": [], "metadata": []}
    health = "DEGRADED" if fs["missing_devices"] else ("ONLINE" if mountpoint else "EXPORTED")
    return Pool(
        name=fs["label"] or fs["uuid"],
        type="btrfs",
        uuid=fs["uuid"],
        health=health,
        size_bytes=size,
        used_bytes=used,
        free_bytes=max(size - used, 0),
        allocated_bytes=usage["allocated_bytes"] if usage else sum(d["allocated_bytes"] for d in fs["devices"]),
        free_estimated_bytes=usage["free_bytes"] if usage else 0,
        capacity_percent=round(100.0 * used / size, 1) if size else 0.0,
        data_profile=",".join(profiles["data"]),
        metadata_profile=",".join(profiles["metadata"]),
        level=",".join(profiles["data"]),
        devices=tuple(m.path for m in members),
        members=members,
        error_count=sum(m.error_count for m in members),
        mountpoint=mountpoint,
        mounted=bool(mountpoint),
        last_scrub=_last_scrub(scrub) if scrub else NO_SCRUB,
    )


async def show(target: str = "") -> list[dict[str, Any]]:
    """``btrfs filesystem show --raw [target]``: every btrfs filesystem the kernel or a scan finds."""
    result = await btrfs("filesystem", "show", "--raw", *(["--", target] if target else []), timeout=15.0)
    return parse.parse_filesystem_show(result.stdout)


async def describe(fs: dict[str, Any], mountpoint: str) -> Pool:
    """The full pool record of one filesystem; usage, error counters and scrub need it mounted."""
    if not mountpoint:
        return pool_record(fs, "", None, {}, None)
    usage, stats, scrub = await asyncio.gather(
        btrfs_query("filesystem", "usage", "-b", "--", mountpoint),
        btrfs_query("device", "stats", "--", mountpoint),
        btrfs_query("scrub", "status", "-R", "--", mountpoint),
    )
    return pool_record(
        fs,
        mountpoint,
        parse.parse_filesystem_usage(usage.stdout) if usage.ok else None,
        parse.parse_device_stats(stats.stdout) if stats.ok else {},
        parse.parse_scrub_status(scrub.stdout) if scrub.ok else None,
    )


async def list_pools(*, detail: bool = True) -> list[Pool]:
    """Every btrfs filesystem as a pool. ``detail=False``: from ``filesystem show`` and the mount
    table alone (health, devices, mountpoint; no usage, error counters or scrub), one tool run
    however many pools there are: what a periodic watcher needs."""
    filesystems = await show()
    table = btrfs_mounts()
    if not detail:
        return [pool_record(fs, top_level_mount(fs["uuid"], table), None, {}, None) for fs in filesystems]
    return list(await asyncio.gather(*(describe(fs, top_level_mount(fs["uuid"], table)) for fs in filesystems)))


async def create(label: str, device_paths: list[str], data: str, metadata: str, force: bool) -> str:
    """mkfs.btrfs over ``device_paths``; returns the new filesystem's UUID. ``--nodiscard``: a full
    TRIM of a large disk can take minutes, and the mounted filesystem discards freed space anyway."""
    argv = [
        "mkfs.btrfs",
        "-L",
        label,
        "-d",
        data,
        "-m",
        metadata,
        "--nodiscard",
        *(["-f"] if force else []),
        "--",
        *device_paths,
    ]
    await run_checked(argv, timeout=120.0, package="btrfs-progs")
    found = await show(device_paths[0]) if device_paths else []
    if not found:
        raise InvalidArgument(f"mkfs.btrfs finished but no filesystem is found on {device_paths[0]}")
    return str(found[0]["uuid"])


def _make_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)


async def mount(fs: dict[str, Any], mountpoint: Path, *, degraded: bool = False) -> None:
    """Mount the whole filesystem (subvolume 5) at ``mountpoint``; devices are scanned first, as udev
    would at boot, so a multi-device pool is complete."""
    await btrfs("device", "scan", timeout=60.0)
    present = [d["path"] for d in fs["devices"] if not d["missing"]]
    if not present:
        raise InvalidArgument(f"no device of btrfs filesystem {fs['uuid']} is present", code="pool_unavailable")
    _make_dir(mountpoint)
    options = "subvolid=5" + (",degraded" if degraded else "")
    await run_checked(["mount", "-t", "btrfs", "-o", options, "--", present[0], str(mountpoint)], timeout=120.0)


async def unmount(mountpoint: str, *, remove_dir_under: Path | None = None) -> None:
    await run_checked(["umount", "--", mountpoint], timeout=120.0)
    if remove_dir_under is not None and Path(mountpoint).parent == remove_dir_under:
        with contextlib.suppress(OSError):  # not empty or already gone: leave it
            os.rmdir(mountpoint)


async def setup_new(mountpoint: str) -> None:
    """What every pool the engine creates has: quotas on (volume and snapshot sizes) and the
    snapshot directory (snapshots are kept out of the volume listing)."""
    # no "--": quota enable takes no options here and counts it as an argument (btrfs-progs 6.2)
    await btrfs("quota", "enable", operand(mountpoint), timeout=120.0)
    (Path(mountpoint) / SNAPSHOT_DIR).mkdir(exist_ok=True)


async def destroy(fs: dict[str, Any], mountpoint: str, pool_root: Path) -> None:
    if mountpoint:
        await unmount(mountpoint, remove_dir_under=pool_root)
    for dev in fs["devices"]:
        if not dev["missing"]:
            await devmod.wipe(dev["path"])
    with contextlib.suppress(Exception):  # forget the stale registration the kernel keeps
        await btrfs_query("device", "scan", "--forget")


async def add_device(mountpoint: str, device: str, force: bool) -> None:
    await btrfs("device", "add", "--nodiscard", *(["-f"] if force else []), "--", device, mountpoint, timeout=120.0)
