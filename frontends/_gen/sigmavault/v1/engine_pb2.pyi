from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TaskKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_KIND_UNSPECIFIED: _ClassVar[TaskKind]
    TASK_KIND_ECHO: _ClassVar[TaskKind]
    TASK_KIND_COMPRESS: _ClassVar[TaskKind]
    TASK_KIND_DECOMPRESS: _ClassVar[TaskKind]
    TASK_KIND_ENCRYPT: _ClassVar[TaskKind]
    TASK_KIND_DECRYPT: _ClassVar[TaskKind]
    TASK_KIND_HASH: _ClassVar[TaskKind]
    TASK_KIND_PARITY: _ClassVar[TaskKind]
TASK_KIND_UNSPECIFIED: TaskKind
TASK_KIND_ECHO: TaskKind
TASK_KIND_COMPRESS: TaskKind
TASK_KIND_DECOMPRESS: TaskKind
TASK_KIND_ENCRYPT: TaskKind
TASK_KIND_DECRYPT: TaskKind
TASK_KIND_HASH: TaskKind
TASK_KIND_PARITY: TaskKind

class TaskParams(_message.Message):
    __slots__ = ("codec", "level", "algo", "k")
    CODEC_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    ALGO_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    codec: str
    level: int
    algo: str
    k: int
    def __init__(self, codec: _Optional[str] = ..., level: _Optional[int] = ..., algo: _Optional[str] = ..., k: _Optional[int] = ...) -> None: ...

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
    __slots__ = ("state", "version", "hostname", "env", "uptime_s", "host_uptime_s", "workers_total", "workers_ready", "agents_total", "workers", "inflight", "queued")
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
    def __init__(self, state: _Optional[str] = ..., version: _Optional[str] = ..., hostname: _Optional[str] = ..., env: _Optional[str] = ..., uptime_s: _Optional[float] = ..., host_uptime_s: _Optional[float] = ..., workers_total: _Optional[int] = ..., workers_ready: _Optional[int] = ..., agents_total: _Optional[int] = ..., workers: _Optional[_Iterable[_Union[WorkerInfo, _Mapping]]] = ..., inflight: _Optional[int] = ..., queued: _Optional[int] = ...) -> None: ...

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

class IoCounters(_message.Message):
    __slots__ = ("read_bytes", "write_bytes", "read_count", "write_count")
    READ_BYTES_FIELD_NUMBER: _ClassVar[int]
    WRITE_BYTES_FIELD_NUMBER: _ClassVar[int]
    READ_COUNT_FIELD_NUMBER: _ClassVar[int]
    WRITE_COUNT_FIELD_NUMBER: _ClassVar[int]
    read_bytes: int
    write_bytes: int
    read_count: int
    write_count: int
    def __init__(self, read_bytes: _Optional[int] = ..., write_bytes: _Optional[int] = ..., read_count: _Optional[int] = ..., write_count: _Optional[int] = ...) -> None: ...

class NetCounters(_message.Message):
    __slots__ = ("bytes_sent", "bytes_recv", "packets_sent", "packets_recv", "errin", "errout")
    BYTES_SENT_FIELD_NUMBER: _ClassVar[int]
    BYTES_RECV_FIELD_NUMBER: _ClassVar[int]
    PACKETS_SENT_FIELD_NUMBER: _ClassVar[int]
    PACKETS_RECV_FIELD_NUMBER: _ClassVar[int]
    ERRIN_FIELD_NUMBER: _ClassVar[int]
    ERROUT_FIELD_NUMBER: _ClassVar[int]
    bytes_sent: int
    bytes_recv: int
    packets_sent: int
    packets_recv: int
    errin: int
    errout: int
    def __init__(self, bytes_sent: _Optional[int] = ..., bytes_recv: _Optional[int] = ..., packets_sent: _Optional[int] = ..., packets_recv: _Optional[int] = ..., errin: _Optional[int] = ..., errout: _Optional[int] = ...) -> None: ...

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
    disk_io: IoCounters
    net_io: NetCounters
    engine: EngineCounters
    def __init__(self, timestamp_unix_ns: _Optional[int] = ..., cpu_percent: _Optional[float] = ..., per_cpu_percent: _Optional[_Iterable[float]] = ..., load_average: _Optional[_Iterable[float]] = ..., memory: _Optional[_Union[MemoryStats, _Mapping]] = ..., swap: _Optional[_Union[MemoryStats, _Mapping]] = ..., disk_io: _Optional[_Union[IoCounters, _Mapping]] = ..., net_io: _Optional[_Union[NetCounters, _Mapping]] = ..., engine: _Optional[_Union[EngineCounters, _Mapping]] = ...) -> None: ...

