"""System facts: parsers against the real tools' recorded output formats, and the live path on
whatever this machine has (a missing tool must be reported, never invented)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from engine.common.commands import run_tool
from engine.host import network
from engine.storage import disks as disk_mod
from engine.storage import mdraid
from engine.storage import pools as pool_mod
from engine.storage import smart as smart_mod
from engine.storage import zfs as zfs_mod
from tests.utils import run

FIXTURES = Path(__file__).parents[2] / "fixtures"


def test_zpool_list() -> None:
    pools = zfs_mod.parse_zpool_list((FIXTURES / "zpool_list_Hp.txt").read_text())
    assert [p["name"] for p in pools] == ["tank", "backup"]
    tank, backup = pools
    assert tank["size_bytes"] == 7999999999999
    assert tank["capacity_percent"] == 26.0
    assert tank["fragmentation_percent"] == 12.0
    assert backup["health"] == "DEGRADED"
    assert backup["fragmentation_percent"] == 0.0  # "-": not reported
    assert backup["dedup_ratio"] == 1.35


def test_mdstat() -> None:
    arrays = {a["name"]: a for a in mdraid.parse_mdstat((FIXTURES / "mdstat.txt").read_text())}
    assert arrays["md0"]["level"] == "raid1"
    assert arrays["md0"]["health"] == "ONLINE"
    assert arrays["md0"]["devices"] == ["sdb1", "sda1"]
    assert arrays["md0"]["size_bytes"] == 1953382464 * 1024
    assert arrays["md1"]["health"] == "DEGRADED"
    assert "sdc1(F)" in arrays["md1"]["devices"]
    assert arrays["md2"]["health"] == "DEGRADED"


def test_lsblk_flattens_partitions() -> None:
    disks = disk_mod.parse_lsblk((FIXTURES / "lsblk.json").read_text())
    assert [d["name"] for d in disks] == ["sda", "sda1", "nvme0n1"]
    sda = disks[0]
    assert (sda["size_bytes"], sda["rotational"], sda["transport"]) == (4000787030016, True, "sata")
    assert sda["mountpoints"] == []
    assert disks[1]["mountpoints"] == ["/srv/data"]
    assert disks[2]["mountpoints"] == ["/", "/var/lib/docker"]
    assert disks[2]["rotational"] is False


def test_smartctl() -> None:
    smart = smart_mod.parse_smartctl((FIXTURES / "smartctl_sda.json").read_text())
    summary = {
        k: smart[k] for k in ("available", "passed", "temperature_c", "power_on_hours", "reallocated_sectors", "detail")
    }
    assert summary == {
        "available": True,
        "passed": True,
        "temperature_c": 34,
        "power_on_hours": 28793,
        "reallocated_sectors": 8,
        "detail": "",
    }
    virtual = smart_mod.parse_smartctl((FIXTURES / "smartctl_virtual.json").read_text())
    assert virtual["available"] is False
    assert "Unable to detect" in virtual["detail"]


def test_wireguard_dump() -> None:
    names, peers = network.parse_wg_dump((FIXTURES / "wg_show_all_dump.txt").read_text())
    assert names == ["wg0"]
    assert len(peers) == 2
    assert peers[0].endpoint == "192.0.2.10:51820"
    assert peers[0].allowed_ips == ("10.77.0.2/32", "fd77::2/128")
    assert (peers[0].rx_bytes, peers[0].tx_bytes) == (123456, 654321)
    assert peers[1].endpoint == ""
    assert (peers[0].persistent_keepalive_s, peers[1].persistent_keepalive_s) == (25, 0)
    assert network.parse_wg_interfaces((FIXTURES / "wg_show_all_dump.txt").read_text())[0].listen_port == 51820


def test_wireguard_peer_state() -> None:
    text = (FIXTURES / "wg_show_all_dump.txt").read_text()
    _, fresh = network.parse_wg_dump(text, now=1700000100)
    assert (fresh[0].state, fresh[0].handshake_age_s) == ("connected", 100)
    assert (fresh[1].state, fresh[1].handshake_age_s) == ("stale", -1)  # never shook hands
    _, later = network.parse_wg_dump(text, now=1700000000 + 181)  # no handshake for over 3 minutes
    assert (later[0].state, later[0].handshake_age_s) == ("stale", 181)
    assert network.peer_state(1700000000, 1700000000 + 180) == ("connected", 180)


def test_live_storage_and_network() -> None:
    pools = run(pool_mod.list_pools())
    zfs = next(s for s in pools.sources if s.name == "zfs")
    if shutil.which("zpool") is None:
        assert not zfs.available and "not installed" in zfs.detail
    elif subprocess.run(["zpool", "list", "-H", "-o", "name"], capture_output=True, check=False).returncode != 0:
        assert not zfs.available and zfs.detail.startswith("ZFS is installed but not usable: ")
    else:  # usable; zfs-fuse's zpool lacks -p, which the listing says
        assert zfs.available or zfs.detail.startswith("zpool list: ")
    disks = run(disk_mod.list_disks())
    lsblk = next(s for s in disks.sources if s.name == "lsblk")
    assert lsblk.available == (shutil.which("lsblk") is not None)
    if lsblk.available:
        assert any(d.type == "disk" for d in disks.disks)
    mesh = run(network.mesh_status())
    assert any(i.name == "lo" for i in mesh.interfaces)
    if shutil.which("wg") is None:
        assert mesh.enabled is False
        assert mesh.sources[0].available is False


def test_tools_missing_or_hung_are_reported() -> None:
    missing = run(run_tool(["surely-not-a-real-tool-xyz"]))
    assert not missing.found
    hung = run(run_tool(["sleep", "5"], timeout=0.1))
    assert hung.found
    assert not hung.ok
    assert "timed out" in hung.stderr
