"""ZFS long operations. ``zpool scrub``, ``zpool replace`` (a resilver) and ``zpool remove`` (an
evacuation) return at once and carry on in the kernel; progress is read from ``zpool status``."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any, ClassVar

from engine.common.commands import run_checked, run_tool
from engine.storage.operations import CANCELLED, DONE, FAILED, RUNNING, LongOperation, Progress
from engine.storage.zfs import tool
from engine.storage.zfs.parse import leaf_path

if TYPE_CHECKING:
    from engine.jobs.locks import Hold, LockTable


async def pool_status(pool: str) -> dict[str, Any]:
    found = await tool.zpool_status(pool)
    return found[0] if found else {"scan": {"state": "never"}, "remove": "", "vdevs": []}


class ZpoolOperation(LongOperation):
    """Start with ``start_argv``; the scan (or removal) it starts is followed in ``zpool status``."""

    function: ClassVar[str] = "scrub"

    def __init__(
        self, pool: str, target: str, locks: LockTable, lease: Hold, start_argv: list[str], cancel_argv: list[str]
    ) -> None:
        super().__init__(pool, target, locks, lease)
        self.start_argv, self.cancel_argv = start_argv, cancel_argv
        self.cancel_requested = False
        self.begun_unix = 0.0

    async def _begin(self) -> None:
        # before the tool runs: a small resilver ends before `zpool replace` returns, and zpool
        # status gives its end in whole seconds
        self.begun_unix = float(int(time.time()))
        await run_checked(self.start_argv, 60.0, package="zfsutils-linux")

    async def _poll(self) -> Progress:
        scan = (await pool_status(self.pool))["scan"]
        errors = int(scan.get("errors", 0))
        if scan.get("function") == self.function and scan["state"] == "running":
            return Progress(RUNNING, min(99.9, scan["percent"]), f"{self.function} running", errors, 0, errors)
        if scan["state"] == "aborted" or self.cancel_requested:
            return Progress(CANCELLED, self.last.percent, f"{self.function} cancelled", errors, 0, errors)
        if scan["state"] == "finished" and scan.get("finished_unix", 0) >= self.begun_unix:
            return Progress(DONE, 100.0, f"{self.function} finished with {errors} error(s)", errors, 0, errors)
        return Progress(FAILED, self.last.percent, f"{self.function} is no longer running: {scan['state']}")

    async def _cancel(self) -> None:
        self.cancel_requested = True
        await run_tool(self.cancel_argv, 30.0)


class ZfsScrub(ZpoolOperation):
    kind: ClassVar[str] = "scrub"
    function: ClassVar[str] = "scrub"

    def __init__(self, pool: str, locks: LockTable, lease: Hold) -> None:
        super().__init__(pool, pool, locks, lease, ["zpool", "scrub", "--", pool], ["zpool", "scrub", "-s", "--", pool])


class ZfsReplace(ZpoolOperation):
    kind: ClassVar[str] = "replace_device"
    function: ClassVar[str] = "resilver"

    def __init__(self, pool: str, old: str, new: str, force: bool, locks: LockTable, lease: Hold) -> None:
        argv = ["zpool", "replace", *(["-f"] if force else []), "--", pool, old, new]
        # detaching the new device of a "replacing" vdev is how ZFS abandons a replacement
        super().__init__(pool, f"{old} -> {new}", locks, lease, argv, ["zpool", "detach", "--", pool, new])


class ZfsRemove(ZpoolOperation):
    kind: ClassVar[str] = "remove_device"
    function: ClassVar[str] = "remove"

    def __init__(self, pool: str, device: str, locks: LockTable, lease: Hold) -> None:
        # no "--": zfs-fuse's remove takes no options and would read it as the pool (tool.py);
        # ``device`` is a member's path or guid (ZfsBackend._member), never an option
        argv = ["zpool", "remove", tool.operand(pool, "pool"), tool.operand(device)]
        super().__init__(pool, device, locks, lease, argv, ["zpool", "remove", "-s", "--", pool])
        self.device = device

    async def _poll(self) -> Progress:
        status = await pool_status(self.pool)
        text = status["remove"]
        if "in progress" in text and (m := re.search(r"([\d.]+)% done", text)):
            return Progress(RUNNING, min(99.9, float(m.group(1))), "evacuating " + self.device)
        if self.cancel_requested or "canceled" in text:
            return Progress(CANCELLED, self.last.percent, "removal cancelled")
        if not any(leaf_path(v["name"]) == self.device for v in status["vdevs"]) or "completed" in text:
            return Progress(DONE, 100.0, f"{self.device} removed")
        return Progress(RUNNING, self.last.percent, "removal starting")