class Source(_message.Message):
    __slots__ = ("name", "available", "detail")
    NAME_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    name: str
    available: bool
    detail: str
    def __init__(self, name: _Optional[str] = ..., available: _Optional[bool] = ..., detail: _Optional[str] = ...) -> None: ...

class ListPoolsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Pool(_message.Message):
    __slots__ = ("name", "type", "health", "size_bytes", "allocated_bytes", "free_bytes", "capacity_percent", "level", "devices", "fragmentation_percent", "dedup_ratio")
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
    def __init__(self, name: _Optional[str] = ..., type: _Optional[str] = ..., health: _Optional[str] = ..., size_bytes: _Optional[int] = ..., allocated_bytes: _Optional[int] = ..., free_bytes: _Optional[int] = ..., capacity_percent: _Optional[float] = ..., level: _Optional[str] = ..., devices: _Optional[_Iterable[str]] = ..., fragmentation_percent: _Optional[float] = ..., dedup_ratio: _Optional[float] = ...) -> None: ...

class ListPoolsResponse(_message.Message):
    __slots__ = ("pools", "sources")
    POOLS_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    pools: _containers.RepeatedCompositeFieldContainer[Pool]
    sources: _containers.RepeatedCompositeFieldContainer[Source]
    def __init__(self, pools: _Optional[_Iterable[_Union[Pool, _Mapping]]] = ..., sources: _Optional[_Iterable[_Union[Source, _Mapping]]] = ...) -> None: ...

class ListDisksRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SmartInfo(_message.Message):
    __slots__ = ("available", "passed", "temperature_c", "power_on_hours", "reallocated_sectors", "detail")
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    TEMPERATURE_C_FIELD_NUMBER: _ClassVar[int]
    POWER_ON_HOURS_FIELD_NUMBER: _ClassVar[int]
    REALLOCATED_SECTORS_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    available: bool
    passed: bool
    temperature_c: int
    power_on_hours: int
    reallocated_sectors: int
    detail: str
    def __init__(self, available: _Optional[bool] = ..., passed: _Optional[bool] = ..., temperature_c: _Optional[int] = ..., power_on_hours: _Optional[int] = ..., reallocated_sectors: _Optional[int] = ..., detail: _Optional[str] = ...) -> None: ...

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
    io: IoCounters
    smart: SmartInfo
    def __init__(self, name: _Optional[str] = ..., path: _Optional[str] = ..., type: _Optional[str] = ..., size_bytes: _Optional[int] = ..., model: _Optional[str] = ..., serial: _Optional[str] = ..., rotational: _Optional[bool] = ..., transport: _Optional[str] = ..., mountpoints: _Optional[_Iterable[str]] = ..., fstype: _Optional[str] = ..., io: _Optional[_Union[IoCounters, _Mapping]] = ..., smart: _Optional[_Union[SmartInfo, _Mapping]] = ...) -> None: ...

class ListDisksResponse(_message.Message):
    __slots__ = ("disks", "sources")
    DISKS_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    disks: _containers.RepeatedCompositeFieldContainer[Disk]
    sources: _containers.RepeatedCompositeFieldContainer[Source]
    def __init__(self, disks: _Optional[_Iterable[_Union[Disk, _Mapping]]] = ..., sources: _Optional[_Iterable[_Union[Source, _Mapping]]] = ...) -> None: ...

class ListAgentsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RecentTask(_message.Message):
    __slots__ = ("req_id", "kind", "status", "bytes_in", "bytes_out", "latency_ns", "finished_unix_ns")
    REQ_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    BYTES_IN_FIELD_NUMBER: _ClassVar[int]
    BYTES_OUT_FIELD_NUMBER: _ClassVar[int]
    LATENCY_NS_FIELD_NUMBER: _ClassVar[int]
    FINISHED_UNIX_NS_FIELD_NUMBER: _ClassVar[int]
    req_id: int
    kind: str
    status: str
    bytes_in: int
    bytes_out: int
    latency_ns: int
    finished_unix_ns: int
    def __init__(self, req_id: _Optional[int] = ..., kind: _Optional[str] = ..., status: _Optional[str] = ..., bytes_in: _Optional[int] = ..., bytes_out: _Optional[int] = ..., latency_ns: _Optional[int] = ..., finished_unix_ns: _Optional[int] = ...) -> None: ...

