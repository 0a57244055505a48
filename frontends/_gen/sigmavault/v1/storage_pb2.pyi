from frontends._gen.sigmavault.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListPoolsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DeviceErrors(_message.Message):
    __slots__ = ("read_errors", "write_errors", "flush_errors", "checksum_errors", "generation_errors")
    READ_ERRORS_FIELD_NUMBER: _ClassVar[int]
    WRITE_ERRORS_FIELD_NUMBER: _ClassVar[int]
    FLUSH_ERRORS_FIELD_NUMBER: _ClassVar[int]
    CHECKSUM_ERRORS_FIELD_NUMBER: _ClassVar[int]
    GENERATION_ERRORS_FIELD_NUMBER: _ClassVar[int]
    read_errors: int
    write_errors: int
    flush_errors: int
    checksum_errors: int
    generation_errors: int
    def __init__(self, read_errors: _Optional[int] = ..., write_errors: _Optional[int] = ..., flush_errors: _Optional[int] = ..., checksum_errors: _Optional[int] = ..., generation_errors: _Optional[int] = ...) -> None: ...

class PoolMember(_message.Message):
    __slots__ = ("path", "devid", "size_bytes", "allocated_bytes", "state", "errors", "error_count")
    PATH_FIELD_NUMBER: _ClassVar[int]
    DEVID_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    ALLOCATED_BYTES_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    ERROR_COUNT_FIELD_NUMBER: _ClassVar[int]
    path: str
    devid: int
    size_bytes: int
    allocated_bytes: int
    state: str
    errors: DeviceErrors
    error_count: int
    def __init__(self, path: _Optional[str] = ..., devid: _Optional[int] = ..., size_bytes: _Optional[int] = ..., allocated_bytes: _Optional[int] = ..., state: _Optional[str] = ..., errors: _Optional[_Union[DeviceErrors, _Mapping]] = ..., error_count: _Optional[int] = ...) -> None: ...

class ScrubSummary(_message.Message):
    __slots__ = ("state", "started_unix", "duration_s", "bytes_scrubbed", "errors_found", "errors_corrected", "errors_uncorrectable")
    STATE_FIELD_NUMBER: _ClassVar[int]
    STARTED_UNIX_FIELD_NUMBER: _ClassVar[int]
    DURATION_S_FIELD_NUMBER: _ClassVar[int]
    BYTES_SCRUBBED_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FOUND_FIELD_NUMBER: _ClassVar[int]
    ERRORS_CORRECTED_FIELD_NUMBER: _ClassVar[int]
    ERRORS_UNCORRECTABLE_FIELD_NUMBER: _ClassVar[int]
    state: str
    started_unix: float
    duration_s: int
    bytes_scrubbed: int
    errors_found: int
    errors_corrected: int
    errors_uncorrectable: int
    def __init__(self, state: _Optional[str] = ..., started_unix: _Optional[float] = ..., duration_s: _Optional[int] = ..., bytes_scrubbed: _Optional[int] = ..., errors_found: _Optional[int] = ..., errors_corrected: _Optional[int] = ..., errors_uncorrectable: _Optional[int] = ...) -> None: ...

