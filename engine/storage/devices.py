"""Which block devices a pool may be built on, and clearing them.

A device is refused when it is not a block device, holds the root filesystem, is mounted or used as
swap, belongs to a mounted pool or a RAID/LVM/device-mapper stack, is open exclusively by someone,
is read-only, or carries a partition table or filesystem signature (that last one only without
``force``). Each refusal is InvalidArgument(code="device_refused") naming the rule in its message
and in ``metadata["rule"]``. The facts come from the kernel (/proc/self/mountinfo, /proc/swaps,
/sys/class/block, /sys/fs/btrfs) and from ``wipefs -n``.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import Any

import orjson

from engine.common.commands import run_checked
from engine.errors import EngineError, InvalidArgument
from engine.storage import kernel
from engine.storage.kernel import SYS_BLOCK, read_sys
from engine.storage.zfs import tool as zfs_tool


def _refuse(path: str, rule: str, detail: str) -> InvalidArgument:
    return InvalidArgument(
        f"device {path} is refused ({rule}): {detail}", code="device_refused", metadata={"device": path, "rule": rule}
    )


def _root_names(entries: list[dict[str, str]], mounted: dict[str, list[str]], members: dict[str, str]) -> set[str]:
    """Kernel names of the devices holding "/" (all of them when / is a multi-device btrfs)."""
    names = {n for n, mps in mounted.items() if "/" in mps}
    root = next((m for m in entries if m["mountpoint"] == "/"), None)
    if root is not None and root["fstype"] == "btrfs":
        try:
            fsid = kernel.fsid_of("/")
        except OSError:
            fsid = ""
        names |= {n for n, f in members.items() if f == fsid}
    return names


def _in_use_rules(path: str, names: list[str]) -> None:
    entries = kernel.mounts()
    mounted = kernel.mounted_devices(entries)
    members = kernel.btrfs_members()
    root_names = _root_names(entries, mounted, members)
    swaps = kernel.swap_devices()
    for name in names:
        if name in root_names:
            raise _refuse(path, "root_filesystem", f"{name} holds the root filesystem")
        if name in mounted:
            raise _refuse(path, "mounted", f"{name} is mounted at {', '.join(mounted[name])}")
        if name in swaps:
            raise _refuse(path, "mounted", f"{name} is in use as swap")
        if name in members:
            raise _refuse(path, "pool_member", f"{name} belongs to the mounted btrfs filesystem {members[name]}")
        holders = sorted(h.name for h in (SYS_BLOCK / name / "holders").glob("*"))
        if holders:
            raise _refuse(path, "pool_member", f"{name} is held by {', '.join(holders)} (md RAID, LVM or dm)")


def _exclusive_open_check(path: str) -> None:
    # The kernel's own answer: O_EXCL on a block device fails with EBUSY while anything claims it
    # (a mount, md, dm, a ZFS pool, another mkfs). It costs one open(), no I/O.
    try:
        fd = os.open(path, os.O_RDONLY | os.O_EXCL)
    except OSError as exc:
        if exc.errno == errno.EBUSY:
            detail = "the kernel reports it busy (claimed by a mount, RAID, LVM or pool)"
            raise _refuse(path, "in_use", detail) from None
        raise _refuse(path, "unreadable", os.strerror(exc.errno or 0)) from None
    os.close(fd)


async def signatures(path: str) -> list[dict[str, Any]]:
    """Partition tables and filesystem signatures ``wipefs -n`` finds on ``path`` (nothing is written)."""
    result = await run_checked(["wipefs", "-n", "-J", "--", path], timeout=15.0, package="util-linux")
    text = result.stdout.strip()
    found = orjson.loads(text).get("signatures", []) if text else []
    return [
        {
            "type": s.get("type") or "",
            "offset": s.get("offset") or "",
            "uuid": s.get("uuid") or "",
            "label": s.get("label") or "",
        }
        for s in found
    ]


def _static_checks(path: str) -> dict[str, Any]:
    """Every rule the kernel's tables can answer at once (no I/O beyond /proc, /sys and one open)."""
    if not isinstance(path, str) or not path.startswith("/dev/"):
        raise _refuse(str(path), "not_block_device", "give the device's path under /dev")
    if "\0" in path:
        raise _refuse(path, "not_found", "no device path holds a NUL byte")
    real = os.path.realpath(path)
    try:
        mode = os.stat(real).st_mode
    except FileNotFoundError:
        raise _refuse(path, "not_found", "no such device") from None
    except OSError as exc:  # a name over NAME_MAX, a symlink loop (found by the storage fuzzer as UNKNOWN)
        raise _refuse(path, "not_found", exc.strerror or "cannot be looked up") from None
    if not stat.S_ISBLK(mode):
        raise _refuse(path, "not_block_device", f"{real} is not a block device")
    name = os.path.basename(real)
    if read_sys(SYS_BLOCK / name / "ro") == "1":
        raise _refuse(path, "read_only", f"{name} is read-only")
    sectors = int(read_sys(SYS_BLOCK / name / "size") or 0)
    if sectors == 0:
        raise _refuse(path, "empty", f"{name} has no media or size 0 (an unattached loop device?)")
    _in_use_rules(path, kernel.family(name))
    _exclusive_open_check(real)
    return {"path": real, "name": name, "size_bytes": sectors * 512}


async def _zfs_member_check(path: str, found: list[dict[str, Any]]) -> None:
    """A device of an imported ZFS pool, even with force. OpenZFS's kernel module claims its devices
    (the O_EXCL check sees them busy); zfs-fuse, ZFS in user space, does not, so its pools are asked:
    the zfs_member label's uuid is the pool's guid."""
    guids = {s["uuid"] for s in found if s["type"] == "zfs_member" and s["uuid"]}
    if not guids or not zfs_tool.available():
        return
    try:
        imported = await zfs_tool.zpool_list()
    except EngineError:  # no pool can be imported where zpool cannot list (no daemon): nothing holds it
        return
    for pool in imported:
        if pool["uuid"] in guids:
            raise _refuse(path, "pool_member", f"it belongs to the imported ZFS pool {pool['name']}")


async def check_device(path: str, *, force: bool = False) -> dict[str, Any]:
    """Facts about ``path`` if a pool may be built on it, else InvalidArgument naming the rule."""
    info = _static_checks(path)
    found = await signatures(info["path"])
    await _zfs_member_check(path, found)
    if found and not force:
        what = ", ".join(f"{s['type']}" + (f" (uuid {s['uuid']})" if s["uuid"] else "") for s in found)
        raise InvalidArgument(
            f"device {path} is refused (signature): it carries {what}; pass force to overwrite it",
            code="device_refused",
            metadata={"device": path, "rule": "signature"},
        )
    return {**info, "signatures": found}


async def check_devices(paths: list[str], *, force: bool = False) -> list[dict[str, Any]]:
    if not paths:
        raise InvalidArgument("at least one device is required", code="device_refused", metadata={"rule": "none"})
    checked = [await check_device(p, force=force) for p in paths]
    seen: set[str] = set()
    for given, info in zip(paths, checked, strict=True):
        if info["path"] in seen:
            raise _refuse(given, "duplicate", f"{info['path']} is listed twice")
        seen.add(info["path"])
    return checked


async def wipe(path: str) -> None:
    """Erase every signature on ``path`` (after its pool is gone) so it is refused by no one."""
    await run_checked(["wipefs", "-a", "-q", "--", path], timeout=30.0, package="util-linux")
