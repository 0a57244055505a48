"""Devices that do not exist and names with control characters on the storage API (surface ``storage``).

Cases call StorageService (gRPC) or its HTTP routes with names drawn from: control characters (each
of 0x00-0x1f and 0x7f, alone or inside a name), ``..`` and slashes, a leading dot or dash, spaces
around, over 64 bytes, empty, Unicode look-alikes and direction marks; and devices drawn from: block
device paths that do not exist (checked before each use), ``..`` walks, files, a FIFO, a directory
and a symlink in a sandbox of the fuzzer's own, /dev/null and /dev/zero, names with control
characters. Mutating calls carry the confirmation their target needs, so the checks behind it are
reached. Each must be refused with the rule it broke (docs/STORAGE.md: invalid_name, device_refused,
not_found, ...), never a 5xx other than 501 unsupported, and nothing may happen: the pool list,
/proc/mounts, the loop devices and the sandbox are compared before and after every case.

Safety: no path that exists on this machine and is not the fuzzer's own sandbox, /dev/null or
/dev/zero is ever sent, so an engine that broke a rule still could not touch a real disk.
"""

from __future__ import annotations

import os
import random
import subprocess
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from frontends import pb
from perf.fuzz.nas import Answer, NasClient, judge
from perf.fuzz.report import SurfaceReport

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

REFUSALS = (
    "invalid_name",
    "device_refused",
    "not_found",
    "unknown_disk",
    "invalid_argument",
    "invalid_request",
    "confirmation_required",
    "invalid_profile",
    "raid56_refused",
    "too_few_devices",
    "unsupported",
    "invalid_schedule",
    "invalid_device",
    "invalid_kind",
    "method_not_allowed",
)  # (an HTTP client folds "/../" in a path: another route answers)
CONTROL = [chr(c) for c in range(32)] + ["\x7f"]
LOOKALIKES = ["tank\u200b", "\u202etank", "t\u0430nk", "tank\ufeff", "\u00a0tank", "tank\u2028x"]


