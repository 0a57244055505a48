"""ZFS in zfs-fuse's dialect (pool v23; outputs recorded on this machine, tests/fixtures/zfs/README.md)
and the arguments the backend gives zpool/zfs: ``--`` before operands, a device named ``-f`` refused
before any tool runs, an exported pool found through ``zpool import`` and imported by its id.

The argument tests run the backend against a ``zpool``/``zfs`` on PATH that replays the recorded
zfs-fuse output of the same commands and writes down every argv it is given."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.errors import Conflict, InvalidArgument, NotFound
from engine.jobs.locks import LockTable
from engine.storage.ref import PoolRef
from engine.storage.zfs import backend as zfs
from engine.storage.zfs import tool
from engine.storage.zfs.parse import (
    DATASET_FIELDS,
    SNAPSHOT_FIELDS,
    ZPOOL_FUSE_FIELDS,
    leaf_named,
    parse_zfs_get,
    parse_zpool_list,
    parse_zpool_status,
)
from tests.utils import run

FIXTURES = Path(__file__).parents[2] / "fixtures" / "zfs"
CTIME = "%a %b %d %H:%M:%S %Y"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_fuse_zpool_list_sizes_for_people() -> None:
    backup, tank = parse_zpool_list(fixture("fuse_zpool_list_H.txt"), ZPOOL_FUSE_FIELDS)
    assert (tank["name"], tank["health"], tank["uuid"]) == ("tank", "ONLINE", "2240049806860466281")
    assert tank["size_bytes"] == 123 << 20 and tank["allocated_bytes"] == int(6.33 * (1 << 20))
    assert (tank["capacity_percent"], tank["dedup_ratio"], tank["fragmentation_percent"]) == (5.0, 1.0, 0.0)
    assert backup["allocated_bytes"] == 544 << 10


def test_fuse_status_scrub_line_and_short_device_names() -> None:
    backup, tank = parse_zpool_status(fixture("fuse_zpool_status.txt"))
    assert backup["scan"]["state"] == "never"
    finished = time.mktime(time.strptime("Mon Dec  7 13:15:09 2026".replace("  ", " "), CTIME))
    assert tank["scan"] == {
        "function": "scrub",
        "state": "finished",
        "percent": 100.0,
        "repaired_bytes": 0,
        "errors": 0,
        "started_unix": 0.0,
        "finished_unix": finished,
        "duration_s": 0,
    }
    pool = zfs.pool_record({"name": "tank", "type": "zfs", "allocated_bytes": 0}, tank, None)
    assert pool.data_profile == "mirror" and pool.devices == tuple(f"/tmp/zrec/d{i}" for i in (1, 2, 3))
    (degraded,) = parse_zpool_status(fixture("fuse_zpool_status_degraded.txt"))
    gone = degraded["vdevs"][-1]
    assert (gone["name"], gone["state"], gone["note"]) == ("17078446466956167994", "UNAVAIL", "was /tmp/zrec/d3")
    running = parse_zpool_status("  pool: t\n scrub: resilver in progress for 0h1m, 12.50% done, 0h7m to go\n")
    assert (running[0]["scan"]["function"], running[0]["scan"]["state"], running[0]["scan"]["percent"]) == (
        "resilver",
        "running",
        12.5,
    )
    stopped = parse_zpool_status(
        "  pool: t\n scrub: scrub stopped after 0h2m with 1 errors on Mon Dec  7 13:15:09 2026"
    )
    assert (stopped[0]["scan"]["state"], stopped[0]["scan"]["duration_s"], stopped[0]["scan"]["errors"]) == (
        "aborted",
        120,
        1,
    )


def test_fuse_zfs_get_gives_the_rows_of_zfs_list() -> None:
    text = fixture("fuse_zfs_get_Hpr.txt")
    rows = {r["name"]: r for r in parse_zfs_get(text, DATASET_FIELDS, "filesystem")}
    assert sorted(rows) == ["backup", "tank", "tank/docs", "tank/media files"]
    assert rows["tank/docs"] == {
        "name": "tank/docs",
        "used": 5455872,
        "avail": 44544128,
        "refer": 5365760,
        "usedbydataset": 5365760,
        "quota": 50000000,
        "mountpoint": "/tmp/zrec/mnt/docs",
        "creation": 1796649307,
    }
    snaps = parse_zfs_get(text, SNAPSHOT_FIELDS, "snapshot")
    assert [s["name"] for s in snaps] == ["tank/docs@daily-1", "tank/docs@before upgrade"]
    assert snaps[1] == {"name": "tank/docs@before upgrade", "creation": 1796649308, "used": 0, "refer": 5365760}


def test_import_listing_of_exported_pools() -> None:
    backup, tank = (zfs.exported_pool(p) for p in parse_zpool_status(fixture("fuse_zpool_import_listing.txt")))
    assert (backup.name, backup.uuid, backup.health, backup.mounted) == (
        "backup",
        "17439027478368420245",
        "EXPORTED",
        False,
    )
    assert (tank.health, tank.data_profile, tank.devices[-1]) == ("DEGRADED", "mirror", "/tmp/zrec/d3")
    assert [m.state for m in tank.members] == ["ONLINE", "ONLINE", "UNAVAIL"]


def test_leaf_named() -> None:
    (pool,) = parse_zpool_status(fixture("fuse_zpool_status_degraded.txt"))
    vdevs = pool["vdevs"]
    assert leaf_named("/tmp/zrec/d1", vdevs) == "/tmp/zrec/d1"
    assert leaf_named("/tmp/zrec/d3", vdevs) == "17078446466956167994"  # missing: by its old path
    assert leaf_named("17078446466956167994", vdevs) == "17078446466956167994"
    for stranger in ("-f", "mirror-0", "tank", "/tmp/zrec/d9", "--"):
        assert leaf_named(stranger, vdevs) is None
    (listed,) = parse_zpool_status("  pool: zl\n config:\n\n\tzl  ONLINE 0 0 0\n\t  loop0  ONLINE 0 0 0\n")
    assert leaf_named("/dev/loop0", listed["vdevs"]) == "/dev/loop0"  # zfs-fuse prints "loop0"


def test_recorded_runs_show_why_dashdash() -> None:
    """What zfs-fuse's zpool did with a device named -f, with and without "--" (recorded)."""
    assert "cannot replace -f with /tmp/zrec/d5: no such device in pool" in fixture("fuse_zpool_replace_dash_f.txt")
    # without "--", getopt permuted "-f" into the force flag and replaced d5 with itself
    unguarded = fixture("fuse_zpool_replace_dash_f_no_dashdash.txt")
    assert "cannot replace /tmp/zrec/d5 with /tmp/zrec/d5" in unguarded
    refused = fixture("fuse_no_dashdash_remove_set.txt")
    assert "cannot open '--'" in refused and "invalid option '-'" in refused


