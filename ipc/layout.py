"""Byte layout of the engine's two shared-memory segments.

Control segment (``<prefix>_ctl``), every integer little-endian int64 unless noted::

    0      header        HEADER_DTYPE, 512 bytes (magic, version, sizes, client_sleeping)
    512    workers       n_workers rows of WORKER_DTYPE
    ...    agents        n_agents rows of AGENT_DTYPE
    ...    history       n_agents * history_len rows of HISTORY_DTYPE (per-agent circular log)
    ...    kinds         n_workers * N_KINDS rows of KIND_DTYPE (per worker: no two writers share a row)
    ...    rings         per worker: submission ring, then completion ring (ring.py), 64-byte aligned

Arena segment (``<prefix>_arena``): ``n_slots`` data slots of ``slot_bytes`` each, back to back.

Every table field is 8 bytes wide so writers can update a field with one store through a flat
``memoryview.cast("q")`` (~40 ns) while readers take consistent-enough numpy snapshots
(``np.ndarray(..., dtype=AGENT_DTYPE, buffer=...)``) without sending a message.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

CTL_MAGIC = 0x5347_5641_554C_5431  # "SGVAULT1"
LAYOUT_VERSION = 2

# One task descriptor, 32 bytes, the only thing that crosses a ring:
#   req_id u64 | slot u32 | length u32 | param u32 | agent u16 | kind u8 | status u8 | aux u64
# Submission: aux = worker epoch the client saw | (output slot + 1) << 32 (0: output over the input).
# Completion: length = bytes out, aux = service ns.
DESCRIPTOR = struct.Struct("<QIIIHBBQ")
DESCRIPTOR_BYTES = DESCRIPTOR.size
assert DESCRIPTOR_BYTES == 32

HEADER_BYTES = 512
HEADER_DTYPE = np.dtype(
    [
        ("magic", "<i8"),
        ("version", "<i8"),
        ("n_workers", "<i8"),
        ("n_agents", "<i8"),
        ("n_slots", "<i8"),
        ("slot_bytes", "<i8"),
        ("ring_capacity", "<i8"),
        ("history_len", "<i8"),
        ("created_ns", "<i8"),
        ("pad0", "<i8", 7),
        ("client_sleeping", "<i8"),  # at byte 128: its own cache line, written by every worker
        ("pad1", "<i8", 47),
    ]
)
assert HEADER_DTYPE.itemsize == HEADER_BYTES

WORKER_DTYPE = np.dtype(
    [
        ("pid", "<i8"),
        ("epoch", "<i8"),  # bumped by the supervisor on every (re)start
        ("state", "<i8"),  # engine.status.WorkerState
        ("restarts", "<i8"),
        ("heartbeat_ns", "<i8"),  # CLOCK_MONOTONIC of the last loop turn
        ("started_ns", "<i8"),
        ("tasks", "<i8"),
        ("errors", "<i8"),
        ("busy_ns", "<i8"),
        ("sleeps", "<i8"),  # times the worker blocked on its doorbell
        ("wakeups_sent", "<i8"),  # doorbell writes to the client
        ("cpu", "<i8"),  # pinned CPU or -1
    ]
)

AGENT_DTYPE = np.dtype(
    [
        ("worker", "<i8"),
        ("status", "<i8"),  # engine.status.AgentStatus
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
    ]
)

HISTORY_DTYPE = np.dtype(
    [
        ("req_id", "<i8"),
        ("kind", "<i8"),
        ("status", "<i8"),
        ("bytes_in", "<i8"),
        ("bytes_out", "<i8"),
        ("latency_ns", "<i8"),
        ("finished_unix_ns", "<i8"),
    ]
)

N_KINDS = 8  # task kinds are 1..7; row 0 unused
KIND_DTYPE = np.dtype(
    [
        ("tasks", "<i8"),
        ("errors", "<i8"),
        ("bytes_in", "<i8"),
        ("bytes_out", "<i8"),
        ("busy_ns", "<i8"),
    ]
)

# Field names in row order (numpy types dtype.names as optional), and each field's flat int64
# index inside a row, for writers using memoryview.cast("q").
WORKER_FIELDS: tuple[str, ...] = WORKER_DTYPE.names or ()
AGENT_FIELDS: tuple[str, ...] = AGENT_DTYPE.names or ()
HISTORY_FIELDS: tuple[str, ...] = HISTORY_DTYPE.names or ()
KIND_FIELDS: tuple[str, ...] = KIND_DTYPE.names or ()
WORKER_FIELD = {name: i for i, name in enumerate(WORKER_FIELDS)}
AGENT_FIELD = {name: i for i, name in enumerate(AGENT_FIELDS)}
HISTORY_FIELD = {name: i for i, name in enumerate(HISTORY_FIELDS)}
KIND_FIELD = {name: i for i, name in enumerate(KIND_FIELDS)}
CLIENT_SLEEPING_WORD = HEADER_DTYPE.fields["client_sleeping"][1] // 8  # type: ignore[index]

RING_HEADER_BYTES = 256


def ring_bytes(capacity: int) -> int:
    return RING_HEADER_BYTES + capacity * DESCRIPTOR_BYTES


def _align(n: int, to: int = 64) -> int:
    return (n + to - 1) // to * to


@dataclass(frozen=True)
class ControlLayout:
    """Offsets of every region of the control segment for one engine shape."""

    n_workers: int
    n_agents: int
    ring_capacity: int
    history_len: int

    @property
    def workers_offset(self) -> int:
        return HEADER_BYTES

    @property
    def agents_offset(self) -> int:
        return _align(self.workers_offset + self.n_workers * WORKER_DTYPE.itemsize)

    @property
    def history_offset(self) -> int:
        return _align(self.agents_offset + self.n_agents * AGENT_DTYPE.itemsize)

    @property
    def kinds_offset(self) -> int:
        return _align(self.history_offset + self.n_agents * self.history_len * HISTORY_DTYPE.itemsize)

    @property
    def rings_offset(self) -> int:
        return _align(self.kinds_offset + self.n_workers * N_KINDS * KIND_DTYPE.itemsize)

    def submission_ring_offset(self, worker: int) -> int:
        return self.rings_offset + (2 * worker) * ring_bytes(self.ring_capacity)

    def completion_ring_offset(self, worker: int) -> int:
        return self.rings_offset + (2 * worker + 1) * ring_bytes(self.ring_capacity)

    @property
    def total_bytes(self) -> int:
        return self.rings_offset + 2 * self.n_workers * ring_bytes(self.ring_capacity)
