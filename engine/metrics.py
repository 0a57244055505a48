"""The metrics table in shared memory: one row per worker and per agent, plus agent task history.

Workers update fields in place through ``words`` (a flat int64 memoryview, one store per field);
any process reads the numpy views without a message. Reads are field-wise atomic, not row-wise:
a row may mix two consecutive updates, which is fine for counters and gauges.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.status import AgentStatus, Kind, Status, WorkerState
from ipc.layout import AGENT_DTYPE, HEADER_DTYPE, HISTORY_DTYPE, KIND_DTYPE, N_KINDS, WORKER_DTYPE, ControlLayout


class MetricsTable:
    """Views of one control segment's header, worker, agent and history tables."""

    words: memoryview | None = None

    def __init__(self, buf: memoryview, layout: ControlLayout) -> None:
        self.layout = layout
        self.header = np.ndarray((), dtype=HEADER_DTYPE, buffer=buf, offset=0)
        self.workers = np.ndarray((layout.n_workers,), dtype=WORKER_DTYPE, buffer=buf, offset=layout.workers_offset)
        self.agents = np.ndarray((layout.n_agents,), dtype=AGENT_DTYPE, buffer=buf, offset=layout.agents_offset)
        self.history = np.ndarray(
            (layout.n_agents, layout.history_len), dtype=HISTORY_DTYPE, buffer=buf, offset=layout.history_offset
        )
        self.kinds = np.ndarray((layout.n_workers, N_KINDS), dtype=KIND_DTYPE, buffer=buf, offset=layout.kinds_offset)
        self.words = buf[: layout.rings_offset].cast("q")

    # flat int64 indices for writers ----------------------------------------------------------
    def worker_base(self, worker: int) -> int:
        return (self.layout.workers_offset + worker * WORKER_DTYPE.itemsize) // 8

    def agent_base(self, agent: int) -> int:
        return (self.layout.agents_offset + agent * AGENT_DTYPE.itemsize) // 8

    def kind_base(self, worker: int, kind: int) -> int:
        return (self.layout.kinds_offset + (worker * N_KINDS + kind) * KIND_DTYPE.itemsize) // 8

    def history_offset_bytes(self, agent: int) -> int:
        return self.layout.history_offset + agent * self.layout.history_len * HISTORY_DTYPE.itemsize

    # readers ---------------------------------------------------------------------------------
    def worker_rows(self) -> list[dict[str, Any]]:
        rows = self.workers.copy()
        out = []
        for i, row in enumerate(rows):
            item = {name: int(row[name]) for name in WORKER_DTYPE.names}
            item["id"] = i
            item["state"] = WorkerState(item["state"]).name.lower()
            out.append(item)
        return out

    def agent_rows(self) -> list[dict[str, Any]]:
        rows = self.agents.copy()
        out = []
        for row in rows:
            item = {name: int(row[name]) for name in AGENT_DTYPE.names}
            item["status"] = AgentStatus(item["status"]).name.lower()
            item["last_status"] = Status(item["last_status"]).name.lower()
            tasks = item["tasks"]
            item["latency_ns_mean"] = item["latency_ns_sum"] // tasks if tasks else 0
            out.append(item)
        return out

    def kind_totals(self) -> dict[str, dict[str, int]]:
        """Per task kind, summed over workers."""
        rows = self.kinds.copy()
        return {kind.label: {name: int(rows[name][:, int(kind)].sum()) for name in KIND_DTYPE.names} for kind in Kind}

    def recent_tasks(self, agent: int) -> list[dict[str, Any]]:
        """The agent's bounded history, newest first."""
        ring = self.history[agent].copy()
        written = int(self.agents[agent]["history_next"])
        size = self.layout.history_len
        out = []
        for n in range(min(written, size)):
            row = ring[(written - 1 - n) % size]
            out.append(
                {
                    "req_id": int(row["req_id"]),
                    "kind": Kind(int(row["kind"])).label if row["kind"] in Kind._value2member_map_ else "unknown",
                    "status": Status(int(row["status"])).name.lower(),
                    "bytes_in": int(row["bytes_in"]),
                    "bytes_out": int(row["bytes_out"]),
                    "latency_ns": int(row["latency_ns"]),
                    "finished_unix_ns": int(row["finished_unix_ns"]),
                }
            )
        return out

    def release(self) -> None:
        self.header = self.workers = self.agents = self.history = self.kinds = None  # type: ignore[assignment]
        if self.words is not None:
            self.words.release()
            self.words = None
