"""Block devices from ``lsblk`` with I/O counters (psutil) and SMART health (``smartctl``)."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import psutil

from engine.common.commands import Source, run_tool
from engine.host.figures import io_dict
from engine.storage.models import Disk, DiskListing, IoCounters, SmartInfo
from engine.storage.smart import parse_smartctl, smart_info

LSBLK_ARGV = ["lsblk", "-J", "-b", "-o", "NAME,KNAME,PATH,TYPE,SIZE,MODEL,SERIAL,ROTA,TRAN,MOUNTPOINTS,FSTYPE"]


def _flag(value: Any) -> bool:
    return value in (True, 1, "1", "true")


def parse_lsblk(text: str) -> list[dict[str, Any]]:
    """Devices of ``lsblk -J -b -o NAME,KNAME,PATH,TYPE,SIZE,...`` flattened (partitions follow their disk)."""
    out: list[dict[str, Any]] = []

    def walk(devices: list[dict[str, Any]]) -> None:
        for dev in devices:
            mounts = dev.get("mountpoints") or ([dev["mountpoint"]] if dev.get("mountpoint") else [])
            out.append(
                {
                    "name": dev.get("name") or "",
                    "path": dev.get("path") or f"/dev/{dev.get('kname', dev.get('name'))}",
                    "type": dev.get("type") or "",
                    "size_bytes": int(dev.get("size") or 0),
                    "model": (dev.get("model") or "").strip(),
                    "serial": (dev.get("serial") or "").strip(),
                    "rotational": _flag(dev.get("rota")),
                    "transport": dev.get("tran") or "",
                    "mountpoints": [m for m in mounts if m],
                    "fstype": dev.get("fstype") or "",
                }
            )
            walk(dev.get("children") or [])

    walk(orjson.loads(text).get("blockdevices", []))
    return out


async def list_disks(with_smart: bool = True) -> DiskListing:
    """Every block device (partitions after their disk) with its I/O counters and, ``with_smart``, its
    SMART health (one smartctl per whole disk, run at once)."""
    lsblk = await run_tool(LSBLK_ARGV)
    if not lsblk.ok:
        detail = "lsblk is not installed" if not lsblk.found else lsblk.stderr.strip()
        return DiskListing((), (Source("lsblk", False, detail),))
    found = parse_lsblk(lsblk.stdout)
    io = psutil.disk_io_counters(perdisk=True) or {}
    smart: list[SmartInfo | None] = [None] * len(found)
    smart_source = Source("smart", False, "not requested")
    if with_smart:
        smart, smart_source = await _smart(found)
    disks = tuple(
        Disk(
            **{**d, "mountpoints": tuple(d["mountpoints"])},
            io=IoCounters(**io_dict(io.get(d["name"]))),
            smart=info,
        )
        for d, info in zip(found, smart, strict=True)
    )
    return DiskListing(disks, (Source("lsblk", True, f"{len(disks)} device(s)"), smart_source))


_NO_SMART = SmartInfo(available=False, detail="partitions and virtual devices have no SMART data")


async def _smart(disks: list[dict[str, Any]]) -> tuple[list[SmartInfo | None], Source]:
    """Each device's SMART (a partition or virtual device has none), and whether smartctl is here."""
    whole = [i for i, d in enumerate(disks) if d["type"] == "disk"]
    results = await asyncio.gather(*(run_tool(["smartctl", "-j", "-a", "--", disks[i]["path"]], 20.0) for i in whole))
    source = Source("smart", True, "smartctl")
    out: list[SmartInfo | None] = [_NO_SMART] * len(disks)
    for i, result in zip(whole, results, strict=True):
        if not result.found:
            out[i] = SmartInfo(available=False, detail="smartctl is not installed")
            source = Source("smart", False, "smartctl is not installed (package smartmontools)")
            continue
        try:
            out[i] = smart_info(parse_smartctl(result.stdout))
        except orjson.JSONDecodeError:
            out[i] = SmartInfo(available=False, detail=result.stderr.strip() or "unreadable smartctl output")
    return out, source
