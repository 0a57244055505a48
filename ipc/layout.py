"""Byte layout of the transport's two shared-memory segments.

Control segment (``<prefix>_ctl``), every integer little-endian int64::

    0      header        HEADER_DTYPE, 512 bytes: magic, version, sizes, where the tables region is,
                         client_sleeping (its own cache line)
    512    tables        ``tables_bytes`` opaque to the transport: the engine's metric tables live
                         there (engine/core/tables.py), with their own magic and version
    ...    rings         per worker: submission ring, then completion ring (ring.py), 64-byte aligned

Arena segment (``<prefix>_arena``): ``n_slots`` data slots of ``slot_bytes`` each, back to back.

The transport knows rings, slots and the sleep flag; what the engine counts is not its business, so
adding a counter changes engine/core/tables.py's version, not this one.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

CTL_MAGIC = 0x5347_5641_554C_5431  # "SGVAULT1"
LAYOUT_VERSION = 3

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
        ("n_slots", "<i8"),
        ("slot_bytes", "<i8"),
        ("ring_capacity", "<i8"),
        ("tables_offset", "<i8"),
        ("tables_bytes", "<i8"),
        ("created_ns", "<i8"),
        ("pad0", "<i8", 7),
        ("client_sleeping", "<i8"),  # at byte 128: its own cache line, written by every worker
        ("pad1", "<i8", 47),
    ]
)
assert HEADER_DTYPE.itemsize == HEADER_BYTES
CLIENT_SLEEPING_WORD = HEADER_DTYPE.fields["client_sleeping"][1] // 8  # type: ignore[index]

RING_HEADER_BYTES = 256


def ring_bytes(capacity: int) -> int:
    return RING_HEADER_BYTES + capacity * DESCRIPTOR_BYTES


def align(n: int, to: int = 64) -> int:
    return (n + to - 1) // to * to


def header_words(buf: memoryview) -> memoryview:
    """The header as int64 words (``words[CLIENT_SLEEPING_WORD]`` is one store or load)."""
    return buf[:HEADER_BYTES].cast("q")


@dataclass(frozen=True)
class ControlLayout:
    """Offsets of every region of the control segment for one engine shape."""

    n_workers: int
    ring_capacity: int
    tables_bytes: int

    @property
    def tables_offset(self) -> int:
        return HEADER_BYTES

    @property
    def rings_offset(self) -> int:
        return align(self.tables_offset + self.tables_bytes)

    def submission_ring_offset(self, worker: int) -> int:
        return self.rings_offset + (2 * worker) * ring_bytes(self.ring_capacity)

    def completion_ring_offset(self, worker: int) -> int:
        return self.rings_offset + (2 * worker + 1) * ring_bytes(self.ring_capacity)

    @property
    def total_bytes(self) -> int:
        return self.rings_offset + 2 * self.n_workers * ring_bytes(self.ring_capacity)
