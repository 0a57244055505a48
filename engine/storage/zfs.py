"""ZFS pools: ``zpool list -H -p`` (tab-separated, exact byte counts)."""

from __future__ import annotations

from typing import Any

ZPOOL_FIELDS = ("name", "size", "alloc", "free", "frag", "cap", "dedup", "health")
ZPOOL_ARGV = ["zpool", "list", "-H", "-p", "-o", ",".join(ZPOOL_FIELDS)]


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
