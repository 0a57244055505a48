"""Btrfs long operations: scrub, balance, device removal and device replacement.

Each runs the blocking form of its tool (``scrub start -B``, ``replace start -B``, ``device remove``,
``balance start``) as one subprocess whose exit ends the operation; progress comes from the
matching status command, cancellation from the matching cancel command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from engine.storage.btrfs import parse
from engine.storage.btrfs.tool import btrfs, btrfs_query
from engine.storage.operations import CANCELLED, DONE, RUNNING, Progress, ToolOperation

if TYPE_CHECKING:
    from engine.jobs.locks import Hold, LockTable


def scrub_percent(status: dict[str, Any]) -> float:
    """From the summary form of ``scrub status``: bytes scrubbed of the tool's own total to scrub."""
    if status["status"] == "finished":
        return 100.0
    total = status["total_bytes"]
    return round(min(99.9, 100.0 * status["bytes_scrubbed"] / total), 1) if total else 0.0


def _scrub_progress(state: str, status: dict[str, Any], message: str = "") -> Progress:
    percent = 100.0 if state == DONE else scrub_percent(status)
    return Progress(
        state, percent, message, status["errors_found"], status["corrected_errors"], status["uncorrectable_errors"]
    )


class ScrubOperation(ToolOperation):
    """``btrfs scrub start -B``: reads every copy of every block, repairs a bad copy from a good one."""

    kind: ClassVar[str] = "scrub"

    def __init__(self, pool: str, mountpoint: str, locks: LockTable, lease: Hold) -> None:
        super().__init__(pool, mountpoint, locks, lease, ["btrfs", "scrub", "start", "-B", "--", mountpoint])
        self.mountpoint = mountpoint

    def cancel_argv(self) -> list[str]:
        return ["btrfs", "scrub", "cancel", "--", self.mountpoint]

    async def _status(self) -> dict[str, Any] | None:
        # the summary form (not -R): it carries the tool's own "Total to scrub" while running
        result = await btrfs_query("scrub", "status", "--raw", "--", self.mountpoint)
        return parse.parse_scrub_status(result.stdout) if result.ok else None

    async def _running(self) -> Progress:
        status = await self._status()
        return _scrub_progress(RUNNING, status) if status else Progress(RUNNING, self.last.percent)

    async def _final(self, returncode: int, out: str, err: str) -> Progress:
        status = parse.parse_scrub_status(out)  # -B prints the final summary
        if "scrub canceled" in out or (self.cancel_requested and status["status"] == "aborted"):
            return Progress(
                CANCELLED,
                self.last.percent,
                "scrub cancelled",
                status["errors_found"],
                status["corrected_errors"],
                status["uncorrectable_errors"],
            )
        if returncode in (0, 3):  # 3: finished, and found errors it could not correct
            summary = (
                f"{status['errors_found']} error(s) found, {status['corrected_errors']} corrected, "
                f"{status['uncorrectable_errors']} uncorrectable"
            )
            return _scrub_progress(DONE, status, summary)
        return self.failure(returncode, out, err)


class RemoveDeviceOperation(ToolOperation):
    """``btrfs device remove``: the kernel relocates the device's chunks to the others, then drops it."""

    kind: ClassVar[str] = "remove_device"

    def __init__(
        self, pool: str, mountpoint: str, device: str, allocated_bytes: int, locks: LockTable, lease: Hold
    ) -> None:
        super().__init__(pool, device, locks, lease, ["btrfs", "device", "remove", "--", device, mountpoint])
        self.mountpoint, self.device, self.initial = mountpoint, device, allocated_bytes

    def cancel_argv(self) -> list[str]:
        return ["btrfs", "device", "remove", "--", "cancel", self.mountpoint]

    async def _running(self) -> Progress:
        result = await btrfs_query("filesystem", "show", "--raw", "--", self.mountpoint)
        fs = parse.parse_filesystem_show(result.stdout) if result.ok else []
        left = next((d["allocated_bytes"] for f in fs for d in f["devices"] if d["path"] == self.device), None)
        if left is None or not self.initial:
            return Progress(RUNNING, self.last.percent, "relocating data")
        percent = min(99.9, 100.0 * (self.initial - left) / self.initial)
        return Progress(RUNNING, round(max(percent, 0.0), 1), f"{left} bytes left to move off {self.device}")

    async def _final(self, returncode: int, out: str, err: str) -> Progress:
        if returncode == 0:
            return Progress(DONE, 100.0, f"{self.device} removed")
        return self.failure(returncode, out, err)


