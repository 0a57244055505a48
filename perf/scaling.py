"""1 vs 2 (… N) workers, and CPU pinning off vs on: ``python -m perf.scaling [--seconds S] [--rounds R]``.

The figures of docs/DEPLOYMENT.md's "Measured here: 1 vs 2 workers" table that the data plane
decides, each on an embedded engine (perf/engine.py's measurements):

  p1_<codec>_mbs   MB/s of 1 MiB lz4 / zstd-3 blocks already in slots (descriptors only)
  tasks_per_s      64-byte echo through the asyncio client, 64 in flight

Configurations run interleaved (1 off, 2 off, 1 on, 2 on, then again) so that drift of a shared
box lands on all of them; each figure is the median over rounds. Ratios: N workers / 1 worker,
pinned / not pinned. The request figures (gRPC, HTTP) come from ``perf load`` against
``engined serve`` with SIGMAVAULT_WORKERS=1 and 2 (see docs/DEPLOYMENT.md).
"""

from __future__ import annotations

import argparse
import os
import tempfile

import uvloop

from engine.config import EngineConfig
from engine.core.embedded import Engine
from perf.engine import CODECS, engine_rate, make_blocks, timed_echo_rate
from perf.report import Report, median


def measure(data_dir: str, workers: int, pin: bool, seconds: float, blocks: list[bytes]) -> dict[str, float]:
    cfg = EngineConfig.from_env(environ={}, env_file=None, data_dir=data_dir, workers=workers, pin_cpus=pin)
    out = {}
    with Engine.start(cfg) as engine:
        for codec in CODECS:
            out[f"p1_{codec}_mbs"] = uvloop.run(engine_rate(engine, codec, blocks, seconds))
        out["tasks_per_s"] = uvloop.run(timed_echo_rate(engine, seconds))
    return out


def run(seconds: float, rounds: int, max_workers: int) -> Report:
    counts = sorted({1, max_workers})
    configs = [(n, pin) for pin in (False, True) for n in counts]
    samples: dict[tuple[int, bool], list[dict[str, float]]] = {c: [] for c in configs}
    blocks = make_blocks()
    report = Report("workers and pinning (perf.scaling)")
    print(f"{rounds} rounds of {configs} (workers, pinned), {seconds:g} s per figure")
    with tempfile.TemporaryDirectory() as data_dir:
        for r in range(rounds):
            for n, pin in configs:
                got = measure(data_dir, n, pin, seconds, blocks)
                samples[(n, pin)].append(got)
                print(
                    f"  round {r + 1}: {n} worker(s), pinning {'on' if pin else 'off'}: "
                    + ", ".join(f"{k} {v:,.0f}" for k, v in got.items()),
                    flush=True,
                )
    medians = {c: {k: median([s[k] for s in rows]) for k in rows[0]} for c, rows in samples.items()}
    top = max(counts)
    for key in medians[configs[0]]:
        unit = "MB/s" if key.endswith("_mbs") else "tasks/s"
        for n, pin in configs:
            report.add(f"{key}_w{n}_{'pinned' if pin else 'unpinned'}", medians[(n, pin)][key], unit)
        if top > 1:
            report.add(
                f"{key}_w{top}_over_w1", medians[(top, False)][key] / medians[(1, False)][key], "x", note="unpinned"
            )
        report.add(f"{key}_pinned_over_unpinned_w{top}", medians[(top, True)][key] / medians[(top, False)][key], "x")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="per figure and configuration (default 3)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians are reported (default 3)")
    parser.add_argument(
        "--workers",
        type=int,
        default=len(os.sched_getaffinity(0)),
        help="the worker count compared with 1 (default: the usable CPUs)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args()
    run(args.seconds, args.rounds, args.workers).write(args.json)


if __name__ == "__main__":
    main()
