"""Phase 4: a full disk and a vanished source fail their jobs cleanly, leaving no output and no temporary.

- The source deleted while its job runs, and while its job waits in the queue: ``source_vanished``.
- A full destination (a 16 MiB ext4 image, loop-mounted inside the job root; root only): streams
  without declared sizes (files of the ``zstd`` and ``lz4`` tools read from a pipe) decompressed onto
  it, and a compression that passed the free-space check while queued, the disk filled before it ran:
  each fails ``insufficient_space`` with the filesystem as it was before the job.

A job is held in the queue by two slow jobs occupying both running places (file jobs run two at a
time), cancelled once the case is set up.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from typing import TYPE_CHECKING, Any

import httpx

from perf.chaos.filecheck import JOBS, wait_job, write_source
from perf.chaos.report import PhaseReport
from perf.load import payloads

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from perf.procs import Served

IMAGE_MIB = 16


def why_no_loop_mount() -> str:
    """Empty when this process can make and mount a loop filesystem, else why not."""
    if os.geteuid() != 0:
        return "needs root (mount -o loop)"
    for tool in ("mkfs.ext4", "mount", "umount"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    if not os.path.exists("/dev/loop-control"):
        return "no /dev/loop-control (loop devices unavailable here)"
    return ""


@contextlib.contextmanager
def loop_filesystem(image: Path, mountpoint: Path, mib: int = IMAGE_MIB) -> Iterator[Path]:
    """A fresh ext4 of ``mib`` MiB mounted at ``mountpoint``; unmounted and deleted on the way out."""
    with image.open("wb") as f:
        f.truncate(mib << 20)
    mountpoint.mkdir(parents=True, exist_ok=True)
    mounted = False
    try:
        subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", str(image)], check=True, capture_output=True, timeout=60)
        subprocess.run(
            ["mount", "-o", "loop", str(image), str(mountpoint)], check=True, capture_output=True, timeout=60
        )
        mounted = True
        yield mountpoint
    finally:
        if mounted:
            subprocess.run(["umount", str(mountpoint)], capture_output=True, timeout=60)
        with contextlib.suppress(OSError):
            mountpoint.rmdir()
        image.unlink(missing_ok=True)


class Jobs:
    def __init__(self, served: Served) -> None:
        self.http = httpx.Client(base_url=served.http, headers=served.headers, timeout=30)

    def close(self) -> None:
        self.http.close()

    def start(self, **body: Any) -> dict[str, Any]:
        answer = self.http.post(JOBS, json=body)
        if answer.status_code != 200:
            raise RuntimeError(f"job refused: HTTP {answer.status_code} {answer.text[:300]}")
        job: dict[str, Any] = answer.json()
        return job

    def running(self, job_id: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.http.get(f"{JOBS}/{job_id}").json()
            if job["state"] == "running" and job["bytes_done"] > 0:
                return
            if job["state"] not in ("queued", "running"):
                raise RuntimeError(f"job {job_id} ended before it was caught running: {job}")
            time.sleep(0.01)
        raise RuntimeError(f"job {job_id} not running after {timeout:g} s")

    def wait(self, job_id: str) -> dict[str, Any]:
        return wait_job(self.http, job_id, timeout=120)

    @contextlib.contextmanager
    def queue_held(self, root: Path) -> Iterator[None]:
        """Both running places taken by slow jobs until the block ends (then they are cancelled)."""
        source = root / "holder.bin"
        if not source.exists():
            write_source(source, 32 << 20, seed=17)
        holders = [
            self.start(
                operation="compress",
                source=str(source),
                destination=str(root / f"holder{i}.zst"),
                level=19,
                overwrite=True,
            )["id"]
            for i in range(2)
        ]
        try:
            for job_id in holders:
                self.running(job_id)
            yield
        finally:
            for job_id in holders:
                self.http.delete(f"{JOBS}/{job_id}")


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name not in ("lost+found", "filler"))


def _case(report: PhaseReport, name: str, job: dict[str, Any], code: str, left: list[str], extra: str = "") -> None:
    report.figures.setdefault("cases", {})[name] = {
        "state": job.get("state"),
        "error_code": job.get("error_code"),
        "error": job.get("error"),
        "left": left,
    }
    report.check(
        name,
        job.get("state") == "failed" and job.get("error_code") == code and not left,
        f"{job.get('state')} {job.get('error_code')}: {job.get('error')}; left behind: {left or 'nothing'}" + extra,
    )


def vanished_cases(report: PhaseReport, jobs: Jobs, root: Path) -> None:
    work = root / "vanish"
    work.mkdir(exist_ok=True)
    source = work / "running.bin"
    write_source(source, 32 << 20, seed=19)
    job = jobs.start(operation="compress", source=str(source), destination=str(work / "running.zst"), level=19)
    jobs.running(job["id"])
    source.unlink()
    _case(report, "source deleted while its job runs", jobs.wait(job["id"]), "source_vanished", leftovers(work))
    source = work / "queued.bin"
    write_source(source, 1 << 20, seed=23)
    with jobs.queue_held(root):
        job = jobs.start(operation="compress", source=str(source), destination=str(work / "queued.zst"))
        source.unlink()
    _case(report, "source deleted while its job waits", jobs.wait(job["id"]), "source_vanished", leftovers(work))
    work.rmdir()


def _stream_file(root: Path, tool: str, size: int) -> Path:
    """A file of the ``tool`` CLI made from a pipe: one frame that declares no size."""
    plain = payloads.mixed(size, seed=29)
    out = root / f"stream.{'zst' if tool == 'zstd' else 'lz4'}"
    packed = subprocess.run([tool, "-q", "-c"], input=plain, capture_output=True, check=True, timeout=60).stdout
    out.write_bytes(packed)
    return out


def _fill(directory: Path, keep: int = 64 << 10) -> Path:
    """A file taking all but ``keep`` bytes of ``directory``'s filesystem."""
    filler = directory / "filler"
    with filler.open("wb") as f:
        os.posix_fallocate(f.fileno(), 0, max(1, shutil.disk_usage(directory).free - keep))
    return filler


