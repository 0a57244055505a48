"""``python -m perf load`` / ``perf compare`` against a real ``engined serve`` started here on free ports.

Every run is short (about a second at a low rate) and bounded by a subprocess timeout, so a generator
that failed to stop by itself fails the test instead of hanging it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

pytest.importorskip("hdrh", reason="the perf extra (hdrhistogram) is not installed")

from perf.load import histogram
from perf.load.spec import LoadSpec, UsageError, parse_weights
from perf.procs import free_port
from tests.served import Served, start_served, stop_served

ROOT = Path(__file__).resolve().parents[2]
RUN_BOUND_S = 45  # a generator that does not stop by itself fails here


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    workdir = tmp_path_factory.mktemp("load")
    (workdir / "files").mkdir()  # the job root (the data directory never is one)
    served = start_served(workdir, SIGMAVAULT_JOB_ROOTS=str(workdir / "files"))
    try:
        yield served
    finally:
        assert stop_served(served) == 0, served.output()


def perf(*args: str, timeout: float = RUN_BOUND_S) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "perf", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


def ports(served: Served) -> list[str]:
    return [
        "--target",
        "127.0.0.1",
        "--grpc-port",
        str(served.grpc_port),
        "--http-port",
        str(served.http_port),
        "--token-file",
        str(served.data_dir / "api-token"),
    ]


def check_json(path: Path, scenario: str) -> dict[str, Any]:
    result: dict[str, Any] = orjson.loads(path.read_bytes())
    for key in (
        "config",
        "machine",
        "elapsed_s",
        "stopped_by",
        "requests",
        "ok",
        "errors",
        "requests_per_s",
        "ok_per_s",
        "mb_per_s",
        "latency_ms",
        "errors_by_code",
        "ops",
        "generator",
        "timeline",
        "percentile_curve_ms",
        "histogram",
    ):
        assert key in result, key
    assert result["config"]["scenario"] == scenario
    assert set(result["latency_ms"]) >= {"p50", "p90", "p99", "p99_9", "max"}
    assert result["stopped_by"] == "duration"
    assert result["ok"] > 0, result
    assert result["errors"] == 0, result["errors_by_code"]
    assert result["latency_ms"]["p50"] <= result["latency_ms"]["p99"] <= result["latency_ms"]["max"]
    assert result["timeline"] and all("p99_ms" in row for row in result["timeline"])
    # the encoded histogram is the merged one: decoding it gives back the count
    assert histogram.merge([result["histogram"].encode()]).get_total_count() == result["ok"]
    assert len(result["generator"]["cpu_percent"]) == result["config"]["procs"]
    return result


def check_html(path: Path) -> None:
    text = path.read_text()
    assert text.count("<svg") == 3  # latency over time, percentile curve, throughput over time
    assert not re.findall(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", text, re.I), "the report fetches a URL"
    assert "<script" not in text.lower()


@pytest.mark.multiprocess
@pytest.mark.parametrize(
    ("scenario", "extra", "html"),
    [
        ("grpc-unary", ["--rate", "40"], True),  # open loop: latency from the intended send time
        ("grpc-stream", ["--rate", "10", "--block-bytes", "262144"], False),
        ("http", ["--concurrency", "2"], False),
        ("ws", ["--concurrency", "3"], True),
        ("mixed", ["--rate", "40", "--procs", "2"], False),  # two generators: histograms merged across processes
    ],
)
def test_scenario_against_the_engine(
    served: Served, tmp_path: Path, scenario: str, extra: list[str], html: bool
) -> None:
    out = tmp_path / "out.json"
    args = [
        "load",
        *ports(served),
        "--scenario",
        scenario,
        "--duration",
        "1.2",
        "--interval",
        "0.5",
        *extra,
        "--json",
        str(out),
    ]
    if html:
        args += ["--html", str(tmp_path / "out.html")]
    started = time.monotonic()
    done = perf(*args)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < RUN_BOUND_S
    result = check_json(out, scenario)
    assert "p99" in done.stdout and "generator CPU" in done.stdout
    if scenario == "ws":
        assert result["counts"] == "events" and result["ops"]["event"]["kind"] == "event"
        assert result["latency_ms"]["max"] < 1000  # event delay on one host: well under a second
    if scenario == "grpc-unary":
        assert set(result["ops"]) == {"echo", "compress"}
        assert "service_ms" in result and result["config"]["mode"] == "open"
        assert 30 <= result["requests"] <= 60  # 40/s for 1.2 s: the schedule, not the server, sets the count
    if scenario == "grpc-stream":
        assert result["mb_per_s"] > 0
    if scenario == "mixed":
        assert {"grpc-unary/echo", "http/status", "ws/event"} <= set(result["ops"])
        assert result["ops"]["ws/event"]["kind"] == "event"
    if html:
        check_html(tmp_path / "out.html")


@pytest.mark.multiprocess
def test_file_jobs_says_when_the_engine_has_none(served: Served, tmp_path: Path) -> None:
    job_dir = served.data_dir.parent / "files"  # the job root
    done = perf("load", *ports(served), "--scenario", "file-jobs", "--duration", "1", "--job-dir", str(job_dir))
    if done.returncode == 2:  # the file-jobs API has not landed on this engine
        assert done.stderr.strip() == (
            "perf load: file jobs are not available on this engine (POST /api/v1/compression/jobs answered HTTP 405)"
        )
    else:
        assert done.returncode == 0, done.stderr


@pytest.fixture
def bare_http() -> Iterator[int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "perf.bare", "http", str(port), "1000", "0.2", "1000"], cwd=ROOT)
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.multiprocess
def test_file_jobs_path_against_the_bare_jobs_server(bare_http: int, tmp_path: Path) -> None:
    """The POST-then-poll path, live, on the bare server that runs jobs (zstd of the file in a thread)."""
    out = tmp_path / "jobs.json"
    args = [
        "load",
        "--http-port",
        str(bare_http),
        "--scenario",
        "file-jobs",
        "--concurrency",
        "2",
        "--duration",
        "1",
        "--job-bytes",
        "1000000",
        "--job-dir",
        str(tmp_path),
        "--json",
        str(out),
    ]
    deadline = time.monotonic() + 15
    while True:  # the bare server takes a moment to bind
        done = perf(*args)
        if done.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert done.returncode == 0, done.stderr
    result = check_json(out, "file-jobs")
    assert result["mb_per_s"] > 0
    assert not list(tmp_path.glob("perf-jobs-*")), "the scenario left its files behind"


@pytest.mark.multiprocess
def test_compare_interleaves_engine_and_bare(served: Served, tmp_path: Path) -> None:
    out = tmp_path / "compare.json"
    done = perf(
        "compare",
        *ports(served),
        "--scenario",
        "http",
        "--rounds",
        "1",
        "--duration",
        "1",
        "--concurrency",
        "2",
        "--json",
        str(out),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[2] for line in lines if line.strip().startswith("round")] == ["engine", "bare"]
    assert "ratio" in done.stdout
    result = orjson.loads(out.read_bytes())
    assert result["ratios"]["ok_per_s"] > 0
    assert len(result["runs"]["engine"]) == len(result["runs"]["bare"]) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scenario", "nope"], "unknown scenario 'nope'"),
        (["--scenario", "http", "--target", "no-such-host.invalid"], "cannot resolve target"),
        (["--scenario", "ws", "--rate", "10"], "use --concurrency"),
        (["--scenario", "http", "--rate", "10", "--concurrency", "2"], "not allowed with argument"),
        (["--scenario", "http", "--weights", "status=x"], "is not a number"),
    ],
)
def test_bad_command_line_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    done = perf("load", *args, "--duration", "1")
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert message in done.stderr


def test_unreachable_target_is_one_line_and_exit_2() -> None:
    done = perf("load", "--scenario", "http", "--http-port", str(free_port()), "--duration", "1")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert "cannot reach HTTP at 127.0.0.1" in done.stderr


@pytest.mark.multiprocess
def test_ctrl_c_stops_cleanly_and_still_reports(served: Served, tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "perf",
            "load",
            *ports(served),
            "--scenario",
            "http",
            "--concurrency",
            "2",
            "--duration",
            "60",
            "--interval",
            "0.2",
            "--progress",
            "always",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert proc.stderr is not None
        os.set_blocking(proc.stderr.fileno(), False)
        seen = b""
        deadline = time.monotonic() + 20
        while b"req/s" not in seen and time.monotonic() < deadline:  # the live line: it is measuring
            seen += proc.stderr.read() or b""
            time.sleep(0.05)
        assert b"req/s" in seen, seen
        os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
        stdout, _ = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, seen
    assert b"\r\x1b[K" in seen  # the progress line is rewritten in place
    assert b"stopped by interrupt" in stdout
    assert orjson.loads(out.read_bytes())["stopped_by"] == "interrupt"


def test_histograms_merge_through_their_encoded_form() -> None:
    a, b = histogram.new(), histogram.new()
    for value_s in (0.001, 0.002, 0.003):
        histogram.record_s(a, value_s)
    histogram.record_s(b, 1.5)
    merged = histogram.merge([histogram.encode(a), histogram.encode(b)])
    summary = histogram.summary_ms(merged)
    assert summary["count"] == 4
    assert summary["p50"] == pytest.approx(2.0, rel=1e-3)
    assert summary["max"] == pytest.approx(1500, rel=1e-3)


def test_spec_splits_the_load_over_the_processes() -> None:
    spec = LoadSpec("http", concurrency=5, requests=11, procs=3)
    shares = [spec.for_process(i) for i in range(3)]
    assert [s.concurrency for s in shares] == [2, 2, 1]
    assert sum(s.requests or 0 for s in shares) == 11
    assert LoadSpec("http", rate=90.0, procs=3).for_process(2).rate == 30.0
    assert parse_weights("compress=0", "grpc-unary") == {"echo": 1, "compress": 0}
    with pytest.raises(UsageError, match="at least one weight"):
        parse_weights("echo=0,compress=0", "grpc-unary")
