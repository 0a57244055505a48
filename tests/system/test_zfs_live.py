"""ZFS for real, through the storage manager, on zfs-fuse (Debian's ZFS in user space, pool version
23): create a mirror on loop devices, list, export, find the exported pool and import it, refuse a
device named ``-f``, scrub, make and snapshot a volume, replace a member (a resilver), destroy with
confirm; and a mirror missing a device imports only with ``degraded``. The daemon is started for the
module and stopped at its end; pools, mounts, loop devices and files are all removed."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.errors import Conflict, InvalidArgument, NotFound, ToolFailed
from engine.storage import devices
from engine.storage.manager import StorageManager
from engine.storage.models import DestroyedPool
from engine.storage.operations import Progress, follow
from tests.utils import run

pytestmark = pytest.mark.system

SOCKET = Path("/var/run/zfs/zfs_socket")


def _zpool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["zpool", *args], capture_output=True, text=True, timeout=60)


def _stop(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    for _ in range(200):  # zfs-fuse syncs and unmounts on SIGTERM: ~3 s here
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def zfs_fuse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A zfs-fuse daemon of this module's own (no kstat mount), stopped at the end."""
    if os.geteuid() != 0:
        pytest.skip("needs root (zfs-fuse, FUSE mounts, loop devices)")
    if shutil.which("zfs-fuse") is None or shutil.which("zpool") is None:
        pytest.skip("zfs-fuse is not installed (Debian package zfs-fuse)")
    if not Path("/dev/fuse").exists():
        pytest.skip("/dev/fuse is absent: zfs-fuse cannot mount")
    if SOCKET.exists() or subprocess.run(["pgrep", "-x", "zfs-fuse"], capture_output=True).returncode == 0:
        pytest.skip("a zfs-fuse daemon already runs on this machine: its pools are not ours to touch")
    run_dir_existed = SOCKET.parent.exists()
    pidfile = tmp_path_factory.mktemp("zfs-fuse") / "zfs-fuse.pid"
    started = subprocess.run(
        ["zfs-fuse", "--no-kstat-mount", "-p", str(pidfile)], capture_output=True, text=True, timeout=30
    )
    if started.returncode != 0:
        pytest.skip(f"zfs-fuse did not start: {started.stderr.strip()}")
    for _ in range(200):
        if pidfile.exists() and pidfile.read_text().strip() and SOCKET.exists():
            break
        time.sleep(0.05)
    pid = int(pidfile.read_text())
    try:
        yield
    finally:
        _stop(pid)
        pidfile.unlink(missing_ok=True)
        if not run_dir_existed:
            with contextlib.suppress(OSError):
                SOCKET.parent.rmdir()
        assert subprocess.run(["pgrep", "-x", "zfs-fuse"], capture_output=True).returncode != 0, "zfs-fuse still runs"


@pytest.fixture
def zfs_manager(zfs_fuse: None, manager: StorageManager, pool_name: str) -> Iterator[StorageManager]:
    """The manager, and at the end any pool of this test destroyed (before the loop devices go)."""
    try:
        yield manager
    finally:
        if _zpool("list", "-H", "-o", "name", pool_name).returncode != 0:
            _zpool("import", "--", pool_name)
        for _ in range(20):  # "pool is busy" for a moment after a mount
            gone = _zpool("list", "-H", "-o", "name", pool_name).returncode != 0
            if gone or _zpool("destroy", "-f", "--", pool_name).returncode == 0:
                break
            time.sleep(0.5)