def full_disk_cases(report: PhaseReport, jobs: Jobs, root: Path, workdir: Path) -> None:
    with loop_filesystem(workdir / "full.img", root / "full") as full:
        free = shutil.disk_usage(full).free
        report.figures["filesystem"] = {"size_mib": IMAGE_MIB, "free_bytes": free}
        tools = [tool for tool in ("zstd", "lz4") if shutil.which(tool)]
        for tool in tools:  # a stream larger than the disk: stopped at the free space seen when it was planned
            packed = _stream_file(root, tool, 3 * free)
            job = jobs.start(operation="decompress", source=str(packed), destination=str(full / "out.bin"))
            done = jobs.wait(job["id"])
            _case(
                report,
                f"{tool} stream larger than the disk",
                done,
                "insufficient_space",
                leftovers(full),
                f"; free {shutil.disk_usage(full).free} of {free} bytes afterwards",
            )
            packed.unlink()
        # jobs that fit when they were planned, the disk filled while they waited: ENOSPC while writing
        cases = [("compression, disk filled while it waited", "fits.bin", "fits.zst", "compress")]
        if tools:
            cases.append((f"{tools[0]} stream, disk filled while it waited", "", "stream.out", "decompress"))
        for name, source_name, dest_name, operation in cases:
            source = root / source_name if source_name else _stream_file(root, tools[0], free // 2)
            if source_name:
                write_source(source, free // 2, seed=31)
            with jobs.queue_held(root):
                job = jobs.start(operation=operation, source=str(source), destination=str(full / dest_name))
                filler = _fill(full)
            done = jobs.wait(job["id"])
            filler.unlink()
            _case(report, name, done, "insufficient_space", leftovers(full))
            source.unlink()
        if len(tools) < 2:
            report.figures["streams_skipped"] = f"no {', '.join(sorted({'zstd', 'lz4'} - set(tools)))} tool here"


def run(served: Served, root: Path, workdir: Path) -> PhaseReport:
    report = PhaseReport("full disk and vanished source")
    jobs = Jobs(served)
    try:
        vanished_cases(report, jobs, root)
        why = why_no_loop_mount()
        if why:
            report.figures["full_disk_skipped"] = why
            report.check("full disk", True, f"skipped: {why}")
        else:
            full_disk_cases(report, jobs, root, workdir)
    finally:
        jobs.close()
    return report
