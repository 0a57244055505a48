"""Facts the kernel publishes about block devices and mounts (/proc, /sys, one btrfs ioctl).

Reading these files is instant (they are generated in memory), so callers on the event loop may
use them directly.
"""

from __future__ import annotations

import fcntl
import os
import re
import uuid as uuidlib
from pathlib import Path

SYS_BLOCK = Path("/sys/class/block")
SYS_BTRFS = Path("/sys/fs/btrfs")
# _IOR(0x94, 31, struct btrfs_ioctl_fs_info_args): the struct is 1024 bytes; fsid is bytes 16..32
_BTRFS_IOC_FS_INFO = 0x80000000 | (1024 << 16) | (0x94 << 8) | 31


def read_sys(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def family(name: str) -> list[str]:
    """The kernel name and its partitions: what a pool on ``name`` would overwrite."""
    base = SYS_BLOCK / name
    if not base.exists():
        return [name]
    return [name, *sorted(p.name for p in base.iterdir() if (p / "partition").exists())]


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash in paths as octal escapes (\\040...)."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def mounts() -> list[dict[str, str]]:
    """/proc/self/mountinfo as (majmin, root within the filesystem, mountpoint, fstype, source)."""
    out = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        cols, rcols = left.split(), right.split()
        if len(cols) >= 5 and len(rcols) >= 2:
            out.append(
                {
                    "majmin": cols[2],
                    "root": _unescape(cols[3]),
                    "mountpoint": _unescape(cols[4]),
                    "fstype": rcols[0],
                    "source": rcols[1],
                }
            )
    return out


def mounted_devices(entries: list[dict[str, str]]) -> dict[str, list[str]]:
    """Kernel device name -> mountpoints, for mounts of single-device filesystems. Btrfs mounts are
    left out: their mountinfo source keeps naming a device after it left the pool, so btrfs
    membership comes from /sys/fs/btrfs instead (``btrfs_members``)."""
    by_majmin = {read_sys(p / "dev"): p.name for p in SYS_BLOCK.iterdir()} if SYS_BLOCK.exists() else {}
    out: dict[str, list[str]] = {}
    for m in entries:
        if m["fstype"] == "btrfs":
            continue
        name = by_majmin.get(m["majmin"]) or (
            os.path.basename(os.path.realpath(m["source"])) if m["source"].startswith("/dev/") else ""
        )
        if name:
            out.setdefault(name, []).append(m["mountpoint"])
    return out


def btrfs_members() -> dict[str, str]:
    """Kernel device name -> fsid, for every device of every mounted btrfs filesystem."""
    members: dict[str, str] = {}
    if SYS_BTRFS.exists():
        for fs in SYS_BTRFS.iterdir():
            devices = fs / "devices"
            if devices.is_dir():
                members.update({dev.name: fs.name for dev in devices.iterdir()})
    return members


def fsid_of(mountpoint: str) -> str:
    """The filesystem UUID of a btrfs mount, asked of the kernel (BTRFS_IOC_FS_INFO)."""
    fd = os.open(mountpoint, os.O_RDONLY | os.O_DIRECTORY)
    try:
        buf = bytearray(1024)
        fcntl.ioctl(fd, _BTRFS_IOC_FS_INFO, buf)
    finally:
        os.close(fd)
    return str(uuidlib.UUID(bytes=bytes(buf[16:32])))


def btrfs_mounts() -> dict[str, list[dict[str, str]]]:
    """fsid -> its mounts, whole-filesystem (subvolume 5, root "/") mounts first."""
    out: dict[str, list[dict[str, str]]] = {}
    for m in mounts():
        if m["fstype"] != "btrfs":
            continue
        try:
            fsid = fsid_of(m["mountpoint"])
        except OSError:  # a mount we may not open (another namespace's, a dead device): not ours
            continue
        out.setdefault(fsid, []).append(m)
    for entries in out.values():
        entries.sort(key=lambda m: m["root"] != "/")
    return out


def top_level_mount(fsid: str, table: dict[str, list[dict[str, str]]] | None = None) -> str:
    """Where the whole btrfs filesystem ``fsid`` is mounted, or ""."""
    for m in (table if table is not None else btrfs_mounts()).get(fsid, []):
        if m["root"] == "/":
            return m["mountpoint"]
    return ""


def swap_devices() -> set[str]:
    lines = Path("/proc/swaps").read_text().splitlines()[1:]
    return {os.path.basename(os.path.realpath(line.split()[0])) for line in lines if line.strip()}
