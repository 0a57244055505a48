"""What the tools (``engined top``, ``inspect``, ``profile``) read of a running engine, never asking it:
which engine to look at, one reading of its tables and rings, and rates between two readings.

Everything comes from the control segment mapped read-only (engine/core/attach.py): no request to the
engine's ports, no message to its processes.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.core.attach import AttachedEngine, control_segments, running_engines
from ipc.errors import LayoutMismatch
from ipc.segment import segment_owner

if TYPE_CHECKING:
    from ipc.ring import RingState


class NoEngine(Exception):
    """No running engine matches what was asked for; the message says what was looked at."""


@dataclass
class Reading:
    """One reading of an engine's tables and rings, at ``taken_ns`` (CLOCK_MONOTONIC, which every
    process of the box shares, so heartbeats and refresh times compare with it directly)."""

    name: str
    owner_pid: int
    taken_ns: int
    header: dict[str, Any]
    client: dict[str, int]
    workers: list[dict[str, Any]]
    agents: list[dict[str, Any]]
    rings: list[tuple[RingState, RingState]]

    def pids(self) -> set[int]:
        return {self.owner_pid, self.client["pid"], *(w["pid"] for w in self.workers)} - {0}


def take(engine: AttachedEngine) -> Reading:
    table = engine.table
    assert table is not None
    agents = table.agent_rows()
    for index, row in enumerate(agents):
        row["id"] = index
    return Reading(
        engine.name,
        engine.owner_pid or 0,
        time.monotonic_ns(),
        dict(engine.header),
        table.client_row(),
        table.worker_rows(),
        agents,
        engine.ring_states(),
    )


def read_engine(name: str) -> Reading:
    with AttachedEngine(name) as engine:
        return take(engine)


def _normalise(segment: str) -> str:
    name = os.path.basename(segment)
    return name if name.endswith("_ctl") else f"{name.removesuffix('_arena')}_ctl"


def _pids_of(name: str) -> set[int]:
    try:
        return read_engine(name).pids()
    except (OSError, LayoutMismatch):
        return set()


def choose_engine(pid: int | None = None, segment: str | None = None) -> tuple[str, str]:
    """(control segment name, a line saying which engine this is among those running).

    ``segment``: a segment name (``sigmavault_<pid>_<token>``, with or without ``_ctl``); ``pid``: the
    owner's (``engined serve``'s supervisor) or any worker's or the frontend's pid. Neither: the newest
    running engine. Raises NoEngine saying what is running."""
    running = running_engines()
    if segment is not None:
        name = _normalise(segment)
        if name not in control_segments():
            raise NoEngine(f"no engine segment {name} in /dev/shm" + _listing(running))
        if name not in running:
            raise NoEngine(f"engine segment {name} is stale: its owner pid {segment_owner(name)} is gone")
        return _readable(name), _note(name, running)
    if pid is not None:
        matches = [n for n in running if segment_owner(n) == pid] or [n for n in running if pid in _pids_of(n)]
        if not matches:
            raise NoEngine(f"no running engine has a process with pid {pid}" + _listing(running))
        return _readable(matches[0]), _note(matches[0], running)
    if not running:
        raise NoEngine(
            "no engine is running: no live sigmavault_*_ctl segment in /dev/shm (start one with `engined serve`)"
        )
    created = {name: _created_ns(name) for name in running}
    readable = [name for name in running if isinstance(created[name], int)]
    if not readable:
        raise NoEngine("no running engine this version can read: " + "; ".join(f"{n}: {created[n]}" for n in running))
    name = max(readable, key=lambda n: created[n])
    return name, _note(name, running)


def _created_ns(name: str) -> int | str:
    """When the engine was created, or why it cannot be read (another layout version, gone)."""
    try:
        with AttachedEngine(name) as engine:
            return int(engine.header["created_ns"])
    except LayoutMismatch as exc:
        return f"written by another engined version ({exc})"
    except OSError as exc:
        return f"unreadable ({exc.strerror})"


def _readable(name: str) -> str:
    why = _created_ns(name)
    if isinstance(why, str):
        raise NoEngine(f"engine {name} is {why}")
    return name


def _listing(running: list[str]) -> str:
    if not running:
        return "; no engine is running"
    return "; running: " + ", ".join(f"{n} (pid {segment_owner(n)})" for n in running)


def _note(name: str, running: list[str]) -> str:
    if len(running) <= 1:
        return f"{name} (owner pid {segment_owner(name)})"
    others = ", ".join(str(segment_owner(n)) for n in running if n != name)
    return (
        f"{name} (owner pid {segment_owner(name)}), one of {len(running)} running engines "
        f"(others: pid {others}; choose with --pid or --segment)"
    )


@dataclass
class Rates:
    """Per second between two readings (all zero for the first reading)."""

    seconds: float
    agents: list[dict[str, float]] = field(default_factory=list)
    workers: list[dict[str, float]] = field(default_factory=list)
    admitted_per_s: float = 0.0

    def total(self, key: str) -> float:
        return sum(a[key] for a in self.agents)


def _delta(cur: dict[str, Any], prev: dict[str, Any] | None, key: str) -> int:
    return max(0, cur[key] - prev[key]) if prev is not None else 0


def rates(prev: Reading | None, cur: Reading) -> Rates:
    """Rates from the difference of two readings of the same engine (counters never go back; a
    restarted worker keeps its rows, so a difference is never negative)."""
    seconds = (cur.taken_ns - prev.taken_ns) / 1e9 if prev is not None else 0.0
    per = 1 / seconds if seconds > 0 else 0.0
    out = Rates(seconds)
    for i, agent in enumerate(cur.agents):
        before = prev.agents[i] if prev is not None else None
        tasks = _delta(agent, before, "tasks")
        latency_sum = _delta(agent, before, "latency_ns_sum")
        out.agents.append(
            {
                "tasks_per_s": tasks * per,
                "in_mb_per_s": _delta(agent, before, "bytes_in") * per / 1e6,
                "out_mb_per_s": _delta(agent, before, "bytes_out") * per / 1e6,
                "errors_per_s": _delta(agent, before, "errors") * per,
                # mean over the interval when it ran tasks, else the engine's mean since start
                "latency_ns": latency_sum / tasks if tasks else float(agent["latency_ns_mean"]),
            }
        )
    for i, worker in enumerate(cur.workers):
        before = prev.workers[i] if prev is not None else None
        out.workers.append(
            {
                "tasks_per_s": _delta(worker, before, "tasks") * per,
                "errors_per_s": _delta(worker, before, "errors") * per,
                "busy_percent": min(100.0, _delta(worker, before, "busy_ns") * per / 1e7),
            }
        )
    out.admitted_per_s = _delta(cur.client, prev.client if prev else None, "admitted") * per
    return out


def client_is_live(reading: Reading, within_s: float = 2.0) -> bool:
    """The client refreshes its row every 100 ms; a row older than ``within_s`` has no live client
    (an embedded engine whose caller does not refresh, or a frontend that is restarting)."""
    client = reading.client
    return bool(client["pid"]) and reading.taken_ns - client["updated_ns"] < within_s * 1e9
