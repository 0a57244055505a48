"""What the storage manager refuses, for real: devices that are not block devices, hold the root
filesystem, are mounted or in a pool, or carry a signature; bad names; unconfirmed destruction;
raid5/6 without force; a second operation on a busy pool. And a scrub that is cancelled."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import pytest

from engine.errors import AlreadyExists, Conflict, InvalidArgument
from engine.storage import devices
from engine.storage.kernel import mounts
from engine.storage.manager import StorageManager
from engine.storage.models import Pool
from engine.storage.operations import follow
from tests.system.conftest import backing_file
from tests.utils import run

pytestmark = pytest.mark.system


def refused_rule(call) -> str:
    with pytest.raises(InvalidArgument) as refused:
        run(call)
    assert refused.value.code == "device_refused"
    assert refused.value.metadata["rule"] in str(refused.value)  # the message names the rule
    return str(refused.value.metadata["rule"])


def test_refused_devices(loop_devices, manager: StorageManager, pool_name: str, tmp_path: Path) -> None:
    plain, ext4, partitioned, member, mounted = loop_devices(5, 128)
    regular = tmp_path / "not-a-device"
    regular.write_bytes(b"")
    assert refused_rule(devices.check_device(str(regular))) == "not_block_device"
    assert refused_rule(devices.check_device("/dev/null")) == "not_block_device"
    assert refused_rule(devices.check_device("/dev/sv-no-such-disk")) == "not_found"
    root = next(m for m in mounts() if m["mountpoint"] == "/")
    if root["source"].startswith("/dev/"):
        assert refused_rule(devices.check_device(root["source"])) == "root_filesystem"

    subprocess.run(["mkfs.ext4", "-q", ext4], check=True, timeout=60)
    assert refused_rule(devices.check_device(ext4)) == "signature"
    assert run(devices.check_device(ext4, force=True))["signatures"][0]["type"] == "ext4"
    # an MBR partition table (one Linux partition), as fdisk would write it
    mbr = bytearray(512)
    mbr[446:462] = bytes([0, 0, 2, 0, 0x83, 0, 0, 0]) + (2048).to_bytes(4, "little") + (4096).to_bytes(4, "little")
    mbr[510:512] = b"\x55\xaa"
    with open(backing_file(partitioned), "r+b") as f:
        f.write(mbr)
    assert refused_rule(devices.check_device(partitioned)) == "signature"

    subprocess.run(["mkfs.ext4", "-q", mounted], check=True, timeout=60)
    target = tmp_path / "elsewhere"
    target.mkdir()
    subprocess.run(["mount", mounted, str(target)], check=True, timeout=60)
    assert refused_rule(devices.check_device(mounted, force=True)) == "mounted"

    run(manager.create_pool(pool_name, [member]))
    assert refused_rule(devices.check_device(member, force=True)) == "pool_member"
    assert refused_rule(manager.create_pool(f"{pool_name}b", [plain, plain])) == "duplicate"
    assert run(devices.check_device(plain)) == {
        "path": plain,
        "name": os.path.basename(plain),
        "size_bytes": 128 << 20,
        "signatures": [],
    }
    with pytest.raises(AlreadyExists):
        run(manager.create_pool(pool_name, [plain]))


def test_bad_names_profiles_and_confirmation(loop_devices, manager: StorageManager, pool_name: str) -> None:
    devs = loop_devices(2, 128)
    for bad, rule in (
        ("a/b", "slash"),
        ("..", "dot_dot"),
        ("x..y", "dot_dot"),
        ("tab\there", "control_character"),
        ("", "empty"),
        ("x" * 65, "too_long"),
        (".hidden", "leading_dot_or_dash"),
        ("-f", "leading_dot_or_dash"),
        ("semi;colon", "characters"),
    ):
        with pytest.raises(InvalidArgument) as refused:
            run(manager.create_pool(bad, devs))
        assert refused.value.code == "invalid_name" and refused.value.metadata["rule"] == rule, bad
    with pytest.raises(InvalidArgument) as raid5:
        run(manager.create_pool(pool_name, devs, data_profile="raid5"))
    assert raid5.value.code == "raid56_refused" and "strongly discouraged" in raid5.value.message
    with pytest.raises(InvalidArgument) as unknown:
        run(manager.create_pool(pool_name, devs, data_profile="raid7"))
    assert unknown.value.code == "invalid_profile"
    with pytest.raises(InvalidArgument) as too_few:
        run(manager.create_pool(pool_name, devs[:1], data_profile="raid1"))
    assert too_few.value.code == "too_few_devices"

    pool = run(manager.create_pool(pool_name, devs, data_profile="raid5", force=True))
    assert pool.data_profile == "raid5"
    run(manager.create_volume(pool_name, "v"))
    run(manager.create_snapshot(pool_name, "v", "s"))
    for call in (
        manager.destroy_pool(pool_name, confirm="tank"),
        manager.delete_volume(pool_name, "v", confirm=None),
        manager.delete_snapshot(pool_name, "v", "s", confirm="v"),
        manager.rollback(pool_name, "v", "s", confirm="s"),
    ):
        with pytest.raises(InvalidArgument) as refused:
            run(call)
        assert refused.value.code == "confirmation_required"
    with pytest.raises(InvalidArgument):
        run(manager.create_snapshot(pool_name, "v", "a/../../etc"))
    assert [s.name for s in run(manager.list_snapshots(pool_name))] == ["s"]


def _slow_scrub(pool: Pool, bytes_per_s: int) -> None:
    # the kernel's per-device scrub throttle (sysfs, kernel 5.14+): makes a cancel land mid-scrub
    for devinfo in Path(f"/sys/fs/btrfs/{pool.uuid}/devinfo").iterdir():
        (devinfo / "scrub_speed_max").write_text(str(bytes_per_s))


def test_busy_pool_and_cancelled_scrub(loop_devices, manager: StorageManager, pool_name: str) -> None:
    devs = loop_devices(1, 256)
    pool = run(manager.create_pool(pool_name, devs))
    path = Path(run(manager.create_volume(pool_name, "bulk")).path)
    (path / "data").write_bytes(os.urandom(16 << 20))
    subprocess.run(["sync"], check=True, timeout=60)
    _slow_scrub(pool, 4 << 20)

    async def scenario() -> None:
        op = await manager.scrub(pool_name)
        await op.start()
        with pytest.raises(Conflict) as busy:
            await manager.destroy_pool(pool_name, confirm=pool_name)
        assert busy.value.code == "pool_busy" and "scrub is running" in busy.value.message
        with pytest.raises(Conflict):
            await manager.scrub(pool_name)
        snap = await manager.create_snapshot(pool_name, "bulk", "during-scrub")  # volume ops may run beside it
        assert snap.name == "during-scrub"
        running = await op.progress()
        for _ in range(100):  # the throttle makes the scrub last seconds; its progress shows within ~1 s
            if running.percent > 0:
                break
            await asyncio.sleep(0.05)
            running = await op.progress()
        assert running.state == "running" and 0 < running.percent < 100, running
        cancelled = await op.cancel()
        assert cancelled.state == "cancelled" and cancelled.percent < 100, cancelled
        assert (await follow(op)).state == "cancelled"
        assert (await manager.scrub_status(pool_name)).state == "aborted"
        assert manager.locks.running(f"pool:{pool_name}") == []

    run(scenario())
    _slow_scrub(pool, 0)
    run(manager.destroy_pool(pool_name, confirm=pool_name))