class Pool(_message.Message):
    __slots__ = ("name", "type", "health", "size_bytes", "allocated_bytes", "free_bytes", "capacity_percent", "level", "devices", "fragmentation_percent", "dedup_ratio", "uuid", "used_bytes", "free_estimated_bytes", "data_profile", "metadata_profile", "members", "error_count", "mountpoint", "mounted", "last_scrub", "managed")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    ALLOCATED_BYTES_FIELD_NUMBER: _ClassVar[int]
    FREE_BYTES_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_PERCENT_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    DEVICES_FIELD_NUMBER: _ClassVar[int]
    FRAGMENTATION_PERCENT_FIELD_NUMBER: _ClassVar[int]
    DEDUP_RATIO_FIELD_NUMBER: _ClassVar[int]
    UUID_FIELD_NUMBER: _ClassVar[int]
    USED_BYTES_FIELD_NUMBER: _ClassVar[int]
    FREE_ESTIMATED_BYTES_FIELD_NUMBER: _ClassVar[int]
    DATA_PROFILE_FIELD_NUMBER: _ClassVar[int]
    METADATA_PROFILE_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    ERROR_COUNT_FIELD_NUMBER: _ClassVar[int]
    MOUNTPOINT_FIELD_NUMBER: _ClassVar[int]
    MOUNTED_FIELD_NUMBER: _ClassVar[int]
    LAST_SCRUB_FIELD_NUMBER: _ClassVar[int]
    MANAGED_FIELD_NUMBER: _ClassVar[int]
    name: str
    type: str
    health: str
    size_bytes: int
    allocated_bytes: int
    free_bytes: int
    capacity_percent: float
    level: str
    devices: _containers.RepeatedScalarFieldContainer[str]
    fragmentation_percent: float
    dedup_ratio: float
    uuid: str
    used_bytes: int
    free_estimated_bytes: int
    data_profile: str
    metadata_profile: str
    members: _containers.RepeatedCompositeFieldContainer[PoolMember]
    error_count: int
    mountpoint: str
    mounted: bool
    last_scrub: ScrubSummary
    managed: bool
    def __init__(self, name: _Optional[str] = ..., type: _Optional[str] = ..., health: _Optional[str] = ..., size_bytes: _Optional[int] = ..., allocated_bytes: _Optional[int] = ..., free_bytes: _Optional[int] = ..., capacity_percent: _Optional[float] = ..., level: _Optional[str] = ..., devices: _Optional[_Iterable[str]] = ..., fragmentation_percent: _Optional[float] = ..., dedup_ratio: _Optional[float] = ..., uuid: _Optional[str] = ..., used_bytes: _Optional[int] = ..., free_estimated_bytes: _Optional[int] = ..., data_profile: _Optional[str] = ..., metadata_profile: _Optional[str] = ..., members: _Optional[_Iterable[_Union[PoolMember, _Mapping]]] = ..., error_count: _Optional[int] = ..., mountpoint: _Optional[str] = ..., mounted: _Optional[bool] = ..., last_scrub: _Optional[_Union[ScrubSummary, _Mapping]] = ..., managed: _Optional[bool] = ...) -> None: ...

class ListPoolsResponse(_message.Message):
    __slots__ = ("pools", "sources")
    POOLS_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    pools: _containers.RepeatedCompositeFieldContainer[Pool]
    sources: _containers.RepeatedCompositeFieldContainer[_common_pb2.Source]
    def __init__(self, pools: _Optional[_Iterable[_Union[Pool, _Mapping]]] = ..., sources: _Optional[_Iterable[_Union[_common_pb2.Source, _Mapping]]] = ...) -> None: ...

class GetPoolRequest(_message.Message):
    __slots__ = ("pool",)
    POOL_FIELD_NUMBER: _ClassVar[int]
    pool: str
    def __init__(self, pool: _Optional[str] = ...) -> None: ...

