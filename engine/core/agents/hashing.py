"""hash: blake2b (64-byte digest) or sha256 of the slot, digest written to the slot."""

from __future__ import annotations

import hashlib

from engine.core.agents.base import TaskError
from engine.core.codes import HashAlgo, Status


def hash_slot(slot: memoryview, length: int, param: int, dst: memoryview) -> int:
    src = slot[:length]
    if param == HashAlgo.BLAKE2B:
        digest = hashlib.blake2b(src).digest()
    elif param == HashAlgo.SHA256:
        digest = hashlib.sha256(src).digest()
    else:
        raise TaskError(Status.BAD_PARAMS, f"unknown hash algorithm {param}")
    del src
    dst[: len(digest)] = digest
    return len(digest)
