"""Single-producer single-consumer ring of 32-byte descriptors in shared memory.

Ring header (RING_HEADER_BYTES = 256), int64 words, each hot word on its own cache line::

    word 0   magic (RING_MAGIC)        word 1  capacity (power of two)
    word 8   tail   - written only by the producer (count of descriptors ever pushed)
    word 16  head   - written only by the consumer (count of descriptors ever popped)
    word 24  consumer_sleeping - consumer sets 1 before blocking on its doorbell
    word 25  closed - set by the owner to ask the consumer to drain and stop

Indices grow without wrapping (2**63 descriptors is centuries at 10 M/s); the slot of index i is
``i & (capacity - 1)``. Each side caches the other side's index and re-reads it only when the
cached value says full (producer) or holds fewer descriptors than asked for (consumer).

Ordering: x86 keeps stores in order, so "write descriptor, then publish tail" needs no fence
there; other CPUs get a full fence before publishing. The sleep handshake (Dekker-shaped) always
fences: see fence.py.
"""

from __future__ import annotations

import platform
from typing import NamedTuple

from ipc.errors import LayoutMismatch, RingEmpty, RingFull
from ipc.fence import full_fence
from ipc.layout import DESCRIPTOR, DESCRIPTOR_BYTES, RING_HEADER_BYTES, ring_bytes

RING_MAGIC = 0x5356_5249_4E47_0001  # "SVRING" v1
_MAGIC, _CAPACITY, _TAIL, _HEAD, _SLEEPING, _CLOSED = 0, 1, 8, 16, 24, 25
_FENCE_ON_PUBLISH = platform.machine() not in ("x86_64", "AMD64", "i386", "i686")

Descriptor = tuple[int, int, int, int, int, int, int, int]  # req_id, slot, length, param, agent, kind, status, aux


class RingState(NamedTuple):
    """A ring's header words as one reader saw them (each word atomic, the set not)."""

    capacity: int
    head: int
    tail: int
    consumer_sleeping: bool
    closed: bool

    @property
    def occupancy(self) -> int:
        return self.tail - self.head


