"""Disk health from ``smartctl --json`` (smartmontools 7+): ATA/SATA, NVMe and SCSI/SAS.

A counter a protocol does not have (reallocated sectors on NVMe, wear on a spinning disk) is 0;
``protocol`` says which apply. A device that answers no SMART (virtio, many USB bridges) gives
``available: false`` with smartctl's own reason. The parsers give dicts; ``smart_info`` makes the
SmartInfo record (engine/storage/models.py) the domain answers.
"""

from __future__ import annotations

from typing import Any

import orjson

from engine.common.commands import run_tool
from engine.errors import InvalidArgument, ToolFailed, Unsupported
from engine.storage.models import SelfTestResult, SelfTestStarted, SelfTestState, SmartAttribute, SmartInfo, from_fields

# smartctl(8) EXIT STATUS: a bit mask, and most bits are findings about the disk, not failures to run
EXIT_BITS = (
    "command line did not parse",
    "device open failed, or the device did not identify itself (or is asleep)",
    "a SMART or other command to the disk failed, or a SMART data structure failed its checksum",
    "SMART status check returned DISK FAILING",
    "prefail attributes are at or below their threshold",
    "some attributes were at or below their threshold at some time in the past",
    "the device error log contains records of errors",
    "the device self-test log contains records of errors",
)
ATA_IDS = {
    5: "reallocated_sectors",
    196: "reallocated_events",
    197: "pending_sectors",
    198: "offline_uncorrectable",
    199: "udma_crc_errors",
}


NO_DEVICE = 0b011  # bits 0-1: smartctl could not talk to the disk at all
COMMAND_FAILED = 0b100  # bit 2: a command to the disk failed (for -t: the disk refused the self-test)


def decode_exit_status(status: int) -> list[str]:
    return [meaning for bit, meaning in enumerate(EXIT_BITS) if status & (1 << bit)]


def _ata(data: dict[str, Any], out: dict[str, Any]) -> None:
    for attr in data.get("ata_smart_attributes", {}).get("table", []):
        if attr.get("id") in ATA_IDS:
            out[ATA_IDS[attr["id"]]] = int(attr.get("raw", {}).get("value", 0))
        if attr.get("when_failed") or (attr.get("thresh", 0) and attr.get("value", 255) <= attr["thresh"]):
            out["failing_attributes"].append(
                {
                    "id": attr.get("id", 0),
                    "name": attr.get("name", ""),
                    "value": attr.get("value", 0),
                    "threshold": attr.get("thresh", 0),
                    "when_failed": attr.get("when_failed") or "now",
                }
            )


def _nvme(data: dict[str, Any], out: dict[str, Any]) -> None:
    log = data.get("nvme_smart_health_information_log", {})
    out.update(
        nvme_critical_warning=int(log.get("critical_warning", 0)),
        percentage_used=int(log.get("percentage_used", 0)),  # wear: 100 is the rated endurance, may exceed it
        available_spare_percent=int(log.get("available_spare", 0)),
        media_errors=int(log.get("media_errors", 0)),
        unsafe_shutdowns=int(log.get("unsafe_shutdowns", 0)),
    )


def _scsi(data: dict[str, Any], out: dict[str, Any]) -> None:
    counters = data.get("scsi_error_counter_log", {})
    out["uncorrected_errors"] = sum(int(counters.get(k, {}).get("total_uncorrected_errors", 0)) for k in counters)
    out["reallocated_sectors"] = int(data.get("scsi_grown_defect_list", 0))  # SCSI's reallocations: grown defects


def parse_smartctl(text: str) -> dict[str, Any]:
    """The health summary of ``smartctl -j -a`` (or ``-x``, ``-H -A``) for one device."""
    data = orjson.loads(text)
    head = data.get("smartctl", {})
    messages = [m.get("string", "") for m in head.get("messages", [])]
    status = int(head.get("exit_status", 0))
    if "smart_status" not in data:
        return {
            "available": False,
            "detail": "; ".join(messages) or "device reports no SMART status",
            "exit_status": status,
            "exit_flags": decode_exit_status(status),
        }
    device = data.get("device", {})
    out: dict[str, Any] = {
        "available": True,
        "passed": bool(data["smart_status"].get("passed")),
        "detail": "; ".join(messages),
        "device": device.get("name", ""),
        "protocol": device.get("protocol", ""),
        "model": data.get("model_name", ""),
        "serial": data.get("serial_number", ""),
        "firmware": data.get("firmware_version", ""),
        "capacity_bytes": int(data.get("user_capacity", {}).get("bytes", 0)),
        "temperature_c": int(data.get("temperature", {}).get("current", 0)),
        "power_on_hours": int(data.get("power_on_time", {}).get("hours", 0)),
        "power_cycles": int(data.get("power_cycle_count", 0)),
        "reallocated_sectors": 0,
        "reallocated_events": 0,
        "pending_sectors": 0,
        "offline_uncorrectable": 0,
        "udma_crc_errors": 0,
        "uncorrected_errors": 0,
        "nvme_critical_warning": 0,
        "percentage_used": 0,
        "available_spare_percent": 0,
        "media_errors": 0,
        "unsafe_shutdowns": 0,
        "failing_attributes": [],
        "exit_status": status,
        "exit_flags": decode_exit_status(status),
        "self_test": parse_self_tests(data),
    }
    {"ATA": _ata, "NVMe": _nvme, "SCSI": _scsi}.get(out["protocol"], _ata)(data, out)
    return out