class Agent(_message.Message):
    __slots__ = ("id", "name", "role", "capabilities", "worker", "status", "tasks", "errors", "bytes_in", "bytes_out", "latency_ns_mean", "latency_ns_max", "last_latency_ns", "last_task_unix_ns", "last_status", "recent_tasks")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    WORKER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    BYTES_IN_FIELD_NUMBER: _ClassVar[int]
    BYTES_OUT_FIELD_NUMBER: _ClassVar[int]
    LATENCY_NS_MEAN_FIELD_NUMBER: _ClassVar[int]
    LATENCY_NS_MAX_FIELD_NUMBER: _ClassVar[int]
    LAST_LATENCY_NS_FIELD_NUMBER: _ClassVar[int]
    LAST_TASK_UNIX_NS_FIELD_NUMBER: _ClassVar[int]
    LAST_STATUS_FIELD_NUMBER: _ClassVar[int]
    RECENT_TASKS_FIELD_NUMBER: _ClassVar[int]
    id: int
    name: str
    role: str
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    worker: int
    status: str
    tasks: int
    errors: int
    bytes_in: int
    bytes_out: int
    latency_ns_mean: int
    latency_ns_max: int
    last_latency_ns: int
    last_task_unix_ns: int
    last_status: str
    recent_tasks: _containers.RepeatedCompositeFieldContainer[RecentTask]
    def __init__(self, id: _Optional[int] = ..., name: _Optional[str] = ..., role: _Optional[str] = ..., capabilities: _Optional[_Iterable[str]] = ..., worker: _Optional[int] = ..., status: _Optional[str] = ..., tasks: _Optional[int] = ..., errors: _Optional[int] = ..., bytes_in: _Optional[int] = ..., bytes_out: _Optional[int] = ..., latency_ns_mean: _Optional[int] = ..., latency_ns_max: _Optional[int] = ..., last_latency_ns: _Optional[int] = ..., last_task_unix_ns: _Optional[int] = ..., last_status: _Optional[str] = ..., recent_tasks: _Optional[_Iterable[_Union[RecentTask, _Mapping]]] = ...) -> None: ...

class ListAgentsResponse(_message.Message):
    __slots__ = ("agents",)
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    agents: _containers.RepeatedCompositeFieldContainer[Agent]
    def __init__(self, agents: _Optional[_Iterable[_Union[Agent, _Mapping]]] = ...) -> None: ...

class DispatchTaskRequest(_message.Message):
    __slots__ = ("agent_id", "kind", "data", "params")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    agent_id: int
    kind: TaskKind
    data: bytes
    params: TaskParams
    def __init__(self, agent_id: _Optional[int] = ..., kind: _Optional[_Union[TaskKind, str]] = ..., data: _Optional[bytes] = ..., params: _Optional[_Union[TaskParams, _Mapping]] = ...) -> None: ...

class DispatchTaskResponse(_message.Message):
    __slots__ = ("agent_id", "agent_name", "worker", "kind", "data", "bytes_in", "bytes_out", "service_ns", "engine_ns")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_NAME_FIELD_NUMBER: _ClassVar[int]
    WORKER_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    BYTES_IN_FIELD_NUMBER: _ClassVar[int]
    BYTES_OUT_FIELD_NUMBER: _ClassVar[int]
    SERVICE_NS_FIELD_NUMBER: _ClassVar[int]
    ENGINE_NS_FIELD_NUMBER: _ClassVar[int]
    agent_id: int
    agent_name: str
    worker: int
    kind: TaskKind
    data: bytes
    bytes_in: int
    bytes_out: int
    service_ns: int
    engine_ns: int
    def __init__(self, agent_id: _Optional[int] = ..., agent_name: _Optional[str] = ..., worker: _Optional[int] = ..., kind: _Optional[_Union[TaskKind, str]] = ..., data: _Optional[bytes] = ..., bytes_in: _Optional[int] = ..., bytes_out: _Optional[int] = ..., service_ns: _Optional[int] = ..., engine_ns: _Optional[int] = ...) -> None: ...

class GetCompressionStatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CompressionStats(_message.Message):
    __slots__ = ("compress_tasks", "decompress_tasks", "errors", "bytes_in", "bytes_out", "ratio", "compress_mb_per_s", "decompress_mb_per_s", "jobs_running", "jobs_total")
    COMPRESS_TASKS_FIELD_NUMBER: _ClassVar[int]
    DECOMPRESS_TASKS_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    BYTES_IN_FIELD_NUMBER: _ClassVar[int]
    BYTES_OUT_FIELD_NUMBER: _ClassVar[int]
    RATIO_FIELD_NUMBER: _ClassVar[int]
    COMPRESS_MB_PER_S_FIELD_NUMBER: _ClassVar[int]
    DECOMPRESS_MB_PER_S_FIELD_NUMBER: _ClassVar[int]
    JOBS_RUNNING_FIELD_NUMBER: _ClassVar[int]
    JOBS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    compress_tasks: int
    decompress_tasks: int
    errors: int
    bytes_in: int
    bytes_out: int
    ratio: float
    compress_mb_per_s: float
    decompress_mb_per_s: float
    jobs_running: int
    jobs_total: int
    def __init__(self, compress_tasks: _Optional[int] = ..., decompress_tasks: _Optional[int] = ..., errors: _Optional[int] = ..., bytes_in: _Optional[int] = ..., bytes_out: _Optional[int] = ..., ratio: _Optional[float] = ..., compress_mb_per_s: _Optional[float] = ..., decompress_mb_per_s: _Optional[float] = ..., jobs_running: _Optional[int] = ..., jobs_total: _Optional[int] = ...) -> None: ...

class ListCompressionJobsRequest(_message.Message):
    __slots__ = ("limit",)
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    limit: int
    def __init__(self, limit: _Optional[int] = ...) -> None: ...

class CompressionJob(_message.Message):
    __slots__ = ("id", "kind", "codec", "state", "source", "blocks", "bytes_in", "bytes_out", "errors", "started_unix_ns", "finished_unix_ns", "error")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CODEC_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    BLOCKS_FIELD_NUMBER: _ClassVar[int]
    BYTES_IN_FIELD_NUMBER: _ClassVar[int]
    BYTES_OUT_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    STARTED_UNIX_NS_FIELD_NUMBER: _ClassVar[int]
    FINISHED_UNIX_NS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    id: str
    kind: str
    codec: str
    state: str
    source: str
    blocks: int
    bytes_in: int
    bytes_out: int
    errors: int
    started_unix_ns: int
    finished_unix_ns: int
    error: str
    def __init__(self, id: _Optional[str] = ..., kind: _Optional[str] = ..., codec: _Optional[str] = ..., state: _Optional[str] = ..., source: _Optional[str] = ..., blocks: _Optional[int] = ..., bytes_in: _Optional[int] = ..., bytes_out: _Optional[int] = ..., errors: _Optional[int] = ..., started_unix_ns: _Optional[int] = ..., finished_unix_ns: _Optional[int] = ..., error: _Optional[str] = ...) -> None: ...

class ListCompressionJobsResponse(_message.Message):
    __slots__ = ("jobs",)
    JOBS_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[CompressionJob]
    def __init__(self, jobs: _Optional[_Iterable[_Union[CompressionJob, _Mapping]]] = ...) -> None: ...

class GetEncryptionStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class EncryptionStatus(_message.Message):
    __slots__ = ("algorithm", "key_fingerprint", "key_path", "key_created_unix", "encrypt_tasks", "decrypt_tasks", "auth_failures", "pq_wrapping_enabled", "pq_available", "detail")
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    KEY_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    KEY_PATH_FIELD_NUMBER: _ClassVar[int]
    KEY_CREATED_UNIX_FIELD_NUMBER: _ClassVar[int]
    ENCRYPT_TASKS_FIELD_NUMBER: _ClassVar[int]
    DECRYPT_TASKS_FIELD_NUMBER: _ClassVar[int]
    AUTH_FAILURES_FIELD_NUMBER: _ClassVar[int]
    PQ_WRAPPING_ENABLED_FIELD_NUMBER: _ClassVar[int]
    PQ_AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    algorithm: str
    key_fingerprint: str
    key_path: str
    key_created_unix: int
    encrypt_tasks: int
    decrypt_tasks: int
    auth_failures: int
    pq_wrapping_enabled: bool
    pq_available: bool
    detail: str
    def __init__(self, algorithm: _Optional[str] = ..., key_fingerprint: _Optional[str] = ..., key_path: _Optional[str] = ..., key_created_unix: _Optional[int] = ..., encrypt_tasks: _Optional[int] = ..., decrypt_tasks: _Optional[int] = ..., auth_failures: _Optional[int] = ..., pq_wrapping_enabled: _Optional[bool] = ..., pq_available: _Optional[bool] = ..., detail: _Optional[str] = ...) -> None: ...

class GetMeshStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class NetInterface(_message.Message):
    __slots__ = ("name", "up", "speed_mbps", "mtu", "addresses", "io")
    NAME_FIELD_NUMBER: _ClassVar[int]
    UP_FIELD_NUMBER: _ClassVar[int]
    SPEED_MBPS_FIELD_NUMBER: _ClassVar[int]
    MTU_FIELD_NUMBER: _ClassVar[int]
    ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    IO_FIELD_NUMBER: _ClassVar[int]
    name: str
    up: bool
    speed_mbps: int
    mtu: int
    addresses: _containers.RepeatedScalarFieldContainer[str]
    io: NetCounters
    def __init__(self, name: _Optional[str] = ..., up: _Optional[bool] = ..., speed_mbps: _Optional[int] = ..., mtu: _Optional[int] = ..., addresses: _Optional[_Iterable[str]] = ..., io: _Optional[_Union[NetCounters, _Mapping]] = ...) -> None: ...

class MeshPeer(_message.Message):
    __slots__ = ("public_key", "endpoint", "allowed_ips", "latest_handshake_unix", "rx_bytes", "tx_bytes", "interface")
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_IPS_FIELD_NUMBER: _ClassVar[int]
    LATEST_HANDSHAKE_UNIX_FIELD_NUMBER: _ClassVar[int]
    RX_BYTES_FIELD_NUMBER: _ClassVar[int]
    TX_BYTES_FIELD_NUMBER: _ClassVar[int]
    INTERFACE_FIELD_NUMBER: _ClassVar[int]
    public_key: str
    endpoint: str
    allowed_ips: _containers.RepeatedScalarFieldContainer[str]
    latest_handshake_unix: int
    rx_bytes: int
    tx_bytes: int
    interface: str
    def __init__(self, public_key: _Optional[str] = ..., endpoint: _Optional[str] = ..., allowed_ips: _Optional[_Iterable[str]] = ..., latest_handshake_unix: _Optional[int] = ..., rx_bytes: _Optional[int] = ..., tx_bytes: _Optional[int] = ..., interface: _Optional[str] = ...) -> None: ...

class MeshStatus(_message.Message):
    __slots__ = ("enabled", "peers", "interfaces", "sources")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    PEERS_FIELD_NUMBER: _ClassVar[int]
    INTERFACES_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    peers: _containers.RepeatedCompositeFieldContainer[MeshPeer]
    interfaces: _containers.RepeatedCompositeFieldContainer[NetInterface]
    sources: _containers.RepeatedCompositeFieldContainer[Source]
    def __init__(self, enabled: _Optional[bool] = ..., peers: _Optional[_Iterable[_Union[MeshPeer, _Mapping]]] = ..., interfaces: _Optional[_Iterable[_Union[NetInterface, _Mapping]]] = ..., sources: _Optional[_Iterable[_Union[Source, _Mapping]]] = ...) -> None: ...

class BlockRequest(_message.Message):
    __slots__ = ("kind", "data", "params", "agent_id", "request_id")
    KIND_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    kind: TaskKind
    data: bytes
    params: TaskParams
    agent_id: int
    request_id: int
    def __init__(self, kind: _Optional[_Union[TaskKind, str]] = ..., data: _Optional[bytes] = ..., params: _Optional[_Union[TaskParams, _Mapping]] = ..., agent_id: _Optional[int] = ..., request_id: _Optional[int] = ...) -> None: ...

class BlockResponse(_message.Message):
    __slots__ = ("request_id", "data", "agent_id", "service_ns", "error_code", "error_message")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    SERVICE_NS_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    data: bytes
    agent_id: int
    service_ns: int
    error_code: str
    error_message: str
    def __init__(self, request_id: _Optional[int] = ..., data: _Optional[bytes] = ..., agent_id: _Optional[int] = ..., service_ns: _Optional[int] = ..., error_code: _Optional[str] = ..., error_message: _Optional[str] = ...) -> None: ...
