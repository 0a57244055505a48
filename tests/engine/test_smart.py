"""SMART: parsers on real smartctl --json output of real disks (tests/fixtures/smartctl, from the
scrutiny project, MIT), and the live path on this machine's disks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.errors import Unsupported
from engine.storage import disks, smart
from tests.utils import run

FIXTURES = Path(__file__).parent.parent / "fixtures" / "smartctl"


def parsed(name: str) -> dict:
    return smart.parse_smartctl((FIXTURES / name).read_text())


def test_failing_sata_disk() -> None:
    disk = parsed("smart-fail2.json")
    assert (disk["available"], disk["passed"], disk["protocol"]) == (True, False, "ATA")
    assert (disk["reallocated_sectors"], disk["pending_sectors"], disk["offline_uncorrectable"]) == (1975, 8, 0)
    assert (disk["temperature_c"], disk["power_on_hours"], disk["reallocated_events"]) == (25, 65592, 3831)
    assert [a["name"] for a in disk["failing_attributes"]] == ["Reallocated_Sector_Ct"]
    assert disk["failing_attributes"][0] == {"id": 5, "name": "Reallocated_Sector_Ct", "value": 1, "threshold": 5,
                                             "when_failed": "now"}  # fmt: skip
    assert disk["exit_status"] == 216 and disk["exit_flags"] == [smart.EXIT_BITS[i] for i in (3, 4, 6, 7)]
    last = disk["self_test"]["last"]
    assert (last["type"], last["passed"]) == ("Short offline", True)


def test_healthy_sata_disk_with_a_self_test_running() -> None:
    disk = parsed("smart-ata.json")
    assert disk["passed"] and disk["failing_attributes"] == [] and disk["exit_flags"] == []
    assert (disk["temperature_c"], disk["power_on_hours"], disk["capacity_bytes"]) == (32, 1730, 14000519643136)
    tests = disk["self_test"]
    assert (tests["in_progress"], tests["remaining_percent"], tests["short_minutes"]) == (True, 10, 2)
    assert tests["last"]["status"] == "Completed without error" and tests["last"]["lifetime_hours"] == 1708


def test_nvme_wear_and_media_errors() -> None:
    healthy = parsed("smart-nvme.json")
    assert (healthy["protocol"], healthy["passed"], healthy["nvme_critical_warning"]) == ("NVMe", True, 0)
    assert (healthy["percentage_used"], healthy["available_spare_percent"], healthy["media_errors"]) == (0, 100, 0)
    assert (healthy["temperature_c"], healthy["power_on_hours"], healthy["reallocated_sectors"]) == (36, 2401, 0)
    worn = parsed("smart-nvme-failed.json")
    assert (worn["percentage_used"], worn["media_errors"], worn["power_on_hours"]) == (3, 7, 12798)
    assert worn["model"] == "Samsung SSD 970 EVO 500GB"


def test_sas_disk() -> None:
    disk = parsed("smart-scsi2.json")
    assert (disk["protocol"], disk["passed"], disk["temperature_c"], disk["power_on_hours"]) == ("SCSI", True, 31, 5675)
    assert (disk["reallocated_sectors"], disk["uncorrected_errors"]) == (0, 0)


def test_no_smart_says_why() -> None:
    disk = parsed("smart-fail.json")
    assert disk["available"] is False and "Open failed" in disk["detail"]
    assert disk["exit_flags"] == [smart.EXIT_BITS[1]]
    assert smart.decode_exit_status(0) == []


@pytest.mark.skipif(shutil.which("smartctl") is None, reason="smartctl is not installed (package smartmontools)")
def test_live_disks_report_smart_per_disk() -> None:
    listing = run(disks.list_disks())
    whole = [d for d in listing["disks"] if d["type"] == "disk"]
    assert whole, "lsblk found no disk"
    for disk in whole:
        assert isinstance(disk["smart"]["available"], bool)
        if not disk["smart"]["available"]:  # virtio and the like: smartctl's own reason, per disk
            assert disk["smart"]["detail"]
            with pytest.raises(Unsupported) as refused:
                run(smart.read_smart(disk["path"]))
            assert refused.value.code == "no_smart" and disk["path"] in refused.value.message
            with pytest.raises(Unsupported):
                run(smart.start_self_test(disk["path"], "short"))
