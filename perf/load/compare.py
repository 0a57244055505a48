"""``python -m perf compare --scenario NAME``: the engine against the bare baselines, in one run, interleaved.

Round after round it runs the same load (``perf load``'s generator and options) against the engine,
then against the bare servers of perf/bare.py (engine, bare, engine, bare ...), so drift on the
machine hits both sides alike, and prints the medians and the ratios engine ÷ bare. Without
``--target`` it starts its own ``engined serve`` (2 workers) on free loopback ports.

What "bare" is, per scenario: grpc-unary, a grpc.aio server answering DispatchTask in-process (echo;
compress with zstd inline in its one process); grpc-stream, a stream that answers 2/3 of each block
(gRPC's own ceiling); http, Starlette on uvicorn answering the same paths; ws, the same Starlette
publishing an event of the engine's size at the engine's interval; file-jobs, zstd of the whole file
in one thread; mixed, all of these.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager, suppress
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from perf.load.cli import OneLineParser, add_load_arguments, add_target_arguments, run_load, spec_from_args
from perf.load.scenarios.base import TargetError
from perf.load.spec import LoadSpec, UsageError
from perf.procs import free_port, start_served, stop_served
from perf.report import machine

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

OWN_METRICS_INTERVAL_S = 0.2  # perf/procs.py start_served sets SIGMAVAULT_METRICS_INTERVAL to this


def build_parser() -> OneLineParser:
    parser = OneLineParser(
        prog="perf compare", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_target_arguments(parser)
    add_load_arguments(parser)
    parser.add_argument("--rounds", type=int, default=3, help="engine/bare pairs (default 3; medians reported)")
    parser.add_argument(
        "--ws-interval",
        type=float,
        default=None,
        help="the target's SIGMAVAULT_METRICS_INTERVAL, for the bare ws server (default: 1, or "
        f"{OWN_METRICS_INTERVAL_S:g} with the engine compare starts)",
    )
    parser.add_argument("--json", metavar="PATH", help="write every run's figures and the ratios as JSON")
    return parser


def _get(url: str, token: str = "") -> bytes:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(request, timeout=5) as response:
        return bytes(response.read())


def _wait_http(url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with suppress(OSError):
            _get(url)
            return
        time.sleep(0.05)
    raise TargetError(f"the bare server at {url} did not come up in {timeout:g} s")


@contextmanager
def bare_servers(engine: LoadSpec, ws_interval: float) -> Iterator[LoadSpec]:
    """The bare gRPC and HTTP servers on free ports, shaped like the engine's answers; yields their spec."""
    base = f"http://{engine.host}:{engine.http_port}"
    try:
        status_bytes = len(_get(f"{base}/api/v1/system/status", engine.token))
        metrics = orjson.loads(_get(f"{base}/api/v1/system/metrics", engine.token))
        event_bytes = len(orjson.dumps({"type": "system.metrics", "ts": time.time(), "data": metrics}))
    except OSError as exc:
        raise TargetError(f"cannot reach the engine's HTTP at {base} ({exc})") from None
    grpc_port, http_port = free_port(), free_port()
    procs = [
        subprocess.Popen([sys.executable, "-m", "perf.bare", "grpc", str(grpc_port)]),
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "perf.bare",
                "http",
                str(http_port),
                str(status_bytes),
                str(ws_interval),
                str(event_bytes),
            ]
        ),
    ]
    try:
        _wait_http(f"http://127.0.0.1:{http_port}/healthz")
        yield replace(engine, host="127.0.0.1", grpc_port=grpc_port, http_port=http_port)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def engine_target(args: argparse.Namespace) -> Iterator[tuple[LoadSpec, float]]:
    """(the spec aimed at the engine, its metrics interval): the given target, or an engine of our own."""
    if args.target:
        yield spec_from_args(args), args.ws_interval or 1.0
        return
    with tempfile.TemporaryDirectory(prefix="perf-compare-") as tmp:
        root = Path(tmp) / "files"  # the job root (the data directory never is one)
        root.mkdir()
        served = start_served(Path(tmp), SIGMAVAULT_JOB_ROOTS=str(root))
        try:
            args.grpc_port, args.http_port = served.grpc_port, served.http_port
            spec = replace(spec_from_args(args), token=served.token)
            if spec.scenario in ("file-jobs", "mixed") and not spec.job_dir:
                spec = replace(spec, job_dir=str(root))  # a directory the engine accepts paths in
            yield spec, args.ws_interval or OWN_METRICS_INTERVAL_S
        finally:
            stop_served(served)


