"""What a scenario is: operations the generator calls, and optional event subscribers it runs.

An operation's ``call()`` sends one request and returns an Outcome; it never raises for a failed
request (the failure is the outcome's ``code``: a gRPC status name, ``HTTP 503``, ``timeout``...).
A subscriber runs until told to stop and records each event it receives with its delay.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

OK = "OK"


class TargetError(Exception):
    """The target cannot run this scenario (unreachable, or the API is missing): one line, exit code 2."""


@dataclass(frozen=True)
class Outcome:
    code: str = OK  # "OK", or what went wrong
    nbytes: int = 0  # payload bytes this request moved (for MB/s)

    @property
    def ok(self) -> bool:
        return self.code == OK


# sink(op_name, delay_s, nbytes, code) for one received event (code OK) or a subscriber's failure
EventSink = Callable[[str, float, int, str], None]
# a subscriber: runs until the event is set, reporting each event to the sink
Listener = Callable[[EventSink, asyncio.Event], Awaitable[None]]


@dataclass
class Op:
    name: str
    weight: float
    call: Callable[[], Awaitable[Outcome]]


@dataclass
class Scenario:
    """Built per generator process by scenarios.build(); ``open`` connects and checks, ``close`` cleans up."""

    ops: list[Op] = field(default_factory=list)
    subscribers: list[Listener] = field(default_factory=list)
    opens: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    closes: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def open(self) -> None:
        for step in self.opens:
            await step()

    async def close(self) -> None:
        for step in reversed(self.closes):
            await step()

    def extend(self, other: Scenario, scale: float = 1.0) -> None:
        for op in other.ops:
            self.ops.append(Op(op.name, op.weight * scale, op.call))
        self.subscribers += other.subscribers
        self.opens += other.opens
        self.closes += other.closes

    @property
    def primary(self) -> str:
        """What the headline figures count: "request" when there are operations, else "event"."""
        return "request" if any(op.weight > 0 for op in self.ops) else "event"
