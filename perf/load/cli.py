"""``python -m perf load``: drive one scenario against a running engine through its public ports.

Exit codes: 0 done; 2 bad command line, unreachable target or a scenario the target cannot run (one
line on stderr); 1 the generator itself failed; 130 interrupted (a first Ctrl-C still reports what ran).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from perf.load import report_text
from perf.load.pool import Pool, Progress
from perf.load.scenarios.base import TargetError
from perf.load.spec import SCENARIOS, LoadSpec, UsageError, check_host, default_procs, parse_weights

if TYPE_CHECKING:
    from collections.abc import Sequence

DEFAULT_CONCURRENCY = 8
DEFAULT_DURATION_S = 10.0


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad command line is one line on stderr and exit code 2 (no usage dump)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def _positive(kind: type[int] | type[float]) -> Any:
    def parse(raw: str) -> int | float:
        try:
            value = kind(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{raw!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{raw!r} must be above 0")
        return value

    return parse


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", default=None, metavar="HOST", help="the engine's host (default 127.0.0.1)")
    parser.add_argument("--grpc-port", type=int, default=9003, help="gRPC port (default 9003)")
    parser.add_argument("--http-port", type=int, default=8001, help="HTTP and WebSocket port (default 8001)")
    parser.add_argument(
        "--token-file",
        default=None,
        metavar="PATH",
        help="the engine's API token (default: <data_dir>/api-token of this box's engine)",
    )


def add_load_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", required=True, metavar="NAME", help=f"one of {', '.join(SCENARIOS)}")
    loop = parser.add_mutually_exclusive_group()
    loop.add_argument("--rate", type=_positive(float), help="open loop: arrivals per second, over all processes")
    loop.add_argument(
        "--concurrency",
        type=_positive(int),
        help=f"closed loop: requests in flight (ws: subscribers); default {DEFAULT_CONCURRENCY}",
    )
    parser.add_argument("--duration", type=_positive(float), help=f"seconds (default {DEFAULT_DURATION_S:g})")
    parser.add_argument("--requests", type=_positive(int), help="stop after this many requests (ws: events)")
    parser.add_argument("--procs", type=_positive(int), help="generator processes (default: enough for the load)")
    parser.add_argument(
        "--weights",
        default="",
        metavar="NAME=W,...",
        help="blend: grpc-unary echo,compress; http status,task; "
        "mixed grpc-unary,http,grpc-stream,ws (subscribers per process),file-jobs",
    )
    parser.add_argument("--timeout", type=_positive(float), default=10.0, help="per request, seconds (default 10)")
    parser.add_argument("--interval", type=_positive(float), default=1.0, help="timeline resolution, s (default 1)")
    parser.add_argument("--max-inflight", type=_positive(int), default=1024, help="open loop, per process")
    parser.add_argument("--echo-bytes", type=_positive(int), default=1024)
    parser.add_argument("--compress-bytes", type=_positive(int), default=64 * 1024)
    parser.add_argument("--block-bytes", type=_positive(int), default=1 << 20)
    parser.add_argument("--codec", choices=("lz4", "zstd"), default="lz4", help="grpc-stream codec")
    parser.add_argument("--streams", type=_positive(int), default=1, help="grpc-stream: streams per process")
    parser.add_argument("--job-bytes", type=_positive(int), default=4 << 20, help="file-jobs: source size")
    parser.add_argument("--job-source", default="", help="file-jobs: a source file on the engine's host")
    parser.add_argument("--job-dir", default="", help="file-jobs: a directory the engine accepts paths in")
    parser.add_argument(
        "--route",
        choices=("named", "any"),
        default="named",
        help="grpc-unary and http tasks: named agents round-robin (default), or any agent "
        "(the engine picks, routing around a restarting worker)",
    )
    parser.add_argument("--seed", type=int, default=42)


def build_parser() -> OneLineParser:
    parser = OneLineParser(prog="perf load", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_target_arguments(parser)
    add_load_arguments(parser)
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON")
    parser.add_argument("--html", metavar="PATH", help="write a self-contained HTML report")
    parser.add_argument(
        "--progress",
        choices=("auto", "always", "never"),
        default="auto",
        help="the live line on stderr (auto: when stderr is a terminal)",
    )
    return parser


def spec_from_args(args: argparse.Namespace) -> LoadSpec:
    """Validate what argparse cannot (scenario, ws without a rate, ports, the host) into a LoadSpec."""
    if args.scenario not in SCENARIOS:
        raise UsageError(f"unknown scenario {args.scenario!r}: one of {', '.join(SCENARIOS)}")
    if args.scenario == "ws" and args.rate is not None:
        raise UsageError(
            "ws: the server sets the event rate (SIGMAVAULT_METRICS_INTERVAL); "
            "use --concurrency for the number of subscribers"
        )
    for name in ("grpc_port", "http_port"):
        if not 1 <= getattr(args, name) <= 65535:
            raise UsageError(f"--{name.replace('_', '-')} {getattr(args, name)} is not a port")
    host = args.target or "127.0.0.1"
    check_host(host)
    if args.scenario in ("file-jobs", "mixed") and not args.job_source and not _is_local(host):
        weights_need_jobs = args.scenario == "file-jobs" or "file-jobs=" in args.weights
        if weights_need_jobs:
            raise UsageError("file-jobs against another host needs --job-source and --job-dir (paths there)")
    concurrency = args.concurrency if args.rate is None else None
    if args.rate is None and concurrency is None:
        concurrency = DEFAULT_CONCURRENCY
    duration = args.duration if args.duration or args.requests else DEFAULT_DURATION_S
    procs = args.procs or default_procs(args.rate, concurrency)
    if concurrency is not None:
        procs = min(procs, concurrency)
    return LoadSpec(
        scenario=args.scenario,
        host=host,
        grpc_port=args.grpc_port,
        http_port=args.http_port,
        rate=args.rate,
        concurrency=concurrency,
        duration_s=duration,
        requests=args.requests,
        procs=procs,
        weights=parse_weights(args.weights, args.scenario),
        timeout_s=args.timeout,
        interval_s=args.interval,
        max_inflight=args.max_inflight,
        echo_bytes=args.echo_bytes,
        compress_bytes=args.compress_bytes,
        block_bytes=args.block_bytes,
        stream_codec=args.codec,
        streams=args.streams,
        job_bytes=args.job_bytes,
        job_source=args.job_source,
        job_dir=args.job_dir,
        route=args.route,
        seed=args.seed,
        token=read_token_file(args.token_file),
    )


def read_token_file(path: str | None) -> str:
    """The token in ``path``; without one, the generated token of this box's engine if it can be read."""
    if path is None:
        from engine.config import default_data_dir

        default = Path(default_data_dir()) / "api-token"
        return default.read_text().strip() if os.access(default, os.R_OK) else ""
    try:
        return Path(path).read_text().strip()
    except OSError as exc:
        raise UsageError(f"--token-file {path}: {exc.strerror}") from None


def _is_local(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def run_load(spec: LoadSpec, progress: Progress | None = None) -> tuple[dict[str, Any], bool]:
    """(the run's figures, whether it was interrupted); raises TargetError, UsageError."""
    from perf.load import result as result_module

    data = Pool(spec, progress).run()
    figures = result_module.build(data)
    return figures, figures["stopped_by"] == "interrupt"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        spec = spec_from_args(args)
    except UsageError as exc:
        print(f"perf load: {exc}", file=sys.stderr)
        return 2
    progress = report_text.ProgressLine(enabled={"auto": None, "always": True, "never": False}[args.progress])
    try:
        figures, interrupted = run_load(spec, progress)
    except (TargetError, UsageError) as exc:
        progress.end()
        print(f"perf load: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        progress.end()
        print("perf load: interrupted", file=sys.stderr)
        return 130
    except RuntimeError as exc:
        progress.end()
        print(f"perf load: {exc}", file=sys.stderr)
        return 1
    progress.end()
    print(report_text.summary(figures))
    if args.json:
        from perf.load import report_json

        print(f"wrote {report_json.write(figures, args.json)}")
    if args.html:
        from perf.load import report_html

        print(f"wrote {report_html.write(figures, args.html)}")
    return 130 if interrupted else 0
