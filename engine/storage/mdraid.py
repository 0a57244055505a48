"""Linux md RAID arrays from /proc/mdstat."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

MDSTAT = Path("/proc/mdstat")
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
                "name": name,
                "type": "mdraid",
                "level": level or "",
                "devices": devices,
                "health": "FAULTED" if any(d.endswith("(F)") for d in devices) else state.upper(),
                "size_bytes": 0,
                "allocated_bytes": 0,
                "free_bytes": 0,
                "capacity_percent": 0.0,
                "fragmentation_percent": 0.0,
                "dedup_ratio": 0.0,
            }
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
