"""EngineMonitor: read-only views of the engine's state for every transport and the event watchers.

It is handed the shared metrics table, the agent specs and a function for the client's live
admission figures; it never sends a task or changes a thing. Its answers are the typed records of
engine/core/models.py (agents.proto, system.proto); ``live_view`` stays a dict: it is the dashboard's
view (the ``system.metrics`` WebSocket event), no message of the contract.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import TYPE_CHECKING, Any

from engine.core.codes import AgentStatus, WorkerState
from engine.core.models import (
    Agent,
    AgentList,
    AgentTasks,
    EngineCounters,
    EngineStatus,
    KindStats,
    RecentTask,
    RoleSummary,
    Swarm,
    WorkerInfo,
    WorkerLoad,
)
from engine.errors import BadRequest, NotFound

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from engine.config import EngineConfig
    from engine.core.agents.registry import AgentSpec
    from engine.core.tables import MetricsTable

RECENT_IN_LISTING = 5  # history entries inlined per agent in ListAgents; ListAgentTasks pages through all
PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX = 50, 256
_READY = WorkerState.READY.name.lower()
_AGENT_STATUS = {int(s): s.name.lower() for s in AgentStatus}
_WORKER_FIELDS = ("id", "pid", "state", "restarts", "epoch", "tasks", "errors", "busy_ns", "cpu", "sleeps")
_AGENT_FIELDS = (  # the row's, by the record's names (status is decided from drain and load)
    "tasks",
    "errors",
    "bytes_in",
    "bytes_out",
    "latency_ns_mean",
    "latency_ns_max",
    "last_latency_ns",
    "last_task_unix_ns",
    "last_status",
)


class EngineMonitor:
    def __init__(
        self,
        config: EngineConfig,
        table: MetricsTable,
        agents: Sequence[AgentSpec],
        live: Callable[[], dict[str, Any]],
        ring_depths: Callable[[], list[tuple[int, int]]],
    ) -> None:
        """``live()``: the client's admission figures (inflight, queued, per-agent and per-worker load,
        limits, rejections); ``ring_depths()``: per worker, descriptors waiting in its submission and
        completion rings."""
        self.config = config
        self.table = table
        self.agents = tuple(agents)
        self._live = live
        self._ring_depths = ring_depths
        self.started = time.time()

    # workers and readiness -------------------------------------------------------------------
    def workers(self) -> tuple[WorkerInfo, ...]:
        return tuple([WorkerInfo.from_row({k: row[k] for k in _WORKER_FIELDS}) for row in self.table.worker_rows()])

    def readiness(self) -> tuple[bool, list[str]]:
        not_ready = [f"worker {w['id']} is {w['state']}" for w in self.table.worker_rows() if w["state"] != _READY]
        return not not_ready, not_ready

    def engine_status(self) -> EngineStatus:
        """The engine's part of SystemStatus."""
        workers = self.workers()
        ready = sum(1 for w in workers if w.state == _READY)
        live = self._live()
        return EngineStatus.from_row(
            {
                "state": "ok" if ready == len(workers) else "degraded",
                "uptime_s": round(time.time() - self.started, 3),
                "workers_total": len(workers),
                "workers_ready": ready,
                "agents_total": len(self.agents),
                "workers": workers,
                "inflight": live["inflight"],
                "queued": live["queued"],
            }
        )

    def counters(self) -> EngineCounters:
        """SystemMetrics.engine: totals by task kind, restarts, tasks in flight."""
        kinds = self.table.kind_totals()
        return EngineCounters.from_row(
            {
                "tasks": sum(k["tasks"] for k in kinds.values()),
                "errors": sum(k["errors"] for k in kinds.values()),
                "bytes_in": sum(k["bytes_in"] for k in kinds.values()),
                "bytes_out": sum(k["bytes_out"] for k in kinds.values()),
                "worker_restarts": sum(w["restarts"] for w in self.table.worker_rows()),
                "inflight": self._live()["inflight"],
                "kinds": tuple([KindStats.from_row({"kind": name, **row}) for name, row in kinds.items()]),
            }
        )

    def kind_totals(self) -> dict[str, dict[str, int]]:
        return self.table.kind_totals()

    def live(self) -> dict[str, Any]:
        """The client's admission figures right now (see __init__)."""
        return self._live()

    def ring_occupancy(self) -> list[tuple[int, int]]:
        return self._ring_depths()

    def live_view(self) -> dict[str, Any]:
        """What the ``system.metrics`` event adds to SystemMetrics for live views (the dashboard):
        ``swarm`` (as GetSwarm answers it), per agent its status and raw counters (``latency_ns_sum``
        so a viewer can take a windowed mean between two events), per worker its ring depths against
        the ring's capacity, and the slot arena's use."""
        live = self._live()
        load = live["agent_load"]
        agents = []
        for i, row in enumerate(self.table.agent_rows()):
            status = ("draining" if load[i] else "drained") if row["drain"] else row["status"]
            agents.append(
                {
                    "id": i,
                    "status": status,
                    "tasks": row["tasks"],
                    "errors": row["errors"],
                    "latency_ns_sum": row["latency_ns_sum"],
                    "last_latency_ns": row["last_latency_ns"],
                    "inflight": load[i],
                }
            )
        capacity = self.config.ring_capacity
        rings = [
            {"worker": w, "submission": sub, "completion": comp, "capacity": capacity}
            for w, (sub, comp) in enumerate(self._ring_depths())
        ]
        return {
            "swarm": self.swarm(),  # a record: orjson writes it as GetSwarm's JSON
            "agents": agents,
            "rings": rings,
            "slots": {"total": self.config.slots, "free": live["slots_free"]},
        }

    # agents ----------------------------------------------------------------------------------
    def _spec(self, agent: int) -> AgentSpec:
        if not 0 <= agent < len(self.agents):
            raise NotFound(
                f"no agent {agent}; agents are 0-{len(self.agents) - 1}",
                code="unknown_agent",
                metadata={"agents": len(self.agents)},
            )
        return self.agents[agent]

    def agent(self, agent: int, *, recent: int = RECENT_IN_LISTING, load: list[int] | None = None) -> Agent:
        """The agent (NotFound for an unknown id) with its ``recent`` newest tasks."""
        spec = self._spec(agent)
        row = self.table.agent_row(agent)
        inflight = (load if load is not None else self._live()["agent_load"])[agent]
        status = ("draining" if inflight else "drained") if row["drain"] else row["status"]
        return Agent(
            id=spec.id,
            name=spec.name,
            role=spec.role,
            capabilities=tuple(sorted(k.label for k in spec.capabilities)),
            worker=spec.worker,
            status=status,
            **{k: row[k] for k in _AGENT_FIELDS},
            in_service=not row["drain"],
            inflight=inflight,
            recent_tasks=self._tasks(agent, 0, recent) if recent else (),
        )

    def _tasks(self, agent: int, skip: int, limit: int) -> tuple[RecentTask, ...]:
        return tuple(RecentTask(**row) for row in self.table.recent_tasks(agent, skip, limit))

    def list_agents(self) -> AgentList:
        load = self._live()["agent_load"]
        return AgentList(tuple(self.agent(a.id, load=load) for a in self.agents))

    def agent_statuses(self) -> list[str]:
        """Each agent's status as agent.status events report it (draining/drained included)."""
        load = self._live()["agent_load"]
        # two columns, not 40 row dicts: the watcher asks every 100 ms (was 5-7 % of the frontend's CPU)
        status, drain = self.table.agents["status"].tolist(), self.table.agents["drain"].tolist()
        return [
            ("draining" if load[i] else "drained") if drain[i] else _AGENT_STATUS.get(s, "unknown")
            for i, s in enumerate(status)
        ]

    def agent_tasks(self, agent: int, page_size: int = 0, page_token: str = "") -> AgentTasks:
        """ListAgentTasksResponse: the agent's history newest first; the token is the entry count
        ever written when paging began plus the position, so new tasks do not shift later pages."""
        self._spec(agent)
        size = page_size or PAGE_SIZE_DEFAULT
        if not 1 <= size <= PAGE_SIZE_MAX:
            raise BadRequest(
                f"page_size must be in 1-{PAGE_SIZE_MAX}, got {page_size}", metadata={"min": 1, "max": PAGE_SIZE_MAX}
            )
        written = self.table.history_written(agent)
        anchor, position = written, 0
        if page_token:
            try:
                anchor_s, position_s = page_token.split(".", 1)
                anchor, position = int(anchor_s), int(position_s)
            except ValueError:
                raise BadRequest(
                    f"page_token {page_token[:40]!r} is not one this engine gave out", code="invalid_page_token"
                ) from None
            if not 0 <= position <= anchor <= written:
                raise BadRequest("page_token is out of range for this agent", code="invalid_page_token")
        skip = position + (written - anchor)  # entries written since the first page push ours back
        kept = min(written, self.config.history_len)
        tasks = self._tasks(agent, skip, size)
        following = position + len(tasks)
        more = skip + len(tasks) < kept
        return AgentTasks(
            tasks=tasks,
            next_page_token=f"{anchor}.{following}" if more else "",
            total_tasks=written,
            history_len=self.config.history_len,
        )

    # swarm -----------------------------------------------------------------------------------
    def swarm(self) -> Swarm:
        """Agents by status and role, load per worker, the admission queue."""
        live = self._live()
        load = live["agent_load"]
        statuses = self.agent_statuses()
        rows = self.table.agent_rows()
        roles: dict[str, dict[str, Any]] = {}
        for spec, status, row in zip(self.agents, statuses, rows, strict=True):
            role = roles.setdefault(
                spec.role,
                {"role": spec.role, "agents": 0, "in_service": 0, "by_status": Counter(), "tasks": 0, "inflight": 0},
            )
            role["agents"] += 1
            role["in_service"] += not row["drain"]
            role["by_status"][status] += 1
            role["tasks"] += row["tasks"]
            role["inflight"] += load[spec.id]
        depths = self._ring_depths()
        now = time.monotonic_ns()
        workers = []
        for w in self.table.worker_rows():
            alive_ns = max(1, now - w["started_ns"]) if w["started_ns"] else 1
            workers.append(
                WorkerLoad(
                    id=w["id"],
                    state=w["state"],
                    agents=sum(1 for a in self.agents if a.worker == w["id"]),
                    inflight=live["worker_load"][w["id"]],
                    tasks=w["tasks"],
                    busy_percent=round(min(100.0, 100 * w["busy_ns"] / alive_ns), 2),
                    submission_queued=depths[w["id"]][0],
                )
            )
        return Swarm(
            agents_total=len(self.agents),
            agents_in_service=sum(1 for r in rows if not r["drain"]),
            by_status=dict(Counter(statuses)),
            roles=tuple(RoleSummary(**{**r, "by_status": dict(r["by_status"])}) for r in roles.values()),
            workers=tuple(workers),
            inflight=live["inflight"],
            queued=live["queued"],
            queue_limit=live["queue_limit"],
            max_inflight=live["max_inflight"],
            rejected=dict(live["rejected"]),
        )