class Storage:
    def __init__(self, client: NasClient, sandbox: Path, report: SurfaceReport, rng: random.Random) -> None:
        self.client, self.sandbox, self.report, self.rng = client, sandbox, report, rng

    def prepare(self) -> None:
        s = self.sandbox
        s.mkdir(parents=True, exist_ok=True)
        (s / "disk.img").write_bytes(bytes(1 << 20))
        (s / "dir").mkdir(exist_ok=True)
        if not (s / "fifo").exists():
            os.mkfifo(s / "fifo")
        if not (s / "link").is_symlink():
            (s / "link").symlink_to("/dev/sdzz-sigmavault-fuzz")

    # what is drawn ---------------------------------------------------------------------------
    def name(self) -> str:
        r = self.rng
        c = r.choice(CONTROL)
        return r.choice(
            [
                f"tank{c}",
                f"{c}tank",
                f"ta{c}nk",
                c,
                "..",
                "../etc",
                "a/b",
                "/",
                ".hidden",
                "-rf",
                " tank",
                "tank ",
                "",
                "x" * r.randint(65, 300),
                r.choice(LOOKALIKES),
                "tank\x00x",
                "tank;reboot",
                "$(reboot)",
                "tank\nname",
                "%2e%2e",
                "tank\\x",
                "p" * 5000,
            ]
        )

    def absent_pool(self) -> str:
        return f"fuzz-absent-{self.rng.randrange(1 << 30)}"

    def device(self) -> str:
        r = self.rng
        n = r.randrange(1 << 20)
        candidates = [
            f"/dev/sdzz{n}",
            f"/dev/nvme{90 + n % 9}n9p{n}",
            f"/dev/disk/by-id/sigmavault-fuzz-{n}",
            f"/dev/mapper/sigmavault-fuzz-{n}",
            f"/dev/../dev/sdzz{n}",
            f"sdzz{n}",
            f"/dev/sdzz{n}/../sdzz",
            str(self.sandbox / "disk.img"),
            str(self.sandbox / "fifo"),
            str(self.sandbox / "dir"),
            str(self.sandbox / "link"),
            "/dev/null",
            "/dev/zero",
            "",
            f"/dev/sd{r.choice(CONTROL)}zz",
            "/dev/sdzz\x00",
            "x" * 5000,
            "/dev/" + "x" * r.choice((256, 5000)),
            f"/dev/sdzz{n}/",
        ]
        device = r.choice(candidates)
        return device if self._safe(device) else f"/dev/sdzz-sigmavault-fuzz-{n}"

    def _safe(self, device: str) -> bool:
        """Absent, or ours, or a character device that swallows writes."""
        if "\x00" in device or not device:
            return True
        if device in ("/dev/null", "/dev/zero") or device.startswith(str(self.sandbox)):
            return True
        try:
            return not os.path.lexists(device) and not os.path.lexists(os.path.realpath(device))
        except (OSError, ValueError):
            return True

    def disk(self) -> str:
        r = self.rng
        return r.choice(
            [
                f"sdzz{r.randrange(1 << 20)}",
                f"../../etc/{r.choice(['passwd', 'shadow'])}",
                "..",
                "",
                f"sd{r.choice(CONTROL)}a",
                "x" * 300,
                "/dev/sdzz",
                "nvme99n99",
                "sda;reboot",
            ]
        )

    # the state that must not change --------------------------------------------------------------
    def state(self) -> tuple[Any, ...]:
        pools = self.client.http.get("/api/v1/storage/pools").json().get("pools", [])
        with open("/proc/mounts") as f:
            mounts = f.read()
        try:  # (without root or util-linux: the other facts still count)
            loops = subprocess.run(["losetup", "-a"], capture_output=True, text=True, timeout=10).stdout
        except OSError:
            loops = ""
        image = os.stat(self.sandbox / "disk.img")
        return sorted(p.get("name", "") for p in pools), mounts, loops, (image.st_size, image.st_mtime_ns)

    # cases -------------------------------------------------------------------------------------
    def _call(self, rpc: str, request: Any, http: tuple[str, str, Any] | None) -> Answer:
        if http is not None and self.rng.random() < 0.5:
            method, path, body = http
            return self.client.http_call(
                method, path, body if method != "GET" else None, params=body if method == "GET" else None
            )
        return self.client.grpc_call(getattr(self.client.storage, rpc), request)

    def one(self) -> None:
        r = self.rng
        pool = self.name() if r.random() < 0.5 else self.absent_pool()
        volume, snapshot, device = self.name(), self.name(), self.device()
        p = quote(pool, safe="")
        calls: list[tuple[str, Any, tuple[str, str, Any] | None]] = [
            (
                "CreatePool",
                pb.CreatePoolRequest(
                    name=pool,
                    devices=[self.device() for _ in range(r.randint(1, 3))],
                    data_profile=r.choice(["", "raid1", "raid5", "bogus"]),
                    force=r.random() < 0.5,
                ),
                None,
            ),
            (
                "AddDevice",
                pb.AddDeviceRequest(pool=pool, device=device, force=r.random() < 0.5),
                ("POST", f"/api/v1/storage/pools/{p}/devices", {"device": device}),
            ),
            (
                "RemoveDevice",
                pb.RemoveDeviceRequest(pool=pool, device=device, confirm=device),
                ("DELETE", f"/api/v1/storage/pools/{p}/devices", {"device": device, "confirm": device}),
            ),
            (
                "ReplaceDevice",
                pb.ReplaceDeviceRequest(pool=pool, old_device=self.device(), new_device=device),
                ("POST", f"/api/v1/storage/pools/{p}/replace", {"old_device": self.device(), "new_device": device}),
            ),
            (
                "DestroyPool",
                pb.DestroyPoolRequest(pool=pool, confirm=pool),
                ("DELETE", f"/api/v1/storage/pools/{p}", {"confirm": pool}),
            ),
            ("ImportPool", pb.ImportPoolRequest(pool=pool), ("POST", f"/api/v1/storage/pools/{p}/import", {})),
            ("ExportPool", pb.ExportPoolRequest(pool=pool), ("POST", f"/api/v1/storage/pools/{p}/export", {})),
            ("StartScrub", pb.StartScrubRequest(pool=pool), ("POST", f"/api/v1/storage/pools/{p}/scrub", {})),
            (
                "CreateVolume",
                pb.CreateVolumeRequest(pool=pool, volume=volume),
                ("POST", f"/api/v1/storage/pools/{p}/volumes", {"volume": volume}),
            ),
            ("DeleteVolume", pb.DeleteVolumeRequest(pool=pool, volume=volume, confirm=volume), None),
            (
                "CreateSnapshot",
                pb.CreateSnapshotRequest(pool=pool, volume=volume, snapshot=snapshot),
                (
                    "POST",
                    f"/api/v1/storage/pools/{p}/volumes/{quote(volume, safe='')}/snapshots",
                    {"snapshot": snapshot},
                ),
            ),
            (
                "RollbackVolume",
                pb.RollbackVolumeRequest(pool=pool, volume=volume, snapshot=snapshot, confirm=volume),
                None,
            ),
            (
                "CloneSnapshot",
                pb.CloneSnapshotRequest(pool=pool, volume=volume, snapshot=snapshot, new_volume=self.name()),
                None,
            ),
            (
                "CreateSchedule",
                pb.CreateScheduleRequest(pool=pool, volume=volume, period="daily", keep=3),
                ("POST", "/api/v1/storage/schedules", {"pool": pool, "volume": volume, "period": "daily", "keep": 3}),
            ),
            ("GetSmart", pb.GetSmartRequest(disk=self.disk()), None),
            ("StartSelfTest", pb.StartSelfTestRequest(disk=self.disk(), kind=r.choice(["short", "long", "x"])), None),
        ]
        rpc, request, http = calls[0] if r.random() < 0.25 else r.choice(calls)  # CreatePool checks devices first
        if rpc == "GetSmart" and r.random() < 0.5:
            http = ("GET", f"/api/v1/storage/disks/{quote(request.disk, safe='')}/smart", {})
        before = self.state()
        judge(self.report, f"{rpc} {str(request)[:200]!r}", self._call(rpc, request, http), REFUSALS, self.client)
        after = self.state()
        if after != before:
            self.report.fail(f"{rpc} {str(request)[:200]!r}: the machine changed (pools, mounts, loops or sandbox)")

    def operations(self) -> list[Callable[[], None]]:
        return [self.one]


def fuzz_storage(client: NasClient, sandbox: Path, *, cases: int, seconds: float, seed: int = 0) -> SurfaceReport:
    report = SurfaceReport("storage")
    storage = Storage(client, sandbox, report, random.Random(seed))
    storage.prepare()
    report.operations = 16
    deadline = time.monotonic() + seconds
    while report.cases < cases and time.monotonic() < deadline:
        storage.one()
    return report
