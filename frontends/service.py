"""EngineService: the one service layer both transports call. It returns plain dicts whose keys
are the proto field names, so HTTP serialises them with orjson and gRPC parses them into the
generated messages; no answer is computed twice."""

from __future__ import annotations

import hashlib
import importlib.metadata
import time
from pathlib import Path
from typing import Any

from engine import network
from engine import system as host
from engine.client import EngineClient, TaskResult
from engine.config import EngineConfig
from engine.errors import EngineError
from engine.jobs import JobTracker
from engine.status import AgentStatus, Kind, WorkerState
from engine.storage import disks, pools
from frontends.errors import RequestError, describe
from ipc.layout import WORKER_FIELDS

_PARAMS_BY_KIND = {
    Kind.COMPRESS: ("codec", "level"),
    Kind.DECOMPRESS: ("codec",),
    Kind.HASH: ("algo",),
    Kind.PARITY: ("k",),
}
JOB_LIMIT_MAX = 256
_WORKER_STATE = {int(s): s.name.lower() for s in WorkerState}
# workers() unpacks a row by position: fail at import, not with wrong numbers, if the layout moves
assert WORKER_FIELDS == ("pid", "epoch", "state", "restarts", "heartbeat_ns", "started_ns", "tasks", "errors",
                              "busy_ns", "sleeps", "wakeups_sent", "cpu")  # fmt: skip
_SLOW_FACTS_TTL_S = 2.0  # lsblk/zpool/wg answers are reused this long under load


def version() -> str:
    try:
        return importlib.metadata.version("sigmavault-engined")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


