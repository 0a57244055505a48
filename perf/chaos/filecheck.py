"""VerifiedJobs: file jobs run one after another during a chaos run, each output checked byte for byte.

A thread of the chaos run: it writes one source of mixed data, then repeatedly asks the engine to
compress it (``POST /api/v1/compression/jobs``, zstd), waits for the job to end, and decompresses the
output with the ``zstd`` command-line tool, an implementation independent of the engine, comparing
the result with the source (SHA-256). Workers die under these jobs; the job must resend the lost
blocks (``blocks_resent``) and still write exactly the bytes an undisturbed run would.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from perf.load import payloads

if TYPE_CHECKING:
    from pathlib import Path

JOBS = "/api/v1/compression/jobs"
FINAL = ("done", "failed", "cancelled")
JOB_TIMEOUT_S = 180.0


def zstd_cli() -> str | None:
    return shutil.which("zstd")


def write_source(path: Path, size: int, seed: int) -> str:
    """A source of ``size`` bytes of mixed data; returns its SHA-256."""
    data = payloads.mixed(size, seed)
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def start_running_job(http_base: str, headers: dict[str, str], source: Path, destination: Path, level: int) -> str:
    """A compression job from ``source``, returned once it is caught running with bytes done (the
    moment the chaos phases kill a process under it); RuntimeError if it ends first or never runs."""
    with httpx.Client(base_url=http_base, headers=headers, timeout=30) as http:
        answer = http.post(
            JOBS,
            json={
                "operation": "compress",
                "source": str(source),
                "level": level,
                "destination": str(destination),
                "overwrite": True,
            },
        )
        job_id: str = answer.raise_for_status().json()["id"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            job = http.get(f"{JOBS}/{job_id}").json()
            if job["state"] == "running" and job["bytes_done"] > 0:
                return job_id
            if job["state"] not in ("queued", "running"):
                raise RuntimeError(f"the job to interrupt ended first: {job['state']} {job['error']}")
            time.sleep(0.005)
    raise RuntimeError(f"job {job_id} was not running after 60 s")


def unzstd_sha256(path: Path) -> str:
    """SHA-256 of what ``zstd -d`` makes of ``path`` (streamed through a pipe)."""
    digest = hashlib.sha256()
    with subprocess.Popen(["zstd", "-d", "-c", "-q", str(path)], stdout=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        while chunk := proc.stdout.read(1 << 20):
            digest.update(chunk)
    if proc.returncode != 0:
        return f"zstd -d failed with exit code {proc.returncode}"
    return digest.hexdigest()


def wait_job(http: httpx.Client, job_id: str, timeout: float = JOB_TIMEOUT_S) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = http.get(f"{JOBS}/{job_id}").json()
        if job.get("state") in FINAL or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


@dataclass
class VerifiedJobs:
    http_base: str
    headers: dict[str, str]  # the engine's token
    workdir: Path
    source_bytes: int
    started: threading.Event
    seed: int = 7
    stop: threading.Event = field(default_factory=threading.Event)
    jobs: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="chaos-filejobs", daemon=True)
        self._thread.start()

    def join(self) -> None:
        """Stop after the job in progress (it is bounded by JOB_TIMEOUT_S)."""
        self.stop.set()
        if self._thread is not None:
            self._thread.join(JOB_TIMEOUT_S + 30)

    def _run(self) -> None:
        try:
            source = self.workdir / "verified-source.bin"
            expected = write_source(source, self.source_bytes, self.seed)
            self.started.wait(120)
            with httpx.Client(base_url=self.http_base, headers=self.headers, timeout=30) as http:
                number = 0
                while not self.stop.is_set():
                    self.jobs.append(self._one(http, source, expected, number))
                    number += 1
        except Exception as exc:  # reported, never a silent dead thread
            self.error = f"{type(exc).__name__}: {exc}"

    def _one(self, http: httpx.Client, source: Path, expected: str, number: int) -> dict[str, Any]:
        destination = self.workdir / f"verified-{number}.zst"
        answer = http.post(
            JOBS,
            json={
                "operation": "compress",
                "source": str(source),
                "destination": str(destination),
                "codec": "zstd",
                "level": 3,
                "overwrite": True,
            },
        )
        if answer.status_code != 200:
            return {"state": f"refused: HTTP {answer.status_code} {answer.text[:200]}", "identical": False}
        job = wait_job(http, answer.json()["id"])
        out = {k: job.get(k) for k in ("id", "state", "blocks", "blocks_resent", "error_code", "error")}
        if job.get("state") == "done":
            out["identical"] = unzstd_sha256(destination) == expected
        else:
            out["identical"] = False
        destination.unlink(missing_ok=True)
        return out

    def figures(self) -> dict[str, Any]:
        return {
            "jobs": len(self.jobs),
            "done": sum(1 for j in self.jobs if j.get("state") == "done"),
            "identical": sum(1 for j in self.jobs if j.get("identical")),
            "blocks_resent": sum(int(j.get("blocks_resent") or 0) for j in self.jobs),
            "source_bytes": self.source_bytes,
            "failed": [j for j in self.jobs if not j.get("identical")],
        }
