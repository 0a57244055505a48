"""file-jobs: compression jobs on whole files, ``POST /api/v1/compression/jobs`` then polling the job.

A request is one job, from the POST until ``GET /api/v1/compression/jobs/{id}`` reports a final state
(done, failed or cancelled); MB/s counts source bytes. Source and destination are paths on the
engine's host: by default the harness writes a source of ``job_bytes`` mixed data into a directory
of its own (``--job-dir``, which must be one the engine accepts: its data dir or a job root) and
deletes each destination once its job is over. An engine without the file-jobs API answers the
POST with 404 or 405, and the scenario says so and stops before measuring.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from perf.load import payloads
from perf.load.httpclient import HttpPool
from perf.load.scenarios.base import Op, Outcome, Scenario, TargetError
from perf.load.scenarios.http import check_reachable, code_of, fetch

if TYPE_CHECKING:
    from perf.load.spec import LoadSpec

JOBS_PATH = "/api/v1/compression/jobs"
FINAL_STATES = ("done", "failed", "cancelled")
POLL_S = 0.02
NOT_AVAILABLE = "file jobs are not available on this engine"


def _field(doc: Any, name: str) -> Any:
    """``doc[name]`` or ``doc["job"][name]``: the job may come bare or wrapped."""
    if isinstance(doc, dict):
        if name in doc:
            return doc[name]
        if isinstance(doc.get("job"), dict):
            return doc["job"].get(name)
    return None


class FileJobs:
    def __init__(self, spec: LoadSpec, index: int) -> None:
        self.spec, self.index = spec, index
        self.pool = HttpPool(spec.host, spec.http_port, spec.auth_header)
        self.workdir: Path | None = None
        self.source = spec.job_source
        self.source_bytes = 0
        self.numbers = itertools.count()

    async def open(self) -> None:
        await check_reachable(self.pool, "HTTP")
        status, _ = await self.pool.request("POST", JOBS_PATH, b"{}")  # no fields: a real API answers 400
        if status in (404, 405):
            raise TargetError(f"{NOT_AVAILABLE} (POST {JOBS_PATH} answered HTTP {status})")
        await asyncio.to_thread(self._prepare)

    def _prepare(self) -> None:
        """This process's directory and, unless one was given, a source file of mixed data in it."""
        self.workdir = Path(tempfile.mkdtemp(prefix=f"perf-jobs-{os.getpid()}-", dir=self.spec.job_dir or None))
        if not self.source:
            path = self.workdir / "source.bin"
            path.write_bytes(payloads.mixed(self.spec.job_bytes, self.spec.seed + self.index))
            self.source = str(path)
        # a --job-source on another host cannot be measured from here: its size is taken as --job-bytes
        self.source_bytes = os.path.getsize(self.source) if os.path.exists(self.source) else self.spec.job_bytes

    async def job(self) -> Outcome:
        assert self.workdir is not None
        destination = self.workdir / f"out-{next(self.numbers)}.zst"
        body = orjson.dumps(
            {
                "operation": "compress",
                "source": self.source,
                "destination": str(destination),
                "codec": "zstd",
                "level": 3,
                "overwrite": True,
            }
        )
        try:
            return await self._run(body)
        finally:
            with contextlib.suppress(OSError):
                destination.unlink()

    async def _run(self, body: bytes) -> Outcome:
        deadline = time.monotonic() + self.spec.timeout_s
        status, answer = await fetch(self.pool, "POST", JOBS_PATH, body, self.spec.timeout_s)
        if status not in (200, 201, 202):
            return Outcome(code_of(status, answer))
        job_id = _field(orjson.loads(answer), "id")
        if job_id is None:
            return Outcome("bad_response")
        while (left := deadline - time.monotonic()) > 0:
            status, answer = await fetch(self.pool, "GET", f"{JOBS_PATH}/{job_id}", None, left)
            if status != 200:
                return Outcome(code_of(status, answer))
            doc = orjson.loads(answer)
            state = _field(doc, "state")
            if state == "done":
                return Outcome(nbytes=self.source_bytes)
            if state in FINAL_STATES:
                return Outcome(f"job {state}: {_field(doc, 'error') or 'no reason given'}"[:80])
            await asyncio.sleep(POLL_S)
        return Outcome("timeout")

    async def close(self) -> None:
        await self.pool.close()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def scenario(self, weight: float = 1.0) -> Scenario:
        return Scenario(ops=[Op("job", weight, self.job)], opens=[self.open], closes=[self.close])


def build(spec: LoadSpec, index: int, weights: dict[str, float]) -> Scenario:
    return FileJobs(spec, index).scenario(weights.get("job", 1.0))
