from __future__ import annotations

import os
import random
from collections import deque
from multiprocessing import get_context, shared_memory
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ipc.doorbell import Doorbell
from ipc.errors import LayoutMismatch, RingEmpty, RingFull
from ipc.layout import ring_bytes
from ipc.ring import SpscRing

if TYPE_CHECKING:
    from collections.abc import Iterator

U64, U32, U16, U8 = (1 << 64) - 1, (1 << 32) - 1, (1 << 16) - 1, 255
descriptors = st.tuples(
    st.integers(0, U64),
    st.integers(0, U32),
    st.integers(0, U32),
    st.integers(0, U32),
    st.integers(0, U16),
    st.integers(0, U8),
    st.integers(0, U8),
    st.integers(0, U64),
)


@pytest.fixture
def segment() -> Iterator[shared_memory.SharedMemory]:
    shm = shared_memory.SharedMemory(create=True, size=2 * ring_bytes(1024))
    yield shm
    shm.close()
    shm.unlink()


def _buf(shm: shared_memory.SharedMemory) -> memoryview:
    assert shm.buf is not None
    return shm.buf


def _ring(shm: shared_memory.SharedMemory, capacity: int, *, init: bool = True, which: int = 0) -> SpscRing:
    return SpscRing(_buf(shm), which * ring_bytes(1024), capacity, init=init)


@settings(max_examples=60, deadline=None)
@given(
    capacity_log2=st.integers(1, 6),
    ops=st.lists(st.one_of(st.lists(descriptors, max_size=70), st.integers(0, 70)), max_size=60),
)
def test_ring_matches_a_fifo_model(capacity_log2: int, ops: list[Any]) -> None:
    """Random pushes (batches) and pops (counts) across many wrap-arounds behave like a bounded deque."""
    capacity = 1 << capacity_log2
    shm = shared_memory.SharedMemory(create=True, size=ring_bytes(capacity))
    ring = SpscRing(_buf(shm), 0, capacity, init=True)
    model: deque[tuple[int, ...]] = deque()
    try:
        for op in ops:
            if isinstance(op, list):
                pushed = ring.push_many(op)
                assert pushed == min(len(op), capacity - len(model))
                model.extend(op[:pushed])
            else:
                got = ring.pop_many(op)
                want = [model.popleft() for _ in range(min(op, len(model)))]
                assert got == want
            assert len(ring) == len(model)
    finally:
        ring.release()
        shm.close()
        shm.unlink()


def test_full_and_empty_are_reported(segment: shared_memory.SharedMemory) -> None:
    ring = _ring(segment, 4)
    with pytest.raises(RingEmpty):
        ring.try_pop()
    for i in range(4):
        ring.try_push(i, 0, 0, 0, 0, 0, 0, 0)
    with pytest.raises(RingFull):
        ring.try_push(99, 0, 0, 0, 0, 0, 0, 0)
    assert ring.try_pop()[0] == 0
    ring.try_push(4, 0, 0, 0, 0, 0, 0, 0)  # wraps into the freed place
    assert [d[0] for d in ring.pop_many(10)] == [1, 2, 3, 4]
    assert ring.pop_many(10) == []
    ring.release()


def test_attach_checks_magic_and_capacity(segment: shared_memory.SharedMemory) -> None:
    with pytest.raises(LayoutMismatch):
        _ring(segment, 8, init=False)
    _ring(segment, 8).release()
    with pytest.raises(LayoutMismatch):
        _ring(segment, 16, init=False)
    with pytest.raises(ValueError, match="power of two"):
        _ring(segment, 12)


def test_sleep_handshake_withdraws_when_work_is_queued(segment: shared_memory.SharedMemory) -> None:
    ring = _ring(segment, 8)
    assert ring.prepare_sleep() is True
    ring.try_push(1, 0, 0, 0, 0, 0, 0, 0)
    assert ring.wake_needed() is True  # producer sees the sleeper and clears the flag
    assert ring.wake_needed() is False
    assert ring.prepare_sleep() is False  # queued work: do not sleep
    ring.release()


def _producer(
    shm: shared_memory.SharedMemory, capacity: int, count: int, seed: int, bell: Doorbell, back: Doorbell
) -> None:
    ring = SpscRing(_buf(shm), 0, capacity, init=False)
    rng = random.Random(seed)
    sent = 0
    while sent < count:
        batch = [
            (sent + i, rng.getrandbits(32), i, 7, 3, 1, 0, sent + i)
            for i in range(min(rng.randint(1, 9), count - sent))
        ]
        pushed = ring.push_many(batch)
        sent += pushed
        if ring.wake_needed():
            bell.ring()
        if not pushed:
            back.wait(0.05)  # consumer is behind: wait for it to make room
    ring.release()
    os._exit(0)


@pytest.mark.multiprocess
@pytest.mark.parametrize("capacity", [2, 8, 64])
def test_two_processes_in_order_with_sleeping_consumer(segment: shared_memory.SharedMemory, capacity: int) -> None:
    """A real producer process, a consumer that always sleeps between batches (no spinning at all):
    every descriptor arrives once, in order, and no wake-up is lost (bounded by a timeout)."""
    count = 20_000
    ring = _ring(segment, capacity)
    bell, back = Doorbell(), Doorbell()
    proc = get_context("fork").Process(target=_producer, args=(segment, capacity, count, capacity, bell, back))
    proc.start()
    try:
        expected = 0
        while expected < count:
            items = ring.pop_many(random.randint(1, 16))
            back.ring()
            for item in items:
                assert item[0] == expected
                assert item[7] == expected
                expected += 1
            if not items and ring.prepare_sleep():
                assert bell.wait(10.0), f"lost wake-up after {expected} descriptors"
                ring.cancel_sleep()
    finally:
        proc.join(10)
        ring.release()
        bell.close()
        back.close()
    assert proc.exitcode == 0