class ReplaceOperation(ToolOperation):
    """``btrfs replace start -B``: copies one device's data onto a new one while the pool stays online."""

    kind: ClassVar[str] = "replace_device"

    def __init__(
        self,
        pool: str,
        mountpoint: str,
        source: str,
        devid: int,
        target: str,
        force: bool,
        locks: LockTable,
        lease: Hold,
    ) -> None:
        argv = ["btrfs", "replace", "start", "-B", *(["-f"] if force else []), "--", source, target, mountpoint]
        super().__init__(pool, f"{source} -> {target}", locks, lease, argv)
        self.mountpoint, self.devid, self.new = mountpoint, devid, target

    def cancel_argv(self) -> list[str]:
        return ["btrfs", "replace", "cancel", "--", self.mountpoint]

    async def _status(self) -> dict[str, Any]:
        result = await btrfs_query("replace", "status", "-1", "--", self.mountpoint)
        return parse.parse_replace_status(result.stdout)

    async def _running(self) -> Progress:
        status = await self._status()
        errors = status["write_errors"] + status["uncorrectable_read_errors"]
        return Progress(RUNNING, min(99.9, status["percent"]), status["line"], errors, 0, errors)

    async def _final(self, returncode: int, out: str, err: str) -> Progress:
        status = await self._status()
        errors = status["write_errors"] + status["uncorrectable_read_errors"]
        if status["state"] == "canceled" or (self.cancel_requested and returncode != 0):
            return Progress(CANCELLED, status["percent"], "replace cancelled", errors, 0, errors)
        if returncode != 0:
            return self.failure(returncode, out, err)
        # the new device may be larger: let the pool use all of it
        await btrfs("filesystem", "resize", "--", f"{self.devid}:max", self.mountpoint)
        return Progress(DONE, 100.0, f"replaced by {self.new}", errors, 0, errors)


class BalanceOperation(ToolOperation):
    """``btrfs balance start``: rewrites chunks, spreading them over all devices or converting the
    profile (``convert_data`` / ``convert_metadata``), e.g. after adding a device."""

    kind: ClassVar[str] = "balance"

    def __init__(
        self,
        pool: str,
        mountpoint: str,
        locks: LockTable,
        lease: Hold,
        *,
        convert_data: str = "",
        convert_metadata: str = "",
    ) -> None:
        # soft: only chunks not already in the target profile are rewritten (e.g. the single chunks
        # a degraded mount wrote), so a conversion restarted or repeated costs nothing twice
        filters = [f"-dconvert={convert_data},soft"] if convert_data else []
        filters += [f"-mconvert={convert_metadata},soft"] if convert_metadata else []
        # --full-balance skips the tool's 10 s "are you sure" pause; the caller asked for exactly this
        argv = ["btrfs", "balance", "start", *(filters or ["--full-balance"]), "--", mountpoint]
        super().__init__(pool, mountpoint, locks, lease, argv)
        self.mountpoint = mountpoint

    def cancel_argv(self) -> list[str]:
        return ["btrfs", "balance", "cancel", "--", self.mountpoint]

    async def _running(self) -> Progress:
        result = await btrfs_query("balance", "status", "--", self.mountpoint)
        status = parse.parse_balance_status(result.stdout)
        message = f"{status['chunks_done']} of about {status['chunks_total']} chunks balanced"
        return Progress(RUNNING, min(99.9, status["percent"]), message)

    async def _final(self, returncode: int, out: str, err: str) -> Progress:
        if returncode == 0:
            return Progress(DONE, 100.0, out.strip().splitlines()[-1] if out.strip() else "balanced")
        return self.failure(returncode, out, err)
