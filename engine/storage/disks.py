"""Block devices from ``lsblk`` with I/O counters (psutil) and SMART health (``smartctl``)."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import psutil

from engine.common.commands import Source, run_tool
from engine.host.figures import io_dict
from engine.storage.smart import parse_smartctl

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
    results = await asyncio.gather(*(run_tool(["smartctl", "-j", "-a", "--", d["path"]], 20.0) for d in whole))
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
