"""``python -m perf soak [--minutes 10] [--rate 150] [--warmup 120] [--window 60] [--json out.json]``

A long fixed-rate mixed load (perf/load's mixed scenario with file jobs, as perf chaos runs it, but
nothing killed) against a real ``engined serve`` on loopback, while every ``--every`` seconds the RSS
and open descriptors of each engine process and the engine's /dev/shm segments are sampled. Passes
when RSS is flat after the warm-up (growth <= 1 %), descriptors and /dev/shm stay constant, the p99 of
the last window is within 20 % of the first, and every request was answered (perf/soak/judge.py).
Prints the figures (and the machine's load average: the box may be shared); exit 0 on a pass.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import orjson

from perf.chaos import load
from perf.chaos.cli import start_engine
from perf.procs import stop_served
from perf.report import machine
from perf.soak import sampler
from perf.soak.judge import Bounds, judge

IDLE_SETTLE_S = 5.0


def soak(
    workdir: Path, *, seconds: float, rate: float, bounds: Bounds, every_s: float, say: Any = print
) -> tuple[Any, dict[str, Any]]:
    """Run it; returns the verdict (a PhaseReport) and everything measured."""
    root = workdir / "files"
    served = start_engine(workdir / "engine", root)
    try:
        time.sleep(IDLE_SETTLE_S)
        idle_before = sampler.take(served.proc.pid, 0.0)
        watch = sampler.Sampler(served.proc.pid, every_s)
        plan = load.LoadPlan(rate=rate, seconds=seconds, file_jobs=0.05, interval_s=bounds.window_s)
        watch.start()
        loadavg = [os.getloadavg()]
        try:
            figures = load.run(served, plan, str(root), threading.Event())
        finally:
            watch.join()
        loadavg.append(os.getloadavg())
        time.sleep(IDLE_SETTLE_S)
        idle_after = sampler.take(served.proc.pid, 0.0)
    finally:
        code = stop_served(served)
    report = judge(watch.samples, idle_before, idle_after, figures, bounds)
    report.check(
        "clean stop, no traceback",
        code == 0 and "Traceback" not in served.output() and not watch.error,
        f"stopped with {code}; sampler: {watch.error or 'ok'}",
    )
    report.figures["loadavg_start_end"] = loadavg
    kept = ("requests", "ok", "errors", "errors_by_code", "latency_ms", "timeline", "ops", "elapsed_s")
    measured = {
        "samples": [s.as_dict() for s in watch.samples],
        "idle_before": idle_before.as_dict(),
        "idle_after": idle_after.as_dict(),
        "load": {k: figures[k] for k in kept},
    }
    return report, measured


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m perf soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long the load runs (default 10)")
    parser.add_argument("--rate", type=float, default=150.0, help="arrivals per second (default 150)")
    parser.add_argument("--warmup", type=float, help="seconds before RSS must be flat (default: a fifth of the run)")
    parser.add_argument("--window", type=float, default=60.0, help="seconds compared at each end (default 60)")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between samples (default 5)")
    parser.add_argument("--rss-growth", type=float, default=1.0, help="allowed RSS growth, percent (default 1)")
    parser.add_argument("--p99-slack", type=float, default=20.0, help="allowed p99 rise, percent (default 20)")
    parser.add_argument("--json", type=Path, help="write the samples and the verdict here")
    args = parser.parse_args(argv)
    seconds = args.minutes * 60
    warmup = args.warmup if args.warmup is not None else seconds / 5
    if warmup + 2 * args.window > seconds:
        parser.error(
            f"--minutes {args.minutes:g} is too short for a {warmup:g} s warm-up and two {args.window:g} s windows"
        )
    bounds = Bounds(warmup, args.window, args.rss_growth, args.p99_slack)
    print(
        f"perf soak: {args.minutes:g} min at {args.rate:g}/s, warm-up {warmup:g} s, windows of {args.window:g} s, "
        f"load average now {', '.join(f'{x:.2f}' for x in os.getloadavg())}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="sv-soak-") as tmp:
        report, measured = soak(Path(tmp), seconds=seconds, rate=args.rate, bounds=bounds, every_s=args.every)
    print(report.summary())
    if args.json:
        doc = {"tool": "perf soak", "machine": machine(), "ok": report.ok, "verdict": report.as_dict(), **measured}
        args.json.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
        print(f"wrote {args.json}")
    return 0 if report.ok else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
