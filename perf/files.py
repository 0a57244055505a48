"""File-job benchmark (issue 9): ``python -m perf.files [--size MIB] [--runs N] [--quick] [--json PATH]``.

A real ``engined serve`` (one worker per usable core) runs file jobs started over HTTP, as the Go
API would, on a file of mixed content (each 1 MiB block half random, half text-like, every block
distinct) in tmpfs (/dev/shm: the CPU work is what is compared; removed at the end). Each job is
timed from the POST to its final ``compression.progress`` event on the WebSocket; each CLI from its
start to its exit. Engine and CLI alternate, and the figures are medians over ``--runs`` rounds:

  compress_zstd3     time of ``zstd -T<cores> -3`` / engine zstd level 3          (>= 0.9)
  zstd_size          engine's .zst size / the CLI's                                (<= 1.03)
  decompress_zstd    time of ``zstd -d --no-sparse`` on our file / engine's       (>= 1.3)
  compress_lz4       time of ``lz4 -1`` / engine lz4                             (>= 2)
  encrypt, decrypt   time of ``age`` (X25519 recipient) / engine's                 (>= 2)
  range_4k_p50_ms    4 KiB read at random offsets within 8 MiB of the middle of our
                     .zst, HTTP GET on one kept-alive socket (no client library)  (<= 1 ms)
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import numpy as np
import orjson
import psutil
from websockets.sync.client import connect

from perf.procs import start_served, stop_served
from perf.report import Report, median, percentile

if TYPE_CHECKING:
    from collections.abc import Callable

    from websockets.sync.client import ClientConnection

    from perf.procs import Served

MIB = 1 << 20
TEXT = np.frombuffer(
    b"SigmaVault keeps the NAS's files safe: blocks are compressed, sealed and written in order. Lorem ipsum "
    b"dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna.\n",
    dtype=np.uint8,
)
FINISHED = ("done", "failed", "cancelled")


def write_mixed(path: Path, mib: int, seed: int = 9) -> None:
    """``mib`` distinct 1 MiB blocks: 512 KiB random bytes, then 512 KiB of 16-byte runs of text."""
    rng = np.random.default_rng(seed)
    idx = np.arange(16)
    with path.open("wb") as f:
        for _ in range(mib):
            noise = rng.integers(0, 256, MIB // 2, dtype=np.uint8)
            starts = rng.integers(0, len(TEXT) - 16, MIB // 32)
            text = TEXT[starts[:, None] + idx].reshape(-1)
            f.write(noise.tobytes())
            f.write(text.tobytes())


class Jobs:
    """Start jobs over HTTP and wait for their end on the WebSocket."""

    def __init__(self, served: Served) -> None:
        self.served = served
        http = served.http
        self.http = httpx.Client(base_url=http, headers=served.headers, timeout=120)
        self._ws = connect(http.replace("http://", "ws://") + "/ws", max_size=None, additional_headers=served.headers)
        self.ws: ClientConnection = self._ws.__enter__()
        self.ws.send(orjson.dumps({"type": "client.subscribe", "data": {"types": ["compression.progress"]}}).decode())

    def run(self, **body: Any) -> tuple[float, dict[str, Any]]:
        t0 = time.perf_counter()
        answer = self.http.post("/api/v1/compression/jobs", json=body)
        if answer.status_code != 200:
            raise RuntimeError(f"job refused: {answer.text}")
        job_id = answer.json()["id"]
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            event = orjson.loads(self.ws.recv(timeout=600))
            data = event.get("data", {})
            if event.get("type") == "compression.progress" and data.get("id") == job_id and data["state"] in FINISHED:
                elapsed = time.perf_counter() - t0
                if data["state"] != "done":
                    raise RuntimeError(f"job {job_id} ended {data['state']}: {data['error']}")
                return elapsed, data
        raise TimeoutError(f"job {job_id} did not finish")

    def close(self) -> None:
        self._ws.__exit__(None, None, None)
        self.http.close()


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_cli(*cmd: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one CLI run."""
    cpu0, t0 = children_cpu(), time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t0, children_cpu() - cpu0


def engine_cpu(served: Served) -> float:
    """CPU seconds used so far by the engine's processes (frontend and workers, all threads)."""
    total = 0.0
    for proc in psutil.Process(served.proc.pid).children():
        with contextlib.suppress(psutil.NoSuchProcess):
            times = proc.cpu_times()
            total += times.user + times.system
    return total


