"""Parsers for the text btrfs-progs prints (checked against v6.2; run with LC_ALL=C).

Each takes the tool's stdout and returns plain data; the formats are those of btrfs-progs'
cmds/filesystem.c, filesystem-usage.c, device.c, scrub.c, subvolume-list.c and qgroup.c.
"""

from __future__ import annotations

import re
import time
from typing import Any

_UNITS = {
    "": 1,
    "B": 1,
    "KIB": 1 << 10,
    "MIB": 1 << 20,
    "GIB": 1 << 30,
    "TIB": 1 << 40,
    "PIB": 1 << 50,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
    "PB": 10**15,
}


def parse_size(text: str) -> int:
    """``"536870912"``, ``"512.00MiB"`` or ``"1.5TB"`` in bytes; ``"-"``/``"none"`` is 0 (no value)."""
    text = text.strip()
    if text in ("", "-", "none"):
        return 0
    match = re.fullmatch(r"([\d.]+)\s*([A-Za-z]*)", text)
    if not match:
        raise ValueError(f"not a size: {text!r}")
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def parse_local_time(text: str, fmt: str) -> float:
    """A local time the tool printed (strftime ``fmt``) as Unix seconds."""
    return time.mktime(time.strptime(" ".join(text.split()), fmt))


_LABEL = re.compile(r"^Label:\s+(?:'(?P<label>.*)'|none)\s+uuid:\s+(?P<uuid>\S+)\s*$")
_TOTAL = re.compile(r"^\s+Total devices (\d+) FS bytes used (\S+)")
_DEVID = re.compile(r"^\s+devid\s+(\d+) size (\S+) used (\S+) path (.*?)(\s+MISSING)?\s*$")


def parse_filesystem_show(text: str) -> list[dict[str, Any]]:
    """``btrfs filesystem show --raw``: one entry per filesystem with its devices."""
    filesystems: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for line in text.splitlines():
        if m := _LABEL.match(line):
            current = {
                "label": m.group("label") or "",
                "uuid": m.group("uuid"),
                "total_devices": 0,
                "used_bytes": 0,
                "devices": [],
                "missing_devices": False,
            }
            filesystems.append(current)
        elif current is None:
            continue
        elif m := _TOTAL.match(line):
            current["total_devices"], current["used_bytes"] = int(m.group(1)), parse_size(m.group(2))
        elif m := _DEVID.match(line):
            missing = bool(m.group(5)) or m.group(4) == "<missing disk>"
            current["devices"].append(
                {
                    "devid": int(m.group(1)),
                    "size_bytes": parse_size(m.group(2)),
                    "allocated_bytes": parse_size(m.group(3)),
                    "path": m.group(4),
                    "missing": missing,
                }
            )
            current["missing_devices"] |= missing
        elif "Some devices missing" in line:
            current["missing_devices"] = True
    return filesystems


_CHUNK = re.compile(r"^(Data|Metadata|System),([\w-]+): Size:(\S+), Used:(\S+)")
_OVERALL = {
    "Device size": "device_size_bytes",
    "Device allocated": "allocated_bytes",
    "Device unallocated": "unallocated_bytes",
    "Device missing": "missing_bytes",
    "Used": "used_bytes",
    "Free (estimated)": "free_bytes",
    "Data ratio": "data_ratio",
    "Metadata ratio": "metadata_ratio",
    "Global reserve": "global_reserve_bytes",
    "Multiple profiles": "multiple_profiles",
}


def parse_filesystem_usage(text: str) -> dict[str, Any]:
    """``btrfs filesystem usage -b``: overall figures and the profile of each block group type."""
    out: dict[str, Any] = {"profiles": {"data": [], "metadata": [], "system": []}, "chunks": []}
    for line in text.splitlines():
        if m := _CHUNK.match(line):
            kind, profile = m.group(1).lower(), m.group(2).lower()
            out["chunks"].append(
                {
                    "type": kind,
                    "profile": profile,
                    "size_bytes": parse_size(m.group(3)),
                    "used_bytes": parse_size(m.group(4)),
                }
            )
            if profile not in out["profiles"][kind]:
                out["profiles"][kind].append(profile)
            continue
        key, sep, value = line.strip().partition(":")
        field = _OVERALL.get(key)
        if not sep or field is None:
            continue
        first = value.split()[0] if value.split() else ""
        if field.endswith("_ratio"):
            out[field] = float(first or 0)
        elif field == "multiple_profiles":
            out[field] = first == "yes"
        else:
            out[field] = parse_size(first)
    return out


