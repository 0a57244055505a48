"""The metrics table in shared memory: one row per worker and per agent, plus agent task history.

Workers update fields in place through ``words`` (a flat int64 memoryview, one store per field);
any process reads rows as int64 slices of the same view (or whole columns through the numpy views)
without sending a message. Reads are field-wise atomic, not row-wise: a row may mix two
consecutive updates, which is fine for counters and gauges.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.status import AgentStatus, Kind, Status, WorkerState
from ipc.layout import (
    AGENT_DTYPE,
    AGENT_FIELD,
    AGENT_FIELDS,
    HISTORY_DTYPE,
    HISTORY_FIELDS,
    KIND_DTYPE,
    KIND_FIELDS,
    N_KINDS,
    WORKER_DTYPE,
    WORKER_FIELDS,
    ControlLayout,
)

_WORKER_STATE = {int(s): s.name.lower() for s in WorkerState}
_AGENT_STATUS = {int(s): s.name.lower() for s in AgentStatus}
_STATUS_NAME = {int(s): s.name.lower() for s in Status}
_KIND_NAME = {int(k): k.label for k in Kind}


class MetricsTable:
    """Views of one control segment's header, worker, agent and history tables."""

    words: memoryview | None = None

    def __init__(self, buf: memoryview, layout: ControlLayout) -> None:
        self.layout = layout
        # numpy views for whole-column reads (e.g. every agent's status at once); single rows and
        # fields are read through ``words`` below, which is ~20x cheaper per field
        self.workers = np.ndarray((layout.n_workers,), dtype=WORKER_DTYPE, buffer=buf, offset=layout.workers_offset)
        self.agents = np.ndarray((layout.n_agents,), dtype=AGENT_DTYPE, buffer=buf, offset=layout.agents_offset)
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

    # readers: slices of the flat int64 view (tolist() is ~20x cheaper than numpy field access) --
    def _rows(self, base_of: Any, count: int, names: tuple[str, ...]) -> list[dict[str, int]]:
        words = self.words
        assert words is not None
        width = len(names)
        return [dict(zip(names, words[base_of(i) : base_of(i) + width].tolist(), strict=True)) for i in range(count)]

    def worker_row(self, worker: int) -> list[int]:
        """One worker's fields in WORKER_DTYPE order (the cheapest read there is)."""
        words = self.words
        assert words is not None
        base = self.worker_base(worker)
        return words[base : base + len(WORKER_FIELDS)].tolist()  # type: ignore[no-any-return]

    def worker_rows(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self._rows(self.worker_base, self.layout.n_workers, WORKER_FIELDS)
        for i, item in enumerate(rows):
            item["id"] = i
            item["state"] = _WORKER_STATE[item["state"]]
        return rows

    def agent_rows(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self._rows(self.agent_base, self.layout.n_agents, AGENT_FIELDS)
        for item in rows:
            item["status"] = _AGENT_STATUS[item["status"]]
            item["last_status"] = _STATUS_NAME.get(item["last_status"], "unknown")
            tasks = item["tasks"]
            item["latency_ns_mean"] = item["latency_ns_sum"] // tasks if tasks else 0
        return rows

    def kind_totals(self) -> dict[str, dict[str, int]]:
        """Per task kind, summed over workers. Kinds without a row in the layout (``kind >=
        N_KINDS``, which the workers do not count either) read as zeros instead of another row."""
        totals = {kind.label: dict.fromkeys(KIND_FIELDS, 0) for kind in Kind}
        words = self.words
        assert words is not None
        width = len(KIND_FIELDS)
        counted = [kind for kind in Kind if kind < N_KINDS]
        for worker in range(self.layout.n_workers):
            for kind in counted:
                base = self.kind_base(worker, int(kind))
                row = totals[kind.label]
                for name, value in zip(KIND_FIELDS, words[base : base + width].tolist(), strict=True):
                    row[name] += value
        return totals

    def recent_tasks(self, agent: int) -> list[dict[str, Any]]:
        """The agent's bounded history, newest first."""
        words = self.words
        assert words is not None
        written = words[self.agent_base(agent) + AGENT_FIELD["history_next"]]
        size, width = self.layout.history_len, len(HISTORY_FIELDS)
        first = self.history_offset_bytes(agent) // 8
        out = []
        for n in range(min(written, size)):
            base = first + ((written - 1 - n) % size) * width
            req_id, kind, status, bytes_in, bytes_out, latency_ns, finished = words[base : base + width].tolist()
            out.append({
                "req_id": req_id, "kind": _KIND_NAME.get(kind, "unknown"),
                "status": _STATUS_NAME.get(status, "unknown"), "bytes_in": bytes_in, "bytes_out": bytes_out,
                "latency_ns": latency_ns, "finished_unix_ns": finished,
            })  # fmt: skip
        return out

    def release(self) -> None:
        self.workers = self.agents = None  # type: ignore[assignment]
        if self.words is not None:
            self.words.release()
            self.words = None
