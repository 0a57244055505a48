"""``engined tune``: measure a few settings on this box with the engine's own benchmark (perf/engine.py)
and write a recommended ``.env`` that says what was measured and why each value was chosen.

Measured, each on an embedded engine of its own (blocks already in slots for MB/s, the asyncio
client for tasks and latency), within ``--seconds`` in all:

- workers 1 … usable CPUs (at most 5 counts): p1 MB/s (1 MiB lz4 blocks) and tasks/s (64-byte echo,
  64 in flight). Chosen: the fewest workers within 5 % of the best p1, since every worker not needed
  leaves a core to the frontend, which serves every request alone.
- spin 0 / 50 / 200 µs at that worker count: echo p50 back-to-back and tasks/s. Chosen: the lowest
  p50 among those within 5 % of the best tasks/s.
- slot size 256 KiB / 1 MiB: p1 MB/s with blocks of the slot's size. Chosen: the better of those not
  below ``--min-slot-kib`` (default 1024: a slot caps the largest task a caller may send).
- pinning off / on: p1 MB/s. Chosen: on when it gains over 3 %.

Slot count and ring depth follow from the workers (docs/DEPLOYMENT.md, "Tuning the data plane");
NUMA from /sys. Nothing is measured on a running engine: it may run beside one, but both share the CPUs.
"""

from __future__ import annotations

import functools
import os
import platform
import socket
import tempfile
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import uvloop

from engine.config import EngineConfig
from engine.core.embedded import Engine
from engine.host.numa import read_topology
from perf.engine import MIB, engine_rate, make_blocks, timed_echo_latencies, timed_echo_rate
from perf.report import percentile

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

START_COST_S = 0.8  # starting and stopping an embedded engine here, taken out of each slice
SPINS_US = (0, 50, 200)
SLOT_SIZES = (256 * 1024, MIB)


@dataclass
class Tuning:
    seconds: float
    cpus: int
    runs: int  # embedded engines still to start
    lines: list[str] = field(default_factory=list)  # what was measured, for the report and the .env
    chosen: dict[str, tuple[str, str]] = field(default_factory=dict)  # variable -> (value, why)
    started: float = field(default_factory=time.monotonic)
    start_cost_s: float = START_COST_S  # measured after the first run: starting and stopping an engine

    def note(self, text: str, echo: Callable[[str], None]) -> None:
        self.lines.append(text)
        echo(text)

    def measure(self, data_dir: str, settings: dict[str, Any], body: Callable[[Engine, float], Any]) -> Any:
        """Start an engine with ``settings``, give ``body`` its share of the time left, stop it."""
        left = self.seconds - (time.monotonic() - self.started)
        share = max(0.3, left / max(1, self.runs) - self.start_cost_s)
        self.runs -= 1
        t0 = time.monotonic()
        with _engine(data_dir, **settings) as engine:
            t1 = time.monotonic()
            result = body(engine, share)
            t2 = time.monotonic()
        self.start_cost_s = (t1 - t0) + (time.monotonic() - t2)
        return result


def worker_counts(cpus: int, most: int = 5) -> list[int]:
    """1, the powers of two below the CPU count, and the count itself; at most ``most``, always 1 and all."""
    counts = sorted({1, cpus, *(1 << k for k in range(cpus.bit_length()) if 1 << k < cpus)})
    return counts if len(counts) <= most else [1, *counts[-(most - 1) :]]


def _engine(data_dir: str, **settings: Any) -> Engine:
    agents = max(40, settings.get("workers", 1))  # at least one agent per worker
    return Engine.start(EngineConfig.from_env(environ={}, env_file=None, data_dir=data_dir, agents=agents, **settings))


PARTS = 3  # each figure is the best of this many parts of its run: a burst of other load on the box
# lowers one part, not the figure


def _p1(engine: Engine, seconds: float, size: int = MIB) -> float:
    """MB/s of 1 MiB (or ``size``) lz4 blocks already in slots: perf/engine.py's p1 measurement."""
    blocks = make_blocks(4, size)
    return max(uvloop.run(engine_rate(engine, "lz4", blocks, seconds / PARTS)) for _ in range(PARTS))


def _slot_p1(engine: Engine, seconds: float, size: int) -> float:
    return _p1(engine, seconds, size)


def _tasks(engine: Engine, seconds: float) -> float:
    """64-byte echo tasks/s with 64 in flight (perf/engine.py's p3 rate)."""
    return max(uvloop.run(timed_echo_rate(engine, seconds / PARTS)) for _ in range(PARTS))


def _p50(engine: Engine, seconds: float) -> float:
    """Back-to-back 64-byte echo, median µs (perf/engine.py's p3 round trip)."""
    return min(
        percentile(uvloop.run(timed_echo_latencies(engine, seconds / PARTS, warmup=200)), 0.5) for _ in range(PARTS)
    )


def measure_workers(t: Tuning, data_dir: str, echo: Callable[[str], None]) -> int:
    results = {}
    for n in worker_counts(t.cpus):
        results[n] = t.measure(
            data_dir, {"workers": n}, lambda engine, share: (_p1(engine, share / 2), _tasks(engine, share / 2))
        )
        t.note(f"workers {n}: p1 lz4 {results[n][0]:,.0f} MB/s, {results[n][1]:,.0f} tasks/s", echo)
    best = max(mbs for mbs, _ in results.values())
    chosen = min(n for n, (mbs, _) in results.items() if mbs >= 0.95 * best)
    why = "; ".join(f"{n} → {mbs:,.0f} MB/s, {rate:,.0f} tasks/s" for n, (mbs, rate) in results.items())
    why += ". The fewest within 5 % of the best p1: a worker not needed leaves its core to the frontend"
    t.chosen["SIGMAVAULT_WORKERS"] = (str(chosen), f"p1 lz4 and tasks/s by workers: {why}")
    return chosen