class EngineService:
    def __init__(self, client: EngineClient, config: EngineConfig, jobs: JobTracker) -> None:
        self.client = client
        self.config = config
        self.jobs = jobs
        self.started = time.time()
        self.version = version()
        self.hostname = host.hostname()
        self.boot_time = host.boot_time()  # constant; psutil re-reads /proc/stat on every call
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}

    # system ----------------------------------------------------------------------------------
    def workers(self) -> list[dict[str, Any]]:
        table, out = self.client.table, []
        for i in range(self.config.workers):
            pid, epoch, state, restarts, _, _, tasks, errors, busy_ns, sleeps, _, cpu = table.worker_row(i)
            out.append({
                "id": i, "pid": pid, "state": _WORKER_STATE[state], "restarts": restarts, "epoch": epoch,
                "tasks": tasks, "errors": errors, "busy_ns": busy_ns, "cpu": cpu, "sleeps": sleeps,
            })  # fmt: skip
        return out

    def readiness(self) -> tuple[bool, list[str]]:
        states = self.client.worker_states()
        not_ready = [
            f"worker {i} is {WorkerState(s).name.lower()}" for i, s in enumerate(states) if s != WorkerState.READY
        ]
        return not not_ready, not_ready

    def system_status(self) -> dict[str, Any]:
        workers = self.workers()
        ready = sum(1 for w in workers if w["state"] == "ready")
        return {
            "state": "ok" if ready == len(workers) else "degraded",
            "version": self.version,
            "hostname": self.hostname,
            "env": self.config.env,
            "uptime_s": round(time.time() - self.started, 3),
            "host_uptime_s": round(time.time() - self.boot_time, 3),
            "workers_total": len(workers),
            "workers_ready": ready,
            "agents_total": self.config.agents,
            "workers": workers,
            "inflight": self.client.inflight,
            "queued": self.client.scheduler.queued,
        }

    def engine_counters(self) -> dict[str, Any]:
        kinds = self.client.table.kind_totals()
        workers = self.client.table.worker_rows()
        return {
            "tasks": sum(k["tasks"] for k in kinds.values()),
            "errors": sum(k["errors"] for k in kinds.values()),
            "bytes_in": sum(k["bytes_in"] for k in kinds.values()),
            "bytes_out": sum(k["bytes_out"] for k in kinds.values()),
            "worker_restarts": sum(w["restarts"] for w in workers),
            "inflight": self.client.inflight,
            "kinds": [{"kind": name, **row} for name, row in kinds.items()],
        }

    def system_metrics(self) -> dict[str, Any]:
        return {**host.host_metrics(), "engine": self.engine_counters()}

    # storage and network (slow tools: cached briefly) ----------------------------------------
    async def _cached(self, key: str, fetch: Any) -> dict[str, Any]:
        hit = self._cache.get(key)
        now = time.monotonic()
        if hit is not None and now - hit[0] < _SLOW_FACTS_TTL_S:
            return hit[1]
        value = await fetch()
        self._cache[key] = (now, value)
        return value  # type: ignore[no-any-return]

    async def list_pools(self) -> dict[str, Any]:
        return await self._cached("pools", pools.list_pools)

    async def list_disks(self) -> dict[str, Any]:
        return await self._cached("disks", disks.list_disks)

    async def mesh_status(self) -> dict[str, Any]:
        return await self._cached("mesh", network.mesh_status)

    # agents ----------------------------------------------------------------------------------
    def list_agents(self, with_history: bool = True) -> dict[str, Any]:
        rows = self.client.table.agent_rows()
        agents = []
        for spec, row in zip(self.client.agents, rows, strict=True):
            item = {**spec.as_dict(), **{k: row[k] for k in (
                "status", "tasks", "errors", "bytes_in", "bytes_out", "latency_ns_mean", "latency_ns_max",
                "last_latency_ns", "last_task_unix_ns", "last_status")}}  # fmt: skip
            if with_history:
                item["recent_tasks"] = self.client.table.recent_tasks(spec.id)
            agents.append(item)
        return {"agents": agents}

    def agent_statuses(self) -> list[AgentStatus]:
        return [AgentStatus(int(s)) for s in self.client.table.agents["status"]]

    @staticmethod
    def task_params(kind: Kind, params: dict[str, Any]) -> dict[str, Any]:
        """The given parameters (None means not given), refusing any that ``kind`` does not take."""
        given = {k: v for k, v in params.items() if v is not None}
        extra = sorted(set(given) - set(_PARAMS_BY_KIND.get(kind, ())))
        if extra:
            raise RequestError(f"{kind.label} does not take {', '.join(extra)}", code="invalid_argument")
        return given

    async def dispatch(self, agent: int | None, kind: Kind, data: bytes, params: dict[str, Any],
                       timeout: float | None = None, source: str = "dispatch") -> dict[str, Any]:  # fmt: skip
        """Run one task and describe it; compress/decompress are recorded as jobs."""
        kwargs = self.task_params(kind, params)
        job = None
        if kind in (Kind.COMPRESS, Kind.DECOMPRESS):
            job = self.jobs.start(kind.label, str(kwargs.get("codec", "lz4")), source)
        try:
            result: TaskResult = await self.client.submit(kind, data, agent, timeout=timeout, **kwargs)
        except (EngineError, TimeoutError) as exc:
            if job is not None:
                self.jobs.block_done(job, len(data), 0, failed=True)
                self.jobs.finish(job, describe(exc)[2])
            raise
        if job is not None:
            self.jobs.block_done(job, len(data), len(result.data))
            self.jobs.finish(job)
        spec = self.client.agents[result.agent]
        return {
            "agent_id": result.agent,
            "agent_name": spec.name,
            "worker": result.worker,
            "kind": kind,
            "data": result.data,
            "bytes_in": len(data),
            "bytes_out": len(result.data),
            "service_ns": result.service_ns,
            "engine_ns": result.latency_ns,
        }

    # compression and encryption --------------------------------------------------------------
    def compression_stats(self) -> dict[str, Any]:
        kinds = self.client.table.kind_totals()
        comp, decomp = kinds["compress"], kinds["decompress"]

        def rate(row: dict[str, int], field: str) -> float:
            return round(row[field] / row["busy_ns"] * 1e3, 3) if row["busy_ns"] else 0.0  # bytes/ns -> MB/s

        return {
            "compress_tasks": comp["tasks"],
            "decompress_tasks": decomp["tasks"],
            "errors": comp["errors"] + decomp["errors"],
            "bytes_in": comp["bytes_in"],
            "bytes_out": comp["bytes_out"],
            "ratio": round(comp["bytes_out"] / comp["bytes_in"], 4) if comp["bytes_in"] else 0.0,
            "compress_mb_per_s": rate(comp, "bytes_in"),
            "decompress_mb_per_s": rate(decomp, "bytes_out"),
            "jobs_running": self.jobs.running,
            "jobs_total": self.jobs.total,
        }

    def compression_jobs(self, limit: int = 50) -> dict[str, Any]:
        if not 1 <= limit <= JOB_LIMIT_MAX:
            raise RequestError(f"limit must be in 1-{JOB_LIMIT_MAX}, got {limit}", code="invalid_argument")
        return {"jobs": self.jobs.recent(limit)}

    def encryption_status(self) -> dict[str, Any]:
        kinds = self.client.table.kind_totals()
        key_path = Path(self.config.data_dir) / "keys" / "engine.key"
        fingerprint = hashlib.sha256(self.client.res.data_key).hexdigest()[:16]
        try:
            created = int(key_path.stat().st_mtime)
        except FileNotFoundError:
            created = 0
        try:
            from cryptography.hazmat.primitives.asymmetric import mlkem  # noqa: F401

            pq_available = True
        except ImportError:
            pq_available = False
        return {
            "algorithm": "AES-256-GCM",
            "key_fingerprint": fingerprint,
            "key_path": str(key_path),
            "key_created_unix": created,
            "encrypt_tasks": kinds["encrypt"]["tasks"],
            "decrypt_tasks": kinds["decrypt"]["tasks"],
            "auth_failures": kinds["decrypt"]["errors"],
            "pq_wrapping_enabled": False,
            "pq_available": pq_available,
            "detail": "one data key in a 0600 file; hybrid ML-KEM-768 + X25519 key wrapping arrives with the keystore",
        }
