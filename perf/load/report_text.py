"""The console: the live progress line while a run goes, and the summary at its end."""

from __future__ import annotations

import sys
from typing import Any, TextIO


class ProgressLine:
    """One line rewritten in place (``\\r`` + erase) on a terminal; silent when the stream is not one."""

    def __init__(self, stream: TextIO = sys.stderr, enabled: bool | None = None) -> None:
        self.stream = stream
        self.enabled = stream.isatty() if enabled is None else enabled
        self.errors = 0
        self.shown = False

    def __call__(self, row: dict[str, Any], elapsed_s: float) -> None:
        self.errors += row["errors"]
        if not self.enabled:
            return
        cpu = row["generator_cpu_percent"]
        line = (
            f"  {elapsed_s:6.1f} s  {row['requests_per_s']:10.1f} req/s  {row['mb_per_s']:8.1f} MB/s  "
            f"p99 {row['p99_ms']:8.2f} ms  errors {self.errors}  generator cpu {cpu:3.0f}%"
        )
        self.stream.write("\r\x1b[K" + line)
        self.stream.flush()
        self.shown = True

    def end(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def summary(result: dict[str, Any]) -> str:
    cfg = result["config"]
    load = f"rate {cfg['rate']:g}/s (open loop)" if cfg["mode"] == "open" else f"concurrency {cfg['concurrency']}"
    unit = "events" if result["counts"] == "events" else "requests"
    lat = result["latency_ms"]
    what = "event delay" if unit == "events" else "latency"
    lines = [
        f"perf load {cfg['scenario']} -> {cfg['target']} (gRPC {cfg['grpc_port']}, HTTP {cfg['http_port']}), "
        f"{load}, {cfg['procs']} generator process(es); stopped by {result['stopped_by']} after "
        f"{result['elapsed_s']:.2f} s",
        f"  {unit:<10} {result['requests']:>10}  ok {result['ok']}  errors {result['errors']}",
        f"  {'ok/s':<10} {result['ok_per_s']:>10.1f}  ({result['requests_per_s']:.1f} {unit}/s with errors)   "
        f"MB/s {result['mb_per_s']:.2f}",
        f"  {what:<11} ms  p50 {lat['p50']:.3f}  p90 {lat['p90']:.3f}  p99 {lat['p99']:.3f}  "
        f"p99.9 {lat['p99_9']:.3f}  max {lat['max']:.3f}",
    ]
    if "service_ms" in result:
        svc = result["service_ms"]
        lines.append(
            f"  (from the actual send: p50 {svc['p50']:.3f}  p99 {svc['p99']:.3f}  max {svc['max']:.3f}; "
            "the line above counts from the intended send)"
        )
    if result["errors_by_code"]:
        codes = ", ".join(f"{code} x{n}" for code, n in result["errors_by_code"].items())
        lines.append(f"  errors by code: {codes}")
    if len(result["ops"]) > 1:
        for name, op in result["ops"].items():
            lat = op["latency_ms"]
            lines.append(
                f"    {name:<22} {op['requests_per_s']:>9.1f}/s  {op['mb_per_s']:>8.2f} MB/s  "
                f"p50 {lat['p50']:.3f}  p99 {lat['p99']:.3f} ms  errors {op['errors']}"
            )
    gen = result["generator"]
    cpu = ", ".join(f"{pct:.0f}%" for pct in gen["cpu_percent"])
    lines.append(f"  generator CPU per process: {cpu}")
    lines += [
        f"  GENERATOR SATURATED: {r}: these figures measure the generator, not the target" for r in gen["reasons"]
    ]
    return "\n".join(lines)
