"""What the manager hands a backend: one resolved pool."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class PoolRef:
    name: str
    type: str  # "btrfs" | "zfs"
    uuid: str = ""
    mountpoint: str = ""  # where the whole pool is mounted, "" when it is not (exported)
    info: dict[str, Any] = field(default_factory=dict)  # backend's own record (btrfs: filesystem show entry)
