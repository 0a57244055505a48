"""parity: XOR of k equal blocks (RAID-5 style), accumulated in the output slot's first block
(in place over block 0 when output and input share the slot)."""

from __future__ import annotations

import numpy as np

from engine.core.agents.base import TaskError
from engine.core.codes import Status


def xor_parity(slot: memoryview, length: int, param: int, dst: memoryview) -> int:
    k = param
    if k < 2 or length == 0 or length % k:
        raise TaskError(Status.BAD_PARAMS, f"{length} bytes do not split into {k} equal blocks")
    block = length // k
    # widest lanes numpy can use for this block size; same bytes either way
    dtype = np.uint64 if block % 8 == 0 else np.uint8
    blocks = np.frombuffer(slot, dtype=dtype, count=length // dtype().itemsize).reshape(k, -1)
    if dst is slot:
        acc = blocks[0]
    else:
        acc = np.frombuffer(dst, dtype=dtype, count=blocks.shape[1])
        acc[:] = blocks[0]
    for i in range(1, k):
        np.bitwise_xor(acc, blocks[i], out=acc)
    del acc, blocks
    return block
