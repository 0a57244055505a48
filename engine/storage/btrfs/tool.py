"""Running ``btrfs``: operations raise with the tool's own message, queries leave it to the caller."""

from __future__ import annotations

from engine.common.commands import C_LOCALE, ToolOutput, run_checked, run_tool

PACKAGE = "btrfs-progs"


async def btrfs(*args: str, timeout: float = 30.0, ok_codes: tuple[int, ...] = (0,)) -> ToolOutput:
    """``btrfs ARGS`` for an operation: Unsupported when absent, ToolFailed with its own message."""
    return await run_checked(["btrfs", *args], timeout, package=PACKAGE, ok_codes=ok_codes)


async def btrfs_query(*args: str, timeout: float = 15.0) -> ToolOutput:
    """``btrfs ARGS`` for a listing: the caller decides what a failure means."""
    return await run_tool(["btrfs", *args], timeout, env=C_LOCALE)
