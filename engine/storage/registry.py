"""The pools this engine created or imported, remembered under the data dir so that they are mounted again
at start (what ``zpool import`` does at boot for ZFS) and so that the engine can tell its own pools
from others it merely sees.

File: ``<data dir>/storage/pools.json`` (0600), a list of records:
``{"name", "type", "uuid", "devices", "mountpoint", "auto_import", "created_unix"}``.
``auto_import`` is cleared by an export (the operator took the pool away on purpose) and set again
by an import; a destroy forgets the pool.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from engine.errors import NotFound
from engine.storage.state import read_json, write_json


class PoolRegistry:
    def __init__(self, data_dir: Path | str) -> None:
        self.path = Path(data_dir) / "storage" / "pools.json"

    def _load(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = read_json(self.path, [])
        return records

    def records(self) -> list[dict[str, Any]]:
        return sorted(self._load(), key=lambda r: r["name"])

    def get(self, name: str) -> dict[str, Any] | None:
        return next((r for r in self._load() if r["name"] == name), None)

    def remember(self, name: str, pool_type: str, uuid: str, devices: list[str], mountpoint: str) -> dict[str, Any]:
        record = {
            "name": name,
            "type": pool_type,
            "uuid": uuid,
            "devices": devices,
            "mountpoint": mountpoint,
            "auto_import": True,
            "created_unix": time.time(),
        }
        write_json(self.path, [r for r in self._load() if r["name"] != name] + [record])
        return record

    def update(self, name: str, **fields: Any) -> dict[str, Any]:
        records = self._load()
        record = next((r for r in records if r["name"] == name), None)
        if record is None:
            raise NotFound(f"pool {name!r} is not one the engine remembers")
        record.update(fields)
        write_json(self.path, records)
        return record

    def forget(self, name: str) -> bool:
        records = self._load()
        kept = [r for r in records if r["name"] != name]
        if len(kept) != len(records):
            write_json(self.path, kept)
        return len(kept) != len(records)
