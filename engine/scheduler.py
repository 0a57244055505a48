"""TaskScheduler: which agent runs a task, and whether the task may start now.

- Routing: a named agent, or the least-loaded capable agent: the capable worker with the fewest
  tasks in flight, then its capable agents in turn. A worker runs one task at a time in arrival
  order, so which of its agents takes a task changes nothing for latency; rotating keeps the
  agents' counts even at ~0.2 us instead of a scan of every agent per task.
- Admission: at most ``max_workers`` tasks in flight; a token bucket of ``rate_limit`` tasks/s;
  tasks that must wait queue up to ``queue_limit`` deep, and beyond that the answer is EngineBusy
  instead of an ever-growing queue.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Sequence

from engine.agents.registry import AgentSpec
from engine.errors import EngineBusy, NotCapable, UnknownAgent, WorkerUnavailable
from engine.status import Kind


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
        self.inflight = 0
        self.agent_load = [0] * len(self.agents)
        n_workers = 1 + max((a.worker for a in self.agents), default=0)
        self.worker_load = [0] * n_workers
        # capable agents per (kind, worker), built once
        self._capable: dict[int, list[tuple[int, list[int]]]] = {}
        for kind in Kind:
            per_worker: dict[int, list[int]] = {}
            for a in self.agents:
                if kind in a.capabilities:
                    per_worker.setdefault(a.worker, []).append(a.id)
            self._capable[kind] = sorted(per_worker.items())
        self._turn: dict[tuple[int, int], int] = {}
        self._rotation = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self.rejected = 0

    # routing ---------------------------------------------------------------------------------
    def pick(self, kind: Kind, agent: int | None = None, *, spread: bool = True,
             avoid: frozenset[int] = frozenset()) -> int:  # fmt: skip
        """The agent for a task. ``spread=False`` (a lone caller) keeps ties on the first worker,
        which stays hot and spinning; ``spread=True`` rotates ties over the workers. Workers in
        ``avoid`` (restarting) are skipped."""
        if agent is not None:
            if not 0 <= agent < len(self.agents):
                raise UnknownAgent(f"no agent {agent}; agents are 0-{len(self.agents) - 1}")
            if kind not in self.agents[agent].capabilities:
                spec = self.agents[agent]
                raise NotCapable(f"agent {agent} ({spec.name}, role {spec.role}) cannot {kind.label}")
            return agent
        options = self._capable[kind]
        if not options:
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

    def started(self, agent: int) -> None:
        self.agent_load[agent] += 1
        self.worker_load[self.agents[agent].worker] += 1

    def finished(self, agent: int) -> None:
        self.agent_load[agent] -= 1
        self.worker_load[self.agents[agent].worker] -= 1

    # admission -------------------------------------------------------------------------------
    def _can_start(self) -> bool:
        return self.inflight < self.max_workers and (self.bucket is None or self.bucket.try_take())

    async def admit(self) -> None:
        """Wait for a place in flight (and a token); raise EngineBusy when the queue is full."""
        if not self._waiters and self._can_start():
            self.inflight += 1
            return
        if len(self._waiters) >= self.queue_limit:
            self.rejected += 1
            raise EngineBusy(f"engine busy: {self.inflight} tasks in flight and {len(self._waiters)} queued")
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self._schedule_wakeup()
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # we were admitted at the moment we were cancelled: give it back
            else:
                self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        self.inflight -= 1
        self._wake_waiters()

    def _wake_waiters(self) -> None:
        while self._waiters and self._can_start():
            self.inflight += 1
            self._waiters.popleft().set_result(None)
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