_STAT = re.compile(r"^\[(.+)\]\.(\w+)\s+(\d+)\s*$")


def parse_device_stats(text: str) -> dict[str, dict[str, int]]:
    """``btrfs device stats``: the five error counters per device path."""
    stats: dict[str, dict[str, int]] = {}
    for line in text.splitlines():
        if m := _STAT.match(line.strip()):
            stats.setdefault(m.group(1), {})[m.group(2)] = int(m.group(3))
    return stats


_SCRUB_ERRORS = ("read_errors", "csum_errors", "verify_errors", "super_errors")


def parse_scrub_status(text: str) -> dict[str, Any]:
    """``btrfs scrub status -R`` (all counters) or the summary form; never scrubbed gives ``never``."""
    out: dict[str, Any] = {
        "status": "never",
        "started_unix": 0.0,
        "duration_s": 0,
        "bytes_scrubbed": 0,
        "total_bytes": 0,
        "corrected_errors": 0,
        "uncorrectable_errors": 0,
        "unverified_errors": 0,
        **dict.fromkeys(_SCRUB_ERRORS, 0),
    }
    for raw in text.splitlines():
        key, sep, value = raw.strip().partition(":")
        value = value.strip()
        if not sep:
            continue
        if key in ("Scrub started", "Scrub resumed"):
            out["started_unix"] = parse_local_time(value, "%a %b %d %H:%M:%S %Y")
        elif key == "Status":
            out["status"] = value
        elif key == "Duration":
            h, m, s = (int(x) for x in value.split(":"))
            out["duration_s"] = h * 3600 + m * 60 + s
        elif key in ("data_bytes_scrubbed", "tree_bytes_scrubbed"):
            out["bytes_scrubbed"] += int(value)
        elif key == "Bytes scrubbed":
            out["bytes_scrubbed"] = parse_size(value.split()[0])
        elif key == "Total to scrub":
            out["total_bytes"] = parse_size(value)
        elif key == "Error summary":  # summary form: " csum=1 read=2" or " no errors found"
            for item in value.split():
                name, eq, count = item.partition("=")
                if eq and f"{name}_errors" in out:
                    out[f"{name}_errors"] = int(count)
        elif key in ("Corrected", "Uncorrectable", "Unverified"):
            out[f"{key.lower()}_errors"] = int(value)
        elif key in out and key.endswith("_errors"):
            out[key] = int(value)
    out["errors_found"] = sum(out[k] for k in _SCRUB_ERRORS)
    return out


_SUBVOL = re.compile(
    r"^ID (?P<id>\d+) gen (?P<gen>\d+)(?: cgen (?P<cgen>\d+))?(?: parent (?P<parent>\d+))?"
    r" top level (?P<top_level>\d+)(?: otime (?P<otime>\S+ \S+))?(?: parent_uuid (?P<parent_uuid>\S+))?"
    r"(?:\s+received_uuid (?P<received_uuid>\S+))?(?:\s+uuid (?P<uuid>\S+))? path (?P<path>.*)$"
)


def parse_subvolume_list(text: str) -> list[dict[str, Any]]:
    """``btrfs subvolume list [-s] [-p] [-u] [-q] [-R]``; the path is the rest of the line (may hold spaces)."""
    out = []
    for line in text.splitlines():
        m = _SUBVOL.match(line)
        if not m:
            continue
        g = m.groupdict()
        out.append(
            {
                "id": int(g["id"]),
                "gen": int(g["gen"]),
                "top_level": int(g["top_level"]),
                "path": g["path"],
                "parent_id": int(g["parent"] or 0),
                "uuid": g["uuid"] or "",
                "parent_uuid": "" if g["parent_uuid"] in (None, "-") else g["parent_uuid"],
                "created_unix": parse_local_time(g["otime"], "%Y-%m-%d %H:%M:%S") if g["otime"] else 0.0,
            }
        )
    return out


