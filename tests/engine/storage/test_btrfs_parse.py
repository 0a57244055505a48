"""btrfs-progs output parsers, on output recorded from real filesystems (tests/fixtures/btrfs)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from engine.storage.btrfs import parse
from engine.storage.btrfs.jobs import scrub_percent
from engine.storage.btrfs.pool import pool_record

FIXTURES = Path(__file__).parents[2] / "fixtures" / "btrfs"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def local(text: str, fmt: str) -> float:
    return time.mktime(time.strptime(text, fmt))


def test_filesystem_show() -> None:
    (fs,) = parse.parse_filesystem_show(fixture("filesystem_show_raw.txt"))
    assert (fs["label"], fs["uuid"], fs["total_devices"], fs["used_bytes"]) == (
        "tank",
        "84be2faa-7653-46a8-92bd-05eae9655992",
        2,
        753664,
    )
    assert fs["devices"][1] == {
        "devid": 2,
        "size_bytes": 268435456,
        "allocated_bytes": 109051904,
        "path": "/dev/loop1",
        "missing": False,
    }
    assert fs["missing_devices"] is False


def test_filesystem_show_with_a_missing_device() -> None:
    (unmounted,) = parse.parse_filesystem_show(fixture("filesystem_show_missing.txt"))
    assert unmounted["missing_devices"] and [d["devid"] for d in unmounted["devices"]] == [2]
    (mounted,) = parse.parse_filesystem_show(fixture("filesystem_show_degraded_mounted.txt"))
    assert mounted["devices"][0] == {"devid": 1, "size_bytes": 0, "allocated_bytes": 0, "path": "", "missing": True}
    assert mounted["missing_devices"]


def test_filesystem_usage() -> None:
    usage = parse.parse_filesystem_usage(fixture("filesystem_usage_b.txt"))
    assert usage["device_size_bytes"] == 536870912 and usage["allocated_bytes"] == 218103808
    assert usage["used_bytes"] == 1507328 and usage["free_bytes"] == 225968128
    assert (usage["data_ratio"], usage["metadata_ratio"], usage["multiple_profiles"]) == (2.0, 2.0, False)
    assert usage["profiles"] == {"data": ["raid1"], "metadata": ["raid1"], "system": ["raid1"]}
    assert usage["chunks"][0] == {"type": "data", "profile": "raid1", "size_bytes": 67108864, "used_bytes": 524288}


def test_device_stats() -> None:
    stats = parse.parse_device_stats(fixture("device_stats.txt"))
    assert stats["/dev/loop0"]["corruption_errs"] == 1 and stats["/dev/loop1"]["corruption_errs"] == 0
    assert set(stats["/dev/loop0"]) == {
        "write_io_errs",
        "read_io_errs",
        "flush_io_errs",
        "corruption_errs",
        "generation_errs",
    }
    missing = parse.parse_device_stats(fixture("device_stats_missing.txt"))
    assert missing["devid:1"]["corruption_errs"] == 1


def test_scrub_status_raw_and_summary_agree() -> None:
    raw = parse.parse_scrub_status(fixture("scrub_status_R_corrected.txt"))
    summary = parse.parse_scrub_status(fixture("scrub_status_summary_corrected.txt"))
    started = local("Sun Nov 29 13:46:10 2026", "%a %b %d %H:%M:%S %Y")
    for status in (raw, summary):
        assert (status["status"], status["started_unix"], status["duration_s"]) == ("finished", started, 0)
        assert (status["csum_errors"], status["errors_found"], status["corrected_errors"]) == (1, 1, 1)
        assert status["uncorrectable_errors"] == 0
    assert raw["bytes_scrubbed"] == 1048576 + 458752
    assert summary["total_bytes"] == 1523712 and scrub_percent(summary) == 100.0
    assert parse.parse_scrub_status(fixture("scrub_start_B_corrected.txt"))["corrected_errors"] == 1


def test_scrub_status_running_never_and_aborted() -> None:
    running = parse.parse_scrub_status(fixture("scrub_status_summary_running_B.txt"))
    assert (running["status"], running["total_bytes"], running["bytes_scrubbed"]) == ("running", 25526272, 8224768)
    assert scrub_percent(running) == 32.2
    assert parse.parse_scrub_status(fixture("scrub_status_R_running_B.txt"))["bytes_scrubbed"] == 7864320 + 360448
    assert parse.parse_scrub_status(fixture("scrub_status_never.txt"))["status"] == "never"
    aborted = parse.parse_scrub_status(fixture("scrub_status_R_aborted.txt"))
    assert (aborted["status"], aborted["duration_s"], aborted["errors_found"]) == ("aborted", 2, 0)


def test_subvolume_list_keeps_spaces_in_paths() -> None:
    subvols = parse.parse_subvolume_list(fixture("subvolume_list_puq.txt"))
    assert [s["path"] for s in subvols] == [
        "docs",
        "media files",
        ".snapshots/docs/nightly",
        ".snapshots/docs/before upgrade",
    ]
    assert subvols[0]["parent_uuid"] == "" and subvols[2]["parent_uuid"] == subvols[0]["uuid"]
    snaps = parse.parse_subvolume_list(fixture("subvolume_list_suq.txt"))
    assert [s["id"] for s in snaps] == [258, 259]
    assert snaps[1]["created_unix"] == local("2026-11-29 13:46:10", "%Y-%m-%d %H:%M:%S")
    assert snaps[1]["path"] == ".snapshots/docs/before upgrade"


def test_subvolume_show_and_qgroups() -> None:
    show = parse.parse_subvolume_show(fixture("subvolume_show_raw.txt"))
    assert (show["name"], show["id"], show["readonly"], show["parent_uuid"]) == ("docs", 256, False, "")
    assert show["snapshots"] == [".snapshots/docs/nightly", ".snapshots/docs/before upgrade"]
    assert (show["limit_referenced_bytes"], show["referenced_bytes"], show["exclusive_bytes"]) == (
        104857600,
        540672,
        16384,
    )
    groups = parse.parse_qgroup_show(fixture("qgroup_show_raw_re.txt"))
    assert groups["0/256"] == {
        "referenced_bytes": 540672,
        "exclusive_bytes": 16384,
        "path": "docs",
        "limit_referenced_bytes": 104857600,
        "limit_exclusive_bytes": 0,
    }
    assert groups["0/259"]["path"] == ".snapshots/docs/before upgrade"


def test_replace_and_balance_status() -> None:
    assert parse.parse_replace_status(fixture("replace_status_never.txt"))["state"] == "never"
    finished = parse.parse_replace_status(fixture("replace_status_finished.txt"))
    assert (finished["state"], finished["percent"], finished["write_errors"]) == ("finished", 100.0, 0)
    # the running and cancelled forms, as cmds/replace.c prints them
    running = parse.parse_replace_status("65.6% done, 0 write errs, 2 uncorr. read errs\n")
    assert (running["state"], running["percent"], running["uncorrectable_read_errors"]) == ("running", 65.6, 2)
    cancelled = parse.parse_replace_status(
        "Started on 29.Nov 13:35:13, canceled on 29.Nov 13:36:01 at 12.5%, 0 write errs, 0 uncorr. read errs\n"
    )
    assert (cancelled["state"], cancelled["percent"]) == ("canceled", 12.5)
    assert parse.parse_balance_status(fixture("balance_status_none.txt"))["state"] == "none"
    # cmds/balance.c: "%llu out of about %llu chunks balanced (%llu considered), %3.f%% left"
    balancing = parse.parse_balance_status(
        "Balance on '/mnt/tank' is running\n3 out of about 10 chunks balanced (4 considered),  70% left\n"
    )
    assert (balancing["state"], balancing["chunks_done"], balancing["percent"]) == ("running", 3, 30.0)


def test_pool_shape_of_a_degraded_filesystem() -> None:
    (fs,) = parse.parse_filesystem_show(fixture("filesystem_show_degraded_mounted.txt"))
    stats = parse.parse_device_stats(fixture("device_stats_missing.txt"))
    usage = parse.parse_filesystem_usage(fixture("filesystem_usage_b.txt"))
    pool = pool_record(fs, "/mnt/tank", usage, stats, parse.parse_scrub_status(fixture("scrub_status_R_corrected.txt")))
    assert (pool.name, pool.type, pool.health, pool.mounted) == ("tank", "btrfs", "DEGRADED", True)
    assert pool.members[0].state == "MISSING" and pool.members[0].errors.checksum_errors == 1
    assert pool.error_count == 1 and pool.last_scrub.errors_corrected == 1
    assert (pool.data_profile, pool.metadata_profile) == ("raid1", "raid1")
    assert pool.free_bytes == pool.size_bytes - pool.used_bytes


@pytest.mark.parametrize(
    ("text", "expected"),
    [("536870912", 536870912), ("512.00MiB", 512 << 20), ("1.5TB", 1_500_000_000_000), ("-", 0), ("none", 0)],
)
def test_sizes(text: str, expected: int) -> None:
    assert parse.parse_size(text) == expected
