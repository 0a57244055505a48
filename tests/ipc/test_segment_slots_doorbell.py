from __future__ import annotations

import os
import stat
from multiprocessing import get_context, shared_memory

import numpy as np
import pytest

from ipc.doorbell import Doorbell
from ipc.errors import NoFreeSlot
from ipc.segment import NAME_PREFIX, create_segment, engine_segments, instance_prefix, reclaim_stale_segments
from ipc.slots import SlotArena, SlotPool


def _create_and_die(name: str) -> None:
    shm = create_segment(name, 4096)
    shm.close()
    os._exit(0)  # no unlink: the segment is stale now


def test_segments_are_private_and_named_by_owner() -> None:
    prefix = instance_prefix()
    assert prefix.startswith(f"{NAME_PREFIX}{os.getpid()}_")
    shm = create_segment(f"{prefix}_t", 4096)
    try:
        mode = os.stat(f"/dev/shm/{shm.name}").st_mode
        assert stat.S_IMODE(mode) == 0o600
        assert shm.name in engine_segments()
        assert shm.name not in reclaim_stale_segments()  # we are alive: not stale
    finally:
        shm.close()
        shm.unlink()


def test_stale_segments_of_a_dead_owner_are_reclaimed() -> None:
    ctx = get_context("fork")
    probe = ctx.Process(target=os._exit, args=(0,))
    probe.start()
    probe.join()
    dead_pid = probe.pid
    name = f"{NAME_PREFIX}{dead_pid}_deadbeef_ctl"
    child = ctx.Process(target=_create_and_die, args=(name,))
    child.start()
    child.join()
    try:
        assert name in engine_segments()
        assert name in reclaim_stale_segments()
        assert name not in engine_segments()
    finally:
        if os.path.exists(f"/dev/shm/{name}"):
            os.unlink(f"/dev/shm/{name}")


def test_slot_views_are_zero_copy() -> None:
    shm = shared_memory.SharedMemory(create=True, size=4 * 4096)
    assert shm.buf is not None
    arena = SlotArena(shm.buf, 4, 4096)
    try:
        arena.slot(2)[:5] = np.frombuffer(b"hello", dtype=np.uint8)
        assert bytes(arena.memoryview(2)[:5]) == b"hello"
        assert bytes(shm.buf[2 * 4096 : 2 * 4096 + 5]) == b"hello"
        assert arena.slot(2).base is not None  # a view, not a copy
    finally:
        arena.release()
        shm.close()
        shm.unlink()


def test_slot_pool_leases_each_slot_once() -> None:
    pool = SlotPool(3)
    leased = {pool.lease() for _ in range(3)}
    assert leased == {0, 1, 2}
    with pytest.raises(NoFreeSlot):
        pool.lease()
    pool.release(1)
    assert pool.lease() == 1


def test_doorbell_counts_and_times_out() -> None:
    bell = Doorbell()
    try:
        assert bell.wait(0.01) is False
        bell.ring()
        bell.ring()
        assert bell.wait(1.0) is True
        assert bell.clear() == 0
    finally:
        bell.close()
        bell.close()  # idempotent
