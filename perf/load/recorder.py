"""Recorder: one generator process's counts and histograms, per operation and per time interval.

Latencies of successful requests go into HdrHistograms (never lists); failures are counted by code.
In an open loop each request is recorded twice: ``latency`` from its intended send time (so a server
that falls behind cannot hide it: coordinated omission) and ``service`` from when it was actually sent.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from perf.load import histogram
from perf.load.scenarios.base import Outcome

if TYPE_CHECKING:
    from hdrh.histogram import HdrHistogram


@dataclass
class OpStats:
    kind: str  # "request" or "event"
    latency: HdrHistogram = field(default_factory=histogram.new)
    service: HdrHistogram = field(default_factory=histogram.new)
    ok: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    nbytes: int = 0

    def as_message(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "ok": self.ok,
            "errors": dict(self.errors),
            "bytes": self.nbytes,
            "latency": histogram.encode(self.latency),
            "service": histogram.encode(self.service),
        }


class Recorder:
    def __init__(self, primary: str) -> None:
        self.primary = primary  # the kind the headline and the timeline count
        self.ops: dict[str, OpStats] = {}
        self.lag = histogram.new()  # open loop: how late the dispatcher sent, behind the schedule
        self.first_s = self.last_s = 0.0  # first and last completion, seconds after the start
        self._interval = histogram.new()
        self._interval_counts = [0, 0, 0]  # ok, errors, bytes

    def _stats(self, name: str, kind: str) -> OpStats:
        stats = self.ops.get(name)
        if stats is None:
            stats = self.ops[name] = OpStats(kind)
        return stats

    def _count(self, stats: OpStats, latency_s: float, outcome: Outcome, when_s: float) -> None:
        if not self.first_s:
            self.first_s = when_s
        self.last_s = max(self.last_s, when_s)
        counts = self._interval_counts
        primary = stats.kind == self.primary
        if outcome.ok:
            stats.ok += 1
            stats.nbytes += outcome.nbytes
            histogram.record_s(stats.latency, latency_s)
            if primary:
                counts[0] += 1
                counts[2] += outcome.nbytes
                histogram.record_s(self._interval, latency_s)
        else:
            stats.errors[outcome.code] += 1
            if primary:
                counts[1] += 1

    def request(self, op: str, intended: float, sent: float, done: float, outcome: Outcome, t0: float) -> None:
        stats = self._stats(op, "request")
        if outcome.ok:
            histogram.record_s(stats.service, done - sent)
        self._count(stats, done - intended, outcome, done - t0)

    def event(self, op: str, delay_s: float, nbytes: int, code: str, when_s: float) -> None:
        self._count(self._stats(op, "event"), delay_s, Outcome(code, nbytes), when_s)

    def unfinished(self, op: str, count: int, code: str) -> None:
        """Requests never answered within the run (still running, or never sent): errors, never latencies."""
        if count:
            self._stats(op, "request").errors[code] += count
            if self.primary == "request":
                self._interval_counts[1] += count

    def take_interval(self) -> dict[str, Any]:
        ok, errors, nbytes = self._interval_counts
        out = {"ok": ok, "errors": errors, "bytes": nbytes, "latency": histogram.encode(self._interval)}
        self._interval.reset()
        self._interval_counts = [0, 0, 0]
        return out

    def as_message(self) -> dict[str, Any]:
        return {
            "ops": {name: stats.as_message() for name, stats in self.ops.items()},
            "lag": histogram.encode(self.lag),
            "first_s": self.first_s,
            "last_s": self.last_s,
        }
