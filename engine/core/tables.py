"""The engine's metric tables, in the control segment's tables region (ipc/layout.py).

Region layout, every field a little-endian int64, offsets relative to the region's start::

    0      tables header   TABLES_HEADER_DTYPE (64 bytes): magic, version, n_workers, n_agents, history_len,
                           key_generation
    64     client row      CLIENT_DTYPE: admission and slot figures of the one client process
    ...    workers         n_workers rows of WORKER_DTYPE
    ...    agents          n_agents rows of AGENT_DTYPE
    ...    history         n_agents x history_len rows of HISTORY_ROW (per-agent circular log)
    ...    kinds           n_workers x N_KINDS rows of KIND_DTYPE (per worker: no two writers share a row)

One writer per field: the supervisor writes worker lifecycle fields and RESTARTING; a worker its own
worker row, its agents' rows, their history and its kind rows; the client its client row and the
agents' ``drain`` flag and ``inflight`` count. Writers update a field with one store through the flat
``words`` view (~40 ns); readers take field-wise atomic snapshots without sending a message (a row may mix two
consecutive updates, which is fine for counters and gauges).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from engine.core.codes import AgentStatus, Kind, Status, WorkerState
from ipc.errors import LayoutMismatch
from ipc.layout import align

TABLES_MAGIC = 0x5356_5441_424C_4531  # "SVTABLE1"
TABLES_VERSION = 2  # 2: the client's oldest task in flight, agents' in-flight count, workers' NUMA node

TABLES_HEADER_DTYPE = np.dtype(
    [
        ("magic", "<i8"),
        ("version", "<i8"),
        ("n_workers", "<i8"),
        ("n_agents", "<i8"),
        ("history_len", "<i8"),
        ("key_generation", "<i8"),
        ("pad", "<i8", 2),
    ]
)
assert TABLES_HEADER_DTYPE.itemsize == 64
# the inline key's generation the supervisor holds (1 at start, +1 per rotation it took from the key
# pipe): workers it forks from then on start with that key. Written by the supervisor alone.
KEY_GENERATION_WORD = 5

CLIENT_DTYPE = np.dtype(
    [
        ("pid", "<i8"),
        ("inflight", "<i8"),  # tasks admitted and not yet answered
        ("queued", "<i8"),  # tasks waiting for admission
        ("admitted", "<i8"),
        ("rejected_queue_full", "<i8"),
        ("rejected_no_slot", "<i8"),
        ("workers_lost_tasks", "<i8"),
        ("slots_free", "<i8"),
        ("updated_ns", "<i8"),  # CLOCK_MONOTONIC of the last refresh (the client refreshes every 100 ms)
        # the oldest task in flight (req_id 0: none): its agent and worker, and the CLOCK_MONOTONIC
        # time it has been in flight since at least (engine/core/pending_age.py: to the refresh's resolution)
        ("oldest_req_id", "<i8"),
        ("oldest_agent", "<i8"),
        ("oldest_worker", "<i8"),
        ("oldest_since_ns", "<i8"),
    ]
)

WORKER_DTYPE = np.dtype(
    [
        ("pid", "<i8"),
        ("epoch", "<i8"),  # bumped by the supervisor on every (re)start
        ("state", "<i8"),  # engine.core.codes.WorkerState
        ("restarts", "<i8"),
        ("heartbeat_ns", "<i8"),  # CLOCK_MONOTONIC of the last loop turn
        ("started_ns", "<i8"),
        ("tasks", "<i8"),
        ("errors", "<i8"),
        ("busy_ns", "<i8"),
        ("sleeps", "<i8"),  # times the worker blocked on its doorbell
        ("wakeups_sent", "<i8"),  # doorbell writes to the client
        ("cpu", "<i8"),  # pinned CPU or -1
        ("node", "<i8"),  # NUMA node the worker is placed on (SIGMAVAULT_NUMA=node) or -1
    ]
)

AGENT_DTYPE = np.dtype(
    [
        ("worker", "<i8"),
        ("status", "<i8"),  # engine.core.codes.AgentStatus
        ("tasks", "<i8"),
        ("errors", "<i8"),
        ("bytes_in", "<i8"),
        ("bytes_out", "<i8"),
        ("latency_ns_sum", "<i8"),
        ("latency_ns_max", "<i8"),
        ("last_latency_ns", "<i8"),
        ("last_task_unix_ns", "<i8"),
        ("history_next", "<i8"),  # total entries ever written; slot = history_next % history_len
        ("last_status", "<i8"),
        ("drain", "<i8"),  # 1: taken out of service by the client (no new tasks), 0: in service
        ("inflight", "<i8"),  # tasks the client has routed here and not had answered (client, every 100 ms)
    ]
)

# one finished task: req_id, kind, status, bytes in, bytes out, latency ns, finished unix ns
HISTORY_ROW = struct.Struct("<7q")
HISTORY_FIELDS = ("req_id", "kind", "status", "bytes_in", "bytes_out", "latency_ns", "finished_unix_ns")

N_KINDS = 16  # task kinds are 1..N_KINDS-1; row 0 unused
KIND_DTYPE = np.dtype(
    [("tasks", "<i8"), ("errors", "<i8"), ("bytes_in", "<i8"), ("bytes_out", "<i8"), ("busy_ns", "<i8")]
)

# Field names in row order (numpy types dtype.names as optional), and each field's flat int64
# index inside a row, for writers using the ``words`` view.
CLIENT_FIELDS: tuple[str, ...] = CLIENT_DTYPE.names or ()
WORKER_FIELDS: tuple[str, ...] = WORKER_DTYPE.names or ()
AGENT_FIELDS: tuple[str, ...] = AGENT_DTYPE.names or ()
KIND_FIELDS: tuple[str, ...] = KIND_DTYPE.names or ()
CLIENT_FIELD = {name: i for i, name in enumerate(CLIENT_FIELDS)}
WORKER_FIELD = {name: i for i, name in enumerate(WORKER_FIELDS)}
AGENT_FIELD = {name: i for i, name in enumerate(AGENT_FIELDS)}
KIND_FIELD = {name: i for i, name in enumerate(KIND_FIELDS)}

_WORKER_STATE = {int(s): s.name.lower() for s in WorkerState}
_AGENT_STATUS = {int(s): s.name.lower() for s in AgentStatus}
_STATUS_NAME = {int(s): s.name.lower() for s in Status}
_KIND_NAME = {int(k): k.label for k in Kind}


@dataclass(frozen=True)
class TableLayout:
    """Offsets (bytes, relative to the tables region) of every table for one engine shape."""

    n_workers: int
    n_agents: int
    history_len: int

    client_offset = TABLES_HEADER_DTYPE.itemsize

    @cached_property  # asked on every row read: computed once
    def workers_offset(self) -> int:
        return align(self.client_offset + CLIENT_DTYPE.itemsize)

    @cached_property  # asked on every row read: computed once
    def agents_offset(self) -> int:
        return align(self.workers_offset + self.n_workers * WORKER_DTYPE.itemsize)

    @cached_property  # asked on every row read: computed once
    def history_offset(self) -> int:
        return align(self.agents_offset + self.n_agents * AGENT_DTYPE.itemsize)

    @cached_property  # asked on every row read: computed once
    def kinds_offset(self) -> int:
        return align(self.history_offset + self.n_agents * self.history_len * HISTORY_ROW.size)

    @cached_property  # asked on every row read: computed once
    def total_bytes(self) -> int:
        return align(self.kinds_offset + self.n_workers * N_KINDS * KIND_DTYPE.itemsize)


class MetricsTable:
    """Views of the tables region: ``words`` for one-store writes, row readers for everyone else."""

    words: memoryview | None = None

    def __init__(self, region: memoryview, layout: TableLayout) -> None:
        self.layout = layout
        self.words = region[: layout.total_bytes].cast("q")
        # numpy views for whole-column reads (every agent's status at once); single rows and fields
        # are read through ``words``, which is ~20x cheaper per field
        self.workers = np.ndarray((layout.n_workers,), WORKER_DTYPE, buffer=region, offset=layout.workers_offset)
        self.agents = np.ndarray((layout.n_agents,), AGENT_DTYPE, buffer=region, offset=layout.agents_offset)

    @classmethod
    def create(cls, region: memoryview, layout: TableLayout) -> MetricsTable:
        """Zero the region and write its header (the segment's owner, once)."""
        region[: layout.total_bytes] = bytes(layout.total_bytes)
        table = cls(region, layout)
        words = table.words
        assert words is not None
        for i, value in enumerate(
            (TABLES_MAGIC, TABLES_VERSION, layout.n_workers, layout.n_agents, layout.history_len)
        ):
            words[i] = value
        return table

    @classmethod
    def attach(cls, region: memoryview) -> MetricsTable:
        """Read the layout from the region's header (inspectors), refusing another version."""
        with region[: TABLES_HEADER_DTYPE.itemsize] as raw, raw.cast("q") as head:
            magic, version, n_workers, n_agents, history_len = head[:5].tolist()
        if magic != TABLES_MAGIC:
            raise LayoutMismatch("tables magic", TABLES_MAGIC, magic)
        if version != TABLES_VERSION:
            raise LayoutMismatch("tables version", TABLES_VERSION, version)
        return cls(region, TableLayout(n_workers, n_agents, history_len))

    # flat int64 indices for writers ----------------------------------------------------------
    def client_base(self) -> int:
        return self.layout.client_offset // 8

    def worker_base(self, worker: int) -> int:
        return (self.layout.workers_offset + worker * WORKER_DTYPE.itemsize) // 8

    def agent_base(self, agent: int) -> int:
        return (self.layout.agents_offset + agent * AGENT_DTYPE.itemsize) // 8

    def kind_base(self, worker: int, kind: int) -> int:
        return (self.layout.kinds_offset + (worker * N_KINDS + kind) * KIND_DTYPE.itemsize) // 8

    def history_offset_bytes(self, agent: int) -> int:
        """Where the agent's circular log starts, in bytes from the region's start."""
        return self.layout.history_offset + agent * self.layout.history_len * HISTORY_ROW.size

    # readers: slices of the flat int64 view (tolist() is ~20x cheaper than numpy field access) --
    def _row(self, base: int, names: tuple[str, ...]) -> dict[str, int]:
        words = self.words
        assert words is not None
        return dict(zip(names, words[base : base + len(names)].tolist(), strict=True))

    def client_row(self) -> dict[str, int]:
        return self._row(self.client_base(), CLIENT_FIELDS)

    def worker_row(self, worker: int) -> dict[str, int]:
        return self._row(self.worker_base(worker), WORKER_FIELDS)

    def worker_rows(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for i in range(self.layout.n_workers):
            row: dict[str, Any] = self.worker_row(i)
            row["id"] = i
            row["state"] = _WORKER_STATE.get(row["state"], "unknown")
            rows.append(row)
        return rows

    def agent_row(self, agent: int) -> dict[str, Any]:
        row: dict[str, Any] = self._row(self.agent_base(agent), AGENT_FIELDS)
        row["status"] = _AGENT_STATUS.get(row["status"], "unknown")
        row["last_status"] = _STATUS_NAME.get(row["last_status"], "unknown")
        tasks = row["tasks"]
        row["latency_ns_mean"] = row["latency_ns_sum"] // tasks if tasks else 0
        return row

    def agent_rows(self) -> list[dict[str, Any]]:
        return [self.agent_row(i) for i in range(self.layout.n_agents)]

    def kind_totals(self) -> dict[str, dict[str, int]]:
        """Per task kind, summed over workers."""
        totals = {kind.label: dict.fromkeys(KIND_FIELDS, 0) for kind in Kind}
        for worker in range(self.layout.n_workers):
            for kind in Kind:
                row = totals[kind.label]
                for name, value in self._row(self.kind_base(worker, int(kind)), KIND_FIELDS).items():
                    row[name] += value
        return totals

    def history_written(self, agent: int) -> int:
        words = self.words
        assert words is not None
        return int(words[self.agent_base(agent) + AGENT_FIELD["history_next"]])

    def recent_tasks(self, agent: int, skip: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """The agent's bounded history, newest first, from the ``skip``-th newest entry on."""
        words = self.words
        assert words is not None
        written, size, width = self.history_written(agent), self.layout.history_len, len(HISTORY_FIELDS)
        first = self.history_offset_bytes(agent) // 8
        kept = min(written, size)
        stop = kept if limit is None else min(kept, skip + limit)
        out = []
        for n in range(skip, stop):
            base = first + ((written - 1 - n) % size) * width
            row: dict[str, Any] = dict(zip(HISTORY_FIELDS, words[base : base + width].tolist(), strict=True))
            row["kind"] = _KIND_NAME.get(row["kind"], "unknown")
            row["status"] = _STATUS_NAME.get(row["status"], "unknown")
            out.append(row)
        return out

    def release(self) -> None:
        self.workers = self.agents = None  # type: ignore[assignment]
        if self.words is not None:
            self.words.release()
            self.words = None