class RawHttp:
    """GET over one keep-alive socket with TCP_NODELAY and no client library: the figure is the
    engine's answer time (httpx alone added 0.5-3 ms per request on the loaded 2-core box)."""

    def __init__(self, port: int, token: str) -> None:
        self.auth = f"Authorization: Bearer {token}\r\n"
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def get(self, target: str) -> tuple[int, bytes]:
        self.sock.sendall(f"GET {target} HTTP/1.1\r\nHost: engine\r\n{self.auth}\r\n".encode())
        buf = b""
        while True:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("the engine closed the connection")
            buf += chunk
            head, sep, body = buf.partition(b"\r\n\r\n")
            if sep:
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                if len(body) >= length:
                    return int(head.split(b" ")[1]), body[:length]

    def close(self) -> None:
        self.sock.close()


def range_latencies(port: int, token: str, path: Path, original: Path, size: int, count: int) -> list[float]:
    """4 KiB reads at random offsets within 8 MiB of the middle of the file (ms, sorted)."""
    rng = np.random.default_rng(5)
    middle, spread = size // 2, min(8 * MIB, size // 4)
    client, out = RawHttp(port, token), []
    try:
        with original.open("rb") as plain:
            for offset in rng.integers(middle - spread, middle + spread - 4096, count).tolist():
                t0 = time.perf_counter()
                status, body = client.get(f"/api/v1/compression/files/range?path={path}&offset={offset}&length=4096")
                out.append((time.perf_counter() - t0) * 1e3)
                plain.seek(offset)
                assert status == 200 and body == plain.read(4096), status
    finally:
        client.close()
    return sorted(out)


def run_benchmark(mib: int, runs: int, workers: int) -> Report:
    for tool in ("zstd", "lz4", "age", "age-keygen"):
        if shutil.which(tool) is None:
            raise SystemExit(f"perf.files needs the {tool} command (apt install zstd lz4 age)")
    report = Report(f"file jobs (perf.files): {mib} MiB of mixed data in /dev/shm, {workers} workers")
    with tempfile.TemporaryDirectory(dir="/dev/shm", prefix="sv-perf-files-") as tmp:
        d = Path(tmp)
        (d / "files").mkdir()
        src, out = d / "files" / "input.bin", d / "files"
        t0 = time.perf_counter()
        write_mixed(src, mib)
        print(f"wrote {mib} MiB of mixed data in {time.perf_counter() - t0:.1f} s; starting engined serve")
        subprocess.run(["age-keygen", "-o", str(d / "age.key")], check=True, capture_output=True)
        recipient = next(
            line.split(": ")[1] for line in (d / "age.key").read_text().splitlines() if "public key" in line
        )
        served = start_served(
            d,
            SIGMAVAULT_WORKERS=str(workers),
            SIGMAVAULT_SLOTS="128",
            SIGMAVAULT_JOB_ROOTS=str(out),
            SIGMAVAULT_DATA_DIR=str(d / "data"),
        )
        jobs = Jobs(served)
        try:
            times = _rounds(jobs, src, out, mib, runs, workers, recipient, d / "age.key")
            lat = range_latencies(served.http_port, served.token, out / "ours.zst", src, mib * MIB, 400)
        finally:
            jobs.close()
            stop_served(served)
        report.extra["mib"] = mib
        _report(report, times, lat)
    return report