class CreatePoolRequest(_message.Message):
    __slots__ = ("name", "devices", "type", "data_profile", "metadata_profile", "force")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DEVICES_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DATA_PROFILE_FIELD_NUMBER: _ClassVar[int]
    METADATA_PROFILE_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    name: str
    devices: _containers.RepeatedScalarFieldContainer[str]
    type: str
    data_profile: str
    metadata_profile: str
    force: bool
    def __init__(self, name: _Optional[str] = ..., devices: _Optional[_Iterable[str]] = ..., type: _Optional[str] = ..., data_profile: _Optional[str] = ..., metadata_profile: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class ImportPoolRequest(_message.Message):
    __slots__ = ("pool", "degraded")
    POOL_FIELD_NUMBER: _ClassVar[int]
    DEGRADED_FIELD_NUMBER: _ClassVar[int]
    pool: str
    degraded: bool
    def __init__(self, pool: _Optional[str] = ..., degraded: _Optional[bool] = ...) -> None: ...

class ExportPoolRequest(_message.Message):
    __slots__ = ("pool",)
    POOL_FIELD_NUMBER: _ClassVar[int]
    pool: str
    def __init__(self, pool: _Optional[str] = ...) -> None: ...

class DestroyPoolRequest(_message.Message):
    __slots__ = ("pool", "confirm")
    POOL_FIELD_NUMBER: _ClassVar[int]
    CONFIRM_FIELD_NUMBER: _ClassVar[int]
    pool: str
    confirm: str
    def __init__(self, pool: _Optional[str] = ..., confirm: _Optional[str] = ...) -> None: ...

class DestroyPoolResponse(_message.Message):
    __slots__ = ("name", "destroyed")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESTROYED_FIELD_NUMBER: _ClassVar[int]
    name: str
    destroyed: bool
    def __init__(self, name: _Optional[str] = ..., destroyed: _Optional[bool] = ...) -> None: ...

class AddDeviceRequest(_message.Message):
    __slots__ = ("pool", "device", "force")
    POOL_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    pool: str
    device: str
    force: bool
    def __init__(self, pool: _Optional[str] = ..., device: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class RemoveDeviceRequest(_message.Message):
    __slots__ = ("pool", "device", "confirm")
    POOL_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    CONFIRM_FIELD_NUMBER: _ClassVar[int]
    pool: str
    device: str
    confirm: str
    def __init__(self, pool: _Optional[str] = ..., device: _Optional[str] = ..., confirm: _Optional[str] = ...) -> None: ...

class ReplaceDeviceRequest(_message.Message):
    __slots__ = ("pool", "old_device", "new_device", "force")
    POOL_FIELD_NUMBER: _ClassVar[int]
    OLD_DEVICE_FIELD_NUMBER: _ClassVar[int]
    NEW_DEVICE_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    pool: str
    old_device: str
    new_device: str
    force: bool
    def __init__(self, pool: _Optional[str] = ..., old_device: _Optional[str] = ..., new_device: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class BalanceRequest(_message.Message):
    __slots__ = ("pool", "convert_data", "convert_metadata", "force")
    POOL_FIELD_NUMBER: _ClassVar[int]
    CONVERT_DATA_FIELD_NUMBER: _ClassVar[int]
    CONVERT_METADATA_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    pool: str
    convert_data: str
    convert_metadata: str
    force: bool
    def __init__(self, pool: _Optional[str] = ..., convert_data: _Optional[str] = ..., convert_metadata: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class StartScrubRequest(_message.Message):
    __slots__ = ("pool",)
    POOL_FIELD_NUMBER: _ClassVar[int]
    pool: str
    def __init__(self, pool: _Optional[str] = ...) -> None: ...

class CancelScrubRequest(_message.Message):
    __slots__ = ("pool",)
    POOL_FIELD_NUMBER: _ClassVar[int]
    pool: str
    def __init__(self, pool: _Optional[str] = ...) -> None: ...

class GetScrubStatusRequest(_message.Message):
    __slots__ = ("pool",)
    POOL_FIELD_NUMBER: _ClassVar[int]
    pool: str
    def __init__(self, pool: _Optional[str] = ...) -> None: ...

class ScrubStatus(_message.Message):
    __slots__ = ("pool", "state", "started_unix", "duration_s", "total_bytes", "bytes_scrubbed", "percent", "errors_found", "errors_corrected", "errors_uncorrectable", "job_id")
    POOL_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STARTED_UNIX_FIELD_NUMBER: _ClassVar[int]
    DURATION_S_FIELD_NUMBER: _ClassVar[int]
    TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    BYTES_SCRUBBED_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FOUND_FIELD_NUMBER: _ClassVar[int]
    ERRORS_CORRECTED_FIELD_NUMBER: _ClassVar[int]
    ERRORS_UNCORRECTABLE_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    pool: str
    state: str
    started_unix: float
    duration_s: int
    total_bytes: int
    bytes_scrubbed: int
    percent: float
    errors_found: int
    errors_corrected: int
    errors_uncorrectable: int
    job_id: str
    def __init__(self, pool: _Optional[str] = ..., state: _Optional[str] = ..., started_unix: _Optional[float] = ..., duration_s: _Optional[int] = ..., total_bytes: _Optional[int] = ..., bytes_scrubbed: _Optional[int] = ..., percent: _Optional[float] = ..., errors_found: _Optional[int] = ..., errors_corrected: _Optional[int] = ..., errors_uncorrectable: _Optional[int] = ..., job_id: _Optional[str] = ...) -> None: ...

class Volume(_message.Message):
    __slots__ = ("pool", "name", "path", "id", "uuid", "created_unix", "readonly", "referenced_bytes", "exclusive_bytes", "quota_bytes", "usage_known", "snapshot_count")
    POOL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    UUID_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_FIELD_NUMBER: _ClassVar[int]
    READONLY_FIELD_NUMBER: _ClassVar[int]
    REFERENCED_BYTES_FIELD_NUMBER: _ClassVar[int]
    EXCLUSIVE_BYTES_FIELD_NUMBER: _ClassVar[int]
    QUOTA_BYTES_FIELD_NUMBER: _ClassVar[int]
    USAGE_KNOWN_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_COUNT_FIELD_NUMBER: _ClassVar[int]
    pool: str
    name: str
    path: str
    id: int
    uuid: str
    created_unix: float
    readonly: bool
    referenced_bytes: int
    exclusive_bytes: int
    quota_bytes: int
    usage_known: bool
    snapshot_count: int
    def __init__(self, pool: _Optional[str] = ..., name: _Optional[str] = ..., path: _Optional[str] = ..., id: _Optional[int] = ..., uuid: _Optional[str] = ..., created_unix: _Optional[float] = ..., readonly: _Optional[bool] = ..., referenced_bytes: _Optional[int] = ..., exclusive_bytes: _Optional[int] = ..., quota_bytes: _Optional[int] = ..., usage_known: _Optional[bool] = ..., snapshot_count: _Optional[int] = ...) -> None: ...

class ListVolumesRequest(_message.Message):
    __slots__ = ("pool",)
    POOL_FIELD_NUMBER: _ClassVar[int]
    pool: str
    def __init__(self, pool: _Optional[str] = ...) -> None: ...

class ListVolumesResponse(_message.Message):
    __slots__ = ("volumes",)
    VOLUMES_FIELD_NUMBER: _ClassVar[int]
    volumes: _containers.RepeatedCompositeFieldContainer[Volume]
    def __init__(self, volumes: _Optional[_Iterable[_Union[Volume, _Mapping]]] = ...) -> None: ...

class CreateVolumeRequest(_message.Message):
    __slots__ = ("pool", "volume", "quota_bytes")
    POOL_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    QUOTA_BYTES_FIELD_NUMBER: _ClassVar[int]
    pool: str
    volume: str
    quota_bytes: int
    def __init__(self, pool: _Optional[str] = ..., volume: _Optional[str] = ..., quota_bytes: _Optional[int] = ...) -> None: ...

class SetQuotaRequest(_message.Message):
    __slots__ = ("pool", "volume", "quota_bytes")
    POOL_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    QUOTA_BYTES_FIELD_NUMBER: _ClassVar[int]
    pool: str
    volume: str
    quota_bytes: int
    def __init__(self, pool: _Optional[str] = ..., volume: _Optional[str] = ..., quota_bytes: _Optional[int] = ...) -> None: ...

class DeleteVolumeRequest(_message.Message):
    __slots__ = ("pool", "volume", "confirm", "with_snapshots")
    POOL_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    CONFIRM_FIELD_NUMBER: _ClassVar[int]
    WITH_SNAPSHOTS_FIELD_NUMBER: _ClassVar[int]
    pool: str
    volume: str
    confirm: str
    with_snapshots: bool
    def __init__(self, pool: _Optional[str] = ..., volume: _Optional[str] = ..., confirm: _Optional[str] = ..., with_snapshots: _Optional[bool] = ...) -> None: ...

class DeleteVolumeResponse(_message.Message):
    __slots__ = ("pool", "name", "deleted")
    POOL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    pool: str
    name: str
    deleted: bool
    def __init__(self, pool: _Optional[str] = ..., name: _Optional[str] = ..., deleted: _Optional[bool] = ...) -> None: ...

class Snapshot(_message.Message):
    __slots__ = ("pool", "volume", "name", "path", "id", "uuid", "parent_uuid", "created_unix", "readonly", "referenced_bytes", "exclusive_bytes", "quota_bytes", "usage_known")
    POOL_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    UUID_FIELD_NUMBER: _ClassVar[int]
    PARENT_UUID_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_FIELD_NUMBER: _ClassVar[int]
    READONLY_FIELD_NUMBER: _ClassVar[int]
    REFERENCED_BYTES_FIELD_NUMBER: _ClassVar[int]
    EXCLUSIVE_BYTES_FIELD_NUMBER: _ClassVar[int]
    QUOTA_BYTES_FIELD_NUMBER: _ClassVar[int]
    USAGE_KNOWN_FIELD_NUMBER: _ClassVar[int]
    pool: str
    volume: str
    name: str
    path: str
    id: int
    uuid: str
    parent_uuid: str
    created_unix: float
    readonly: bool
    referenced_bytes: int
    exclusive_bytes: int
    quota_bytes: int
    usage_known: bool
    def __init__(self, pool: _Optional[str] = ..., volume: _Optional[str] = ..., name: _Optional[str] = ..., path: _Optional[str] = ..., id: _Optional[int] = ..., uuid: _Optional[str] = ..., parent_uuid: _Optional[str] = ..., created_unix: _Optional[float] = ..., readonly: _Optional[bool] = ..., referenced_bytes: _Optional[int] = ..., exclusive_bytes: _Optional[int] = ..., quota_bytes: _Optional[int] = ..., usage_known: _Optional[bool] = ...) -> None: ...

class ListSnapshotsRequest(_message.Message):
    __slots__ = ("pool", "volume")
    POOL_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    pool: str
    volume: str
    def __init__(self, pool: _Optional[str] = ..., volume: _Optional[str] = ...) -> None: ...

class ListSnapshotsResponse(_message.Message):
    __slots__ = ("snapshots",)
    SNAPSHOTS_FIELD_NUMBER: _ClassVar[int]
    snapshots: _containers.RepeatedCompositeFieldContainer[Snapshot]
    def __init__(self, snapshots: _Optional[_Iterable[_Union[Snapshot, _Mapping]]] = ...) -> None: ...

class CreateSnapshotRequest(_message.Message):
    __slots__ = ("pool", "volume", "snapshot")
    POOL_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    pool: str
    volume: str
    snapshot: str
    def __init__(self, pool: _Optional[str] = ..., volume: _Optional[str] = ..., snapshot: _Optional[str] = ...) -> None: ...

class DeleteSnapshotRequest(_message.Message):
    __slots__ = ("pool", "volume", "snapshot", "confirm")
    POOL_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    CONFIRM_FIELD_NUMBER: _ClassVar[int]
    pool: str
    volume: str
    snapshot: str
    confirm: str
    def __init__(self, pool: _Optional[str] = ..., volume: _Optional[str] = ..., snapshot: _Optional[str] = ..., confirm: _Optional[str] = ...) -> None: ...

class DeleteSnapshotResponse(_message.Message):
    __slots__ = ("pool", "volume", "name", "deleted")
    POOL_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    pool: str
    volume: str
    name: str
    deleted: bool
    def __init__(self, pool: _Optional[str] = ..., volume: _Optional[str] = ..., name: _Optional[str] = ..., deleted: _Optional[bool] = ...) -> None: ...

class RollbackVolumeRequest(_message.Message):
    __slots__ = ("pool", "volume", "snapshot", "confirm")
    POOL_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    CONFIRM_FIELD_NUMBER: _ClassVar[int]
    pool: str
    volume: str
    snapshot: str
    confirm: str
    def __init__(self, pool: _Optional[str] = ..., volume: _Optional[str] = ..., snapshot: _Optional[str] = ..., confirm: _Optional[str] = ...) -> None: ...

class CloneSnapshotRequest(_message.Message):
    __slots__ = ("pool", "volume", "snapshot", "new_volume")
    POOL_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    NEW_VOLUME_FIELD_NUMBER: _ClassVar[int]
    pool: str
    volume: str
    snapshot: str
    new_volume: str
    def __init__(self, pool: _Optional[str] = ..., volume: _Optional[str] = ..., snapshot: _Optional[str] = ..., new_volume: _Optional[str] = ...) -> None: ...

class SnapshotSchedule(_message.Message):
    __slots__ = ("id", "pool", "volume", "interval_s", "keep", "created_unix", "enabled", "last_run_unix", "last_result", "last_snapshot", "next_run_unix")
    ID_FIELD_NUMBER: _ClassVar[int]
    POOL_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_S_FIELD_NUMBER: _ClassVar[int]
    KEEP_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    LAST_RUN_UNIX_FIELD_NUMBER: _ClassVar[int]
    LAST_RESULT_FIELD_NUMBER: _ClassVar[int]
    LAST_SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    NEXT_RUN_UNIX_FIELD_NUMBER: _ClassVar[int]
    id: int
    pool: str
    volume: str
    interval_s: int
    keep: int
    created_unix: float
    enabled: bool
    last_run_unix: float
    last_result: str
    last_snapshot: str
    next_run_unix: float
    def __init__(self, id: _Optional[int] = ..., pool: _Optional[str] = ..., volume: _Optional[str] = ..., interval_s: _Optional[int] = ..., keep: _Optional[int] = ..., created_unix: _Optional[float] = ..., enabled: _Optional[bool] = ..., last_run_unix: _Optional[float] = ..., last_result: _Optional[str] = ..., last_snapshot: _Optional[str] = ..., next_run_unix: _Optional[float] = ...) -> None: ...

class ListSchedulesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListSchedulesResponse(_message.Message):
    __slots__ = ("schedules",)
    SCHEDULES_FIELD_NUMBER: _ClassVar[int]
    schedules: _containers.RepeatedCompositeFieldContainer[SnapshotSchedule]
    def __init__(self, schedules: _Optional[_Iterable[_Union[SnapshotSchedule, _Mapping]]] = ...) -> None: ...

class CreateScheduleRequest(_message.Message):
    __slots__ = ("pool", "volume", "period", "interval_s", "keep")
    POOL_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_S_FIELD_NUMBER: _ClassVar[int]
    KEEP_FIELD_NUMBER: _ClassVar[int]
    pool: str
    volume: str
    period: str
    interval_s: int
    keep: int
    def __init__(self, pool: _Optional[str] = ..., volume: _Optional[str] = ..., period: _Optional[str] = ..., interval_s: _Optional[int] = ..., keep: _Optional[int] = ...) -> None: ...

class UpdateScheduleRequest(_message.Message):
    __slots__ = ("id", "enabled", "keep")
    ID_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    KEEP_FIELD_NUMBER: _ClassVar[int]
    id: int
    enabled: bool
    keep: int
    def __init__(self, id: _Optional[int] = ..., enabled: _Optional[bool] = ..., keep: _Optional[int] = ...) -> None: ...

class DeleteScheduleRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class DeleteScheduleResponse(_message.Message):
    __slots__ = ("id", "deleted")
    ID_FIELD_NUMBER: _ClassVar[int]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    id: int
    deleted: bool
    def __init__(self, id: _Optional[int] = ..., deleted: _Optional[bool] = ...) -> None: ...

class StorageJob(_message.Message):
    __slots__ = ("id", "kind", "state", "pool", "target", "percent", "message", "errors_found", "errors_corrected", "errors_uncorrectable", "created_unix", "started_unix", "finished_unix", "error", "error_code")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    POOL_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FOUND_FIELD_NUMBER: _ClassVar[int]
    ERRORS_CORRECTED_FIELD_NUMBER: _ClassVar[int]
    ERRORS_UNCORRECTABLE_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_FIELD_NUMBER: _ClassVar[int]
    STARTED_UNIX_FIELD_NUMBER: _ClassVar[int]
    FINISHED_UNIX_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    id: str
    kind: str
    state: str
    pool: str
    target: str
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
    def __init__(self, id: _Optional[str] = ..., kind: _Optional[str] = ..., state: _Optional[str] = ..., pool: _Optional[str] = ..., target: _Optional[str] = ..., percent: _Optional[float] = ..., message: _Optional[str] = ..., errors_found: _Optional[int] = ..., errors_corrected: _Optional[int] = ..., errors_uncorrectable: _Optional[int] = ..., created_unix: _Optional[float] = ..., started_unix: _Optional[float] = ..., finished_unix: _Optional[float] = ..., error: _Optional[str] = ..., error_code: _Optional[str] = ...) -> None: ...

class ListJobsRequest(_message.Message):
    __slots__ = ("limit",)
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    limit: int
    def __init__(self, limit: _Optional[int] = ...) -> None: ...

class ListJobsResponse(_message.Message):
    __slots__ = ("jobs",)
    JOBS_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[StorageJob]
    def __init__(self, jobs: _Optional[_Iterable[_Union[StorageJob, _Mapping]]] = ...) -> None: ...

class GetJobRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class CancelJobRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListDisksRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SmartAttribute(_message.Message):
    __slots__ = ("id", "name", "value", "threshold", "when_failed")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    WHEN_FAILED_FIELD_NUMBER: _ClassVar[int]
    id: int
    name: str
    value: int
    threshold: int
    when_failed: str
    def __init__(self, id: _Optional[int] = ..., name: _Optional[str] = ..., value: _Optional[int] = ..., threshold: _Optional[int] = ..., when_failed: _Optional[str] = ...) -> None: ...

class SelfTestResult(_message.Message):
    __slots__ = ("type", "status", "passed", "lba", "lifetime_hours")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    LBA_FIELD_NUMBER: _ClassVar[int]
    LIFETIME_HOURS_FIELD_NUMBER: _ClassVar[int]
    type: str
    status: str
    passed: bool
    lba: int
    lifetime_hours: int
    def __init__(self, type: _Optional[str] = ..., status: _Optional[str] = ..., passed: _Optional[bool] = ..., lba: _Optional[int] = ..., lifetime_hours: _Optional[int] = ...) -> None: ...

class SelfTestState(_message.Message):
    __slots__ = ("in_progress", "remaining_percent", "short_minutes", "extended_minutes", "last")
    IN_PROGRESS_FIELD_NUMBER: _ClassVar[int]
    REMAINING_PERCENT_FIELD_NUMBER: _ClassVar[int]
    SHORT_MINUTES_FIELD_NUMBER: _ClassVar[int]
    EXTENDED_MINUTES_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    in_progress: bool
    remaining_percent: int
    short_minutes: int
    extended_minutes: int
    last: SelfTestResult
    def __init__(self, in_progress: _Optional[bool] = ..., remaining_percent: _Optional[int] = ..., short_minutes: _Optional[int] = ..., extended_minutes: _Optional[int] = ..., last: _Optional[_Union[SelfTestResult, _Mapping]] = ...) -> None: ...

class SmartInfo(_message.Message):
    __slots__ = ("available", "passed", "temperature_c", "power_on_hours", "reallocated_sectors", "detail", "device", "protocol", "model", "serial", "firmware", "capacity_bytes", "power_cycles", "reallocated_events", "pending_sectors", "offline_uncorrectable", "udma_crc_errors", "uncorrected_errors", "nvme_critical_warning", "percentage_used", "available_spare_percent", "media_errors", "unsafe_shutdowns", "failing_attributes", "exit_status", "exit_flags", "self_test")
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    TEMPERATURE_C_FIELD_NUMBER: _ClassVar[int]
    POWER_ON_HOURS_FIELD_NUMBER: _ClassVar[int]
    REALLOCATED_SECTORS_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SERIAL_FIELD_NUMBER: _ClassVar[int]
    FIRMWARE_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_BYTES_FIELD_NUMBER: _ClassVar[int]
    POWER_CYCLES_FIELD_NUMBER: _ClassVar[int]
    REALLOCATED_EVENTS_FIELD_NUMBER: _ClassVar[int]
    PENDING_SECTORS_FIELD_NUMBER: _ClassVar[int]
    OFFLINE_UNCORRECTABLE_FIELD_NUMBER: _ClassVar[int]
    UDMA_CRC_ERRORS_FIELD_NUMBER: _ClassVar[int]
    UNCORRECTED_ERRORS_FIELD_NUMBER: _ClassVar[int]
    NVME_CRITICAL_WARNING_FIELD_NUMBER: _ClassVar[int]
    PERCENTAGE_USED_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_SPARE_PERCENT_FIELD_NUMBER: _ClassVar[int]
    MEDIA_ERRORS_FIELD_NUMBER: _ClassVar[int]
    UNSAFE_SHUTDOWNS_FIELD_NUMBER: _ClassVar[int]
    FAILING_ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    EXIT_STATUS_FIELD_NUMBER: _ClassVar[int]
    EXIT_FLAGS_FIELD_NUMBER: _ClassVar[int]
    SELF_TEST_FIELD_NUMBER: _ClassVar[int]
    available: bool
    passed: bool
    temperature_c: int
    power_on_hours: int
    reallocated_sectors: int
    detail: str
    device: str
    protocol: str
    model: str
    serial: str
    firmware: str
    capacity_bytes: int
    power_cycles: int
    reallocated_events: int
    pending_sectors: int
    offline_uncorrectable: int
    udma_crc_errors: int
    uncorrected_errors: int
    nvme_critical_warning: int
    percentage_used: int
    available_spare_percent: int
    media_errors: int
    unsafe_shutdowns: int
    failing_attributes: _containers.RepeatedCompositeFieldContainer[SmartAttribute]
    exit_status: int
    exit_flags: _containers.RepeatedScalarFieldContainer[str]
    self_test: SelfTestState
    def __init__(self, available: _Optional[bool] = ..., passed: _Optional[bool] = ..., temperature_c: _Optional[int] = ..., power_on_hours: _Optional[int] = ..., reallocated_sectors: _Optional[int] = ..., detail: _Optional[str] = ..., device: _Optional[str] = ..., protocol: _Optional[str] = ..., model: _Optional[str] = ..., serial: _Optional[str] = ..., firmware: _Optional[str] = ..., capacity_bytes: _Optional[int] = ..., power_cycles: _Optional[int] = ..., reallocated_events: _Optional[int] = ..., pending_sectors: _Optional[int] = ..., offline_uncorrectable: _Optional[int] = ..., udma_crc_errors: _Optional[int] = ..., uncorrected_errors: _Optional[int] = ..., nvme_critical_warning: _Optional[int] = ..., percentage_used: _Optional[int] = ..., available_spare_percent: _Optional[int] = ..., media_errors: _Optional[int] = ..., unsafe_shutdowns: _Optional[int] = ..., failing_attributes: _Optional[_Iterable[_Union[SmartAttribute, _Mapping]]] = ..., exit_status: _Optional[int] = ..., exit_flags: _Optional[_Iterable[str]] = ..., self_test: _Optional[_Union[SelfTestState, _Mapping]] = ...) -> None: ...

class Disk(_message.Message):
    __slots__ = ("name", "path", "type", "size_bytes", "model", "serial", "rotational", "transport", "mountpoints", "fstype", "io", "smart")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SERIAL_FIELD_NUMBER: _ClassVar[int]
    ROTATIONAL_FIELD_NUMBER: _ClassVar[int]
    TRANSPORT_FIELD_NUMBER: _ClassVar[int]
    MOUNTPOINTS_FIELD_NUMBER: _ClassVar[int]
    FSTYPE_FIELD_NUMBER: _ClassVar[int]
    IO_FIELD_NUMBER: _ClassVar[int]
    SMART_FIELD_NUMBER: _ClassVar[int]
    name: str
    path: str
    type: str
    size_bytes: int
    model: str
    serial: str
    rotational: bool
    transport: str
    mountpoints: _containers.RepeatedScalarFieldContainer[str]
    fstype: str
    io: _common_pb2.IoCounters
    smart: SmartInfo
    def __init__(self, name: _Optional[str] = ..., path: _Optional[str] = ..., type: _Optional[str] = ..., size_bytes: _Optional[int] = ..., model: _Optional[str] = ..., serial: _Optional[str] = ..., rotational: _Optional[bool] = ..., transport: _Optional[str] = ..., mountpoints: _Optional[_Iterable[str]] = ..., fstype: _Optional[str] = ..., io: _Optional[_Union[_common_pb2.IoCounters, _Mapping]] = ..., smart: _Optional[_Union[SmartInfo, _Mapping]] = ...) -> None: ...

class ListDisksResponse(_message.Message):
    __slots__ = ("disks", "sources")
    DISKS_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    disks: _containers.RepeatedCompositeFieldContainer[Disk]
    sources: _containers.RepeatedCompositeFieldContainer[_common_pb2.Source]
    def __init__(self, disks: _Optional[_Iterable[_Union[Disk, _Mapping]]] = ..., sources: _Optional[_Iterable[_Union[_common_pb2.Source, _Mapping]]] = ...) -> None: ...

class GetSmartRequest(_message.Message):
    __slots__ = ("disk", "extended")
    DISK_FIELD_NUMBER: _ClassVar[int]
    EXTENDED_FIELD_NUMBER: _ClassVar[int]
    disk: str
    extended: bool
    def __init__(self, disk: _Optional[str] = ..., extended: _Optional[bool] = ...) -> None: ...

class StartSelfTestRequest(_message.Message):
    __slots__ = ("disk", "kind")
    DISK_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    disk: str
    kind: str
    def __init__(self, disk: _Optional[str] = ..., kind: _Optional[str] = ...) -> None: ...

class StartSelfTestResponse(_message.Message):
    __slots__ = ("device", "kind", "started", "estimated_minutes")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STARTED_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_MINUTES_FIELD_NUMBER: _ClassVar[int]
    device: str
    kind: str
    started: bool
    estimated_minutes: int
    def __init__(self, device: _Optional[str] = ..., kind: _Optional[str] = ..., started: _Optional[bool] = ..., estimated_minutes: _Optional[int] = ...) -> None: ...
