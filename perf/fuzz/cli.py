"""``python -m perf fuzz [--cases N] [--seconds S] [--surface http,grpc,ws] [--exclude OP] [--json out.json]``

Starts an ``engined serve`` on loopback (2 workers, 256 KiB slots, an API token so every call is
authenticated like the Go API's), runs each surface's fuzzer until N cases or S seconds, checks the
engine is still healthy after each (every worker ready, an echo task answering on both ports),
then stops it and looks for tracebacks in its log. Prints one line per surface; exit 1 on any
failure, hang, unhealthy engine, traceback or unclean stop.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
import orjson

from perf.fuzz.grpc_cases import fuzz_grpc
from perf.fuzz.health import engine_healthy
from perf.fuzz.openapi_cases import fuzz_http
from perf.fuzz.ws_cases import fuzz_ws
from perf.procs import Served, start_served, stop_served

if TYPE_CHECKING:
    from perf.fuzz.report import SurfaceReport

SLOT_BYTES = 256 * 1024
SURFACES = ("http", "grpc", "ws")


def engine_env(workdir: Path, token: str) -> dict[str, Any]:  # str values; Any: it is spread into **env
    """The fuzzed engine's settings: a token (from a 0600 file) and small slots (oversized is cheap)."""
    token_file = workdir / "api-token"
    fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return {"SIGMAVAULT_API_TOKEN_FILE": str(token_file), "SIGMAVAULT_SLOT_BYTES": str(SLOT_BYTES)}


def run_surface(surface: str, served: Served, token: str, cases: int, seconds: float, seed: int,
                exclude: tuple[str, ...] = ()) -> SurfaceReport:  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}
    metadata = (("authorization", f"Bearer {token}"),)
    options = [("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)]
    with grpc.insecure_channel(served.grpc, options=options) as channel:
        if surface == "http":
            report = fuzz_http(served.http, cases=cases, seconds=seconds, headers=headers, seed=seed,
                               exclude=tuple(e for e in exclude if not e.startswith("/")))  # fmt: skip
        elif surface == "grpc":
            report = fuzz_grpc(channel, cases=cases, seconds=seconds, slot_bytes=SLOT_BYTES, seed=seed,
                               max_message_bytes=SLOT_BYTES + 65536, metadata=metadata,
                               exclude=tuple(e for e in exclude if e.startswith("/")))  # fmt: skip
        else:
            report = fuzz_ws(served.http.replace("http", "ws", 1) + "/ws", cases=cases, seconds=seconds,
                             headers=headers, seed=seed)  # fmt: skip
        healthy, why = engine_healthy(served.http, channel, headers, metadata)
    if not healthy:
        report.fail(f"engine unhealthy after the {surface} fuzzer: {why}")
    return report.finish(healthy)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m perf fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1000, help="cases per surface, at least (default 1000)")
    parser.add_argument("--seconds", type=float, default=300, help="time budget per surface (default 300)")
    parser.add_argument("--surface", default=",".join(SURFACES), help="comma-separated: http, grpc, ws")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="write the reports here")
    parser.add_argument("--exclude", action="append", default=[], metavar="OPERATION",
                        help="leave out an HTTP operation ('POST /api/v1/...', a prefix) or a gRPC method "
                             "('/sigmavault.v1.Service/Method', a prefix); repeatable")  # fmt: skip
    args = parser.parse_args(argv)
    surfaces = [s.strip() for s in args.surface.split(",") if s.strip()]
    unknown = sorted(set(surfaces) - set(SURFACES))
    if unknown:
        parser.error(f"unknown surface(s): {', '.join(unknown)}")
    token = secrets.token_hex(32)
    with tempfile.TemporaryDirectory(prefix="sv-fuzz-") as tmp:
        workdir = Path(tmp)
        served = start_served(workdir, 30, **engine_env(workdir, token))
        reports, started = [], time.monotonic()
        try:
            for surface in surfaces:
                reports.append(run_surface(surface, served, token, args.cases, args.seconds, args.seed,
                                           tuple(args.exclude)))  # fmt: skip
                print(reports[-1].summary(), flush=True)
        finally:
            code = stop_served(served)
        tracebacks = served.output().count("Traceback")
    print(f"engine: stopped with exit code {code}; {tracebacks} tracebacks in its log; "
          f"{sum(r.cases for r in reports)} cases in {time.monotonic() - started:.0f} s")  # fmt: skip
    for report in reports:
        for failure in report.failures:
            print(f"  {report.surface}: {failure[:500]}")
    if args.json:
        doc = {"reports": [r.as_dict() for r in reports], "exit_code": code, "log_tracebacks": tracebacks}
        args.json.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    return 0 if all(r.ok for r in reports) and code == 0 and tracebacks == 0 else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
