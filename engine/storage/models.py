"""The storage domain's records: what its calls answer and what its listings hold.

Each is frozen, and its field names are those of its message in proto/sigmavault/v1/storage.proto
(``Source`` and ``IoCounters`` in common.proto), so frontends/records.py ``plain()`` turns one into
exactly the message's dict for both transports. Sequences are tuples. A field that is ``None`` is
absent from the HTTP answer (what proto3 does for an unset message), which is how a disk without
SMART answers only ``available``, ``device`` and ``detail``. What the values mean: docs/STORAGE.md.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from engine.common.commands import Source

if TYPE_CHECKING:
    from collections.abc import Mapping

    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")

__all__ = [
    "DeletedSchedule",
    "DeletedSnapshot",
    "DeletedVolume",
    "DestroyedPool",
    "DeviceErrors",
    "Disk",
    "DiskListing",
    "IoCounters",
    "Pool",
    "PoolDevice",
    "PoolListing",
    "RestoreOutcome",
    "ScheduleListing",
    "ScrubStatus",
    "ScrubSummary",
    "SelfTestResult",
    "SelfTestStarted",
    "SelfTestState",
    "SmartAttribute",
    "SmartInfo",
    "Snapshot",
    "SnapshotListing",
    "SnapshotSchedule",
    "Source",
    "StorageJob",
    "StorageJobListing",
    "Volume",
    "VolumeListing",
    "from_fields",
]

# ---- pools ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeviceErrors:
    read_errors: int = 0
    write_errors: int = 0
    flush_errors: int = 0
    checksum_errors: int = 0  # btrfs corruption_errs, ZFS CKSUM
    generation_errors: int = 0

    @property
    def total(self) -> int:
        return self.read_errors + self.write_errors + self.flush_errors + self.checksum_errors + self.generation_errors


NO_ERRORS = DeviceErrors()


@dataclass(frozen=True, slots=True)
class PoolDevice:
    """One member device of a pool (the proto's PoolMember)."""

    path: str  # "" when the device is missing
    devid: int
    size_bytes: int = 0
    allocated_bytes: int = 0
    state: str = "ONLINE"  # ONLINE, MISSING, FAULTY, or ZFS's own
    errors: DeviceErrors = NO_ERRORS
    error_count: int = 0


@dataclass(frozen=True, slots=True)
class ScrubSummary:
    """A pool's last scrub, as its listing shows it."""

    state: str = "never"  # never, running, finished, aborted, interrupted, paused
    started_unix: float = 0.0
    duration_s: int = 0
    bytes_scrubbed: int = 0
    errors_found: int = 0
    errors_corrected: int = 0
    errors_uncorrectable: int = 0


NO_SCRUB = ScrubSummary()


@dataclass(frozen=True, slots=True)
class Pool:
    """A Btrfs filesystem, a ZFS pool or an md array in one shape."""

    name: str
    type: str  # btrfs, zfs, mdraid
    health: str = "UNKNOWN"  # ONLINE, DEGRADED, EXPORTED, UNAVAILABLE, or ZFS/md's own
    size_bytes: int = 0  # raw, all devices
    allocated_bytes: int = 0
    free_bytes: int = 0  # raw: size_bytes - used_bytes
    capacity_percent: float = 0.0
    level: str = ""  # = data_profile (md: raid1, raid5...)
    devices: tuple[str, ...] = ()
    fragmentation_percent: float = 0.0
    dedup_ratio: float = 0.0
    uuid: str = ""
    used_bytes: int = 0
    free_estimated_bytes: int = 0  # usable after redundancy
    data_profile: str = ""  # comma-joined when mixed, e.g. "single,raid1"
    metadata_profile: str = ""
    members: tuple[PoolDevice, ...] = ()
    error_count: int = 0
    mountpoint: str = ""  # "" when not mounted
    mounted: bool = False
    last_scrub: ScrubSummary = NO_SCRUB
    # created or imported by this engine; None where only the tools were asked (pools.list_pools:
    # the storage watcher's listing), the StorageManager's answers always say
    managed: bool | None = None


@dataclass(frozen=True, slots=True)
class PoolListing:
    """Every pool, and per source (btrfs, zfs, mdraid) whether this machine has it and why not."""

    pools: tuple[Pool, ...]
    sources: tuple[Source, ...]


@dataclass(frozen=True, slots=True)
class DestroyedPool:
    name: str
    destroyed: bool = True


@dataclass(frozen=True, slots=True)
class RestoreOutcome:
    """What start did with one remembered pool."""

    name: str
    action: str  # mounted, already_mounted, skipped, failed
    detail: str


# ---- scrub ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScrubStatus:
    pool: str
    state: str  # never, running, finished, aborted, ...
    started_unix: float = 0.0
    duration_s: int = 0
    total_bytes: int = 0
    bytes_scrubbed: int = 0
    percent: float = 0.0
    errors_found: int = 0
    errors_corrected: int = 0
    errors_uncorrectable: int = 0
    job_id: str = ""  # the engine job following this scrub, "" when none does


# ---- volumes and snapshots ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Volume:
    pool: str
    name: str
    path: str
    id: int = 0  # btrfs subvolume id (0 on ZFS)
    uuid: str = ""
    created_unix: float = 0.0
    readonly: bool = False
    referenced_bytes: int = 0
    exclusive_bytes: int = 0
    quota_bytes: int = 0  # 0: no quota
    usage_known: bool = True  # false when quotas are off: sizes unknown, not zero
    snapshot_count: int = 0


@dataclass(frozen=True, slots=True)
class VolumeListing:
    volumes: tuple[Volume, ...]


@dataclass(frozen=True, slots=True)
class DeletedVolume:
    pool: str
    name: str
    deleted: bool = True


@dataclass(frozen=True, slots=True)
class Snapshot:
    pool: str
    volume: str
    name: str
    path: str
    id: int = 0
    uuid: str = ""
    parent_uuid: str = ""
    created_unix: float = 0.0
    readonly: bool = True
    referenced_bytes: int = 0
    exclusive_bytes: int = 0
    quota_bytes: int = 0
    usage_known: bool = True


@dataclass(frozen=True, slots=True)
class SnapshotListing:
    snapshots: tuple[Snapshot, ...]


@dataclass(frozen=True, slots=True)
class DeletedSnapshot:
    pool: str
    volume: str
    name: str
    deleted: bool = True


# ---- snapshot schedules ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SnapshotSchedule:
    id: int
    pool: str
    volume: str
    interval_s: int
    keep: int
    created_unix: float
    enabled: bool
    last_run_unix: float
    last_result: str  # "ok", "failed: ...", "" before the first run
    last_snapshot: str
    next_run_unix: float  # 0 when disabled


@dataclass(frozen=True, slots=True)
class ScheduleListing:
    schedules: tuple[SnapshotSchedule, ...]


@dataclass(frozen=True, slots=True)
class DeletedSchedule:
    id: int
    deleted: bool = True


# ---- jobs -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StorageJob:
    """A long storage operation's job, as the JobManager's record shows it (op_jobs.storage_job)."""

    id: str
    kind: str  # scrub, balance, remove_device, replace_device
    state: str  # queued, running, done, failed, cancelled
    pool: str
    target: str  # the pool, a device, "old -> new"
    percent: float
    message: str
    errors_found: int
    errors_corrected: int
    errors_uncorrectable: int
    created_unix: float
    started_unix: float
    finished_unix: float
    error: str
    error_code: str


@dataclass(frozen=True, slots=True)
class StorageJobListing:
    jobs: tuple[StorageJob, ...]


# ---- disks and SMART ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SmartAttribute:
    """An ATA attribute at or below its threshold now, or once."""

    id: int
    name: str
    value: int
    threshold: int
    when_failed: str  # "now", "past", or smartctl's word


@dataclass(frozen=True, slots=True)
class SelfTestResult:
    type: str  # e.g. "Short offline"
    status: str
    passed: bool
    lba: int  # first failing LBA, 0 if none
    lifetime_hours: int


@dataclass(frozen=True, slots=True)
class SelfTestState:
    in_progress: bool = False
    remaining_percent: int = 0
    short_minutes: int = 0  # the disk's own estimate
    extended_minutes: int = 0
    last: SelfTestResult | None = None  # None when the log is empty


@dataclass(frozen=True, slots=True)
class SmartInfo:
    """A disk's SMART health. ``available`` false: the disk answers none (virtio, USB bridges) and
    ``detail`` says why; the figures are then None (absent), not zeros that would read as facts."""

    available: bool
    detail: str = ""
    device: str | None = None
    exit_status: int | None = None  # smartctl's exit status bits
    exit_flags: tuple[str, ...] | None = None  # their meanings
    passed: bool | None = None
    protocol: str | None = None  # ATA, NVMe, SCSI: which counters below apply (the others are 0)
    model: str | None = None
    serial: str | None = None
    firmware: str | None = None
    capacity_bytes: int | None = None
    temperature_c: int | None = None
    power_on_hours: int | None = None
    power_cycles: int | None = None
    reallocated_sectors: int | None = None
    reallocated_events: int | None = None
    pending_sectors: int | None = None
    offline_uncorrectable: int | None = None
    udma_crc_errors: int | None = None
    uncorrected_errors: int | None = None  # SCSI
    nvme_critical_warning: int | None = None
    percentage_used: int | None = None  # NVMe wear: 100 is the rated endurance
    available_spare_percent: int | None = None
    media_errors: int | None = None
    unsafe_shutdowns: int | None = None
    failing_attributes: tuple[SmartAttribute, ...] | None = None
    self_test: SelfTestState | None = None


@dataclass(frozen=True, slots=True)
class IoCounters:
    read_bytes: int = 0
    write_bytes: int = 0
    read_count: int = 0
    write_count: int = 0


NO_IO = IoCounters()


@dataclass(frozen=True, slots=True)
class Disk:
    name: str
    path: str
    type: str  # disk, part, loop, rom ...
    size_bytes: int = 0
    model: str = ""
    serial: str = ""
    rotational: bool = False
    transport: str = ""
    mountpoints: tuple[str, ...] = ()
    fstype: str = ""
    io: IoCounters = NO_IO
    smart: SmartInfo | None = None  # None when not asked (the storage watcher's listing)


@dataclass(frozen=True, slots=True)
class DiskListing:
    disks: tuple[Disk, ...]
    sources: tuple[Source, ...]


@dataclass(frozen=True, slots=True)
class SelfTestStarted:
    device: str
    kind: str
    started: bool
    estimated_minutes: int


def from_fields(cls: type[R], doc: Mapping[str, Any], **fields: Any) -> R:
    """A record of ``cls`` from a parser's dict and ``fields``, keeping only the record's own fields
    (a parser may know more than the contract shows); ``fields`` win."""
    values = {f.name: doc[f.name] for f in dataclasses.fields(cls) if f.name in doc}
    return cls(**{**values, **fields})
