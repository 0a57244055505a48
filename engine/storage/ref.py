"""What the manager hands a backend: one resolved pool."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.storage.models import Pool


@dataclass
class PoolRef:
    name: str
    type: str  # "btrfs" | "zfs"
    uuid: str = ""
    mountpoint: str = ""  # where the whole pool is mounted, "" when it is not (exported)
    info: dict[str, Any] = field(default_factory=dict)  # btrfs: its filesystem show entry
    pool: Pool | None = None  # ZFS: the pool as zpool list (or zpool import) shows it
