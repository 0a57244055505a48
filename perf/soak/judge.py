"""The soak's verdict from its samples and the load's timeline.

- Memory flat: per process, the median of its own resident memory (RssAnon) in the window after the
  warm-up against the median of the last window: growth at most ``rss_growth_percent``. (RSS is
  reported too; it also grows with the shared slot arena's pages as slots see first use.)
- Descriptors: no trend under load (the last window's most at most the first window's most, plus the
  swing the first window showed itself), and back to the count before the load (or fewer) once it is
  over: the exact check of a descriptor leak.
- /dev/shm: the engine's segments, their count and size, the same in every sample (their pages are
  written as slots are first used, up to that size, and never beyond).
- Latency: p99 of the last window within ``p99_slack_percent`` of the first window's after the warm-up.
- Every request answered OK, none hung.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from perf.chaos.report import PhaseReport

if TYPE_CHECKING:
    from perf.soak.sampler import Sample


@dataclass(frozen=True)
class Bounds:
    warmup_s: float
    window_s: float
    rss_growth_percent: float = 1.0
    p99_slack_percent: float = 20.0


def _window(samples: list[Sample], start: float, end: float) -> list[Sample]:
    return [s for s in samples if start <= s.t_s <= end]


def rss_figures(samples: list[Sample], bounds: Bounds) -> dict[str, dict[str, Any]]:
    """Per process: its own memory (RssAnon) and its RSS, at the start, after the warm-up, at the end.
    The verdict is on RssAnon: RSS also counts the shared slot arena's pages a process has touched,
    which grow (up to the arena's size, the same pages in every process) as more slots see first use."""
    end = samples[-1].t_s
    first = _window(samples, bounds.warmup_s, bounds.warmup_s + bounds.window_s)
    last = _window(samples, end - bounds.window_s, end)
    out = {}
    for name in sorted(samples[-1].anon):
        before = [s.anon[name] for s in first if name in s.anon]
        after = [s.anon[name] for s in last if name in s.anon]
        if not before or not after:
            continue
        base, now = statistics.median(before), statistics.median(after)
        rss_base = statistics.median(s.rss[name] for s in first if name in s.rss)
        rss_now = statistics.median(s.rss[name] for s in last if name in s.rss)
        out[name] = {
            "start_mib": _mib(samples[0].anon.get(name, 0)),
            "warm_mib": _mib(base),
            "end_mib": _mib(now),
            "growth_percent": round(100 * (now - base) / base, 2),
            "max_mib": _mib(max(s.anon.get(name, 0) for s in samples)),
            "rss_warm_mib": _mib(rss_base),
            "rss_end_mib": _mib(rss_now),
        }
    return out


def _mib(n: float) -> float:
    return round(n / 2**20, 1)


def fd_figures(samples: list[Sample], bounds: Bounds, idle_before: Sample, idle_after: Sample) -> dict[str, Any]:
    end = samples[-1].t_s
    first = _window(samples, bounds.warmup_s, bounds.warmup_s + bounds.window_s)
    last = _window(samples, end - bounds.window_s, end)
    out = {}
    for name in sorted(samples[-1].fds):
        seen = [s.fds.get(name, 0) for s in first]
        # the frontend's count follows the clients' connections (an open-loop client opens one more when
        # none is idle): the first window's own spread is its natural swing, at least 4
        out[name] = {
            "idle_before": idle_before.fds.get(name),
            "idle_after": idle_after.fds.get(name),
            "first_window_max": max(seen),
            "last_window_max": max(s.fds.get(name, 0) for s in last),
            "slack": max(4, max(seen) - min(seen)),
        }
    return out


def judge(
    samples: list[Sample], idle_before: Sample, idle_after: Sample, load: dict[str, Any], bounds: Bounds
) -> PhaseReport:
    report = PhaseReport("soak")
    rss = rss_figures(samples, bounds)
    fds = fd_figures(samples, bounds, idle_before, idle_after)
    timeline = [row for row in load["timeline"] if row["width_s"] >= 0.9 * bounds.window_s]
    # the first window after the warm-up: the first of the run measures the start (caches, first connections)
    warm = [row for row in timeline if row["t_s"] >= bounds.warmup_s - 1e-6]
    p99_first, p99_last = (warm[0]["p99_ms"], warm[-1]["p99_ms"]) if len(warm) >= 2 else (0.0, 0.0)
    restarted = sorted({n for s in samples for n, pid in s.pids.items() if pid != samples[0].pids.get(n, pid)})
    shm = {(s.shm_segments, s.shm_size_bytes) for s in samples}
    beyond = [s.t_s for s in samples if s.shm_bytes > s.shm_size_bytes]
    report.figures = {
        "rss": rss,
        "fds": fds,
        "shm": {
            "segments": samples[-1].shm_segments,
            "size_bytes": samples[-1].shm_size_bytes,
            "written_bytes": [s.shm_bytes for s in samples],
            "distinct_values": len(shm),
        },
        "p99_ms": {
            "first_window": p99_first,
            "last_window": p99_last,
            "per_window": [row["p99_ms"] for row in timeline],
        },
        "restarted": restarted,
        "samples": len(samples),
    }
    growth = {n: f["growth_percent"] for n, f in rss.items()}
    worst = max(growth.items(), key=lambda kv: kv[1]) if growth else ("-", 0.0)
    report.check(
        f"memory flat after warm-up (RssAnon growth <= {bounds.rss_growth_percent:g} %)",
        bool(growth) and worst[1] <= bounds.rss_growth_percent,
        ", ".join(f"{n} {f['warm_mib']}->{f['end_mib']} MiB ({f['growth_percent']:+.2f} %)" for n, f in rss.items()),
    )
    trend = {n: f for n, f in fds.items() if f["last_window_max"] > f["first_window_max"] + f["slack"]}
    report.check(
        "descriptors: no growth under load",
        not trend,
        ", ".join(f"{n} {f['first_window_max']}->{f['last_window_max']}" for n, f in fds.items()),
    )
    back = {n: f for n, f in fds.items() if (f["idle_after"] or 0) > (f["idle_before"] or 0)}
    report.check(
        "descriptors: back to idle after the load",
        not back,
        ", ".join(f"{n} {f['idle_before']}->{f['idle_after']}" for n, f in fds.items()),
    )
    last = samples[-1]
    same = f"{last.shm_segments} segments of {last.shm_size_bytes >> 20} MiB in all {len(samples)} samples"
    report.check(
        "/dev/shm constant",
        len(shm) == 1 and not beyond,
        f"{same} ({last.shm_bytes >> 20} MiB of it written)"
        if len(shm) == 1 and not beyond
        else f"changed: {sorted(shm)}, beyond: {beyond}",
    )
    limit = p99_first * (1 + bounds.p99_slack_percent / 100)
    report.check(
        f"p99 of the last window within {bounds.p99_slack_percent:g} % of the first after warm-up",
        p99_first > 0 and p99_last <= limit,
        f"first {p99_first:.2f} ms, last {p99_last:.2f} ms (limit {limit:.2f}); every window: "
        f"{', '.join(f'{v:.1f}' for v in report.figures['p99_ms']['per_window'])}",
    )
    report.check(
        "every request answered",
        load["errors"] == 0 and load["ok"] > 0,
        f"{load['ok']} OK, {load['errors']} failed ({load['errors_by_code']}) at {load['config']['rate']:g}/s",
    )
    report.check("no process restarted", not restarted, ", ".join(restarted) or "same pids throughout")
    return report
