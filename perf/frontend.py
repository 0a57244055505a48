"""Frontend benchmark (issue 4): ``python -m perf.frontend [--quick] [--json PATH]``.

In one run, with the same load generator against both sides:
  grpc_dispatch_vs_bare   DispatchTask(echo, 64 B) requests/s through engined ÷ a bare grpc.aio echo server
  http_status_vs_bare     GET /api/v1/system/status ÷ bare Starlette returning JSON of the same size
  http_task_vs_bare       POST /api/v1/agents/0/task (echo) ÷ bare Starlette doing the same base64 echo
  stream_vs_p1            BlockService.ProcessStream lz4 MB/s on 1 MiB blocks ÷ the engine's own p1
                          rate (blocks already in slots, measured in-process in this run); also
                          ÷ the same stream against a bare server that only echoes 2/3 of each block
HTTP load comes from wrk when installed (apt-get install wrk), else from perf/loadgen.py.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import orjson
import psutil
import uvloop

from engine.config import EngineConfig
from engine.core.embedded import Engine
from perf.engine import engine_rate, make_blocks
from perf.procs import Served, free_port, start_served, stop_served
from perf.report import Report, median


def _wait_port(url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(url)


def loadgen(*args: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-m", "perf.loadgen", *args], capture_output=True, text=True, check=True)
    return orjson.loads(out.stdout.strip().splitlines()[-1])


def http_rate(url: str, seconds: float, body: bytes | None, workdir: Path) -> float:
    """Requests per second; every request carries PERF_TOKEN (run_benchmark sets it), the bare server's too."""
    if shutil.which("wrk"):
        cmd = ["wrk", "-t1", "-c16", f"-d{max(1, round(seconds))}s", url]
        lines = [f'wrk.headers["Authorization"] = "Bearer {os.environ["PERF_TOKEN"]}"']
        if body is not None:
            lines += [
                'wrk.method = "POST"',
                f"wrk.body = [[{body.decode()}]]",
                'wrk.headers["Content-Type"] = "application/json"',
            ]
        script = workdir / "request.lua"
        script.write_text("\n".join(lines) + "\n")
        cmd[1:1] = ["-s", str(script)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        if "Non-2xx" in out:
            raise RuntimeError(f"wrk saw errors against {url}:\n{out}")
        return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    args = ["http", url, str(seconds), "16"]
    if body is not None:
        path = workdir / "body.json"
        path.write_bytes(body)
        args.append(str(path))
    result = loadgen(*args)
    return result["requests"] / result["seconds"]


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes and all their descendants so far."""
    total = 0.0
    for pid in pids:
        try:
            root = psutil.Process(pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for proc in procs:
            try:
                times = proc.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
    return total


def per_call_cost(
    report: Report,
    served: Served,
    bare_grpc: tuple[str, int],
    bare_http: tuple[str, int],
    seconds: float,
    repeats: int,
    work: Path,
) -> None:
    """Issue 7's figures: 1 KiB echo, gRPC DispatchTask with 64 calls in flight and the HTTP agent task,
    engine vs bare, interleaved; requests/s and the server CPU each call costs (every server process,
    workers included: CPU per call is steadier than requests/s on a shared machine)."""
    body = orjson.dumps({"kind": "echo", "data": base64.b64encode(b"x" * 1024).decode()})
    figures: dict[str, list[float]] = {k: [] for k in ("ge", "gb", "gce", "gcb", "he", "hb", "hce", "hcb")}
    engine_pids, grpc_pid, http_pid = [served.proc.pid], [bare_grpc[1]], [bare_http[1]]
    for _ in range(repeats):
        for target, pids, rate, cost in (
            (served.grpc, engine_pids, "ge", "gce"),
            (bare_grpc[0], grpc_pid, "gb", "gcb"),
        ):
            before = _cpu_seconds(pids)
            r = loadgen("grpc-dispatch", target, str(seconds), "64", "1024")
            figures[rate].append(r["requests"] / r["seconds"])
            figures[cost].append((_cpu_seconds(pids) - before) / r["requests"] * 1e6)
        for url, pids, rate, cost in (
            (f"{served.http}/api/v1/agents/0/task", engine_pids, "he", "hce"),
            (f"{bare_http[0]}/agents/0/task", http_pid, "hb", "hcb"),
        ):
            before = _cpu_seconds(pids)
            rps = http_rate(url, seconds, body, work)
            figures[rate].append(rps)
            figures[cost].append((_cpu_seconds(pids) - before) / (rps * max(1, round(seconds))) * 1e6)
    m = {k: median(v) for k, v in figures.items()}
    report.add("grpc_1k_engine_rps", m["ge"], "req/s", note="DispatchTask echo 1 KiB, 64 in flight")
    report.add("grpc_1k_bare_rps", m["gb"], "req/s")
    report.add(
        "grpc_1k_vs_bare",
        median([e / b for e, b in zip(figures["ge"], figures["gb"], strict=True)]),
        "x",
        ">= 0.85",
        note="median of the interleaved pairs' ratios",
    )
    report.add("grpc_1k_server_cpu_us", m["gce"], "us/call", note=f"bare {m['gcb']:.0f} us/call")
    report.add("http_task_1k_engine_rps", m["he"], "req/s", note="POST /api/v1/agents/0/task echo 1 KiB")
    report.add("http_task_1k_bare_rps", m["hb"], "req/s")
    report.add(
        "http_task_1k_vs_bare",
        median([e / b for e, b in zip(figures["he"], figures["hb"], strict=True)]),
        "x",
        ">= 0.7",
        note="median of the interleaved pairs' ratios",
    )
    report.add("http_task_1k_server_cpu_us", m["hce"], "us/call", note=f"bare {m['hcb']:.0f} us/call")


def run_benchmark(quick: bool) -> Report:
    seconds = 2.0 if quick else 4.0
    repeats = 1 if quick else 3
    report = Report("frontend (perf.frontend)")
    report.extra["http_load_generator"] = "wrk" if shutil.which("wrk") else "perf/loadgen.py"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        served = start_served(work)
        bare_grpc_port, bare_http_port = free_port(), free_port()
        os.environ["PERF_TOKEN"] = served.token  # loadgen and wrk send it to both servers alike
        status = urllib.request.Request(f"{served.http}/api/v1/system/status", headers=served.headers)
        status_bytes = len(urllib.request.urlopen(status).read())
        bare = [
            subprocess.Popen([sys.executable, "-m", "perf.bare", "grpc", str(bare_grpc_port)]),
            subprocess.Popen([sys.executable, "-m", "perf.bare", "http", str(bare_http_port), str(status_bytes)]),
        ]
        try:
            _wait_port(f"http://127.0.0.1:{bare_http_port}/status")
            time.sleep(0.5)  # the bare gRPC server binds within this
            print(f"servers up; {seconds:g} s per measurement, median of {repeats}; status body {status_bytes} B")
            grpc_engine, grpc_bare = [], []
            for _ in range(repeats):
                r = loadgen("grpc-dispatch", served.grpc, str(seconds), "32", "64")
                grpc_engine.append(r["requests"] / r["seconds"])
                r = loadgen("grpc-dispatch", f"127.0.0.1:{bare_grpc_port}", str(seconds), "32", "64")
                grpc_bare.append(r["requests"] / r["seconds"])
            report.add("grpc_dispatch_engine_rps", median(grpc_engine), "req/s", note="echo 64 B, 32 in flight")
            report.add("grpc_dispatch_bare_rps", median(grpc_bare), "req/s")
            report.add("grpc_dispatch_vs_bare", median(grpc_engine) / median(grpc_bare), "x", ">= 0.9")
            per_call_cost(
                report,
                served,
                (f"127.0.0.1:{bare_grpc_port}", bare[0].pid),
                (f"http://127.0.0.1:{bare_http_port}", bare[1].pid),
                seconds,
                repeats + 2 if repeats > 1 else 1,
                work,
            )
            task_body = orjson.dumps({"kind": "echo", "data": base64.b64encode(b"x" * 64).decode()})
            for name, engine_url, bare_url, body in (
                (
                    "http_status",
                    f"{served.http}/api/v1/system/status",
                    f"http://127.0.0.1:{bare_http_port}/status",
                    None,
                ),
                (
                    "http_task",
                    f"{served.http}/api/v1/agents/0/task",
                    f"http://127.0.0.1:{bare_http_port}/agents/0/task",
                    task_body,
                ),
            ):
                eng, base = [], []
                for _ in range(repeats):  # interleaved, so drift on the machine hits both sides alike
                    eng.append(http_rate(engine_url, seconds, body, work))
                    base.append(http_rate(bare_url, seconds, body, work))
                report.add(f"{name}_engine_rps", median(eng), "req/s")
                report.add(f"{name}_bare_rps", median(base), "req/s")
                report.add(f"{name}_vs_bare", median(eng) / median(base), "x", ">= 0.8")
            streams, bare_streams = [], []
            for _ in range(repeats):
                streams.append(loadgen("grpc-stream", served.grpc, str(seconds), "4", str(1 << 20), "lz4")["mb_per_s"])
                bare_streams.append(
                    loadgen("grpc-stream", f"127.0.0.1:{bare_grpc_port}", str(seconds), "4", str(1 << 20), "lz4")[
                        "mb_per_s"
                    ]
                )
        finally:
            for proc in bare:
                proc.terminate()
                proc.wait(10)
            stop_served(served)
        cfg = EngineConfig.from_env(environ={}, env_file=None, workers=2, data_dir=str(work / "p1"))
        with Engine.start(cfg) as engine:
            p1 = median([uvloop.run(engine_rate(engine, "lz4", make_blocks(), seconds)) for _ in range(repeats)])
        report.add("stream_lz4_mbs", median(streams), "MB/s", note="BlockService.ProcessStream, 1 MiB blocks")
        report.add("p1_engine_lz4_mbs", p1, "MB/s", note="blocks already in slots, same run")
        report.add("stream_vs_p1", median(streams) / p1, "x", ">= 0.8")
        report.add(
            "stream_bare_transport_mbs",
            median(bare_streams),
            "MB/s",
            note="same stream, server only echoes 2/3 of each block: gRPC's own ceiling",
        )
        report.add("stream_vs_bare_transport", median(streams) / median(bare_streams), "x")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a run under a minute")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args()
    run_benchmark(args.quick).write(args.json)


if __name__ == "__main__":
    main()
