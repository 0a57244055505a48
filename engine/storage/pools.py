"""Every pool on the machine in one shape: ZFS (``zpool list``) and md RAID (/proc/mdstat)."""

from __future__ import annotations

from typing import Any

from engine.commands import Source, run_tool
from engine.storage import mdraid
from engine.storage.zfs import ZPOOL_ARGV, parse_zpool_list


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
        arrays = mdraid.parse_mdstat(mdraid.MDSTAT.read_text())
        md = Source("mdraid", True, f"{len(arrays)} array(s)")
        pools += arrays
    except FileNotFoundError:
        md = Source("mdraid", False, "/proc/mdstat is absent: the md driver is not loaded")
    return {"pools": pools, "sources": [zfs.as_dict(), md.as_dict()]}
