"""TaskScheduler: which agent runs a task, and whether the task may start now.

It is the one owner of admission: ``try_admit()`` (a place now, or False), ``admit()`` (wait in a
bounded queue, or EngineBusy) and ``release()``. Nothing else reads its queue or changes ``inflight``.

- Routing: a named agent, or the least-loaded capable agent in service: the capable worker with the
  fewest tasks in flight, then its capable agents in turn. A worker runs one task at a time in
  arrival order, so which of its agents takes a task changes nothing for latency; rotating keeps
  the agents' counts even at ~0.2 us instead of a scan of every agent per task.
- Admission: at most ``max_workers`` tasks in flight; a token bucket of ``rate_limit`` tasks/s;
  tasks that must wait queue up to ``queue_limit`` deep, and beyond that the answer is EngineBusy
  (with a retry hint) instead of an ever-growing queue.
- Drain: an agent taken out of service gets no new task; what it runs finishes.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter, deque
from typing import TYPE_CHECKING

from engine.core.codes import Kind
from engine.errors import EngineBusy, NotCapable, UnknownAgent, WorkerUnavailable

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from engine.core.agents.registry import AgentSpec


class TokenBucket:
    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = max(1.0, burst)
        self.tokens = self.burst
        self._clock = clock
        self._stamp = clock()

    def _refill(self) -> None:
        now = self._clock()
        self.tokens = min(self.burst, self.tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def try_take(self) -> bool:
        self._refill()
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def seconds_until_token(self) -> float:
        self._refill()
        return max(0.0, (1.0 - self.tokens) / self.rate)


class TaskScheduler:
    def __init__(
        self,
        agents: Sequence[AgentSpec],
        *,
        max_workers: int,
        rate_limit: float | None = None,
        queue_limit: int = 1024,
        burst: float | None = None,
    ) -> None:
        if max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, got {max_workers}")
        if queue_limit < 0:
            raise ValueError(f"queue_limit must be >= 0, got {queue_limit}")
        self.agents = tuple(agents)
        self.max_workers = max_workers
        self.queue_limit = queue_limit
        self.bucket = TokenBucket(rate_limit, burst if burst is not None else rate_limit) if rate_limit else None
        self.inflight = 0  # read freely; changed only by this class
        self.admitted = 0
        self.rejected: Counter[str] = Counter()  # by reason: queue_full, no_slot
        self.agent_load = [0] * len(self.agents)
        n_workers = 1 + max((a.worker for a in self.agents), default=0)
        self.worker_load = [0] * n_workers
        self.drained: set[int] = set()
        self._capable: dict[int, list[tuple[int, list[int]]]] = {}
        self._build_routes()
        self._turn: dict[tuple[int, int], int] = {}
        self._rotation = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._timer: asyncio.TimerHandle | None = None

    def _build_routes(self) -> None:
        """Capable agents in service per (kind, worker), rebuilt only when the drained set changes."""
        for kind in Kind:
            per_worker: dict[int, list[int]] = {}
            for a in self.agents:
                if kind in a.capabilities and a.id not in self.drained:
                    per_worker.setdefault(a.worker, []).append(a.id)
            self._capable[kind] = sorted(per_worker.items())

    # routing ---------------------------------------------------------------------------------
    def pick(
        self, kind: Kind, agent: int | None = None, *, spread: bool = True, avoid: frozenset[int] = frozenset()
    ) -> int:
        """The agent for a task. ``spread=False`` (a lone caller) keeps ties on the first worker,
        which stays hot and spinning; ``spread=True`` rotates ties over the workers. Workers in
        ``avoid`` (restarting) are skipped."""
        if agent is not None:
            return self._check_named(kind, agent)
        options = self._capable[kind]
        if not options:
            if any(kind in a.capabilities for a in self.agents):
                raise WorkerUnavailable(
                    f"every agent able to {kind.label} is drained (out of service)", code="agents_drained"
                )
            raise NotCapable(f"no agent can {kind.label}")
        if avoid:
            options = [o for o in options if o[0] not in avoid]
            if not options:
                raise WorkerUnavailable(f"every worker able to {kind.label} is restarting; retry shortly")
        load = self.worker_load
        # scan from a rotating start so that ties (the common case) spread over the workers
        if spread:
            self._rotation = (self._rotation + 1) % len(options)
            worker, ids = options[self._rotation]
        else:
            worker, ids = options[0]
        for candidate in options:
            if load[candidate[0]] < load[worker]:
                worker, ids = candidate
        turn = self._turn.get((kind, worker), 0)
        self._turn[kind, worker] = turn + 1
        return ids[turn % len(ids)]

    def _check_named(self, kind: Kind, agent: int) -> int:
        if not 0 <= agent < len(self.agents):
            raise UnknownAgent(
                f"no agent {agent}; agents are 0-{len(self.agents) - 1}", metadata={"agents": len(self.agents)}
            )
        spec = self.agents[agent]
        if kind not in spec.capabilities:
            able = sorted(k.label for k in spec.capabilities)
            raise NotCapable(
                f"agent {agent} ({spec.name}, role {spec.role}) cannot {kind.label}; it can "
                f"{', '.join(able)} (omit the agent to use any capable one)"
            )
        if agent in self.drained:
            raise WorkerUnavailable(f"agent {agent} ({spec.name}) is drained (out of service)", code="agent_drained")
        return agent

    def started(self, agent: int) -> None:
        self.agent_load[agent] += 1
        self.worker_load[self.agents[agent].worker] += 1

    def finished(self, agent: int) -> None:
        self.agent_load[agent] -= 1
        self.worker_load[self.agents[agent].worker] -= 1

    def set_drained(self, agent: int, drained: bool) -> None:
        """Take an agent out of service (no new tasks; what it runs finishes) or back into it."""
        if not 0 <= agent < len(self.agents):
            raise UnknownAgent(f"no agent {agent}; agents are 0-{len(self.agents) - 1}")
        if drained:
            self.drained.add(agent)
        else:
            self.drained.discard(agent)
        self._build_routes()

    # admission -------------------------------------------------------------------------------
    def try_admit(self) -> bool:
        """Take a place in flight now if one is free and nobody is queued ahead; never waits."""
        if not self._waiters and self.inflight < self.max_workers and (self.bucket is None or self.bucket.try_take()):
            self.inflight += 1
            self.admitted += 1
            return True
        return False

    async def admit(self) -> None:
        """Take a place in flight, waiting in the bounded queue; EngineBusy when the queue is full."""
        if self.try_admit():
            return
        if len(self._waiters) >= self.queue_limit:
            self.rejected["queue_full"] += 1
            raise EngineBusy(
                f"engine busy: {self.inflight} tasks in flight (limit {self.max_workers}) and "
                f"{len(self._waiters)} queued (limit {self.queue_limit}); retry in {self.retry_after_s()} s",
                code="busy",
                metadata={
                    "inflight": self.inflight,
                    "max_inflight": self.max_workers,
                    "queued": len(self._waiters),
                    "queue_limit": self.queue_limit,
                    "retry_after_s": self.retry_after_s(),
                },
            )
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self._schedule_wakeup()
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # we were admitted at the moment we were cancelled: give it back
            elif waiter in self._waiters:  # (a waker may already have dropped it)
                self._waiters.remove(waiter)
            raise
        self.admitted += 1

    def release(self) -> None:
        """Give back a place taken by try_admit() or admit()."""
        self.inflight -= 1
        if self._waiters:
            self._wake_waiters()

    def reject(self, reason: str) -> None:
        """Count a task refused after admission for want of another resource (e.g. ``no_slot``)."""
        self.rejected[reason] += 1

    def retry_after_s(self) -> int:
        """A whole-second hint for a refused caller: the queue's drain time at the rate limit, else 1."""
        if self.bucket is not None:
            return max(1, math.ceil((len(self._waiters) + 1) / self.bucket.rate))
        return 1

    def _wake_waiters(self) -> None:
        waiters = self._waiters
        while waiters and self.inflight < self.max_workers:
            if waiters[0].done():  # cancelled: its admit() is unwinding and will not take the place
                waiters.popleft()
                continue
            if self.bucket is not None and not self.bucket.try_take():
                break
            self.inflight += 1
            waiters.popleft().set_result(None)
        self._schedule_wakeup()

    def _schedule_wakeup(self) -> None:
        """When only the rate limit holds waiters back, come back when the next token is due."""
        if not self._waiters or self.bucket is None or self.inflight >= self.max_workers:
            return
        if self._timer is None:
            delay = self.bucket.seconds_until_token()
            self._timer = asyncio.get_running_loop().call_later(delay, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._wake_waiters()

    @property
    def queued(self) -> int:
        return len(self._waiters)
