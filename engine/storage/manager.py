"""The storage operations the frontends call, whatever the pool type.

This is where policy lives: names are checked, devices refused or accepted, destructive calls
confirmed, one mutating operation per pool enforced, the engine's own pools remembered. The tool
work is the backends' (btrfs/backend.py, zfs/backend.py). Every method returns a record of
models.py, or a LongOperation (operations.py) for the caller's job wrapper to drive.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import AlreadyExists, InvalidArgument, NotFound, Unsupported
from engine.jobs.locks import VOLUME_OPS, LockTable, pool_key
from engine.storage import devices, pools
from engine.storage.btrfs.backend import BtrfsBackend
from engine.storage.models import DestroyedPool, Pool, PoolListing, RestoreOutcome, ScrubStatus, Source
from engine.storage.names import check_name, require_confirm
from engine.storage.registry import PoolRegistry
from engine.storage.volume_ops import VolumeOperations
from engine.storage.zfs.backend import ZfsBackend

if TYPE_CHECKING:
    from engine.storage.operations import LongOperation
    from engine.storage.ref import PoolRef


class StorageManager(VolumeOperations):
    def __init__(self, pool_root: Path | str, data_dir: Path | str, *, locks: LockTable | None = None) -> None:
        self.pool_root = Path(pool_root)
        self.registry = PoolRegistry(data_dir)
        self.locks = locks or LockTable()  # the JobManager's, in a running engine
        self.btrfs, self.zfs = BtrfsBackend(), ZfsBackend()
        # the listing's sources as of its last run (system status shows them: ZFS installed but unusable...)
        self.sources: tuple[Source, ...] = ()

    def _backend(self, pool_type: str) -> Any:
        if pool_type not in ("btrfs", "zfs"):
            raise InvalidArgument(f"pool type {pool_type!r} is unknown; btrfs or zfs", code="invalid_pool_type")
        return self.btrfs if pool_type == "btrfs" else self.zfs

    async def resolve(self, name: str) -> tuple[Any, PoolRef]:
        check_name(name, "pool")
        record = self.registry.get(name)
        if record is not None:
            backend = self._backend(record["type"])
            ref = await backend.find(name, record.get("uuid", ""))
            if ref is None:
                raise NotFound(
                    f"pool {name!r} (created by this engine) is not present: its devices are missing",
                    code="pool_unavailable",
                    metadata={"pool": name},
                )
            return backend, ref
        for backend in (self.btrfs, self.zfs):
            try:
                ref = await backend.find(name)
            except Unsupported:  # no ZFS here, or ZFS unusable: it has no pools to find (the listing says why)
                continue
            if ref is not None:
                return backend, ref
        raise NotFound(f"no pool named {name!r}", metadata={"pool": name})

    # pools ------------------------------------------------------------------------------------
    async def list_pools(self) -> PoolListing:
        """Every pool on the machine (pools.list_pools), marked ``managed`` when the engine created it;
        a remembered pool whose devices are gone is listed as UNAVAILABLE rather than dropped."""
        listing = await pools.list_pools()
        self.sources = listing.sources
        records = {r["name"]: r for r in self.registry.records()}
        found: list[Pool] = []
        for pool in listing.pools:
            record = records.pop(pool.name, None)
            managed = record is not None and record.get("uuid", pool.uuid) == pool.uuid
            found.append(dataclasses.replace(pool, managed=managed))
        # an exported ZFS pool is not in zpool list: zpool import finds it (btrfs lists its own as EXPORTED)
        for pool in await self.zfs.exported({n for n, r in records.items() if r["type"] == "zfs"}):
            if pool.uuid == records[pool.name].get("uuid"):
                del records[pool.name]
                found.append(dataclasses.replace(pool, managed=True))
        found.extend(  # remembered, and its devices are gone
            Pool(
                name=r["name"],
                type=r["type"],
                uuid=r["uuid"],
                health="UNAVAILABLE",
                devices=tuple(r["devices"]),
                managed=True,
            )
            for r in records.values()
        )
        return PoolListing(tuple(found), listing.sources)

    async def get_pool(self, name: str) -> Pool:
        backend, ref = await self.resolve(name)
        pool: Pool = await backend.describe(ref)
        return dataclasses.replace(pool, managed=self.registry.get(name) is not None)

    async def create_pool(
        self,
        name: str,
        device_paths: list[str],
        *,
        pool_type: str = "btrfs",
        data_profile: str = "single",
        metadata_profile: str = "",
        force: bool = False,
    ) -> Pool:
        check_name(name, "pool")
        backend = self._backend(pool_type)
        await backend.ready()
        with self.locks.hold(pool_key(name), "create"):
            if self.registry.get(name) is not None or any(p.name == name for p in (await pools.list_pools()).pools):
                raise AlreadyExists(f"a pool named {name!r} already exists", metadata={"pool": name})
            mountpoint = self.pool_root / name
            if mountpoint.exists() and any(mountpoint.iterdir()):
                raise AlreadyExists(f"{mountpoint} exists and is not empty", metadata={"path": str(mountpoint)})
            checked = [d["path"] for d in await devices.check_devices(device_paths, force=force)]
            ref = await backend.create(name, checked, data_profile, metadata_profile, force, mountpoint)
            self.registry.remember(name, pool_type, ref.uuid, checked, ref.mountpoint)
        return await self.get_pool(name)

    async def import_pool(self, name: str, *, degraded: bool = False) -> Pool:
        backend, ref = await self.resolve(name)
        with self.locks.hold(pool_key(name), "import"):
            await backend.import_pool(ref, self.pool_root / name, degraded)
            if self.registry.get(name) is not None:
                self.registry.update(name, auto_import=True, mountpoint=ref.mountpoint)
            else:  # adopting a pool from elsewhere: from now on it is mounted at start, as zpool import does
                pool = await backend.describe(ref)
                self.registry.remember(name, ref.type, ref.uuid, list(pool.devices), ref.mountpoint)
        return await self.get_pool(name)

    async def export_pool(self, name: str) -> Pool:
        backend, ref = await self.resolve(name)
        with self.locks.hold(pool_key(name), "export"):
            await backend.export_pool(ref, self.pool_root)
            if self.registry.get(name) is not None:
                self.registry.update(name, auto_import=False)
        return await self.get_pool(name)

    async def destroy_pool(self, name: str, *, confirm: str | None) -> DestroyedPool:
        require_confirm(confirm, name, "destroying pool")
        backend, ref = await self.resolve(name)
        with self.locks.hold(pool_key(name), "destroy"):
            await backend.destroy(ref, self.pool_root)
            self.registry.forget(name)
        return DestroyedPool(name)

    def remembered_pools(self) -> list[dict[str, Any]]:
        """The registry: pools this engine created or imported, mounted again at start."""
        return self.registry.records()

    def forget_pool(self, name: str) -> bool:
        """Stop remembering a pool (it is not touched); True if it was remembered."""
        return self.registry.forget(name)

    async def restore(self) -> list[RestoreOutcome]:
        """At start: mount every remembered pool that is not mounted (and was not exported)."""
        return [await self._restore(record) for record in self.registry.records()]

    async def _restore(self, record: dict[str, Any]) -> RestoreOutcome:
        name = record["name"]
        if not record.get("auto_import", True):
            return RestoreOutcome(name, "skipped", "exported by the operator")
        try:
            backend, ref = await self.resolve(name)
            if ref.mountpoint:
                return RestoreOutcome(name, "already_mounted", ref.mountpoint)
            with self.locks.hold(pool_key(name), "import"):
                await backend.import_pool(ref, self.pool_root / name, False)
            return RestoreOutcome(name, "mounted", ref.mountpoint)
        except Exception as exc:  # one pool's trouble must not stop the others
            return RestoreOutcome(name, "failed", str(exc))

    # devices ----------------------------------------------------------------------------------
    async def add_device(self, name: str, device: str, *, force: bool = False) -> Pool:
        backend, ref = await self.resolve(name)
        with self.locks.hold(pool_key(name), "add_device"):
            checked = (await devices.check_device(device, force=force))["path"]
            await backend.add_device(ref, checked, force)
        return await self.get_pool(name)

    async def _long(
        self, name: str, operation: str, build: Any, *, allows: frozenset[str] = frozenset()
    ) -> LongOperation:
        """Hold the pool's key, then let ``build(ref, lease)`` make the operation; the operation (or
        the job that takes it over) releases the key when it ends, and it is released here if
        building fails."""
        backend, ref = await self.resolve(name)
        lease = self.locks.acquire(pool_key(name), operation, allows=allows)
        try:
            op: LongOperation = await build(backend, ref, lease)
        except BaseException:
            self.locks.release(lease)
            raise
        return op

    async def remove_device(self, name: str, device: str, *, confirm: str | None) -> LongOperation:
        require_confirm(confirm, device, "removing device")
        return await self._long(
            name, "remove_device", lambda b, ref, lease: b.remove_device(ref, device, self.locks, lease)
        )

    async def replace_device(self, name: str, old: str, new: str, *, force: bool = False) -> LongOperation:
        async def build(b: Any, ref: PoolRef, lease: Any) -> LongOperation:
            checked = (await devices.check_device(new, force=force))["path"]
            op: LongOperation = await b.replace_device(ref, old, checked, force, self.locks, lease)
            return op

        return await self._long(name, "replace_device", build)

    async def balance(
        self, name: str, *, convert_data: str = "", convert_metadata: str = "", force: bool = False
    ) -> LongOperation:
        return await self._long(
            name,
            "balance",
            lambda b, ref, lease: b.balance(ref, convert_data, convert_metadata, force, self.locks, lease),
        )

    # scrub ------------------------------------------------------------------------------------
    async def scrub(self, name: str) -> LongOperation:
        return await self._long(name, "scrub", lambda b, ref, lease: b.scrub(ref, self.locks, lease), allows=VOLUME_OPS)

    async def scrub_status(self, name: str) -> ScrubStatus:
        backend, ref = await self.resolve(name)
        status: ScrubStatus = await backend.scrub_status(ref)
        return status

    async def cancel_scrub(self, name: str) -> ScrubStatus:
        """Cancel a scrub this engine does not follow (one started before a restart, or by hand)."""
        backend, ref = await self.resolve(name)
        await backend.cancel_scrub(ref)
        return await self.scrub_status(name)
