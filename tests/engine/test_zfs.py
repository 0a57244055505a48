"""ZFS: parsers on output in OpenZFS's exact formats (tests/fixtures/zfs/README.md), and the live
path on this machine: with no zpool, every operation says so plainly."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from engine.errors import Unsupported
from engine.storage import pools
from engine.storage.locks import PoolLocks
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
)  # fmt: skip
from tests.utils import run

FIXTURES = Path(__file__).parent.parent / "fixtures" / "zfs"
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
    assert tank["scan"] == {"function": "scrub", "state": "finished", "percent": 100.0, "repaired_bytes": 1572864,
                            "errors": 0, "started_unix": 0.0, "duration_s": 7 * 3600 + 12 * 60 + 57,
                            "finished_unix": time.mktime(time.strptime("Tue Jan 17 18:12:00 2023", CTIME))}  # fmt: skip
    assert (backup["scan"]["function"], backup["scan"]["state"], backup["scan"]["percent"]) == (
        "resilver", "running", 18.48)  # fmt: skip
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
    tank = zfs.pool_dict(rows["tank"], status["tank"], roots["tank"])
    assert (tank["uuid"], tank["health"], tank["data_profile"], tank["mountpoint"]) == (
        "5826390123847290123", "ONLINE", "raidz2", "/mnt/tank")  # fmt: skip
    assert tank["size_bytes"] == 15994458210304 and tank["used_bytes"] == 4178246934528
    assert tank["free_estimated_bytes"] == 7523426107392
    assert tank["error_count"] == 15 and len(tank["members"]) == 5  # four disks and the spare
    assert tank["last_scrub"]["state"] == "finished"
    backup = zfs.pool_dict(rows["backup"], status["backup"], None)
    assert backup["health"] == "DEGRADED" and backup["last_scrub"]["state"] == "running"


def test_datasets_and_snapshots() -> None:
    rows = parse_zfs_list(fixture("zfs_list_datasets_Hp.txt"), DATASET_FIELDS)
    docs = rows[1]
    assert (docs["name"], docs["quota"], docs["refer"], docs["mountpoint"]) == (
        "tank/docs", 107374182400, 48318382080, "/mnt/tank/docs")  # fmt: skip
    assert rows[2]["name"] == "tank/media files" and rows[0]["quota"] == 0
    snaps = parse_zfs_list(fixture("zfs_list_snapshots_Hp.txt"), SNAPSHOT_FIELDS)
    assert snaps[1] == {"name": "tank/docs@before upgrade", "creation": 1795900000, "used": 2147483648,
                        "refer": 48318382080}  # fmt: skip


def test_nicenum() -> None:
    assert [nicenum(x) for x in ("0B", "1.50M", "152G", "12", "1.2K")] == [0, 1572864, 152 << 30, 12, 1228]


@pytest.mark.skipif(zfs.available(), reason="ZFS is installed here: the not-installed path cannot be seen")
def test_without_zfs_every_call_says_so(tmp_path: Path) -> None:
    listing = run(pools.list_pools())
    source = next(s for s in listing["sources"] if s["name"] == "zfs")
    assert source["available"] is False and "not installed" in source["detail"]
    manager = StorageManager(tmp_path / "pools", tmp_path / "data")
    with pytest.raises(Unsupported) as refused:
        run(manager.create_pool("tank", ["/dev/sdz"], pool_type="zfs"))
    assert "ZFS is not installed" in refused.value.message and "zfsutils-linux" in refused.value.message
    backend, ref, locks = zfs.ZfsBackend(), PoolRef("tank", "zfs"), PoolLocks()
    lease = locks.acquire("tank", "scrub")
    for call in (backend.scrub(ref, locks, lease), backend.list_volumes(ref), backend.create_snapshot(ref, "v", "s"),
                 backend.rollback(ref, "v", "s"), backend.export_pool(ref, tmp_path)):  # fmt: skip
        with pytest.raises(Unsupported, match="ZFS is not installed"):
            run(call)
    assert run(backend.find("tank")) is None


@pytest.mark.skipif(not zfs.available(), reason="ZFS is not installed on this machine (zpool/zfs not found)")
def test_live_zfs_listing() -> None:
    listing = run(pools.list_pools())
    assert next(s for s in listing["sources"] if s["name"] == "zfs")["available"]
