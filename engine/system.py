"""Host figures from psutil: CPU, load, memory, disk and network I/O, uptime."""

from __future__ import annotations

import os
import socket
import time
from typing import Any

import psutil


def hostname() -> str:
    return socket.gethostname()


def boot_time() -> float:
    return float(psutil.boot_time())


def host_metrics() -> dict[str, Any]:
    """A snapshot; CPU percentages are since the previous call (psutil's non-blocking mode)."""
    memory = psutil.virtual_memory()
    swap = psutil.swap_memory()
    disk = psutil.disk_io_counters()
    net = psutil.net_io_counters()
    return {
        "timestamp_unix_ns": time.time_ns(),
        "cpu_percent": psutil.cpu_percent(interval=None),
        "per_cpu_percent": psutil.cpu_percent(interval=None, percpu=True),
        "load_average": list(os.getloadavg()),
        "memory": {"total": memory.total, "available": memory.available, "used": memory.used,
                   "percent": memory.percent},
        "swap": {"total": swap.total, "available": swap.free, "used": swap.used, "percent": swap.percent},
        "disk_io": io_dict(disk),
        "net_io": net_dict(net),
    }  # fmt: skip


def io_dict(counters: Any) -> dict[str, int]:
    if counters is None:  # no block devices with statistics (some containers)
        return {"read_bytes": 0, "write_bytes": 0, "read_count": 0, "write_count": 0}
    return {
        "read_bytes": counters.read_bytes,
        "write_bytes": counters.write_bytes,
        "read_count": counters.read_count,
        "write_count": counters.write_count,
    }


def net_dict(counters: Any) -> dict[str, int]:
    return {
        "bytes_sent": counters.bytes_sent,
        "bytes_recv": counters.bytes_recv,
        "packets_sent": counters.packets_sent,
        "packets_recv": counters.packets_recv,
        "errin": counters.errin,
        "errout": counters.errout,
    }
