"""One mutating operation per pool at a time.

Everything runs on the frontend's event loop, so the table needs no thread lock: ``acquire`` checks
and records in one step with no ``await`` between. A long operation (scrub, device removal, replace)
keeps its lease until it ends; short ones hold it for the duration of the call.

One exception, on purpose: a scrub only reads and repairs in place, so short volume operations
(create or delete a volume or snapshot) may run during it; otherwise a scrub of a large pool would
stop scheduled snapshots for hours.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engine.errors import Conflict

if TYPE_CHECKING:
    from collections.abc import Iterator

_ids = itertools.count(1)


@dataclass
class Lease:
    pool: str
    operation: str
    volume_op: bool = False  # a short volume/snapshot operation
    allows_volume_ops: bool = False  # this (long) operation lets short volume operations run beside it
    started_unix: float = field(default_factory=time.time)
    id: int = field(default_factory=lambda: next(_ids))
    released: bool = False

    def as_dict(self) -> dict[str, object]:
        return {"pool": self.pool, "operation": self.operation, "started_unix": self.started_unix}


class PoolLocks:
    def __init__(self) -> None:
        self._held: dict[str, list[Lease]] = {}

    def acquire(self, pool: str, operation: str, *, volume_op: bool = False, allows_volume_ops: bool = False) -> Lease:
        """A lease on ``pool`` for ``operation``, or Conflict naming the operation already running."""
        lease = Lease(pool, operation, volume_op, allows_volume_ops)
        for held in self._held.get(pool, []):
            if not (lease.volume_op and held.allows_volume_ops) and not (held.volume_op and lease.allows_volume_ops):
                age = time.time() - held.started_unix
                raise Conflict(
                    f"pool {pool!r} is busy: {held.operation} is running (for {age:.0f} s); "
                    f"{operation} can start when it ends",
                    code="pool_busy",
                    metadata={"pool": pool, "running_operation": held.operation},
                )
        self._held.setdefault(pool, []).append(lease)
        return lease

    def release(self, lease: Lease) -> None:
        """Idempotent: a lease released twice (end seen by both progress and cancel) is fine."""
        if lease.released:
            return
        lease.released = True
        held = self._held.get(lease.pool, [])
        self._held[lease.pool] = [h for h in held if h.id != lease.id]
        if not self._held[lease.pool]:
            del self._held[lease.pool]

    @contextlib.contextmanager
    def hold(self, pool: str, operation: str, *, volume_op: bool = False) -> Iterator[Lease]:
        lease = self.acquire(pool, operation, volume_op=volume_op)
        try:
            yield lease
        finally:
            self.release(lease)

    def running(self, pool: str | None = None) -> list[dict[str, object]]:
        pools = [pool] if pool is not None else sorted(self._held)
        return [lease.as_dict() for p in pools for lease in self._held.get(p, [])]
