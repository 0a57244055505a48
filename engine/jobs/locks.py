"""The lock table: one holder per key ("pool:tank", "dest:/srv/x") unless the holders say they may share.

The JobManager owns one table (``JobManager.locks``) for every job and every short operation: a job
submitted with ``lock=`` holds its key for its life, a short call holds it for the duration of a
``with locks.hold(...)``, a long storage operation from the moment it is validated to its end. A
second holder is refused at once (Conflict), never queued.

Sharing is a property of the holds, not a second table: a hold is in a ``group`` and ``allows``
some groups beside it. A scrub only reads and repairs in place, so it allows the "volume" group
(create or delete a volume or snapshot): a scrub of a large pool must not stop scheduled snapshots
for hours. Two holds may share a key when either one allows the other's group.

Everything runs on the frontend's event loop, so the table needs no thread lock: ``acquire`` checks
and records in one step with no ``await`` between.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from engine.errors import Conflict

if TYPE_CHECKING:
    from collections.abc import Iterator

VOLUME = "volume"  # the group of short volume and snapshot operations, which a scrub lets through
VOLUME_OPS = frozenset({VOLUME})  # what a scrub allows beside it
NONE: frozenset[str] = frozenset()

_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Hold:
    """One holder of a key; ``job_id`` is "" for a short call (or a long operation not yet a job)."""

    key: str
    operation: str
    group: str = ""
    allows: frozenset[str] = NONE
    job_id: str = ""
    started_unix: float = field(default_factory=time.time)
    id: int = field(default_factory=lambda: next(_ids))

    def shares_with(self, other: Hold) -> bool:
        return (bool(self.group) and self.group in other.allows) or (bool(other.group) and other.group in self.allows)


class LockTable:
    def __init__(self) -> None:
        self._held: dict[str, dict[int, Hold]] = {}

    def blocker(self, key: str, group: str = "", allows: frozenset[str] = NONE) -> Hold | None:
        """The hold that keeps a new ``group``/``allows`` holder off ``key``, None if it may take it."""
        wanted = Hold(key, "", group, allows, id=0)
        return next((h for h in self._held.get(key, {}).values() if not wanted.shares_with(h)), None)

    def acquire(
        self, key: str, operation: str, *, group: str = "", allows: frozenset[str] = NONE, job_id: str = ""
    ) -> Hold:
        """A hold on ``key`` for ``operation``, or Conflict naming the operation already running."""
        held = self.blocker(key, group, allows)
        if held is not None:
            raise busy(held, operation)
        hold = Hold(key, operation, group, allows, job_id)
        self._held.setdefault(key, {})[hold.id] = hold
        return hold

    def adopt(self, hold: Hold, job_id: str) -> Hold:
        """``hold`` is now held by job ``job_id`` (listed with it); the same hold, still released by id."""
        holds = self._held.get(hold.key, {})
        if hold.id in holds:
            hold = holds[hold.id] = replace(hold, job_id=job_id)
        return hold

    def release(self, hold: Hold) -> None:
        """Idempotent: a hold released twice (its end seen by both the operation and its job) is fine."""
        holds = self._held.get(hold.key)
        if holds is not None and holds.pop(hold.id, None) is not None and not holds:
            del self._held[hold.key]

    @contextlib.contextmanager
    def hold(self, key: str, operation: str, *, group: str = "", allows: frozenset[str] = NONE) -> Iterator[Hold]:
        """Hold ``key`` for the duration of a short call. A plain (not async) context manager on
        purpose: taking a key never waits, it is held or refused at once."""
        taken = self.acquire(key, operation, group=group, allows=allows)
        try:
            yield taken
        finally:
            self.release(taken)

    def running(self, key: str | None = None) -> list[Hold]:
        """The holds on ``key`` (every key when None), oldest first."""
        keys = [key] if key is not None else sorted(self._held)
        return [h for k in keys for h in self._held.get(k, {}).values()]


def pool_key(pool: str) -> str:
    return f"pool:{pool}"


def busy(held: Hold, operation: str) -> Conflict:
    """The Conflict a refused holder sees: for a pool, ``pool_busy`` naming the running operation."""
    age = time.time() - held.started_unix
    kind, _, name = held.key.partition(":")
    what = f"pool {name!r}" if kind == "pool" else repr(held.key)
    if kind == "pool":
        code, metadata = "pool_busy", {"pool": name, "running_operation": held.operation}
    else:
        code, metadata = "busy_target", {"key": held.key, "job_id": held.job_id}
    return Conflict(
        f"{what} is busy: {held.operation} is running (for {age:.0f} s); {operation} can start when it ends",
        code=code,
        metadata=metadata,
    )