def _rounds(
    jobs: Jobs, src: Path, out: Path, mib: int, runs: int, workers: int, recipient: str, age_key: Path
) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    sizes: list[float] = []

    def engine(**body: Any) -> tuple[float, float]:
        body.setdefault("source", str(src))
        cpu0 = engine_cpu(jobs.served)
        secs, job = jobs.run(overwrite=True, **body)
        if body.get("codec") == "zstd":
            sizes.append(job["bytes_out"] / (out / "cli.zst").stat().st_size)
        return secs, engine_cpu(jobs.served) - cpu0

    back = str(out / "back.bin")
    cases: list[tuple[str, Callable[[], tuple[float, float]]]] = [
        ("zstd_cli", lambda: timed_cli("zstd", f"-T{workers}", "-3", "-q", "-f", str(src), "-o", str(out / "cli.zst"))),
        ("zstd_engine", lambda: engine(operation="compress", codec="zstd", level=3, destination=str(out / "ours.zst"))),
        ("unzstd_engine", lambda: engine(operation="decompress", source=str(out / "ours.zst"), destination=back)),
        ("unzstd_cli", lambda: timed_cli("zstd", "-d", "--no-sparse", "-q", "-f", str(out / "ours.zst"), "-o", back)),
        ("lz4_cli", lambda: timed_cli("lz4", "-1", "-q", "-f", str(src), str(out / "cli.lz4"))),
        ("lz4_engine", lambda: engine(operation="compress", codec="lz4", destination=str(out / "ours.lz4"))),
        ("encrypt_engine", lambda: engine(operation="encrypt", destination=str(out / "ours.sv"))),
        ("encrypt_cli", lambda: timed_cli("age", "-r", recipient, "-o", str(out / "cli.age"), str(src))),
        ("decrypt_cli", lambda: timed_cli("age", "-d", "-i", str(age_key), "-o", back, str(out / "cli.age"))),
        ("decrypt_engine", lambda: engine(operation="decrypt", source=str(out / "ours.sv"), destination=back)),
    ]
    for i in range(runs):
        print(f"  round {i + 1} of {runs}", flush=True)
        for name, case in cases:
            secs, cpu = case()
            times.setdefault(name, []).append(secs)
            times.setdefault(f"{name}_cpu", []).append(cpu)
            print(f"    {name:16s} {secs:7.3f} s  {mib * MIB / secs / 1e6:7.0f} MB/s  cpu {cpu:6.3f} s", flush=True)
        (out / "back.bin").unlink(missing_ok=True)
    times["zstd_size"] = sizes
    return times


def _report(report: Report, t: dict[str, list[float]], lat: list[float]) -> None:
    def ratio(cli: str, engine: str) -> float:
        return median(t[cli]) / median(t[engine])

    report.add("compress_zstd3", ratio("zstd_cli", "zstd_engine"), "x", ">= 0.9", "zstd -T<cores> -3 time / engine's")
    report.add("zstd_size", median(t["zstd_size"]), "x", "<= 1.03", "engine .zst size / the CLI's")
    report.add("decompress_zstd", ratio("unzstd_cli", "unzstd_engine"), "x", ">= 1.3", "zstd -d --no-sparse / engine")
    report.add("compress_lz4", ratio("lz4_cli", "lz4_engine"), "x", ">= 2", "lz4 -1 time / engine's")
    report.add("encrypt", ratio("encrypt_cli", "encrypt_engine"), "x", ">= 2", "age -r time / engine's")
    report.add("decrypt", ratio("decrypt_cli", "decrypt_engine"), "x", ">= 2", "age -d time / engine's")
    report.add("range_4k_p50_ms", percentile(lat, 0.5), "ms", "<= 1", "HTTP GET on a kept-alive socket")
    report.add("range_4k_p99_ms", percentile(lat, 0.99), "ms")
    report.extra["seconds"] = {name: {"median": median(v), "runs": v} for name, v in t.items()}
    print("  CPU seconds per GiB (all of the engine's processes; the CLI's), medians:")
    for case in ("zstd", "unzstd", "lz4", "encrypt", "decrypt"):
        gib = report.extra["mib"] / 1024
        engine_cpu_s, cli_cpu_s = median(t[f"{case}_engine_cpu"]) / gib, median(t[f"{case}_cli_cpu"]) / gib
        report.extra.setdefault("cpu_s_per_gib", {})[case] = {"engine": engine_cpu_s, "cli": cli_cpu_s}
        print(f"    {case:10s} engine {engine_cpu_s:6.2f}   cli {cli_cpu_s:6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1024, help="file size in MiB (default 1024)")
    parser.add_argument("--runs", type=int, default=5, help="interleaved rounds; figures are medians (default 5)")
    parser.add_argument("--quick", action="store_true", help="256 MiB, 2 rounds")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)), help="default: usable cores")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args()
    mib, runs = (256, 2) if args.quick else (args.size, args.runs)
    report = run_benchmark(mib, runs, args.workers)
    report.write(args.json)


if __name__ == "__main__":
    main()