# the replaying tools --------------------------------------------------------------------------
REPLAY = """#!{python}
import json, os, sys
argv = sys.argv[1:]
tool = os.path.basename(sys.argv[0])
with open(os.environ["REPLAY_LOG"], "a") as log:
    log.write(json.dumps([tool, *argv]) + "\\n")
plays = json.loads(os.environ["REPLAY_PLAYS"])
for key in (" ".join([tool, *argv]), " ".join([tool, *argv[:1]])):
    if key in plays:
        out, code = plays[key]
        sys.stdout.write(open(out[1:]).read() if out.startswith("@") else out)
        sys.exit(code)
if tool == "zpool" and argv[:1] in (["list"], ["status"]) and "-p" in argv:
    sys.stderr.write("invalid option 'p'\\n")
    sys.exit(2)
"""


Plays = Callable[[dict[str, tuple[str, int]]], None]
Argvs = Callable[[], list[list[str]]]


@pytest.fixture
def replay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Plays, Argvs]:
    """``plays({"zpool status": ("@" + fixture path, or the text; exit code), ...})``: what the fake tools answer
    (by whole command line, else by subcommand); returns a function listing the argvs they got."""
    bin_dir, log = tmp_path / "bin", tmp_path / "argv.log"
    bin_dir.mkdir()
    for name in ("zpool", "zfs"):
        (bin_dir / name).write_text(REPLAY.format(python=sys.executable))
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("REPLAY_LOG", str(log))
    log.write_text("")

    def plays(table: dict[str, tuple[str, int]]) -> None:
        monkeypatch.setenv("REPLAY_PLAYS", json.dumps({k: list(v) for k, v in table.items()}))

    def argvs() -> list[list[str]]:
        return [json.loads(line) for line in log.read_text().splitlines()]

    plays({})
    return plays, argvs