def parse_self_tests(data: dict[str, Any]) -> dict[str, Any]:
    """Self-test state from ``-c -l selftest`` (or ``-a``): one running now, and the latest result."""
    out: dict[str, Any] = {
        "in_progress": False,
        "remaining_percent": 0,
        "short_minutes": 0,
        "extended_minutes": 0,
        "last": None,
    }
    ata = data.get("ata_smart_data", {}).get("self_test", {})
    if ata:
        value = int(ata.get("status", {}).get("value", 0))
        out["in_progress"] = value >> 4 == 0xF  # high nibble 15: a test is running
        out["remaining_percent"] = int(ata.get("status", {}).get("remaining_percent", 0))
        out["short_minutes"] = int(ata.get("polling_minutes", {}).get("short", 0))
        out["extended_minutes"] = int(ata.get("polling_minutes", {}).get("extended", 0))
        table = data.get("ata_smart_self_test_log", {}).get("standard", {}).get("table", [])
        if table:
            last = table[0]
            status = last.get("status", {})
            out["last"] = {
                "type": last.get("type", {}).get("string", ""),
                "status": status.get("string", ""),
                "passed": bool(status.get("passed", False)),
                "lba": int(last.get("lba", 0)),
                "lifetime_hours": int(last.get("lifetime_hours", 0)),
            }
    nvme = data.get("nvme_self_test_log", {})
    if nvme:
        current = nvme.get("current_self_test_operation", {})
        out["in_progress"] = int(current.get("value", 0)) != 0
        out["remaining_percent"] = 100 - int(nvme.get("current_self_test_completion_percent", 100))
        table = nvme.get("table", [])
        if table:
            last = table[0]
            result = last.get("self_test_result", {})
            out["last"] = {
                "type": last.get("self_test_code", {}).get("string", ""),
                "status": result.get("string", ""),
                "passed": int(result.get("value", 1)) == 0,
                "lba": int(last.get("lba", 0)),
                "lifetime_hours": int(last.get("power_on_hours", 0)),
            }
    return out


def smart_info(parsed: dict[str, Any], device: str = "") -> SmartInfo:
    """parse_smartctl's dict as the record; ``device`` is the path asked for, when smartctl names none."""
    fields: dict[str, Any] = {}
    if "device" not in parsed and device:
        fields["device"] = device
    if "exit_flags" in parsed:
        fields["exit_flags"] = tuple(parsed["exit_flags"])
    if "failing_attributes" in parsed:
        fields["failing_attributes"] = tuple(SmartAttribute(**a) for a in parsed["failing_attributes"])
    if "self_test" in parsed:
        state = parsed["self_test"]
        last = SelfTestResult(**state["last"]) if state["last"] else None
        fields["self_test"] = from_fields(SelfTestState, state, last=last)
    return from_fields(SmartInfo, parsed, **fields)


def _messages(data: dict[str, Any]) -> str:
    return "; ".join(m.get("string", "") for m in data.get("smartctl", {}).get("messages", []))


async def _smartctl(device: str, *args: str, timeout: float = 30.0) -> dict[str, Any]:
    result = await run_tool(["smartctl", "-j", *args, "--", device], timeout)
    if not result.found:
        raise Unsupported("smartctl is not installed on this machine (package smartmontools)")
    try:
        data: dict[str, Any] = orjson.loads(result.stdout)
    except orjson.JSONDecodeError:
        raise Unsupported(f"{device}: {result.reason()}") from None
    status = int(data.get("smartctl", {}).get("exit_status", result.returncode))
    if status & NO_DEVICE:
        messages = _messages(data)
        raise Unsupported(
            f"{device} has no SMART: {messages or decode_exit_status(status)[0]}",
            code="no_smart",
            metadata={"device": device},
        )
    return data


async def read_smart(device: str, *, extended: bool = False) -> SmartInfo:
    """``smartctl -j -a`` (``-x`` when ``extended``) of one device; no SMART raises Unsupported."""
    parsed = parse_smartctl(orjson.dumps(await _smartctl(device, "-x" if extended else "-a")).decode())
    return smart_info(parsed, device)


async def start_self_test(device: str, kind: str = "short") -> SelfTestStarted:
    """Start a short or long self-test; the disk runs it on its own (minutes to hours)."""
    if kind not in ("short", "long"):
        raise InvalidArgument(f"self-test kind must be short or long, got {kind!r}", code="invalid_argument")
    # -l selftest: an NVMe disk reports a running test only in its self-test log, not in -c
    before = parse_self_tests(await _smartctl(device, "-c", "-l", "selftest"))
    if before["in_progress"]:
        raise InvalidArgument(
            f"{device} is already running a self-test ({before['remaining_percent']}% left)", code="self_test_running"
        )
    started = await _smartctl(device, "-t", kind)
    status = int(started.get("smartctl", {}).get("exit_status", 0))
    if status & COMMAND_FAILED:  # the other bits are findings about the disk, not about this command
        raise ToolFailed(
            f"{device} refused the {kind} self-test: {_messages(started) or EXIT_BITS[2]}",
            code="selftest_refused",
            metadata={"device": device, "exit_status": status},
        )
    minutes = before["short_minutes"] if kind == "short" else before["extended_minutes"]
    return SelfTestStarted(device, kind, True, minutes)


async def self_test_status(device: str) -> dict[str, Any]:
    """Whether a self-test runs now and the latest logged result (``-c -l selftest``)."""
    return {"device": device, **parse_self_tests(await _smartctl(device, "-c", "-l", "selftest"))}
