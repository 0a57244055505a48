from frontends._gen.sigmavault.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class WorkerInfo(_message.Message):
    __slots__ = ("id", "pid", "state", "restarts", "epoch", "tasks", "errors", "busy_ns", "cpu", "sleeps")
    ID_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    RESTARTS_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    BUSY_NS_FIELD_NUMBER: _ClassVar[int]
    CPU_FIELD_NUMBER: _ClassVar[int]
    SLEEPS_FIELD_NUMBER: _ClassVar[int]
    id: int
    pid: int
    state: str
    restarts: int
    epoch: int
    tasks: int
    errors: int
    busy_ns: int
    cpu: int
    sleeps: int
    def __init__(self, id: _Optional[int] = ..., pid: _Optional[int] = ..., state: _Optional[str] = ..., restarts: _Optional[int] = ..., epoch: _Optional[int] = ..., tasks: _Optional[int] = ..., errors: _Optional[int] = ..., busy_ns: _Optional[int] = ..., cpu: _Optional[int] = ..., sleeps: _Optional[int] = ...) -> None: ...

class SystemStatus(_message.Message):
    __slots__ = ("state", "version", "hostname", "env", "uptime_s", "host_uptime_s", "workers_total", "workers_ready", "agents_total", "workers", "inflight", "queued", "cpu", "memory", "boot_time_unix", "storage_sources")
    STATE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    ENV_FIELD_NUMBER: _ClassVar[int]
    UPTIME_S_FIELD_NUMBER: _ClassVar[int]
    HOST_UPTIME_S_FIELD_NUMBER: _ClassVar[int]
    WORKERS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    WORKERS_READY_FIELD_NUMBER: _ClassVar[int]
    AGENTS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    INFLIGHT_FIELD_NUMBER: _ClassVar[int]
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    CPU_FIELD_NUMBER: _ClassVar[int]
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    BOOT_TIME_UNIX_FIELD_NUMBER: _ClassVar[int]
    STORAGE_SOURCES_FIELD_NUMBER: _ClassVar[int]
    state: str
    version: str
    hostname: str
    env: str
    uptime_s: float
    host_uptime_s: float
    workers_total: int
    workers_ready: int
    agents_total: int
    workers: _containers.RepeatedCompositeFieldContainer[WorkerInfo]
    inflight: int
    queued: int
    cpu: CpuStatus
    memory: MemoryStatus
    boot_time_unix: float
    storage_sources: _containers.RepeatedCompositeFieldContainer[_common_pb2.Source]
    def __init__(self, state: _Optional[str] = ..., version: _Optional[str] = ..., hostname: _Optional[str] = ..., env: _Optional[str] = ..., uptime_s: _Optional[float] = ..., host_uptime_s: _Optional[float] = ..., workers_total: _Optional[int] = ..., workers_ready: _Optional[int] = ..., agents_total: _Optional[int] = ..., workers: _Optional[_Iterable[_Union[WorkerInfo, _Mapping]]] = ..., inflight: _Optional[int] = ..., queued: _Optional[int] = ..., cpu: _Optional[_Union[CpuStatus, _Mapping]] = ..., memory: _Optional[_Union[MemoryStatus, _Mapping]] = ..., boot_time_unix: _Optional[float] = ..., storage_sources: _Optional[_Iterable[_Union[_common_pb2.Source, _Mapping]]] = ...) -> None: ...

class CpuStatus(_message.Message):
    __slots__ = ("count", "physical_count", "model", "percent", "load_average")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    PHYSICAL_COUNT_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    LOAD_AVERAGE_FIELD_NUMBER: _ClassVar[int]
    count: int
    physical_count: int
    model: str
    percent: float
    load_average: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, count: _Optional[int] = ..., physical_count: _Optional[int] = ..., model: _Optional[str] = ..., percent: _Optional[float] = ..., load_average: _Optional[_Iterable[float]] = ...) -> None: ...