def measure_spin(t: Tuning, data_dir: str, workers: int, echo: Callable[[str], None]) -> None:
    results = {}
    for spin in SPINS_US:
        settings = {"workers": workers, "spin_us": spin}
        results[spin] = t.measure(data_dir, settings, lambda e, share: (_p50(e, share / 2), _tasks(e, share / 2)))
        rate = results[spin][1]
        t.note(f"spin {spin} µs: echo p50 {results[spin][0]:.1f} µs, {rate:,.0f} tasks/s", echo)
    best_rate = max(rate for _, rate in results.values())
    chosen = min((s for s, (_, rate) in results.items() if rate >= 0.95 * best_rate), key=lambda s: results[s][0])
    why = "; ".join(f"{s} µs → p50 {p50:.1f} µs, {rate:,.0f} tasks/s" for s, (p50, rate) in results.items())
    t.chosen["SIGMAVAULT_SPIN_US"] = (
        str(chosen),
        f"echo p50 and tasks/s by spin: {why}. The lowest p50 within 5 % of the best tasks/s",
    )


def measure_slots(t: Tuning, data_dir: str, workers: int, min_slot: int, echo: Callable[[str], None]) -> None:
    results = {}
    for size in SLOT_SIZES:
        settings = {"workers": workers, "slot_bytes": size}
        results[size] = t.measure(data_dir, settings, functools.partial(_slot_p1, size=size))
        t.note(f"slot {size >> 10} KiB: p1 lz4 {results[size]:,.0f} MB/s (blocks of the slot's size)", echo)
    allowed = [s for s in results if s >= min_slot] or [max(results)]
    chosen = max(allowed, key=lambda s: results[s])
    why = "; ".join(f"{s >> 10} KiB → {mbs:,.0f} MB/s" for s, mbs in results.items())
    t.chosen["SIGMAVAULT_SLOT_BYTES"] = (
        str(chosen),
        f"p1 lz4 by slot size: {why}. The better of those of at least "
        f"{min_slot >> 10} KiB: a slot caps the largest task a caller may send "
        "(over it: 413), and the Go API sends 1 MiB blocks",
    )


def measure_pinning(t: Tuning, data_dir: str, workers: int, echo: Callable[[str], None]) -> None:
    results = {}
    for pin in (False, True):
        results[pin] = t.measure(data_dir, {"workers": workers, "pin_cpus": pin}, _p1)
        t.note(f"pinning {'on' if pin else 'off'}: p1 lz4 {results[pin]:,.0f} MB/s", echo)
    gain = results[True] / results[False] - 1 if results[False] else 0.0
    why = (
        f"p1 lz4 off {results[False]:,.0f}, on {results[True]:,.0f} MB/s ({gain:+.0%}); on only when it gains over 3 %"
    )
    t.chosen["SIGMAVAULT_PIN_CPUS"] = ("1" if gain > 0.03 else "0", why)


def derived(t: Tuning, workers: int) -> None:
    slots = max(128, 8 * workers)
    ring = 1 << (slots - 1).bit_length()
    t.chosen["SIGMAVAULT_SLOTS"] = (
        str(slots),
        "8 per worker, at least 128 (the default): room for every worker's "
        "running and queued tasks and for callers' concurrency",
    )
    t.chosen["SIGMAVAULT_RING_CAPACITY"] = (
        str(max(1024, ring)),
        "the next power of two at or above the slots (at least the default 1024): a ring that size never fills",
    )
    topology = read_topology()
    nodes = sum(1 for n in topology.nodes if n.cpus)
    t.chosen["SIGMAVAULT_NUMA"] = (
        "node" if topology.multi_node else "off",
        f"{nodes} NUMA node(s) with CPUs in /sys; node placement matters only with several",
    )


def tune(seconds: float, min_slot: int, echo: Callable[[str], None] = print) -> Tuning:
    cpus = len(os.sched_getaffinity(0))
    runs = len(worker_counts(cpus)) + len(SPINS_US) + len(SLOT_SIZES) + 2
    t = Tuning(seconds, cpus, runs)
    echo(f"engined tune: {cpus} usable CPUs, {runs} engine runs in about {seconds:g} s (--seconds)")
    with tempfile.TemporaryDirectory(prefix="engined-tune-") as data_dir:
        workers = measure_workers(t, data_dir, echo)
        measure_spin(t, data_dir, workers, echo)
        measure_slots(t, data_dir, workers, min_slot, echo)
        measure_pinning(t, data_dir, workers, echo)
    derived(t, workers)
    return t


def env_text(t: Tuning) -> str:
    took = time.monotonic() - t.started
    lines = [
        f"# engined tune on {socket.gethostname()}, {time.strftime('%Y-%m-%d %H:%M')}: {t.cpus} usable CPUs, "
        f"{platform.machine()}, Python {platform.python_version()}; measured in {took:.0f} s",
        "# with the engine's own benchmark (perf/engine.py) on embedded engines, each figure the best of",
        f"# {PARTS} parts of its run; other load on the box lowers them: tune on a quiet box. Measured:",
    ]
    lines += [f"#   {line}" for line in t.lines]
    for variable, (value, why) in t.chosen.items():
        lines += ["", f"# {why}", f"{variable}={value}"]
    return "\n".join(lines) + "\n"


def write_env(t: Tuning, path: Path) -> None:
    path.write_text(env_text(t))
