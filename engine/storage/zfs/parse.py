"""Parsers for ``zpool``/``zfs`` output in two dialects: OpenZFS 2.x (cmd/zpool/zpool_main.c,
cmd/zfs/zfs_main.c; ``-H`` is tab-separated, ``-p`` prints exact numbers, ``-P`` full device paths)
and zfs-fuse (pool version 23, the OpenSolaris commands of 2010: no ``-p`` on ``zpool list`` or
``zfs list``, no ``-p``/``-P`` on ``zpool status``, a ``scrub:`` line instead of ``scan:``). Where
zfs-fuse prints sizes only for people, the numbers are read back from them (3 significant digits)."""

from __future__ import annotations

import os
import re
import time
from typing import Any

ZPOOL_FIELDS = ("name", "size", "alloc", "free", "frag", "cap", "dedup", "health", "guid")
ZPOOL_ARGV = ["zpool", "list", "-H", "-p", "-o", ",".join(ZPOOL_FIELDS)]
# zfs-fuse's zpool list has no -p (sizes like 123M) and no fragmentation
ZPOOL_FUSE_FIELDS = ("name", "size", "alloc", "free", "cap", "dedup", "health", "guid")
ZPOOL_FUSE_ARGV = ["zpool", "list", "-H", "-o", ",".join(ZPOOL_FUSE_FIELDS)]
_NICE = {"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40, "P": 1 << 50, "E": 1 << 60}


def _num(text: str, kind: type = int) -> Any:
    text = text.strip().rstrip("%x")
    if text in ("", "-"):
        return kind(0)
    try:
        return kind(float(text)) if kind is int else kind(text)
    except ValueError:  # a size printed for people (zfs-fuse has no -p)
        return kind(nicenum(text))


def nicenum(text: str) -> int:
    """zfs_nicenum output (``1.2K``, ``456G``, ``0B``, ``12``) back to a number (approximately)."""
    m = re.fullmatch(r"([\d.]+)([BKMGTPE]?)i?B?", text.strip())
    return int(float(m.group(1)) * _NICE[m.group(2)]) if m else 0


def parse_zpool_list(text: str, fields: tuple[str, ...] = ZPOOL_FIELDS) -> list[dict[str, Any]]:
    """Rows of ``zpool list -H -p -o name,size,alloc,free,frag,cap,dedup,health[,guid]`` (or of
    zfs-fuse's ``zpool list -H -o`` ZPOOL_FUSE_FIELDS)."""
    pools = []
    for line in text.splitlines():
        if not line.strip():
            continue
        cols = dict(zip(fields, line.split("\t"), strict=False))
        pools.append(
            {
                "name": cols["name"],
                "type": "zfs",
                "health": cols.get("health", "UNKNOWN"),
                "uuid": cols.get("guid", "").strip(),
                "size_bytes": _num(cols.get("size", "")),
                "allocated_bytes": _num(cols.get("alloc", "")),
                "free_bytes": _num(cols.get("free", "")),
                "capacity_percent": _num(cols.get("cap", ""), float),
                "fragmentation_percent": _num(cols.get("frag", ""), float),
                "dedup_ratio": _num(cols.get("dedup", ""), float),
                "level": "",
                "devices": [],
            }
        )
    return pools


_CTIME = "%a %b %d %H:%M:%S %Y"


def _ctime(text: str) -> float:
    return time.mktime(time.strptime(" ".join(text.split()), _CTIME))


# zfs-fuse (print_scrub_status of 2010): "scrub completed after 0h0m with 0 errors on <ctime>",
# "resilver stopped after ...", "scrub in progress for 0h1m, 12.34% done, 0h9m to go"
_FUSE_SCAN = re.compile(
    r"(scrub|resilver) (?:(completed|stopped) after (\d+)h(\d+)m with (\d+) errors on (.+?\d{4})"
    r"|in progress for (\d+)h(\d+)m, ([\d.]+)% done)"
)


def _fuse_scan(m: re.Match[str], out: dict[str, Any]) -> None:
    out["function"] = m.group(1)
    if m.group(2):
        h, mi = int(m.group(3)), int(m.group(4))
        out.update(
            state="finished" if m.group(2) == "completed" else "aborted",
            errors=int(m.group(5)),
            finished_unix=_ctime(m.group(6)),
            duration_s=(h * 60 + mi) * 60,
        )
        out["percent"] = 100.0 if m.group(2) == "completed" else 0.0
    else:  # the start is printed as an elapsed time in minutes: started_unix stays unknown (0)
        out.update(state="running", percent=float(m.group(9)))


def parse_scan(lines: list[str]) -> dict[str, Any]:
    """The ``scan:`` paragraph of ``zpool status``: what ran (scrub/resilver), its state and counts."""
    text = " ".join(line.strip() for line in lines)
    out: dict[str, Any] = {
        "function": "",
        "state": "never",
        "percent": 0.0,
        "repaired_bytes": 0,
        "errors": 0,
        "started_unix": 0.0,
        "finished_unix": 0.0,
        "duration_s": 0,
    }
    if m := re.match(r"(scrub|resilver) in progress since (.+?\d{4})", text):
        out.update(function=m.group(1), state="running", started_unix=_ctime(m.group(2)))
    elif m := re.match(r"scrub paused since (.+?\d{4})", text):
        out.update(function="scrub", state="paused", started_unix=_ctime(m.group(1)))
    elif m := re.match(r"(scrub|resilver) canceled on (.+?\d{4})", text):
        out.update(function=m.group(1), state="aborted", finished_unix=_ctime(m.group(2)))
    elif m := re.match(
        r"(scrub repaired|resilvered) (\S+) in (?:(\d+) days )?(\d+):(\d+):(\d+) with (\d+) errors"
        r" on (.+?\d{4})",
        text,
    ):
        days, h, mi, s = (int(x or 0) for x in m.group(3, 4, 5, 6))
        out.update(
            function="scrub" if m.group(1).startswith("scrub") else "resilver",
            state="finished",
            repaired_bytes=nicenum(m.group(2)),
            errors=int(m.group(7)),
            finished_unix=_ctime(m.group(8)),
            duration_s=((days * 24 + h) * 60 + mi) * 60 + s,
            percent=100.0,
        )
    elif m := _FUSE_SCAN.match(text):
        _fuse_scan(m, out)
        return out
    if out["state"] == "running":
        if m := re.search(r"([\d.]+)% done", text):
            out["percent"] = float(m.group(1))
        if m := re.search(r"(\S+) (?:repaired|resilvered),", text):
            out["repaired_bytes"] = nicenum(m.group(1))
    return out


_VDEV = re.compile(
    r"^\t(?P<indent> *)(?P<name>\S+)\s+(?P<state>[A-Z]+)"
    r"(?:\s+(?P<read>\S+)\s+(?P<write>\S+)\s+(?P<cksum>\S+))?(?:\s+(?P<note>.*))?$"
)
_GROUP = re.compile(r"(mirror|raidz\d?|draid\d?\S*|replacing|spare)-\d+")  # interior vdevs, not disks


def _vdev(m: re.Match[str], depth: int) -> dict[str, Any]:
    counts = [nicenum(m.group(k) or "0") for k in ("read", "write", "cksum")]
    name = m.group("name")
    return {
        "name": name,
        "state": m.group("state"),
        "depth": depth,
        "read_errors": counts[0],
        "write_errors": counts[1],
        "checksum_errors": counts[2],
        "note": (m.group("note") or "").strip(),
        "group": bool(_GROUP.fullmatch(name)),
    }


_HEADERS = ("pool", "id", "state", "status", "action", "see", "scan", "scrub", "remove", "config", "errors")


def parse_zpool_status(text: str) -> list[dict[str, Any]]:
    """``zpool status [-p] [-P]``: per pool its state, scan, vdev tree (flattened with depth) and errors.
    Also reads the listing of ``zpool import`` (pools that can be imported: ``id``, ``state``, the
    tree without counters)."""
    pools: list[dict[str, Any]] = []
    pool: dict[str, Any] | None = None
    section = ""
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in _HEADERS:
            section = "scan" if key.strip() == "scrub" else key.strip()  # zfs-fuse says scrub:
            if section == "pool":
                pool = {
                    "name": value.strip(),
                    "id": "",
                    "state": "",
                    "status": "",
                    "scan_lines": [],
                    "remove_lines": [],
                    "vdevs": [],
                    "errors": "",
                }
                pools.append(pool)
            elif pool is not None and section in ("id", "state", "status", "errors"):
                pool[section] = value.strip()
            elif pool is not None and section in ("scan", "remove"):
                pool[f"{section}_lines"].append(value.strip())
            continue
        if pool is None:
            continue
        if section in ("scan", "remove") and line.startswith("\t"):
            pool[f"{section}_lines"].append(line.strip())
        elif section == "config" and (m := _VDEV.match(line)) and m.group("name") != "NAME":
            pool["vdevs"].append(_vdev(m, len(m.group("indent")) // 2))
    for p in pools:
        p["scan"] = parse_scan(p.pop("scan_lines"))
        p["remove"] = " ".join(p.pop("remove_lines"))
    return pools


def leaf_path(name: str) -> str:
    """A leaf vdev's device path: zpool status without -P (and zfs-fuse always) names a device in
    /dev by its short name (``sdb``, ``loop0``); files and -P print paths; a missing device is its guid."""
    return name if name.startswith("/") or name.isdigit() else f"/dev/{name}"


def leaf_named(device: str, vdevs: list[dict[str, Any]]) -> str | None:
    """The path (or guid) of the leaf vdev ``device`` names: by path, short name, the same file
    through a symlink, or a missing device's old path ("was /dev/sdc")."""
    real = os.path.realpath(device) if device.startswith("/") else ""
    for vdev in vdevs:
        if vdev["depth"] < 1 or vdev["group"]:
            continue
        path = leaf_path(vdev["name"])
        was = vdev["note"].removeprefix("was ") if vdev["note"].startswith("was /") else ""
        if device in (vdev["name"], path, was) or (real and real in (os.path.realpath(path), was)):
            return path
    return None


def layout(vdevs: list[dict[str, Any]]) -> str:
    """The data layout of a pool from its top-level vdevs: mirror, raidz2, stripe..."""
    tops = {re.sub(r"-\d+$", "", v["name"]) for v in vdevs if v["depth"] == 1 and v["group"]}
    return ",".join(sorted(tops)) or "stripe"


DATASET_FIELDS = ("name", "used", "avail", "refer", "usedbydataset", "quota", "mountpoint", "creation")
SNAPSHOT_FIELDS = ("name", "creation", "used", "refer")


def parse_zfs_list(text: str, fields: tuple[str, ...]) -> list[dict[str, Any]]:
    """``zfs list -H -p -o <fields>``: one dict per row; numbers as int, ``-``/``none`` as 0."""
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        row: dict[str, Any] = dict(zip(fields, line.split("\t"), strict=False))
        for key in fields:
            if key not in ("name", "mountpoint"):
                value = row.get(key, "")
                row[key] = int(value) if value.isdigit() else 0
        rows.append(row)
    return rows


# what ``zfs get -o name,property,value`` calls the columns ``zfs list`` abbreviates
_GET_NAMES = {"avail": "available", "refer": "referenced"}


def get_properties(fields: tuple[str, ...]) -> str:
    """The property list for ``zfs get`` that gives ``fields`` of ``zfs list`` (and each row's type)."""
    return ",".join(["type", *(_GET_NAMES.get(f, f) for f in fields if f != "name")])


def parse_zfs_get(text: str, fields: tuple[str, ...], kind: str) -> list[dict[str, Any]]:
    """``zfs get -H -p -o name,property,value <get_properties(fields)>``, one row per dataset of
    type ``kind`` (filesystem, snapshot) in the shape of parse_zfs_list: what zfs-fuse has for exact
    numbers, since its ``zfs list`` has no -p."""
    wanted = {_GET_NAMES.get(f, f): f for f in fields}
    by_name: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        name, _, rest = line.partition("\t")
        prop, _, value = rest.partition("\t")
        if name and prop:
            by_name.setdefault(name, {"name": name})[wanted.get(prop, prop)] = value
    lines = ["\t".join(row.get(f, "") for f in fields) for row in by_name.values() if row.get("type") == kind]
    return parse_zfs_list("\n".join(lines), fields)