class SpscRing:
    """One direction of traffic between exactly one producer and one consumer process."""

    _words: memoryview | None = None
    _data: memoryview | None = None

    def __init__(self, buf: memoryview, offset: int, capacity: int, *, init: bool) -> None:
        if capacity < 2 or capacity & (capacity - 1):
            raise ValueError(f"ring capacity must be a power of two >= 2, got {capacity}")
        self.capacity = capacity
        self._mask = capacity - 1
        self._words = buf[offset : offset + RING_HEADER_BYTES].cast("q")
        self._data = buf[offset + RING_HEADER_BYTES : offset + ring_bytes(capacity)]
        words = self._words
        if init:
            for i in range(len(words)):
                words[i] = 0
            words[_CAPACITY] = capacity
            words[_MAGIC] = RING_MAGIC
        elif words[_MAGIC] != RING_MAGIC:
            raise LayoutMismatch("ring magic", RING_MAGIC, words[_MAGIC])
        elif words[_CAPACITY] != capacity:
            raise LayoutMismatch("ring capacity", capacity, words[_CAPACITY])
        self._cached_head = words[_HEAD]
        self._cached_tail = words[_TAIL]
        self._pack = DESCRIPTOR.pack_into
        self._unpack = DESCRIPTOR.unpack_from

    # producer side ---------------------------------------------------------------------------
    def try_push(
        self, req_id: int, slot: int, length: int, param: int, agent: int, kind: int, status: int, aux: int
    ) -> None:
        """Append one descriptor; raises RingFull instead of waiting."""
        words, data = self._words, self._data
        assert words is not None and data is not None
        tail = words[_TAIL]
        if tail - self._cached_head >= self.capacity:
            self._cached_head = words[_HEAD]
            if tail - self._cached_head >= self.capacity:
                raise RingFull(f"ring of {self.capacity} descriptors is full")
        self._pack(data, (tail & self._mask) * DESCRIPTOR_BYTES, req_id, slot, length, param, agent, kind, status, aux)
        if _FENCE_ON_PUBLISH:
            full_fence()
        words[_TAIL] = tail + 1

    def push_many(self, descriptors: list[Descriptor]) -> int:
        """Append as many of ``descriptors`` as fit, publishing the tail once; returns how many."""
        words = self._words
        assert words is not None
        tail = words[_TAIL]
        room = self.capacity - (tail - self._cached_head)
        if room < len(descriptors):
            self._cached_head = words[_HEAD]
            room = self.capacity - (tail - self._cached_head)
        n = min(room, len(descriptors))
        pack, data, mask = self._pack, self._data, self._mask
        assert data is not None
        for i in range(n):
            pack(data, ((tail + i) & mask) * DESCRIPTOR_BYTES, *descriptors[i])
        if n:
            if _FENCE_ON_PUBLISH:
                full_fence()
            words[_TAIL] = tail + n
        return n

    def wake_needed(self) -> bool:
        """After publishing: True (and the flag cleared) when the consumer sleeps and must be rung."""
        words = self._words
        assert words is not None
        full_fence()
        if words[_SLEEPING]:
            words[_SLEEPING] = 0
            return True
        return False

    # consumer side ---------------------------------------------------------------------------
    def pop_many(self, max_items: int) -> list[Descriptor]:
        """Remove and return up to ``max_items`` descriptors, oldest first (empty list when none)."""
        words = self._words
        assert words is not None
        head = words[_HEAD]
        if self._cached_tail - head < max_items:  # the cache may undercount: look at the real tail
            self._cached_tail = words[_TAIL]
            if head == self._cached_tail:
                return []
        n = min(self._cached_tail - head, max_items)
        unpack, data, mask = self._unpack, self._data, self._mask
        assert data is not None
        out: list[Descriptor] = [unpack(data, ((head + i) & mask) * DESCRIPTOR_BYTES) for i in range(n)]
        words[_HEAD] = head + n
        return out

    def is_empty(self) -> bool:
        words = self._words
        assert words is not None
        return words[_TAIL] == words[_HEAD]

    def try_pop(self) -> Descriptor:
        items = self.pop_many(1)
        if not items:
            raise RingEmpty("ring is empty")
        return items[0]

    def prepare_sleep(self) -> bool:
        """Announce that the consumer is about to block. False (flag withdrawn) if work arrived meanwhile."""
        words = self._words
        assert words is not None
        words[_SLEEPING] = 1
        full_fence()
        if words[_TAIL] != words[_HEAD]:
            words[_SLEEPING] = 0
            return False
        return True

    def cancel_sleep(self) -> None:
        assert self._words is not None
        self._words[_SLEEPING] = 0

    # both sides ------------------------------------------------------------------------------
    def __len__(self) -> int:
        words = self._words
        assert words is not None
        return words[_TAIL] - words[_HEAD]

    def state(self) -> RingState:
        """Head, tail and flags for inspectors (engined inspect); never changes the ring."""
        words = self._words
        assert words is not None
        head = words[_HEAD]
        return RingState(self.capacity, head, words[_TAIL], bool(words[_SLEEPING]), bool(words[_CLOSED]))

    @property
    def closed(self) -> bool:
        assert self._words is not None
        return bool(self._words[_CLOSED])

    def close(self) -> None:
        """Ask the consumer to drain what is queued and stop (the owner calls this on shutdown)."""
        assert self._words is not None
        self._words[_CLOSED] = 1

    def release(self) -> None:
        """Drop this handle's views of the segment so the segment can be closed."""
        for view in (self._words, self._data):
            if view is not None:
                view.release()
        self._words = self._data = None

    def __repr__(self) -> str:
        if self._words is None:
            return f"SpscRing(capacity={self.capacity}, released)"
        return f"SpscRing(capacity={self.capacity}, head={self._words[_HEAD]}, tail={self._words[_TAIL]})"
