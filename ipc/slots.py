"""The slot arena: fixed-size data slots in one shared-memory segment, and who owns each slot.

Ownership (one owner at a time, so no slot is ever read while written)::

    FREE --lease()--> CLIENT (fills it) --push descriptor--> WORKER (reads input, writes output
    into the same slot) --push completion--> CLIENT (reads output) --release()--> FREE

Only the client process leases and releases, so the free list lives in its private memory; a slot
whose task was abandoned (timeout, cancellation) stays leased until its completion arrives.
"""

from __future__ import annotations

import numpy as np

from ipc.errors import NoFreeSlot


class SlotArena:
    """Views of the arena segment: ``slot(i)`` is a zero-copy uint8 numpy view of slot i."""

    _array: np.ndarray | None = None
    _mv: memoryview | None = None

    def __init__(self, buf: memoryview, n_slots: int, slot_bytes: int) -> None:
        if len(buf) < n_slots * slot_bytes:
            raise ValueError(f"arena of {len(buf)} bytes cannot hold {n_slots} x {slot_bytes}")
        self.n_slots = n_slots
        self.slot_bytes = slot_bytes
        self._mv = buf[: n_slots * slot_bytes]
        self._array = np.ndarray((n_slots, slot_bytes), dtype=np.uint8, buffer=self._mv)
        self._slot_mvs = [self._mv[i * slot_bytes : (i + 1) * slot_bytes] for i in range(n_slots)]

    def slot(self, index: int) -> np.ndarray:
        assert self._array is not None
        row: np.ndarray = self._array[index]
        return row

    def memoryview(self, index: int) -> memoryview:
        """The slot as a memoryview (cheaper than numpy for small copies and for codecs)."""
        return self._slot_mvs[index]

    def release(self) -> None:
        """Drop every view so the segment can be closed (numpy views would make close() raise)."""
        self._array = None
        for mv in self._slot_mvs:
            mv.release()
        self._slot_mvs = []
        if self._mv is not None:
            self._mv.release()
            self._mv = None


class SlotPool:
    """Client-side free list of slot indices (LIFO: a just-released slot is still warm in cache)."""

    def __init__(self, n_slots: int) -> None:
        self._free = list(range(n_slots - 1, -1, -1))
        self.n_slots = n_slots

    def lease(self) -> int:
        try:
            return self._free.pop()
        except IndexError:
            raise NoFreeSlot(f"all {self.n_slots} slots are leased") from None

    def release(self, index: int) -> None:
        self._free.append(index)

    @property
    def free(self) -> int:
        return len(self._free)
