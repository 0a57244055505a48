"""The core's typed records, as EngineMonitor (engine/core/monitor.py) answers them: field names are the
proto messages' (agents.proto, system.proto), so frontends/records.py ``plain()`` turns each into its
message or its JSON.

Two kinds, chosen by how often they are read (measured with timeit, Python 3.11, orjson 3):

- Records read on every ``GET /api/v1/system/status``, every ``system.metrics`` tick and /metrics
  scrape (WorkerInfo, KindStats, EngineCounters, EngineStatus) are frozen WITHOUT ``slots`` and built
  from a table row by ``from_row``: orjson serialises a dataclass with a ``__dict__`` at a dict's speed
  (0.4 us for WorkerInfo; 1.8 us with slots), and ``from_row`` takes the row's dict as the instance's
  ``__dict__`` instead of running the frozen ``__init__`` (one ``object.__setattr__`` per field: 2.6 us
  for WorkerInfo against 1.1 us). SystemStatus and SystemMetrics carry one per worker and per kind.
- The rest (Agent, RecentTask, Swarm and its parts, the listings) are read when a caller asks, a few
  times a second at most: frozen with ``slots`` like every other domain's records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

_set = object.__setattr__


class _FromRow:
    """``from_row(values)``: the record whose fields are ``values`` (a fresh dict holding exactly the
    record's field names, which the instance keeps as its ``__dict__``: see the module's docstring)."""

    __slots__ = ()

    @classmethod
    def from_row(cls, values: dict[str, Any]) -> Self:
        record = object.__new__(cls)
        _set(record, "__dict__", values)
        return record


# system.proto: the engine's part of SystemStatus and SystemMetrics ----------------------------------
@dataclass(frozen=True)
class WorkerInfo(_FromRow):
    id: int
    pid: int
    state: str  # starting, ready, restarting, draining, stopped
    restarts: int
    epoch: int
    tasks: int
    errors: int
    busy_ns: int
    cpu: int  # pinned CPU, -1 when not pinned
    sleeps: int


@dataclass(frozen=True)
class EngineStatus(_FromRow):
    """The engine's part of SystemStatus (the host's is HostStatus, the storage sources the storage
    domain's): frontends/calls/system.py composes them."""

    state: str  # "ok" when every worker is ready, else "degraded"
    uptime_s: float
    workers_total: int
    workers_ready: int
    agents_total: int
    workers: tuple[WorkerInfo, ...]
    inflight: int
    queued: int


@dataclass(frozen=True)
class KindStats(_FromRow):
    kind: str
    tasks: int
    errors: int
    bytes_in: int
    bytes_out: int
    busy_ns: int


@dataclass(frozen=True)
class EngineCounters(_FromRow):
    """SystemMetrics.engine: totals by task kind, restarts, tasks in flight."""

    tasks: int
    errors: int
    bytes_in: int
    bytes_out: int
    worker_restarts: int
    inflight: int
    kinds: tuple[KindStats, ...]


# agents.proto ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RecentTask:
    """One entry of an agent's bounded task history."""

    req_id: int
    kind: str
    status: str
    bytes_in: int
    bytes_out: int
    latency_ns: int
    finished_unix_ns: int


@dataclass(frozen=True, slots=True)
class Agent:
    id: int
    name: str
    role: str
    capabilities: tuple[str, ...]
    worker: int
    status: str  # idle, busy, error, restarting, draining (out of service, finishing), drained
    tasks: int
    errors: int
    bytes_in: int
    bytes_out: int
    latency_ns_mean: int
    latency_ns_max: int
    last_latency_ns: int
    last_task_unix_ns: int
    last_status: str
    in_service: bool  # false once drained: no new tasks
    inflight: int  # tasks sent to this agent and not yet answered
    recent_tasks: tuple[RecentTask, ...] = ()  # the newest few; ListAgentTasks pages through all


@dataclass(frozen=True, slots=True)
class AgentList:
    agents: tuple[Agent, ...]


@dataclass(frozen=True, slots=True)
class AgentTasks:
    """ListAgentTasksResponse: one page of an agent's history, newest first."""

    tasks: tuple[RecentTask, ...]
    next_page_token: str  # empty on the last page
    total_tasks: int  # tasks the agent ever finished
    history_len: int  # how many of them are kept


@dataclass(frozen=True, slots=True)
class RoleSummary:
    role: str
    agents: int
    in_service: int
    by_status: dict[str, int]
    tasks: int
    inflight: int


@dataclass(frozen=True, slots=True)
class WorkerLoad:
    id: int
    state: str
    agents: int
    inflight: int
    tasks: int
    busy_percent: float  # time in handlers since the worker started
    submission_queued: int  # descriptors waiting in its submission ring


@dataclass(frozen=True, slots=True)
class Swarm:
    agents_total: int
    agents_in_service: int
    by_status: dict[str, int]
    roles: tuple[RoleSummary, ...]
    workers: tuple[WorkerLoad, ...]
    inflight: int
    queued: int
    queue_limit: int
    max_inflight: int
    rejected: dict[str, int]  # by reason: queue_full, no_slot
