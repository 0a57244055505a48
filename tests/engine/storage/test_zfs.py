"""ZFS: parsers on output in OpenZFS's exact formats (tests/fixtures/zfs/README.md), and the live
path on this machine: with no zpool, every operation says so plainly; with a zpool that cannot reach
ZFS (no module, no zfs-fuse daemon), the listing says why and Btrfs calls and unknown pools are
answered as without ZFS."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.errors import NotFound, Unsupported
from engine.jobs.locks import LockTable
from engine.storage import pools
from engine.storage.manager import StorageManager
from engine.storage.ref import PoolRef
from engine.storage.zfs import backend as zfs
from engine.storage.zfs.parse import (
    DATASET_FIELDS,
    SNAPSHOT_FIELDS,
    layout,
    nicenum,
    parse_scan,
    parse_zfs_list,
    parse_zpool_list,
    parse_zpool_status,
)
from tests.utils import run

FIXTURES = Path(__file__).parents[2] / "fixtures" / "zfs"
CTIME = "%a %b %d %H:%M:%S %Y"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_zpool_status_pools_vdevs_and_counters() -> None:
    tank, backup = parse_zpool_status(fixture("zpool_status_pP.txt"))
    assert (tank["name"], tank["state"], tank["errors"]) == ("tank", "ONLINE", "No known data errors")
    assert layout(tank["vdevs"]) == "raidz2" and layout(backup["vdevs"]) == "mirror"
    disks = [v for v in tank["vdevs"] if not v["group"] and v["depth"] == 2]
    assert len(disks) == 4 and disks[2]["write_errors"] == 3 and disks[3]["checksum_errors"] == 12
    spare = tank["vdevs"][-1]
    assert (spare["state"], spare["depth"], spare["read_errors"]) == ("AVAIL", 1, 0)
    gone = next(v for v in backup["vdevs"] if v["state"] == "UNAVAIL")
    assert (gone["name"], gone["note"], gone["depth"]) == ("15437858240987393542", "was /dev/sdc1", 3)
    assert next(v for v in backup["vdevs"] if v["name"] == "replacing-1")["group"]


def test_scan_lines() -> None:
    tank, backup = parse_zpool_status(fixture("zpool_status_pP.txt"))
    assert tank["scan"] == {
        "function": "scrub",
        "state": "finished",
        "percent": 100.0,
        "repaired_bytes": 1572864,
        "errors": 0,
        "started_unix": 0.0,
        "duration_s": 7 * 3600 + 12 * 60 + 57,
        "finished_unix": time.mktime(time.strptime("Tue Jan 17 18:12:00 2023", CTIME)),
    }
    assert (backup["scan"]["function"], backup["scan"]["state"], backup["scan"]["percent"]) == (
        "resilver",
        "running",
        18.48,
    )
    assert backup["scan"]["repaired_bytes"] == 152 << 30
    (scrubbing,) = parse_zpool_status(fixture("zpool_status_scrubbing.txt"))
    assert (scrubbing["scan"]["state"], scrubbing["scan"]["percent"]) == ("running", 18.46)
    long_run = parse_scan(["scrub repaired 0B in 1 days 02:03:04 with 2 errors on Sun Nov 29 02:00:01 2026"])
    assert (long_run["duration_s"], long_run["errors"]) == (((24 + 2) * 60 + 3) * 60 + 4, 2)
    assert parse_scan(["none requested"])["state"] == "never"
    assert parse_scan(["scrub canceled on Sun Nov 29 02:00:01 2026"])["state"] == "aborted"


def test_pool_shape() -> None:
    rows = {r["name"]: r for r in parse_zpool_list(fixture("zpool_list_Hp_guid.txt"))}
    status = {p["name"]: p for p in parse_zpool_status(fixture("zpool_status_pP.txt"))}
    roots = {r["name"]: r for r in parse_zfs_list(fixture("zfs_list_datasets_Hp.txt"), DATASET_FIELDS)}
    tank = zfs.pool_record(rows["tank"], status["tank"], roots["tank"])
    assert (tank.uuid, tank.health, tank.data_profile, tank.mountpoint) == (
        "5826390123847290123",
        "ONLINE",
        "raidz2",
        "/mnt/tank",
    )
    assert tank.size_bytes == 15994458210304 and tank.used_bytes == 4178246934528
    assert tank.free_estimated_bytes == 7523426107392
    assert tank.error_count == 15 and len(tank.members) == 5  # four disks and the spare
    assert tank.last_scrub.state == "finished"
    backup = zfs.pool_record(rows["backup"], status["backup"], None)
    assert backup.health == "DEGRADED" and backup.last_scrub.state == "running"


def test_datasets_and_snapshots() -> None:
    rows = parse_zfs_list(fixture("zfs_list_datasets_Hp.txt"), DATASET_FIELDS)
    docs = rows[1]
    assert (docs["name"], docs["quota"], docs["refer"], docs["mountpoint"]) == (
        "tank/docs",
        107374182400,
        48318382080,
        "/mnt/tank/docs",
    )
    assert rows[2]["name"] == "tank/media files" and rows[0]["quota"] == 0
    snaps = parse_zfs_list(fixture("zfs_list_snapshots_Hp.txt"), SNAPSHOT_FIELDS)
    assert snaps[1] == {
        "name": "tank/docs@before upgrade",
        "creation": 1795900000,
        "used": 2147483648,
        "refer": 48318382080,
    }


def test_nicenum() -> None:
    assert [nicenum(x) for x in ("0B", "1.50M", "152G", "12", "1.2K")] == [0, 1572864, 152 << 30, 12, 1228]


@pytest.mark.skipif(zfs.available(), reason="ZFS is installed here: the not-installed path cannot be seen")
def test_without_zfs_every_call_says_so(tmp_path: Path) -> None:
    listing = run(pools.list_pools())
    source = next(s for s in listing.sources if s.name == "zfs")
    assert source.available is False and "not installed" in source.detail
    manager = StorageManager(tmp_path / "pools", tmp_path / "data")
    with pytest.raises(Unsupported) as refused:
        run(manager.create_pool("tank", ["/dev/sdz"], pool_type="zfs"))
    assert "ZFS is not installed" in refused.value.message and "zfsutils-linux" in refused.value.message
    backend, ref, locks = zfs.ZfsBackend(), PoolRef("tank", "zfs"), LockTable()
    lease = locks.acquire("pool:tank", "scrub")
    for call in (
        backend.scrub(ref, locks, lease),
        backend.list_volumes(ref),
        backend.create_snapshot(ref, "v", "s"),
        backend.rollback(ref, "v", "s"),
        backend.export_pool(ref, tmp_path),
    ):
        with pytest.raises(Unsupported, match="ZFS is not installed"):
            run(call)
    with pytest.raises(Unsupported, match="ZFS is not installed"):
        run(backend.find("tank"))
    with pytest.raises(NotFound):
        run(manager.get_pool("tank"))


def zfs_usable() -> bool:
    return (
        zfs.available()
        and subprocess.run(["zpool", "list", "-H", "-p"], capture_output=True, check=False).returncode == 0
    )


@pytest.mark.skipif(not zfs_usable(), reason="no usable OpenZFS here (zfs-fuse's zpool takes no -p)")
def test_live_zfs_listing() -> None:
    listing = run(pools.list_pools())
    assert next(s for s in listing.sources if s.name == "zfs").available


def check_unusable_state(data: Path, reason: str) -> None:
    """What a zpool that cannot reach ZFS means for the listing, lookups and creation."""
    listing = run(pools.list_pools())
    sources = {s.name: s for s in listing.sources}
    assert sources["zfs"].available is False
    assert sources["zfs"].detail == f"ZFS is installed but not usable: {reason}"
    assert sources["btrfs"].available == (shutil.which("btrfs") is not None)  # Btrfs is not its concern
    assert not [p for p in listing.pools if p.type == "zfs"]
    manager = StorageManager(data / "pools", data / "data")
    for lookup in (manager.get_pool, manager.scrub_status, manager.list_volumes):
        with pytest.raises(NotFound) as absent:  # a 404 not_found, not ZFS's trouble
            run(lookup("sv-absent"))
        assert (absent.value.code, absent.value.message) == (None, "no pool named 'sv-absent'")
    with pytest.raises(zfs.ZfsUnusable) as refused:
        run(manager.create_pool("tank", ["/dev/sdz"], pool_type="zfs"))
    assert refused.value.code == "zfs_unusable" and refused.value.metadata["reason"] == reason
    manager.registry.remember("gone", "zfs", "123", ["/dev/sdz"], "")  # a ZFS pool this engine made: ZFS says why
    with pytest.raises(zfs.ZfsUnusable, match="not usable"):
        run(manager.get_pool("gone"))


RECORDED = {  # zpool list's stderr where ZFS cannot be reached, as recorded; the reason the engine gives
    "zpool_list_zfs_fuse_no_daemon.stderr": "connect: No such file or directory; Please make sure that the "
    "zfs-fuse daemon is running; internal error: failed to initialize ZFS library",
    "zpool_list_no_module.stderr": "The ZFS modules are not loaded; Try running '/sbin/modprobe zfs' as root to "
    "load them",
}


def unusable_zfs_tools(directory: Path, recorded: str) -> str:
    """zpool and zfs in ``directory`` that print what the real ones printed (``recorded``) and fail, for
    machines where zpool is absent too; returns a PATH that finds them first."""
    directory.mkdir()
    for tool in ("zpool", "zfs"):
        (directory / tool).write_text(f"#!/bin/sh\ncat '{FIXTURES / recorded}' >&2\nexit 1\n")
        (directory / tool).chmod(0o755)
    return f"{directory}:{os.environ['PATH']}"


@pytest.mark.parametrize("recorded", sorted(RECORDED))
def test_zfs_installed_but_unusable_recorded(recorded: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", unusable_zfs_tools(tmp_path / "bin", recorded))
    check_unusable_state(tmp_path, RECORDED[recorded])


ZFS_FUSE_SOCKET = Path("/run/zfs")  # zfs-fuse's zpool talks to its daemon through /run/zfs/zfs_socket


ZFS_FUSE = Path("/usr/sbin/zfs-fuse")


@pytest.mark.skipif(
    not zfs.available() or not ZFS_FUSE.exists() or os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="needs zfs-fuse's zpool, root and unshare",
)
def test_zfs_installed_but_unusable_real_zpool(tmp_path: Path) -> None:
    """The real zpool with no daemon to reach: in a mount namespace where /run/zfs is an empty tmpfs
    (whether or not a zfs-fuse daemon runs outside it), so the socket is not there."""
    script = (
        "from pathlib import Path; from tests.engine.storage.test_zfs import check_unusable_state, RECORDED; "
        f"check_unusable_state(Path({str(tmp_path)!r}), RECORDED['zpool_list_zfs_fuse_no_daemon.stderr'])"
    )
    # no /run/zfs: no socket to hide (nothing is created on the host for the test)
    hide_socket = f'[ ! -d {ZFS_FUSE_SOCKET} ] || mount -t tmpfs sv-test {ZFS_FUSE_SOCKET} && exec "$0" -c "$1"'
    argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", hide_socket, sys.executable, script]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False, cwd=Path(__file__).parents[3])
    assert done.returncode == 0, done.stderr[-3000:]