def test_device_named_dash_f_never_reaches_zpool(replay: tuple[Plays, Argvs]) -> None:
    plays, argvs = replay
    plays({"zpool status": ("@" + str(FIXTURES / "fuse_zpool_status_degraded.txt"), 0)})
    backend, locks = zfs.ZfsBackend(), LockTable()
    ref = PoolRef("tank", "zfs", "2240049806860466281", "/tmp/zrec/mnt", {"mounted": True})
    lease = locks.acquire("pool:tank", "replace_device")
    with pytest.raises(NotFound, match="-f is not a device of pool 'tank'"):
        run(backend.replace_device(ref, "-f", "/dev/loop7", False, locks, lease))
    locks.release(lease)
    lease = locks.acquire("pool:tank", "remove_device")
    with pytest.raises(NotFound, match="-f is not a device of pool 'tank'"):
        run(backend.remove_device(ref, "-f", locks, lease))
    locks.release(lease)
    assert all(argv[1] == "status" for argv in argvs())  # only the membership look-ups ran

    lease = locks.acquire("pool:tank", "replace_device")
    op = run(backend.replace_device(ref, "/tmp/zrec/d3", "/dev/loop7", True, locks, lease))
    assert op.start_argv == ["zpool", "replace", "-f", "--", "tank", "17078446466956167994", "/dev/loop7"]
    assert op.cancel_argv == ["zpool", "detach", "--", "tank", "/dev/loop7"]
    locks.release(lease)
    lease = locks.acquire("pool:tank", "remove_device")
    op = run(backend.remove_device(ref, "/tmp/zrec/d2", locks, lease))
    assert op.start_argv == ["zpool", "remove", "tank", "/tmp/zrec/d2"]  # zfs-fuse's remove reads "--" as a pool
    locks.release(lease)
    with pytest.raises(InvalidArgument, match="starts with '-'"):
        tool.operand("-f")


def test_exported_pool_is_found_and_imported_by_id(replay: tuple[Plays, Argvs], tmp_path: Path) -> None:
    plays, argvs = replay
    listing = "@" + str(FIXTURES / "fuse_zpool_import_listing.txt")
    plays({"zpool list": ("", 0), "zpool import": (listing, 0), "zfs get": ("/tmp/zrec/mnt\n", 0)})
    backend = zfs.ZfsBackend()
    ref = run(backend.find("tank"))
    assert ref is not None and (ref.uuid, ref.mountpoint, ref.pool and ref.pool.health) == (
        "2240049806860466281",
        "",
        "DEGRADED",
    )
    with pytest.raises(Conflict) as refused:
        run(backend.import_pool(ref, tmp_path / "tank", False))
    assert refused.value.code == "pool_degraded" and "pass degraded" in refused.value.message
    assert not any(argv[1:2] == ["import"] and len(argv) > 2 for argv in argvs())
    run(backend.import_pool(ref, tmp_path / "tank", True))
    ran = argvs()
    assert ["zpool", "import", "--", "2240049806860466281"] in ran
    assert ["zfs", "get", "-H", "-o", "value", "mountpoint", "--", "tank"] in ran
    assert ["zfs", "set", f"mountpoint={tmp_path / 'tank'}", "tank"] in ran
    assert ref.mountpoint == str(tmp_path / "tank")
    backup = run(backend.find("backup"))
    assert backup is not None and backup.pool is not None and backup.pool.health == "EXPORTED"
    assert run(backend.find("nosuch")) is None
