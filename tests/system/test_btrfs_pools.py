"""Btrfs pools for real, on loop devices: create, volumes, snapshots, rollback, clone, scrub that
repairs a corrupted mirror, device add/remove/replace, export/import and the registry's restore.

Each step runs on its own short event loop (``run``); a long operation is created, started and
followed within one loop (``drive``), as the lead's job wrapper will do on the frontend's loop.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from engine.errors import Conflict, InvalidArgument, ToolFailed
from engine.storage.manager import StorageManager
from engine.storage.models import RestoreOutcome
from engine.storage.operations import LongOperation, Progress, follow
from tests.system.conftest import corrupt_first_copy, pattern_file
from tests.utils import run

pytestmark = pytest.mark.system


def drive(
    make: Callable[[], Awaitable[LongOperation]], on_progress: Callable[[LongOperation, Progress], None] | None = None
) -> Progress:
    async def go() -> Progress:
        op = await make()
        await op.start()
        return await follow(op, interval_s=0.05, on_progress=on_progress)

    return run(go())


def test_volume_snapshot_rollback_clone(loop_devices, manager: StorageManager, pool_name: str) -> None:
    devs = loop_devices(2, 256)
    pool = run(manager.create_pool(pool_name, devs, data_profile="raid1"))
    assert (pool.type, pool.health, pool.mounted, pool.managed) == ("btrfs", "ONLINE", True, True)
    assert (pool.data_profile, pool.metadata_profile) == ("raid1", "raid1")
    assert sorted(pool.devices) == sorted(devs)
    assert pool.mountpoint == str(manager.pool_root / pool_name)
    assert pool.size_bytes == 2 * (256 << 20) and 0 < pool.used_bytes < pool.size_bytes

    volume = run(manager.create_volume(pool_name, "docs", quota_bytes=64 << 20))
    assert volume.quota_bytes == 64 << 20 and volume.usage_known and volume.created_unix > 0
    data = Path(volume.path) / "report.txt"
    data.write_bytes(b"version one")
    snap = run(manager.create_snapshot(pool_name, "docs", "before-edit"))
    assert snap.readonly and snap.created_unix > 0 and snap.referenced_bytes > 0
    data.write_bytes(b"version two, longer")

    with pytest.raises(InvalidArgument) as refused:
        run(manager.rollback(pool_name, "docs", "before-edit", confirm="wrong"))
    assert refused.value.code == "confirmation_required"
    rolled = run(manager.rollback(pool_name, "docs", "before-edit", confirm="docs"))
    assert data.read_bytes() == b"version one"
    assert rolled.quota_bytes == 64 << 20  # the limit follows the volume
    assert not [p for p in os.listdir(manager.pool_root / pool_name) if p.startswith((".rollback", ".replaced"))]

    clone = run(manager.clone(pool_name, "docs", "before-edit", "docs-copy"))
    (Path(clone.path) / "report.txt").write_bytes(b"the clone is writable")
    assert data.read_bytes() == b"version one"

    names = {v.name: v for v in run(manager.list_volumes(pool_name))}
    assert set(names) == {"docs", "docs-copy"} and names["docs"].snapshot_count == 1
    with pytest.raises(Conflict):  # a volume with snapshots is not deleted by accident
        run(manager.delete_volume(pool_name, "docs", confirm="docs"))
    run(manager.delete_snapshot(pool_name, "docs", "before-edit", confirm="before-edit"))
    assert run(manager.list_snapshots(pool_name, "docs")) == []
    run(manager.delete_volume(pool_name, "docs", confirm="docs"))
    assert [v.name for v in run(manager.list_volumes(pool_name))] == ["docs-copy"]


def test_export_import_and_restore_at_start(loop_devices, manager: StorageManager, pool_name: str) -> None:
    devs = loop_devices(1, 256)
    run(manager.create_pool(pool_name, devs))
    exported = run(manager.export_pool(pool_name))
    assert (exported.health, exported.mounted) == ("EXPORTED", False)
    remembered = manager.registry.get(pool_name)
    assert remembered is not None and remembered["auto_import"] is False
    assert run(manager.restore())[0].action == "skipped"  # exported on purpose: it stays so
    imported = run(manager.import_pool(pool_name))
    remembered = manager.registry.get(pool_name)
    assert imported.mounted and remembered is not None and remembered["auto_import"] is True

    # the machine restarts: the pool is no longer mounted; a new engine mounts it again
    subprocess.run(["umount", imported.mountpoint], check=True, timeout=30)
    fresh = StorageManager(manager.pool_root, manager.registry.path.parent.parent)
    assert run(fresh.restore()) == [RestoreOutcome(pool_name, "mounted", imported.mountpoint)]
    assert run(fresh.get_pool(pool_name)).mounted
    assert run(fresh.restore())[0].action == "already_mounted"
    assert oct(manager.registry.path.stat().st_mode & 0o777) == "0o600"

    with pytest.raises(InvalidArgument) as refused:
        run(fresh.destroy_pool(pool_name, confirm=None))
    assert refused.value.code == "confirmation_required"
    run(fresh.destroy_pool(pool_name, confirm=pool_name))
    assert fresh.registry.get(pool_name) is None
    assert not any(p.name == pool_name for p in run(fresh.list_pools()).pools)
    assert subprocess.run(["wipefs", "-n", devs[0]], capture_output=True, text=True).stdout == ""


def test_scrub_finds_and_repairs_a_corrupted_mirror(loop_devices, manager: StorageManager, pool_name: str) -> None:
    devs = loop_devices(2, 256)
    run(manager.create_pool(pool_name, devs, data_profile="raid1"))
    volume = run(manager.create_volume(pool_name, "media"))
    target = Path(volume.path) / "movie.bin"
    block = pattern_file(target, 256 << 10)
    expected = target.read_bytes()
    image, offset = corrupt_first_copy(devs[0], block)

    final = drive(lambda: manager.scrub(pool_name))
    assert final.state == "done", final
    assert final.errors_found >= 1 and final.errors_corrected >= 1 and final.errors_uncorrectable == 0
    status = run(manager.scrub_status(pool_name))
    assert status.state == "finished" and status.errors_corrected >= 1 and status.percent == 100.0
    pool = run(manager.get_pool(pool_name))
    first = next(m for m in pool.members if m.path == devs[0])
    assert first.errors.checksum_errors >= 1 and pool.error_count >= 1
    assert pool.last_scrub.errors_corrected >= 1 and pool.last_scrub.state == "finished"
    assert target.read_bytes() == expected
    assert image.read_bytes()[offset : offset + len(block)] == block  # the bad copy was rewritten


def test_remove_add_and_replace_devices(loop_devices, manager: StorageManager, pool_name: str) -> None:
    devs = loop_devices(4, 256)
    run(manager.create_pool(pool_name, devs[:3], data_profile="raid1"))
    blob = Path(run(manager.create_volume(pool_name, "data")).path) / "blob"
    payload = os.urandom(24 << 20)
    blob.write_bytes(payload)
    subprocess.run(["sync"], check=True, timeout=60)

    with pytest.raises(InvalidArgument) as refused:
        run(manager.remove_device(pool_name, devs[0], confirm=None))
    assert refused.value.code == "confirmation_required"

    async def remove_and_try_another() -> LongOperation:
        op = await manager.remove_device(pool_name, devs[0], confirm=devs[0])
        with pytest.raises(Conflict) as busy:  # one mutating operation per pool
            await manager.create_volume(pool_name, "other")
        assert busy.value.metadata["running_operation"] == "remove_device"
        return op

    seen: list[tuple[str, float, bool]] = []
    final = drive(
        remove_and_try_another, on_progress=lambda _, p: seen.append((p.state, p.percent, blob.read_bytes() == payload))
    )
    assert final.state == "done", final
    assert any(state == "running" for state, _, _ in seen), seen
    assert all(intact for _, _, intact in seen)  # the pool stayed readable throughout
    assert sorted(run(manager.get_pool(pool_name)).devices) == sorted(devs[1:3])
    with pytest.raises(Conflict) as too_few:  # raid1 cannot go below two devices
        run(manager.remove_device(pool_name, devs[1], confirm=devs[1]))
    assert too_few.value.code == "too_few_devices"

    added = run(manager.add_device(pool_name, devs[0]))  # btrfs wiped its signature when it left
    assert sorted(added.devices) == sorted(devs[:3])
    assert drive(lambda: manager.replace_device(pool_name, devs[1], devs[3])).state == "done"
    pool = run(manager.get_pool(pool_name))
    assert devs[3] in pool.devices and devs[1] not in pool.devices
    assert blob.read_bytes() == payload
    assert run(manager.create_volume(pool_name, "other")).name == "other"  # the lease was released


def test_a_lost_disk_degraded_import_and_replacement(loop_devices, manager: StorageManager, pool_name: str) -> None:
    devs = loop_devices(3, 256)
    run(manager.create_pool(pool_name, devs[:2], data_profile="raid1"))
    blob = Path(run(manager.create_volume(pool_name, "data")).path) / "blob"
    payload = os.urandom(4 << 20)
    blob.write_bytes(payload)
    run(manager.export_pool(pool_name))
    subprocess.run(["losetup", "-d", devs[1]], check=True, timeout=30)  # the second disk dies
    subprocess.run(["btrfs", "device", "scan", "--forget"], capture_output=True, timeout=30)

    pool = next(p for p in run(manager.list_pools()).pools if p.name == pool_name)
    assert (pool.health, pool.mounted) == ("DEGRADED", False)
    with pytest.raises(ToolFailed) as refused:  # btrfs will not mount a raid1 with a member missing...
        run(manager.import_pool(pool_name))
    assert "mount" in refused.value.message
    pool = run(manager.import_pool(pool_name, degraded=True))  # ...unless asked to
    assert (pool.health, pool.mounted) == ("DEGRADED", True)
    assert blob.read_bytes() == payload
    missing = next(m for m in pool.members if m.state == "MISSING")

    assert drive(lambda: manager.replace_device(pool_name, str(missing.devid), devs[2])).state == "done"
    pool = run(manager.get_pool(pool_name))
    assert pool.health == "ONLINE" and sorted(pool.devices) == sorted([devs[0], devs[2]])
    assert blob.read_bytes() == payload
    # what a degraded mount wrote went to "single" chunks: convert them back (only those: soft)
    assert "single" in pool.data_profile.split(",")
    balance = drive(lambda: manager.balance(pool_name, convert_data="raid1", convert_metadata="raid1"))
    assert balance.state == "done", balance
    pool = run(manager.get_pool(pool_name))
    assert (pool.data_profile, pool.metadata_profile) == ("raid1", "raid1")


def test_import_adopts_a_pool_made_elsewhere(loop_devices, manager: StorageManager, pool_name: str) -> None:
    (dev,) = loop_devices(1, 256)
    subprocess.run(["mkfs.btrfs", "-q", "-L", pool_name, dev], check=True, capture_output=True, timeout=60)
    seen = next(p for p in run(manager.list_pools()).pools if p.name == pool_name)
    assert (seen.health, seen.mounted, seen.managed) == ("EXPORTED", False, False)
    pool = run(manager.import_pool(pool_name))
    assert pool.mounted and pool.managed
    assert [r["name"] for r in manager.remembered_pools()] == [pool_name]
    assert manager.forget_pool(pool_name) and not run(manager.get_pool(pool_name)).managed
    assert run(manager.export_pool(pool_name)).mounted is False