def _headline(figures: dict[str, Any]) -> dict[str, float]:
    lat = figures["latency_ms"]
    return {
        "ok_per_s": figures["ok_per_s"],
        "mb_per_s": figures["mb_per_s"],
        "p50_ms": lat["p50"],
        "p99_ms": lat["p99"],
        "errors": figures["errors"],
    }


def compare(engine: LoadSpec, bare: LoadSpec, rounds: int) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {"engine": [], "bare": []}
    for round_no in range(1, rounds + 1):
        for side, spec in (("engine", engine), ("bare", bare)):
            figures, interrupted = run_load(spec)
            if interrupted:
                raise KeyboardInterrupt
            runs[side].append(figures)
            h = _headline(figures)
            unit = f"ok {figures['counts']}/s"
            print(
                f"  round {round_no} {side:<6} {unit} {h['ok_per_s']:10.1f}  MB/s {h['mb_per_s']:8.2f}  "
                f"p50 {h['p50_ms']:8.3f} ms  p99 {h['p99_ms']:8.3f} ms  errors {h['errors']:.0f}"
                + ("  [generator saturated]" if figures["generator"]["saturated"] else ""),
                flush=True,
            )
    medians = {
        side: {key: statistics.median(_headline(f)[key] for f in runs[side]) for key in _headline(runs[side][0])}
        for side in runs
    }
    ratios = {
        key: medians["engine"][key] / medians["bare"][key] if medians["bare"][key] else float("nan")
        for key in ("ok_per_s", "mb_per_s", "p50_ms", "p99_ms")
    }
    return {"medians": medians, "ratios": ratios, "runs": runs}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.rounds < 1:
        print("perf compare: --rounds must be at least 1", file=sys.stderr)
        return 2
    if args.duration is None and args.requests is None:
        args.duration = 3.0
    try:
        spec_from_args(args)  # a bad command line fails here, before any server starts
        with engine_target(args) as (engine, ws_interval), bare_servers(engine, ws_interval) as bare:
            print(
                f"perf compare {engine.scenario}: engine {engine.host}:{engine.grpc_port}/{engine.http_port} vs "
                f"bare 127.0.0.1:{bare.grpc_port}/{bare.http_port}, {args.rounds} round(s), interleaved"
            )
            out = compare(engine, bare, args.rounds)
    except (TargetError, UsageError) as exc:
        print(f"perf compare: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("perf compare: interrupted", file=sys.stderr)
        return 130
    except RuntimeError as exc:
        print(f"perf compare: {exc}", file=sys.stderr)
        return 1
    med, ratios = out["medians"], out["ratios"]
    print(
        f"  median engine ok/s {med['engine']['ok_per_s']:.1f}  bare {med['bare']['ok_per_s']:.1f}  "
        f"ratio {ratios['ok_per_s']:.3f}"
    )
    print(
        f"  median engine MB/s {med['engine']['mb_per_s']:.2f}  bare {med['bare']['mb_per_s']:.2f}  "
        f"ratio {ratios['mb_per_s']:.3f}"
    )
    print(f"  p50 ratio {ratios['p50_ms']:.3f}  p99 ratio {ratios['p99_ms']:.3f}  (engine ÷ bare; above 1 = slower)")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_bytes(
            orjson.dumps({"tool": "perf compare", "machine": machine(), **out}, option=orjson.OPT_INDENT_2)
        )
        print(f"wrote {args.json}")
    return 0
