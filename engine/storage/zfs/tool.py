"""Running ``zpool`` and ``zfs``: operations raise with the tool's own message; queries are asked in
OpenZFS's form first and, when the tool answers ``invalid option`` (zfs-fuse, pool version 23, has
no ``-p``/``-P``), again in zfs-fuse's form. No dialect is remembered: a machine may change tools.

Operands come after ``--`` wherever the subcommand parses options with getopt, so a device named
``-f`` is a device. Two zfs-fuse subcommands take no options at all and read ``--`` as an operand
(``zpool remove``, ``zfs set``; recorded in tests/fixtures/zfs/fuse_no_dashdash_remove_set.txt):
their operands go through ``operand()``, which refuses anything starting with ``-``.
"""

from __future__ import annotations

import asyncio
import shutil
from typing import Any

from engine.common.commands import C_LOCALE, ToolOutput, operand, run_checked, run_tool
from engine.errors import ToolFailed, Unsupported
from engine.storage.zfs.parse import (
    ZPOOL_ARGV,
    ZPOOL_FUSE_ARGV,
    ZPOOL_FUSE_FIELDS,
    get_properties,
    parse_zfs_get,
    parse_zfs_list,
    parse_zpool_list,
    parse_zpool_status,
)

__all__ = ["NOT_INSTALLED", "PACKAGE", "available", "datasets", "importable", "operand", "query", "run", "unmounting"]
PACKAGE = "zfsutils-linux"
NOT_INSTALLED = "ZFS is not installed on this machine (zpool/zfs not found; Debian package zfsutils-linux)"


def available() -> bool:
    return shutil.which("zpool") is not None and shutil.which("zfs") is not None


async def run(*argv: str, timeout: float = 60.0) -> ToolOutput:
    """An operation: Unsupported without ZFS, ToolFailed with the tool's own first line."""
    if not available():
        raise Unsupported(NOT_INSTALLED, metadata={"tool": "zpool"})
    return await run_checked(list(argv), timeout, package=PACKAGE)


BUSY_RETRIES, BUSY_WAIT_S = 10, 0.5


async def unmounting(*argv: str) -> None:
    """export/destroy of a pool or a dataset, which unmount: "pool/dataset is busy" is waited out for up
    to 5 s (zfs-fuse's FUSE mounts stay busy a moment after their last use: 1 live run in 8 here; a
    dataset's destroy was seen busy under a loaded suite), then stands."""
    for attempt in range(BUSY_RETRIES):
        try:
            await run(*argv, timeout=120.0)
            return
        except ToolFailed as exc:
            if "is busy" not in exc.message or attempt == BUSY_RETRIES - 1:  # pool or dataset
                raise
        await asyncio.sleep(BUSY_WAIT_S)


async def query(openzfs: list[str], fuse: list[str], timeout: float = 30.0) -> tuple[ToolOutput, bool]:
    """(output, True when it came from the zfs-fuse form)."""
    try:
        return await run(*openzfs, timeout=timeout), False
    except ToolFailed as exc:
        if "invalid option" not in exc.message:
            raise
    return await run(*fuse, timeout=timeout), True


async def zpool_list() -> list[dict[str, Any]]:
    out, fuse = await query(ZPOOL_ARGV, ZPOOL_FUSE_ARGV, 15.0)
    return parse_zpool_list(out.stdout, ZPOOL_FUSE_FIELDS) if fuse else parse_zpool_list(out.stdout)


async def zpool_status(pool: str = "") -> list[dict[str, Any]]:
    """``zpool status`` of one pool (or all): with -P, full device paths, where OpenZFS has it."""
    tail = ["--", pool] if pool else []
    out, _ = await query(["zpool", "status", "-p", "-P", *tail], ["zpool", "status", *tail])
    return parse_zpool_status(out.stdout)


async def datasets(targets: list[str], fields: tuple[str, ...], kind: str, depth: int | None) -> list[dict[str, Any]]:
    """``zfs list -H -p`` rows of type ``kind`` under ``targets`` (``depth`` levels, None: all);
    zfs-fuse's list has no -p, so there the same rows come from ``zfs get -H -p``."""
    levels = ["-r"] if depth is None else ["-d", str(depth)]
    openzfs = ["zfs", "list", "-H", "-p", "-t", kind, *levels, "-o", ",".join(fields), "--", *targets]
    fuse = ["zfs", "get", "-H", "-p", *levels, "-o", "name,property,value", get_properties(fields), "--", *targets]
    out, from_fuse = await query(openzfs, fuse)
    return parse_zfs_get(out.stdout, fields, kind) if from_fuse else parse_zfs_list(out.stdout, fields)


async def importable() -> list[dict[str, Any]]:
    """Pools ``zpool import`` finds on this machine's devices that are not imported (exported, or
    from another system), in parse_zpool_status's shape with their ``id``. Nothing found: []."""
    if not available():
        return []
    result = await run_tool(["zpool", "import"], 120.0, env=C_LOCALE)
    if result.returncode != 0 and not result.stdout.strip():
        # "no pools available to import"; a daemon or permission failure is the listing's to report
        return []
    return parse_zpool_status(result.stdout)
