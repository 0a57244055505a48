"""SMART health from ``smartctl --json``."""

from __future__ import annotations

from typing import Any

import orjson


def parse_smartctl(text: str) -> dict[str, Any]:
    """The health summary of ``smartctl -j -H -A DEVICE``."""
    data = orjson.loads(text)
    messages = [m.get("string", "") for m in data.get("smartctl", {}).get("messages", [])]
    if "smart_status" not in data:
        return {"available": False, "detail": "; ".join(messages) or "device reports no SMART status"}
    realloc = 0
    for attr in data.get("ata_smart_attributes", {}).get("table", []):
        if attr.get("id") == 5:
            realloc = int(attr.get("raw", {}).get("value", 0))
    return {
        "available": True,
        "passed": bool(data["smart_status"].get("passed")),
        "temperature_c": int(data.get("temperature", {}).get("current", 0)),
        "power_on_hours": int(data.get("power_on_time", {}).get("hours", 0)),
        "reallocated_sectors": realloc,
        "detail": "; ".join(messages),
    }
