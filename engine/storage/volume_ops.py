"""Volume and snapshot operations of the StorageManager (kept apart to keep each file small).

Volumes are btrfs subvolumes or ZFS datasets; snapshots are read-only. These are short operations:
they hold the pool's key (``pool:<name>``) in the "volume" group, which a running scrub lets through.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.errors import InvalidArgument
from engine.jobs.locks import VOLUME, pool_key
from engine.storage.models import DeletedSnapshot, DeletedVolume, Snapshot, Volume
from engine.storage.names import check_name, require_confirm

if TYPE_CHECKING:
    from engine.jobs.locks import LockTable


def _quota(quota_bytes: int) -> int:
    if not isinstance(quota_bytes, int) or quota_bytes < 0:
        raise InvalidArgument(
            f"quota_bytes must be a whole number of bytes >= 0 (0: none), got {quota_bytes!r}", code="invalid_quota"
        )
    return quota_bytes


class VolumeOperations:
    locks: LockTable

    async def resolve(self, name: str) -> tuple[Any, Any]:
        raise NotImplementedError

    async def _volume_call(self, pool: str, operation: str, method: str, *args: Any) -> Any:
        backend, ref = await self.resolve(pool)
        with self.locks.hold(pool_key(pool), operation, group=VOLUME):
            return await getattr(backend, method)(ref, *args)

    async def list_volumes(self, pool: str) -> list[Volume]:
        backend, ref = await self.resolve(pool)
        volumes: list[Volume] = await backend.list_volumes(ref)
        return volumes

    async def create_volume(self, pool: str, volume: str, *, quota_bytes: int = 0) -> Volume:
        check_name(volume, "volume")
        created: Volume = await self._volume_call(pool, "create_volume", "create_volume", volume, _quota(quota_bytes))
        return created

    async def set_quota(self, pool: str, volume: str, quota_bytes: int) -> Volume:
        check_name(volume, "volume")
        changed: Volume = await self._volume_call(pool, "set_quota", "set_quota", volume, _quota(quota_bytes))
        return changed

    async def delete_volume(
        self, pool: str, volume: str, *, confirm: str | None, with_snapshots: bool = False
    ) -> DeletedVolume:
        check_name(volume, "volume")
        require_confirm(confirm, volume, "deleting volume")
        await self._volume_call(pool, "delete_volume", "delete_volume", volume, with_snapshots)
        return DeletedVolume(pool, volume)

    async def list_snapshots(self, pool: str, volume: str | None = None) -> list[Snapshot]:
        if volume is not None:
            check_name(volume, "volume")
        backend, ref = await self.resolve(pool)
        snapshots: list[Snapshot] = await backend.list_snapshots(ref, volume)
        return snapshots

    async def create_snapshot(self, pool: str, volume: str, snapshot: str) -> Snapshot:
        check_name(volume, "volume")
        check_name(snapshot, "snapshot")
        created: Snapshot = await self._volume_call(pool, "create_snapshot", "create_snapshot", volume, snapshot)
        return created

    async def delete_snapshot(self, pool: str, volume: str, snapshot: str, *, confirm: str | None) -> DeletedSnapshot:
        check_name(volume, "volume")
        check_name(snapshot, "snapshot")
        require_confirm(confirm, snapshot, "deleting snapshot")
        await self._volume_call(pool, "delete_snapshot", "delete_snapshot", volume, snapshot)
        return DeletedSnapshot(pool, volume, snapshot)

    async def rollback(self, pool: str, volume: str, snapshot: str, *, confirm: str | None) -> Volume:
        """The volume's content becomes the snapshot's; ``confirm`` names the volume (its current
        content is what is lost)."""
        check_name(volume, "volume")
        check_name(snapshot, "snapshot")
        require_confirm(confirm, volume, "rolling back volume")
        rolled: Volume = await self._volume_call(pool, "rollback", "rollback", volume, snapshot)
        return rolled

    async def clone(self, pool: str, volume: str, snapshot: str, new_volume: str) -> Volume:
        for name, what in ((volume, "volume"), (snapshot, "snapshot"), (new_volume, "volume")):
            check_name(name, what)
        cloned: Volume = await self._volume_call(pool, "clone", "clone", volume, snapshot, new_volume)
        return cloned