def test_zfs_pool_lifecycle(zfs_manager: StorageManager, loop_devices, pool_name: str, tmp_path: Path) -> None:
    manager = zfs_manager
    first, second, spare = loop_devices(3, 128)
    created = run(manager.create_pool(pool_name, [first, second], pool_type="zfs", data_profile="mirror"))
    mountpoint = str(tmp_path / "pools" / pool_name)
    assert (created.type, created.health, created.data_profile, created.managed) == (
        "zfs",
        "ONLINE",
        "mirror",
        True,
    )
    assert created.devices == (first, second) and created.mountpoint == mountpoint
    assert 100 << 20 <= created.size_bytes <= 128 << 20  # zfs-fuse's "123M", read back
    assert os.path.ismount(mountpoint)
    listing = run(manager.list_pools())
    assert pool_name in [p.name for p in listing.pools if p.type == "zfs"]

    exported = run(manager.export_pool(pool_name))
    assert (exported.health, exported.mounted, exported.mountpoint) == ("EXPORTED", False, "")
    assert not os.path.ismount(mountpoint)
    listed = next(p for p in run(manager.list_pools()).pools if p.name == pool_name)
    assert (listed.health, listed.managed, listed.uuid) == ("EXPORTED", True, created.uuid)
    for call in (
        manager.replace_device(pool_name, first, spare),
        manager.scrub(pool_name),
        manager.list_volumes(pool_name),
    ):
        with pytest.raises(Conflict) as refused:  # an exported pool's devices and datasets are out of reach
            run(call)
        assert refused.value.code == "pool_not_mounted"
    imported = run(manager.import_pool(pool_name))
    assert (imported.health, imported.mountpoint, imported.devices) == ("ONLINE", mountpoint, (first, second))
    assert os.path.ismount(mountpoint)

    async def scrub() -> Progress:
        op = await manager.scrub(pool_name)
        await op.start()
        return await follow(op, interval_s=0.2)

    scrubbed = run(scrub())
    assert scrubbed.state == "done", scrubbed
    assert run(manager.scrub_status(pool_name)).state == "finished"

    # volumes and snapshots: zfs-fuse's numbers come from zfs get -Hp
    docs = run(manager.create_volume(pool_name, "docs", quota_bytes=32 << 20))
    assert (docs.quota_bytes, docs.path) == (32 << 20, f"{mountpoint}/docs")
    (Path(mountpoint) / "docs" / "a").write_bytes(b"x" * 4096)
    snap = run(manager.create_snapshot(pool_name, "docs", "before upgrade"))
    assert (snap.volume, snap.path) == ("docs", f"{pool_name}/docs@before upgrade")
    assert run(manager.set_quota(pool_name, "docs", 0)).quota_bytes == 0
    assert [v.snapshot_count for v in run(manager.list_volumes(pool_name))] == [1]
    run(manager.delete_volume(pool_name, "docs", confirm="docs", with_snapshots=True))
    assert run(manager.list_volumes(pool_name)) == []

    for stranger in ("-f", "--", spare):
        with pytest.raises(NotFound, match="is not a device of pool"):
            run(manager.replace_device(pool_name, stranger, spare))
        with pytest.raises(NotFound, match="is not a device of pool"):
            run(manager.remove_device(pool_name, stranger, confirm=stranger))
    assert manager.locks.running(f"pool:{pool_name}") == []

    async def replace() -> Progress:
        op = await manager.replace_device(pool_name, second, spare)
        await op.start()
        return await follow(op, interval_s=0.2)

    replaced = run(replace())
    assert replaced.state == "done", replaced
    assert run(manager.get_pool(pool_name)).devices == (first, spare)
    # a member of a live pool is no device for another, force or not (zfs-fuse holds no O_EXCL claim)
    for force in (False, True):
        with pytest.raises(InvalidArgument) as taken:
            run(devices.check_device(first, force=force))
        assert taken.value.metadata["rule"] == "pool_member" and pool_name in taken.value.message

    async def remove() -> None:  # pool v23 removes only spares and cache devices: zpool's own refusal
        op = await manager.remove_device(pool_name, first, confirm=first)
        await op.start()

    with pytest.raises(ToolFailed, match="cannot remove"):
        run(remove())
    assert manager.locks.running(f"pool:{pool_name}") == []

    with pytest.raises(InvalidArgument, match="needs confirm"):
        run(manager.destroy_pool(pool_name, confirm="not-it"))
    assert run(manager.destroy_pool(pool_name, confirm=pool_name)) == DestroyedPool(pool_name, destroyed=True)
    assert _zpool("list", "--", pool_name).returncode != 0 and not os.path.ismount(mountpoint)
    for dev in (first, spare):  # labels cleared: the devices are free for a new pool without force
        assert run(devices.check_device(dev))["signatures"] == []


def test_zfs_degraded_import_needs_consent(zfs_manager: StorageManager, loop_devices, pool_name: str) -> None:
    manager = zfs_manager
    first, second = loop_devices(2, 128)
    run(manager.create_pool(pool_name, [first, second], pool_type="zfs", data_profile="mirror"))
    run(manager.export_pool(pool_name))
    subprocess.run(["losetup", "-d", second], check=True, timeout=30)  # one half of the mirror is gone
    assert run(manager.get_pool(pool_name)).health == "DEGRADED"
    with pytest.raises(Conflict) as refused:
        run(manager.import_pool(pool_name))
    assert refused.value.code == "pool_degraded" and "pass degraded" in refused.value.message
    imported = run(manager.import_pool(pool_name, degraded=True))
    assert (imported.health, imported.mounted) == ("DEGRADED", True)
    states = {m.path: m.state for m in imported.members}
    assert states[first] == "ONLINE" and "UNAVAIL" in states.values()
    assert run(manager.destroy_pool(pool_name, confirm=pool_name)).destroyed
