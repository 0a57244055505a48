"""Storage: ZFS pools (``zpool list``), md RAID arrays (/proc/mdstat), disks (``lsblk``) and
their SMART health (``smartctl``)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import orjson
import psutil

from engine.sysinfo.commands import Source, run_tool
from engine.sysinfo.host import io_dict

ZPOOL_FIELDS = ("name", "size", "alloc", "free", "frag", "cap", "dedup", "health")
ZPOOL_ARGV = ["zpool", "list", "-H", "-p", "-o", ",".join(ZPOOL_FIELDS)]
LSBLK_ARGV = ["lsblk", "-J", "-b", "-o", "NAME,KNAME,PATH,TYPE,SIZE,MODEL,SERIAL,ROTA,TRAN,MOUNTPOINTS,FSTYPE"]
MDSTAT = Path("/proc/mdstat")


def _num(text: str, kind: type = int) -> Any:
    text = text.strip().rstrip("%x")
    if text in ("", "-"):
        return kind(0)
    return kind(float(text)) if kind is int else kind(text)


def parse_zpool_list(text: str) -> list[dict[str, Any]]:
    """Rows of ``zpool list -H -p -o name,size,alloc,free,frag,cap,dedup,health`` (tab-separated)."""
    pools = []
    for line in text.splitlines():
        if not line.strip():
            continue
        cols = dict(zip(ZPOOL_FIELDS, line.split("\t"), strict=False))
        pools.append({
            "name": cols["name"], "type": "zfs", "health": cols.get("health", "UNKNOWN"),
            "size_bytes": _num(cols.get("size", "")), "allocated_bytes": _num(cols.get("alloc", "")),
            "free_bytes": _num(cols.get("free", "")), "capacity_percent": _num(cols.get("cap", ""), float),
            "fragmentation_percent": _num(cols.get("frag", ""), float),
            "dedup_ratio": _num(cols.get("dedup", ""), float), "level": "", "devices": [],
        })  # fmt: skip
    return pools


_MD_HEAD = re.compile(r"^(md\S*)\s*:\s*(\S+)\s+(?:\((?:auto-)?read-only\)\s+)?(raid\d+|linear|multipath)?\s*(.*)$")
_MD_BLOCKS = re.compile(r"^\s+(\d+) blocks.*\[(\d+)/(\d+)\]\s+\[([U_]+)\]")


def parse_mdstat(text: str) -> list[dict[str, Any]]:
    """Arrays in /proc/mdstat. Health: ONLINE, DEGRADED (a member missing) or the md state."""
    arrays: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for line in text.splitlines():
        head = _MD_HEAD.match(line)
        if head:
            name, state, level, members = head.groups()
            devices = [re.sub(r"\[\d+\]", "", m) for m in members.split()]
            current = {
                "name": name, "type": "mdraid", "level": level or "", "devices": devices,
                "health": "FAULTED" if any(d.endswith("(F)") for d in devices) else state.upper(),
                "size_bytes": 0, "allocated_bytes": 0, "free_bytes": 0, "capacity_percent": 0.0,
                "fragmentation_percent": 0.0, "dedup_ratio": 0.0,
            }  # fmt: skip
            arrays.append(current)
            continue
        blocks = _MD_BLOCKS.match(line)
        if blocks and current is not None:
            size, want, have, flags = blocks.groups()
            current["size_bytes"] = int(size) * 1024
            if "_" in flags or int(have) < int(want):
                current["health"] = "DEGRADED"
            elif current["health"] == "ACTIVE":
                current["health"] = "ONLINE"
    return arrays


def _flag(value: Any) -> bool:
    return value in (True, 1, "1", "true")


def parse_lsblk(text: str) -> list[dict[str, Any]]:
    """Devices of ``lsblk -J -b -o NAME,KNAME,PATH,TYPE,SIZE,...`` flattened (partitions follow their disk)."""
    out: list[dict[str, Any]] = []

    def walk(devices: list[dict[str, Any]]) -> None:
        for dev in devices:
            mounts = dev.get("mountpoints") or ([dev["mountpoint"]] if dev.get("mountpoint") else [])
            out.append({
                "name": dev.get("name") or "", "path": dev.get("path") or f"/dev/{dev.get('kname', dev.get('name'))}",
                "type": dev.get("type") or "", "size_bytes": int(dev.get("size") or 0),
                "model": (dev.get("model") or "").strip(), "serial": (dev.get("serial") or "").strip(),
                "rotational": _flag(dev.get("rota")), "transport": dev.get("tran") or "",
                "mountpoints": [m for m in mounts if m], "fstype": dev.get("fstype") or "",
            })  # fmt: skip
            walk(dev.get("children") or [])

    walk(orjson.loads(text).get("blockdevices", []))
    return out


def parse_smartctl(text: str) -> dict[str, Any]:
    """The health summary of ``smartctl -j -H -A DEVICE``."""
    data = orjson.loads(text)
    messages = [m.get("string", "") for m in data.get("smartctl", {}).get("messages", [])]
    if "smart_status" not in data:
        return {"available": False, "detail": "; ".join(messages) or "device reports no SMART status"}
    realloc = 0
    for attr in data.get("ata_smart_attributes", {}).get("table", []):
        if attr.get("id") == 5:
            realloc = int(attr.get("raw", {}).get("value", 0))
    return {
        "available": True,
        "passed": bool(data["smart_status"].get("passed")),
        "temperature_c": int(data.get("temperature", {}).get("current", 0)),
        "power_on_hours": int(data.get("power_on_time", {}).get("hours", 0)),
        "reallocated_sectors": realloc,
        "detail": "; ".join(messages),
    }


async def list_pools() -> dict[str, Any]:
    pools: list[dict[str, Any]] = []
    zpool = await run_tool(ZPOOL_ARGV)
    if zpool.ok:
        pools += parse_zpool_list(zpool.stdout)
        zfs = Source("zfs", True, f"{len(pools)} pool(s)")
    elif not zpool.found:
        zfs = Source("zfs", False, "zpool is not installed: no ZFS on this machine")
    else:
        zfs = Source("zfs", False, (zpool.stderr or zpool.stdout).strip() or f"zpool exited {zpool.returncode}")
    try:
        arrays = parse_mdstat(MDSTAT.read_text())  # noqa: ASYNC240 - procfs, answered from memory
        md = Source("mdraid", True, f"{len(arrays)} array(s)")
        pools += arrays
    except FileNotFoundError:
        md = Source("mdraid", False, "/proc/mdstat is absent: the md driver is not loaded")
    return {"pools": pools, "sources": [zfs.as_dict(), md.as_dict()]}


async def list_disks(with_smart: bool = True) -> dict[str, Any]:
    lsblk = await run_tool(LSBLK_ARGV)
    if not lsblk.ok:
        detail = "lsblk is not installed" if not lsblk.found else lsblk.stderr.strip()
        return {"disks": [], "sources": [Source("lsblk", False, detail).as_dict()]}
    disks = parse_lsblk(lsblk.stdout)
    io = psutil.disk_io_counters(perdisk=True) or {}
    for disk in disks:
        disk["io"] = io_dict(io.get(disk["name"]))
    sources = [Source("lsblk", True, f"{len(disks)} device(s)").as_dict()]
    smart_source = await _add_smart(disks) if with_smart else Source("smart", False, "not requested")
    sources.append(smart_source.as_dict())
    return {"disks": disks, "sources": sources}


async def _add_smart(disks: list[dict[str, Any]]) -> Source:
    whole = [d for d in disks if d["type"] == "disk"]
    results = await asyncio.gather(*(run_tool(["smartctl", "-j", "-H", "-A", d["path"]]) for d in whole))
    source = Source("smart", True, "smartctl")
    for disk in disks:
        disk["smart"] = {"available": False, "detail": "partitions and virtual devices have no SMART data"}
    for disk, result in zip(whole, results, strict=True):
        if not result.found:
            disk["smart"] = {"available": False, "detail": "smartctl is not installed"}
            source = Source("smart", False, "smartctl is not installed (package smartmontools)")
            continue
        try:
            disk["smart"] = parse_smartctl(result.stdout)
        except orjson.JSONDecodeError:
            disk["smart"] = {"available": False, "detail": result.stderr.strip() or "unreadable smartctl output"}
    return source