class MemoryStatus(_message.Message):
    __slots__ = ("total_bytes", "available_bytes", "used_bytes", "percent")
    TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_BYTES_FIELD_NUMBER: _ClassVar[int]
    USED_BYTES_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    total_bytes: int
    available_bytes: int
    used_bytes: int
    percent: float
    def __init__(self, total_bytes: _Optional[int] = ..., available_bytes: _Optional[int] = ..., used_bytes: _Optional[int] = ..., percent: _Optional[float] = ...) -> None: ...

class GetMetricsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class MemoryStats(_message.Message):
    __slots__ = ("total", "available", "used", "percent")
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    USED_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    total: int
    available: int
    used: int
    percent: float
    def __init__(self, total: _Optional[int] = ..., available: _Optional[int] = ..., used: _Optional[int] = ..., percent: _Optional[float] = ...) -> None: ...

class KindStats(_message.Message):
    __slots__ = ("kind", "tasks", "errors", "bytes_in", "bytes_out", "busy_ns")
    KIND_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    BYTES_IN_FIELD_NUMBER: _ClassVar[int]
    BYTES_OUT_FIELD_NUMBER: _ClassVar[int]
    BUSY_NS_FIELD_NUMBER: _ClassVar[int]
    kind: str
    tasks: int
    errors: int
    bytes_in: int
    bytes_out: int
    busy_ns: int
    def __init__(self, kind: _Optional[str] = ..., tasks: _Optional[int] = ..., errors: _Optional[int] = ..., bytes_in: _Optional[int] = ..., bytes_out: _Optional[int] = ..., busy_ns: _Optional[int] = ...) -> None: ...

class EngineCounters(_message.Message):
    __slots__ = ("tasks", "errors", "bytes_in", "bytes_out", "worker_restarts", "inflight", "kinds")
    TASKS_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    BYTES_IN_FIELD_NUMBER: _ClassVar[int]
    BYTES_OUT_FIELD_NUMBER: _ClassVar[int]
    WORKER_RESTARTS_FIELD_NUMBER: _ClassVar[int]
    INFLIGHT_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    tasks: int
    errors: int
    bytes_in: int
    bytes_out: int
    worker_restarts: int
    inflight: int
    kinds: _containers.RepeatedCompositeFieldContainer[KindStats]
    def __init__(self, tasks: _Optional[int] = ..., errors: _Optional[int] = ..., bytes_in: _Optional[int] = ..., bytes_out: _Optional[int] = ..., worker_restarts: _Optional[int] = ..., inflight: _Optional[int] = ..., kinds: _Optional[_Iterable[_Union[KindStats, _Mapping]]] = ...) -> None: ...

class SystemMetrics(_message.Message):
    __slots__ = ("timestamp_unix_ns", "cpu_percent", "per_cpu_percent", "load_average", "memory", "swap", "disk_io", "net_io", "engine")
    TIMESTAMP_UNIX_NS_FIELD_NUMBER: _ClassVar[int]
    CPU_PERCENT_FIELD_NUMBER: _ClassVar[int]
    PER_CPU_PERCENT_FIELD_NUMBER: _ClassVar[int]
    LOAD_AVERAGE_FIELD_NUMBER: _ClassVar[int]
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    SWAP_FIELD_NUMBER: _ClassVar[int]
    DISK_IO_FIELD_NUMBER: _ClassVar[int]
    NET_IO_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    timestamp_unix_ns: int
    cpu_percent: float
    per_cpu_percent: _containers.RepeatedScalarFieldContainer[float]
    load_average: _containers.RepeatedScalarFieldContainer[float]
    memory: MemoryStats
    swap: MemoryStats
    disk_io: _common_pb2.IoCounters
    net_io: _common_pb2.NetCounters
    engine: EngineCounters
    def __init__(self, timestamp_unix_ns: _Optional[int] = ..., cpu_percent: _Optional[float] = ..., per_cpu_percent: _Optional[_Iterable[float]] = ..., load_average: _Optional[_Iterable[float]] = ..., memory: _Optional[_Union[MemoryStats, _Mapping]] = ..., swap: _Optional[_Union[MemoryStats, _Mapping]] = ..., disk_io: _Optional[_Union[_common_pb2.IoCounters, _Mapping]] = ..., net_io: _Optional[_Union[_common_pb2.NetCounters, _Mapping]] = ..., engine: _Optional[_Union[EngineCounters, _Mapping]] = ...) -> None: ...

