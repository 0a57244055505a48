"""SMART: parsers on real smartctl --json output of real disks (tests/fixtures/smartctl, from the
scrutiny project, MIT), starting a self-test under each bit of smartctl's exit status, and the live
path on this machine's disks."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.errors import InvalidArgument, ToolFailed, Unsupported
from engine.storage import disks, smart
from engine.storage.models import SelfTestStarted
from tests.utils import run

FIXTURES = Path(__file__).parents[2] / "fixtures" / "smartctl"


def parsed(name: str) -> dict:
    return smart.parse_smartctl((FIXTURES / name).read_text())


def test_failing_sata_disk() -> None:
    disk = parsed("smart-fail2.json")
    assert (disk["available"], disk["passed"], disk["protocol"]) == (True, False, "ATA")
    assert (disk["reallocated_sectors"], disk["pending_sectors"], disk["offline_uncorrectable"]) == (1975, 8, 0)
    assert (disk["temperature_c"], disk["power_on_hours"], disk["reallocated_events"]) == (25, 65592, 3831)
    assert [a["name"] for a in disk["failing_attributes"]] == ["Reallocated_Sector_Ct"]
    assert disk["failing_attributes"][0] == {
        "id": 5,
        "name": "Reallocated_Sector_Ct",
        "value": 1,
        "threshold": 5,
        "when_failed": "now",
    }
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
    whole = [d for d in listing.disks if d.type == "disk"]
    assert whole, "lsblk found no disk"
    for disk in whole:
        assert disk.smart is not None and isinstance(disk.smart.available, bool)
        if not disk.smart.available:  # virtio and the like: smartctl's own reason, per disk
            assert disk.smart.detail
            with pytest.raises(Unsupported) as refused:
                run(smart.read_smart(disk.path))
            assert refused.value.code == "no_smart" and disk.path in refused.value.message
            with pytest.raises(Unsupported):
                run(smart.start_self_test(disk.path, "short"))


# start_self_test against a smartctl on PATH that answers with recorded JSON --------------------
# Only the exit status (and, where smartctl adds one, its message) is set per case: no disk on this
# machine refuses a self-test, and smartctl's exit status is the "exit_status" of its JSON.
FAKE_SMARTCTL = """#!{python}
import json, os, sys
argv = sys.argv[1:]
with open(os.environ["SMARTCTL_LOG"], "a") as log:
    log.write(json.dumps(argv) + "\\n")
answer = json.load(open(os.environ["SMARTCTL_QUERY" if "-t" not in argv else "SMARTCTL_START"]))
sys.stdout.write(json.dumps(answer))
sys.exit(answer["smartctl"]["exit_status"])
"""


Answer = Callable[[dict[str, Any], dict[str, Any]], None]
Argvs = Callable[[], list[list[str]]]


@pytest.fixture
def fake_smartctl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Answer, Argvs]:
    """``answer(query, start)``: the JSON smartctl prints for the query (-c -l selftest) and for -t."""
    (tmp_path / "smartctl").write_text(FAKE_SMARTCTL.format(python=sys.executable))
    (tmp_path / "smartctl").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("SMARTCTL_LOG", str(tmp_path / "argv.log"))

    def answer(query: dict[str, Any], start: dict[str, Any]) -> None:
        for name, data in (("QUERY", query), ("START", start)):
            (tmp_path / f"{name}.json").write_text(json.dumps(data))
            monkeypatch.setenv(f"SMARTCTL_{name}", str(tmp_path / f"{name}.json"))

    def argvs() -> list[list[str]]:
        return [json.loads(line) for line in (tmp_path / "argv.log").read_text().splitlines()]

    return answer, argvs


def recorded(name: str, exit_status: int | None = None, message: str = "") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    if exit_status is not None:
        data["smartctl"]["exit_status"] = exit_status
    if message:
        data["smartctl"]["messages"] = [{"string": message, "severity": "error"}]
    return data


@pytest.mark.parametrize("bit", range(8))
def test_self_test_start_per_exit_bit(fake_smartctl: tuple[Answer, Argvs], bit: int) -> None:
    answer, argvs = fake_smartctl
    message = 'Command "Execute SMART Short self-test routine immediately in off-line mode" failed'
    answer(recorded("smart-fail2.json", 0), recorded("smart-fail2.json", 1 << bit, message if bit == 2 else ""))
    assert smart.decode_exit_status(1 << bit) == [smart.EXIT_BITS[bit]]
    if bit in (0, 1):  # smartctl could not reach the disk
        with pytest.raises(Unsupported) as unreachable:
            run(smart.start_self_test("/dev/sdc", "short"))
        assert unreachable.value.code == "no_smart"
    elif bit == 2:  # the disk refused the command: an error with smartctl's own words, never started
        with pytest.raises(ToolFailed) as refused:
            run(smart.start_self_test("/dev/sdc", "short"))
        assert refused.value.code == "selftest_refused" and message in refused.value.message
        assert refused.value.metadata == {"device": "/dev/sdc", "exit_status": "4"}
    else:  # findings about the disk (failing, errors logged): the test did start
        started = run(smart.start_self_test("/dev/sdc", "short"))
        assert started == SelfTestStarted(device="/dev/sdc", kind="short", started=True, estimated_minutes=1)
    assert argvs()[0] == ["-j", "-c", "-l", "selftest", "--", "/dev/sdc"]
    if bit not in (0, 1):
        assert argvs()[1] == ["-j", "-t", "short", "--", "/dev/sdc"]


def test_nvme_running_self_test_is_seen(fake_smartctl: tuple[Answer, Argvs]) -> None:
    answer, argvs = fake_smartctl
    # smart-nvme.json with the self-test log smartctl 7.3 prints for -l selftest on NVMe
    # (nvme_self_test_log: current_self_test_operation {value, string}, completion percent, table)
    busy = recorded("smart-nvme.json")
    busy["nvme_self_test_log"] = {
        "current_self_test_operation": {"value": 1, "string": "Short self-test in progress"},
        "current_self_test_completion_percent": 30,
        "table": [
            {
                "self_test_code": {"value": 1, "string": "Short"},
                "self_test_result": {"value": 0, "string": "Completed without error"},
                "power_on_hours": 2400,
            }
        ],
    }
    answer(busy, recorded("smart-nvme.json"))
    with pytest.raises(InvalidArgument) as running:
        run(smart.start_self_test("/dev/nvme0", "short"))
    assert running.value.code == "self_test_running" and "70% left" in running.value.message
    assert all("-t" not in argv for argv in argvs())
    status = run(smart.self_test_status("/dev/nvme0"))
    assert status["in_progress"] and status["last"]["status"] == "Completed without error"
