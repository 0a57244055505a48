from frontends._gen.sigmavault.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

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
    __slots__ = ("id", "name", "role", "capabilities", "worker", "status", "tasks", "errors", "bytes_in", "bytes_out", "latency_ns_mean", "latency_ns_max", "last_latency_ns", "last_task_unix_ns", "last_status", "recent_tasks", "in_service", "inflight")
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
    IN_SERVICE_FIELD_NUMBER: _ClassVar[int]
    INFLIGHT_FIELD_NUMBER: _ClassVar[int]
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
    in_service: bool
    inflight: int
    def __init__(self, id: _Optional[int] = ..., name: _Optional[str] = ..., role: _Optional[str] = ..., capabilities: _Optional[_Iterable[str]] = ..., worker: _Optional[int] = ..., status: _Optional[str] = ..., tasks: _Optional[int] = ..., errors: _Optional[int] = ..., bytes_in: _Optional[int] = ..., bytes_out: _Optional[int] = ..., latency_ns_mean: _Optional[int] = ..., latency_ns_max: _Optional[int] = ..., last_latency_ns: _Optional[int] = ..., last_task_unix_ns: _Optional[int] = ..., last_status: _Optional[str] = ..., recent_tasks: _Optional[_Iterable[_Union[RecentTask, _Mapping]]] = ..., in_service: _Optional[bool] = ..., inflight: _Optional[int] = ...) -> None: ...

class ListAgentsResponse(_message.Message):
    __slots__ = ("agents",)
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    agents: _containers.RepeatedCompositeFieldContainer[Agent]
    def __init__(self, agents: _Optional[_Iterable[_Union[Agent, _Mapping]]] = ...) -> None: ...

class DispatchTaskRequest(_message.Message):
    __slots__ = ("agent_id", "kind", "data", "params", "timeout_ms")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    agent_id: int
    kind: _common_pb2.TaskKind
    data: bytes
    params: _common_pb2.TaskParams
    timeout_ms: int
    def __init__(self, agent_id: _Optional[int] = ..., kind: _Optional[_Union[_common_pb2.TaskKind, str]] = ..., data: _Optional[bytes] = ..., params: _Optional[_Union[_common_pb2.TaskParams, _Mapping]] = ..., timeout_ms: _Optional[int] = ...) -> None: ...

class DispatchTaskResponse(_message.Message):
    __slots__ = ("agent_id", "agent_name", "worker", "kind", "data", "bytes_in", "bytes_out", "service_ns", "engine_ns", "timing")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_NAME_FIELD_NUMBER: _ClassVar[int]
    WORKER_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    BYTES_IN_FIELD_NUMBER: _ClassVar[int]
    BYTES_OUT_FIELD_NUMBER: _ClassVar[int]
    SERVICE_NS_FIELD_NUMBER: _ClassVar[int]
    ENGINE_NS_FIELD_NUMBER: _ClassVar[int]
    TIMING_FIELD_NUMBER: _ClassVar[int]
    agent_id: int
    agent_name: str
    worker: int
    kind: _common_pb2.TaskKind
    data: bytes
    bytes_in: int
    bytes_out: int
    service_ns: int
    engine_ns: int
    timing: TaskTiming
    def __init__(self, agent_id: _Optional[int] = ..., agent_name: _Optional[str] = ..., worker: _Optional[int] = ..., kind: _Optional[_Union[_common_pb2.TaskKind, str]] = ..., data: _Optional[bytes] = ..., bytes_in: _Optional[int] = ..., bytes_out: _Optional[int] = ..., service_ns: _Optional[int] = ..., engine_ns: _Optional[int] = ..., timing: _Optional[_Union[TaskTiming, _Mapping]] = ...) -> None: ...

class TaskTiming(_message.Message):
    __slots__ = ("service_us", "engine_us", "total_us")
    SERVICE_US_FIELD_NUMBER: _ClassVar[int]
    ENGINE_US_FIELD_NUMBER: _ClassVar[int]
    TOTAL_US_FIELD_NUMBER: _ClassVar[int]
    service_us: float
    engine_us: float
    total_us: float
    def __init__(self, service_us: _Optional[float] = ..., engine_us: _Optional[float] = ..., total_us: _Optional[float] = ...) -> None: ...

class GetAgentRequest(_message.Message):
    __slots__ = ("agent_id",)
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    agent_id: int
    def __init__(self, agent_id: _Optional[int] = ...) -> None: ...