class Health(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: str
    def __init__(self, status: _Optional[str] = ...) -> None: ...

class Readiness(_message.Message):
    __slots__ = ("ready", "reasons")
    READY_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    ready: bool
    reasons: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ready: _Optional[bool] = ..., reasons: _Optional[_Iterable[str]] = ...) -> None: ...

class ListServicesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Service(_message.Message):
    __slots__ = ("name", "unit", "description", "installed", "load_state", "active_state", "sub_state", "enabled", "since_unix", "result", "exit_status", "main_pid", "restarts")
    NAME_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    INSTALLED_FIELD_NUMBER: _ClassVar[int]
    LOAD_STATE_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_STATE_FIELD_NUMBER: _ClassVar[int]
    SUB_STATE_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    SINCE_UNIX_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    EXIT_STATUS_FIELD_NUMBER: _ClassVar[int]
    MAIN_PID_FIELD_NUMBER: _ClassVar[int]
    RESTARTS_FIELD_NUMBER: _ClassVar[int]
    name: str
    unit: str
    description: str
    installed: bool
    load_state: str
    active_state: str
    sub_state: str
    enabled: str
    since_unix: float
    result: str
    exit_status: int
    main_pid: int
    restarts: int
    def __init__(self, name: _Optional[str] = ..., unit: _Optional[str] = ..., description: _Optional[str] = ..., installed: _Optional[bool] = ..., load_state: _Optional[str] = ..., active_state: _Optional[str] = ..., sub_state: _Optional[str] = ..., enabled: _Optional[str] = ..., since_unix: _Optional[float] = ..., result: _Optional[str] = ..., exit_status: _Optional[int] = ..., main_pid: _Optional[int] = ..., restarts: _Optional[int] = ...) -> None: ...

class ListServicesResponse(_message.Message):
    __slots__ = ("services", "sources")
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    services: _containers.RepeatedCompositeFieldContainer[Service]
    sources: _containers.RepeatedCompositeFieldContainer[_common_pb2.Source]
    def __init__(self, services: _Optional[_Iterable[_Union[Service, _Mapping]]] = ..., sources: _Optional[_Iterable[_Union[_common_pb2.Source, _Mapping]]] = ...) -> None: ...

class ListAuditEntriesRequest(_message.Message):
    __slots__ = ("limit", "since_unix", "caller", "call")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    SINCE_UNIX_FIELD_NUMBER: _ClassVar[int]
    CALLER_FIELD_NUMBER: _ClassVar[int]
    CALL_FIELD_NUMBER: _ClassVar[int]
    limit: int
    since_unix: int
    caller: str
    call: str
    def __init__(self, limit: _Optional[int] = ..., since_unix: _Optional[int] = ..., caller: _Optional[str] = ..., call: _Optional[str] = ...) -> None: ...

class AuditEntry(_message.Message):
    __slots__ = ("time_unix", "caller", "uid", "peer", "transport", "call", "target", "result", "status", "duration_ms")
    TIME_UNIX_FIELD_NUMBER: _ClassVar[int]
    CALLER_FIELD_NUMBER: _ClassVar[int]
    UID_FIELD_NUMBER: _ClassVar[int]
    PEER_FIELD_NUMBER: _ClassVar[int]
    TRANSPORT_FIELD_NUMBER: _ClassVar[int]
    CALL_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    time_unix: float
    caller: str
    uid: int
    peer: str
    transport: str
    call: str
    target: str
    result: str
    status: str
    duration_ms: float
    def __init__(self, time_unix: _Optional[float] = ..., caller: _Optional[str] = ..., uid: _Optional[int] = ..., peer: _Optional[str] = ..., transport: _Optional[str] = ..., call: _Optional[str] = ..., target: _Optional[str] = ..., result: _Optional[str] = ..., status: _Optional[str] = ..., duration_ms: _Optional[float] = ...) -> None: ...

class ListAuditEntriesResponse(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[AuditEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[AuditEntry, _Mapping]]] = ...) -> None: ...