def parse_subvolume_show(text: str) -> dict[str, Any]:
    """``btrfs subvolume show --raw PATH``: identity, flags, creation time, and quota when enabled."""
    out: dict[str, Any] = {"snapshots": []}
    in_snapshots = False
    names = {
        "Name": "name",
        "UUID": "uuid",
        "Parent UUID": "parent_uuid",
        "Subvolume ID": "id",
        "Flags": "flags",
        "Creation time": "created",
        "Quota group": "qgroup",
        "Limit referenced": "limit_referenced",
        "Usage referenced": "referenced",
        "Usage exclusive": "exclusive",
    }
    lines = text.splitlines()
    out["path"] = lines[0].strip() if lines else ""
    for line in lines[1:]:
        key, sep, value = line.strip().partition(":")
        if in_snapshots and not sep:
            out["snapshots"].append(line.strip())
            continue
        in_snapshots = key == "Snapshot(s)"
        field = names.get(key)
        if sep and field:
            out[field] = value.strip()
    out["id"] = int(out.get("id", 0))
    out["readonly"] = "readonly" in out.get("flags", "")
    out["created_unix"] = parse_local_time(out.pop("created")[:19], "%Y-%m-%d %H:%M:%S") if "created" in out else 0.0
    for key in ("limit_referenced", "referenced", "exclusive"):
        out[f"{key}_bytes"] = parse_size(out.pop(key, "-"))
    for key in ("uuid", "parent_uuid"):
        out[key] = "" if out.get(key, "-") == "-" else out[key]
    return out


_QGROUP = re.compile(r"^(\d+/\d+)\s+(\d+)\s+(\d+)(?:\s+(\d+|none)\s+(\d+|none))?(?:\s+(.*))?$")


def parse_qgroup_show(text: str) -> dict[str, dict[str, Any]]:
    """``btrfs qgroup show --raw [-r -e]``: bytes per qgroup id ("0/<subvolume id>"); limits 0 = none."""
    out: dict[str, dict[str, Any]] = {}
    for line in text.splitlines():
        m = _QGROUP.match(line.strip())
        if not m:
            continue
        qid, rfer, excl, max_rfer, max_excl, path = m.groups()
        out[qid] = {
            "referenced_bytes": int(rfer),
            "exclusive_bytes": int(excl),
            "limit_referenced_bytes": parse_size(max_rfer or ""),
            "limit_exclusive_bytes": parse_size(max_excl or ""),
            "path": (path or "").strip(),
        }
    return out


def parse_replace_status(text: str) -> dict[str, Any]:
    """``btrfs replace status -1``: one line, e.g. ``65.6% done, 0 write errs, 0 uncorr. read errs``."""
    line = text.strip().splitlines()[-1] if text.strip() else ""
    errs = re.search(r"(\d+) write errs, (\d+) uncorr\. read errs", line)
    out: dict[str, Any] = {
        "state": "unknown",
        "percent": 0.0,
        "write_errors": int(errs.group(1)) if errs else 0,
        "uncorrectable_read_errors": int(errs.group(2)) if errs else 0,
        "line": line,
    }
    if m := re.search(r"([\d.]+)% done", line):
        out.update(state="running", percent=float(m.group(1)))
    elif "finished on" in line:
        out.update(state="finished", percent=100.0)
    elif m := re.search(r"canceled on .* at ([\d.]+)%", line):
        out.update(state="canceled", percent=float(m.group(1)))
    elif "suspended on" in line:
        out["state"] = "suspended"
    elif "Never started" in line:
        out["state"] = "never"
    return out


def parse_balance_status(text: str) -> dict[str, Any]:
    """``btrfs balance status``: running/paused/none and ``N out of about M chunks balanced``."""
    out: dict[str, Any] = {"state": "none", "percent": 0.0, "chunks_done": 0, "chunks_total": 0}
    if "is running" in text:
        out["state"] = "running"
    elif "is paused" in text:
        out["state"] = "paused"
    if m := re.search(r"(\d+) out of about (\d+) chunks balanced \((\d+) considered\),\s+([\d.]+)% left", text):
        done, total = int(m.group(1)), int(m.group(2))
        out.update(chunks_done=done, chunks_total=total, percent=round(100.0 - float(m.group(4)), 1))
    return out