class ListAgentTasksRequest(_message.Message):
    __slots__ = ("agent_id", "page_size", "page_token")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    agent_id: int
    page_size: int
    page_token: str
    def __init__(self, agent_id: _Optional[int] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAgentTasksResponse(_message.Message):
    __slots__ = ("tasks", "next_page_token", "total_tasks", "history_len")
    TASKS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TASKS_FIELD_NUMBER: _ClassVar[int]
    HISTORY_LEN_FIELD_NUMBER: _ClassVar[int]
    tasks: _containers.RepeatedCompositeFieldContainer[RecentTask]
    next_page_token: str
    total_tasks: int
    history_len: int
    def __init__(self, tasks: _Optional[_Iterable[_Union[RecentTask, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_tasks: _Optional[int] = ..., history_len: _Optional[int] = ...) -> None: ...

class GetSwarmRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RoleSummary(_message.Message):
    __slots__ = ("role", "agents", "in_service", "by_status", "tasks", "inflight")
    class ByStatusEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    ROLE_FIELD_NUMBER: _ClassVar[int]
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    IN_SERVICE_FIELD_NUMBER: _ClassVar[int]
    BY_STATUS_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    INFLIGHT_FIELD_NUMBER: _ClassVar[int]
    role: str
    agents: int
    in_service: int
    by_status: _containers.ScalarMap[str, int]
    tasks: int
    inflight: int
    def __init__(self, role: _Optional[str] = ..., agents: _Optional[int] = ..., in_service: _Optional[int] = ..., by_status: _Optional[_Mapping[str, int]] = ..., tasks: _Optional[int] = ..., inflight: _Optional[int] = ...) -> None: ...

class WorkerLoad(_message.Message):
    __slots__ = ("id", "state", "agents", "inflight", "tasks", "busy_percent", "submission_queued")
    ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    INFLIGHT_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    BUSY_PERCENT_FIELD_NUMBER: _ClassVar[int]
    SUBMISSION_QUEUED_FIELD_NUMBER: _ClassVar[int]
    id: int
    state: str
    agents: int
    inflight: int
    tasks: int
    busy_percent: float
    submission_queued: int
    def __init__(self, id: _Optional[int] = ..., state: _Optional[str] = ..., agents: _Optional[int] = ..., inflight: _Optional[int] = ..., tasks: _Optional[int] = ..., busy_percent: _Optional[float] = ..., submission_queued: _Optional[int] = ...) -> None: ...

class Swarm(_message.Message):
    __slots__ = ("agents_total", "agents_in_service", "by_status", "roles", "workers", "inflight", "queued", "queue_limit", "max_inflight", "rejected")
    class ByStatusEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class RejectedEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    AGENTS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    AGENTS_IN_SERVICE_FIELD_NUMBER: _ClassVar[int]
    BY_STATUS_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    INFLIGHT_FIELD_NUMBER: _ClassVar[int]
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    QUEUE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    MAX_INFLIGHT_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    agents_total: int
    agents_in_service: int
    by_status: _containers.ScalarMap[str, int]
    roles: _containers.RepeatedCompositeFieldContainer[RoleSummary]
    workers: _containers.RepeatedCompositeFieldContainer[WorkerLoad]
    inflight: int
    queued: int
    queue_limit: int
    max_inflight: int
    rejected: _containers.ScalarMap[str, int]
    def __init__(self, agents_total: _Optional[int] = ..., agents_in_service: _Optional[int] = ..., by_status: _Optional[_Mapping[str, int]] = ..., roles: _Optional[_Iterable[_Union[RoleSummary, _Mapping]]] = ..., workers: _Optional[_Iterable[_Union[WorkerLoad, _Mapping]]] = ..., inflight: _Optional[int] = ..., queued: _Optional[int] = ..., queue_limit: _Optional[int] = ..., max_inflight: _Optional[int] = ..., rejected: _Optional[_Mapping[str, int]] = ...) -> None: ...

class DrainAgentRequest(_message.Message):
    __slots__ = ("agent_id",)
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    agent_id: int
    def __init__(self, agent_id: _Optional[int] = ...) -> None: ...

class ResumeAgentRequest(_message.Message):
    __slots__ = ("agent_id",)
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    agent_id: int
    def __init__(self, agent_id: _Optional[int] = ...) -> None: ...
