"""``python -m perf fuzz [--cases N] [--seconds S] [--surface http,grpc,ws,...] [--exclude OP] [--json out.json]``

Starts an ``engined serve`` on loopback (2 workers, 256 KiB slots, an API token so every call is
authenticated like the Go API's, a job root and a 32 MiB decompression cap), runs each surface's
fuzzer until N cases or S seconds, checks the engine is still healthy after each (every worker ready,
an echo task answering on both ports), then stops it and looks for tracebacks in its log. Prints one
line per surface; exit 1 on any failure, hang, unhealthy engine, traceback or unclean stop.

Surfaces: http, grpc, ws (generated from the contract); bombs, sealed, paths, storage, wsflood (bad
input of the NAS domains: decompression bombs, damaged ciphertext, paths leaving the roots, devices
that do not exist and names with control characters, floods of subscribers that never read); auth
(every operation without a credential, with wrong ones and with a read-only token: 0 wrongly admitted).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
import orjson

from engine.access.credentials import token_digest
from perf.fuzz.auth_cases import fuzz_auth
from perf.fuzz.grpc_cases import fuzz_grpc
from perf.fuzz.health import engine_healthy
from perf.fuzz.openapi_cases import fuzz_http
from perf.fuzz.ws_cases import fuzz_ws
from perf.procs import Served, start_served, stop_served

if TYPE_CHECKING:
    from perf.fuzz.report import SurfaceReport

SLOT_BYTES = 256 * 1024
OUTPUT_CAP_BYTES = 32 << 20  # SIGMAVAULT_JOB_MAX_OUTPUT_BYTES: decompression bombs meet it
GENERIC = ("http", "grpc", "ws")  # generated from the contract (OpenAPI, proto descriptors, the WebSocket)
NAS = ("bombs", "sealed", "paths", "storage", "wsflood")  # bad input of the NAS domains
SURFACES = (*GENERIC, *NAS, "auth")  # auth: every operation without, with wrong and with read-only credentials
# --exclude-device-ops: the operations that take a device or act on a whole pool. The generic fuzzers send
# any string, so on a machine whose disks matter they are left out; the storage surface covers them with
# devices that cannot exist (perf/fuzz/storage_cases.py)
_DEVICE_RPCS = ("CreatePool", "DestroyPool", "ImportPool", "AddDevice", "RemoveDevice", "ReplaceDevice")
DEVICE_OPERATIONS = (
    "POST /api/v1/storage/pools$",
    "DELETE /api/v1/storage/pools/{name}$",
    "POST /api/v1/storage/pools/{name}/import$",
    "POST /api/v1/storage/pools/{name}/devices$",
    "DELETE /api/v1/storage/pools/{name}/devices$",
    "POST /api/v1/storage/pools/{name}/replace$",
    *(f"/sigmavault.v1.StorageService/{m}$" for m in _DEVICE_RPCS),
)


def read_token_for(token: str) -> str:
    """The read-only token the fuzzed engine also knows (named ``fuzz-read``), derived from the admin one."""
    return hashlib.sha256(f"read:{token}".encode()).hexdigest()


def _private_file(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def engine_env(workdir: Path, token: str) -> dict[str, Any]:  # str values; Any: it is spread into **env
    """The fuzzed engine's settings: an admin token (from a 0600 file) and a read-only named one, small
    slots (oversized is cheap), a job root under ``workdir`` and an output cap for decompression."""
    token_file, tokens_file = workdir / "api-token", workdir / "api-tokens"
    _private_file(token_file, token + "\n")
    _private_file(tokens_file, f"fuzz-read read sha256:{token_digest(read_token_for(token)).hex()}\n")
    (workdir / "files").mkdir(exist_ok=True)
    return {
        "SIGMAVAULT_API_TOKEN_FILE": str(token_file),
        "SIGMAVAULT_API_TOKENS_FILE": str(tokens_file),
        "SIGMAVAULT_SLOT_BYTES": str(SLOT_BYTES),
        "SIGMAVAULT_JOB_ROOTS": str(workdir / "files"),
        "SIGMAVAULT_JOB_MAX_OUTPUT_BYTES": str(OUTPUT_CAP_BYTES),
    }


def run_nas_surface(
    surface: str,
    served: Served,
    channel: grpc.Channel,
    headers: dict[str, str],
    metadata: tuple[tuple[str, str], ...],
    cases: int,
    seconds: float,
    seed: int,
) -> SurfaceReport:
    from perf.fuzz import bombs, path_cases, sealed_cases, storage_cases, ws_flood
    from perf.fuzz.nas import NasClient

    workdir = served.data_dir.parent
    root = workdir / "files"
    client = NasClient(served.http, channel, headers, metadata)
    try:
        if surface == "bombs":
            return bombs.fuzz_bombs(
                client, root, cap=OUTPUT_CAP_BYTES, slot=SLOT_BYTES, cases=cases, seconds=seconds, seed=seed
            )
        if surface == "sealed":
            return sealed_cases.fuzz_sealed(
                client, root, block_bytes=SLOT_BYTES - 8192, cases=cases, seconds=seconds, seed=seed
            )
        if surface == "paths":
            return path_cases.fuzz_paths(
                client, root, workdir / "sandbox", cases=cases, seconds=seconds, seed=seed, data_dir=served.data_dir
            )
        if surface == "storage":
            return storage_cases.fuzz_storage(
                client, workdir / "storage-sandbox", cases=cases, seconds=seconds, seed=seed
            )
        return ws_flood.fuzz_ws_flood(
            served.http.replace("http", "ws", 1) + "/ws",
            headers=headers,
            frontend_rss=lambda: _frontend_rss(served),
            busy=lambda: _busy(client, root),
            hold_s=min(10.0, seconds),
        )
    finally:
        client.close()


def _frontend_rss(served: Served) -> int:
    import psutil

    for child in psutil.Process(served.proc.pid).children():
        if child.name() == "sv-frontend":
            return int(child.memory_info().rss)
    return 0


def _busy(client: Any, root: Path) -> None:
    """A slow compression, so compression.progress events flow while the flood holds."""
    from perf.load import payloads

    source = root / "busy.bin"
    source.write_bytes(payloads.mixed(16 << 20, 3))
    client.start_job(
        {
            "operation": "compress",
            "source": str(source),
            "destination": str(root / "busy.zst"),
            "level": 19,
            "overwrite": True,
        }
    )


def run_surface(
    surface: str, served: Served, token: str, cases: int, seconds: float, seed: int, exclude: tuple[str, ...] = ()
) -> SurfaceReport:
    headers = {"Authorization": f"Bearer {token}"}
    metadata = (("authorization", f"Bearer {token}"),)
    options = [("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)]
    with grpc.insecure_channel(served.grpc, options=options) as channel:
        if surface in NAS:
            report = run_nas_surface(surface, served, channel, headers, metadata, cases, seconds, seed)
        elif surface == "http":
            report = fuzz_http(
                served.http,
                cases=cases,
                seconds=seconds,
                headers=headers,
                seed=seed,
                exclude=tuple(e for e in exclude if not e.startswith("/")),
            )
        elif surface == "auth":
            report = fuzz_auth(
                served.http,
                channel,
                admin_headers=headers,
                read_token=read_token_for(token),
                cases=cases,
                seconds=seconds,
                seed=seed,
            )
        elif surface == "grpc":
            report = fuzz_grpc(
                channel,
                cases=cases,
                seconds=seconds,
                slot_bytes=SLOT_BYTES,
                seed=seed,
                max_message_bytes=SLOT_BYTES + 65536,
                metadata=metadata,
                exclude=tuple(e for e in exclude if e.startswith("/")),
            )
        else:
            report = fuzz_ws(
                served.http.replace("http", "ws", 1) + "/ws", cases=cases, seconds=seconds, headers=headers, seed=seed
            )
        healthy, why = engine_healthy(served.http, channel, headers, metadata)
    if not healthy:
        report.fail(f"engine unhealthy after the {surface} fuzzer: {why}")
    return report.finish(healthy)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m perf fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1000, help="cases per surface, at least (default 1000)")
    parser.add_argument("--seconds", type=float, default=300, help="time budget per surface (default 300)")
    parser.add_argument("--surface", default=",".join(SURFACES), help=f"comma-separated: {', '.join(SURFACES)}")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="write the reports here")
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="OPERATION",
        help="leave out HTTP operations ('POST /api/v1/...') or gRPC methods "
        "('/sigmavault.v1.Service/Method'): those the prefix starts, or with a final $ that "
        "one only; repeatable",
    )
    parser.add_argument(
        "--exclude-device-ops",
        action="store_true",
        help="leave out of the http and grpc surfaces the storage operations that take a device or "
        "act on a whole pool (create, destroy, import, add, remove, replace)",
    )
    args = parser.parse_args(argv)
    if args.exclude_device_ops:
        args.exclude += DEVICE_OPERATIONS
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
                reports.append(
                    run_surface(surface, served, token, args.cases, args.seconds, args.seed, tuple(args.exclude))
                )
                print(reports[-1].summary(), flush=True)
        finally:
            code = stop_served(served)
        tracebacks = served.output().count("Traceback")
    print(
        f"engine: stopped with exit code {code}; {tracebacks} tracebacks in its log; "
        f"{sum(r.cases for r in reports)} cases in {time.monotonic() - started:.0f} s"
    )
    for report in reports:
        for failure in report.failures:
            print(f"  {report.surface}: {failure[:500]}")
    if args.json:
        doc = {"reports": [r.as_dict() for r in reports], "exit_code": code, "log_tracebacks": tracebacks}
        args.json.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    return 0 if all(r.ok for r in reports) and code == 0 and tracebacks == 0 else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
