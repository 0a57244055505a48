"""What the NAS surfaces' fuzzers share: one client for file jobs, inline tasks and storage calls over
HTTP and gRPC (with the engine's token), the verdict on one case, and the "nothing written" check.

A case is a request and what it must come to: refused at once with one of the expected error codes
(HTTP 4xx and the gRPC status the same code maps to), or, where the damage can only be found while the
file is read, a job that ends failed with one of them. Anything else fails the case: a 5xx or an
INTERNAL / UNKNOWN status, an answer after its deadline, a job that ends done or fails with another
code, and any file left behind where the case said nothing may be written.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import grpc
import httpx
from google.protobuf import json_format
from google.rpc import error_details_pb2, status_pb2

from frontends import pb, rpc
from frontends.schema import parse_body

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path

    from perf.fuzz.report import SurfaceReport

CALL_TIMEOUT_S = 10.0
JOB_TIMEOUT_S = 60.0
JOBS = "/api/v1/compression/jobs"
CRASH_CODES = frozenset({grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN})


@dataclass(frozen=True)
class Answer:
    """What one call came to: ``status`` (HTTP status or gRPC code name), the engine's ``code``, a job."""

    status: str
    code: str = ""
    job: dict[str, Any] = field(default_factory=dict)
    message: str = ""

    @property
    def label(self) -> str:
        return f"{self.status} {self.code}".strip()


def _grpc_code(exc: grpc.RpcError) -> tuple[str, str, str]:
    """(status name, the ErrorInfo reason in lower case, details)."""
    code = exc.code().name if hasattr(exc, "code") else "UNKNOWN"
    reason = ""
    for key, value in (exc.trailing_metadata() or ()) if hasattr(exc, "trailing_metadata") else ():
        if key == "grpc-status-details-bin":
            for detail in status_pb2.Status.FromString(value).details:
                info = error_details_pb2.ErrorInfo()
                if detail.Unpack(info):
                    reason = info.reason.lower()
    return code, reason, exc.details() if hasattr(exc, "details") else ""


class NasClient:
    """HTTP and gRPC to one engine, with its token."""

    def __init__(
        self, http_base: str, channel: grpc.Channel, headers: dict[str, str], metadata: tuple[tuple[str, str], ...]
    ) -> None:
        self.http = httpx.Client(base_url=http_base, headers=headers, timeout=CALL_TIMEOUT_S)
        self.metadata = metadata
        self.compression = rpc.CompressionServiceStub(channel)
        self.storage = rpc.StorageServiceStub(channel)
        self.agents = rpc.AgentServiceStub(channel)
        self.blocks = rpc.BlockServiceStub(channel)

    def close(self) -> None:
        self.http.close()

    # transports ------------------------------------------------------------------------------
    def http_call(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None) -> Answer:
        try:
            answer = self.http.request(method, path, json=body, params=params)
        except httpx.TimeoutException:
            return Answer("hung")
        except httpx.HTTPError as exc:
            return Answer("transport", type(exc).__name__)
        try:
            doc = answer.json()
        except ValueError:
            doc = {}
        ok = answer.status_code == 200 and isinstance(doc, dict)
        error = doc.get("error") if isinstance(doc, dict) and not ok else None
        error = error if isinstance(error, dict) else {}
        job = doc if ok else {}
        return Answer(str(answer.status_code), str(error.get("code", "")), job, str(error.get("message", "")))

    def grpc_call(self, method: Any, request: Any) -> Answer:
        try:
            reply = method(request, timeout=CALL_TIMEOUT_S, metadata=self.metadata)
        except grpc.RpcError as exc:
            status, reason, details = _grpc_code(exc)
            return Answer("hung" if status == "DEADLINE_EXCEEDED" else status, reason, message=details)
        return Answer("OK", job=json_format.MessageToDict(reply, preserving_proto_field_name=True))

    # file jobs -------------------------------------------------------------------------------
    def start_job(self, body: dict[str, Any], via: str = "http") -> Answer:
        if via == "http":
            return self.http_call("POST", JOBS, body)
        return self.grpc_call(self.compression.StartJob, parse_body(body, pb.StartFileJobRequest))

    def wait_job(self, job_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + JOB_TIMEOUT_S
        while time.monotonic() < deadline:
            job: dict[str, Any] = self.http.get(f"{JOBS}/{job_id}").json()
            if job.get("state") in ("done", "failed", "cancelled"):
                return job
            time.sleep(0.01)
        return {"state": "hung", "id": job_id}


def judge(
    report: SurfaceReport,
    what: str,
    answer: Answer,
    expected: Iterable[str],
    client: NasClient,
    *,
    job_codes: Iterable[str] = (),
    may_succeed: bool = False,
) -> str:
    """Record one case: refused with an ``expected`` code (HTTP 4xx or a non-crash gRPC status), or a
    job that fails with one of ``job_codes`` (``may_succeed``: or ends done). Returns the outcome."""
    expected, job_codes = set(expected), set(job_codes)
    if answer.status in ("200", "OK") and answer.job.get("id") and (job_codes or may_succeed):
        job = client.wait_job(str(answer.job["id"]))
        state, code = job.get("state"), job.get("error_code", "")
        outcome = f"job {state} {code}".strip()
        report.record(outcome)
        if state == "hung":
            report.hung += 1
            report.fail(f"{what}: job {answer.job['id']} did not end in {JOB_TIMEOUT_S:g} s")
        elif not ((state == "failed" and code in job_codes) or (state == "done" and may_succeed)):
            report.fail(
                f"{what}: job {state} {code!r} ({job.get('error', '')[:160]}); expected failed with {sorted(job_codes)}"
            )
        return outcome
    report.record(answer.label)
    if answer.status == "hung":
        report.hung += 1
        report.fail(f"{what}: no answer in {CALL_TIMEOUT_S:g} s")
    elif answer.status in ("200", "OK"):
        if not may_succeed:
            report.fail(f"{what}: accepted ({str(answer.job)[:160]}); expected a refusal with {sorted(expected)}")
    elif answer.status.isdigit() and int(answer.status) >= 500 and answer.code not in expected:
        report.fail(f"{what}: HTTP {answer.status} {answer.code} {answer.message[:160]}")
    elif answer.status in {c.name for c in CRASH_CODES} or answer.status == "transport":
        report.fail(f"{what}: {answer.label} {answer.message[:160]}")
    elif answer.code not in expected:
        report.fail(f"{what}: refused {answer.label} ({answer.message[:160]}); expected one of {sorted(expected)}")
    return answer.label


def listing(directory: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``directory`` with its size and mtime (what "nothing written" compares)."""
    out = {}
    for base, _, files in os.walk(directory):
        for name in files:
            path = os.path.join(base, name)
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                continue
            out[path] = (st.st_size, st.st_mtime_ns)
    return out


def nothing_written(
    report: SurfaceReport, what: str, before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]
) -> None:
    new = sorted(set(after) - set(before))
    changed = sorted(p for p in set(after) & set(before) if after[p] != before[p])
    if new or changed:
        report.fail(f"{what}: files written: new {new[:5]}, changed {changed[:5]}")


def run_families(report: SurfaceReport, families: list[Callable[[], None]], *, cases: int, seconds: float) -> None:
    """Draw from each family of cases in turn until ``cases`` were judged or ``seconds`` went by."""
    report.operations = len({f.__name__ for f in families})
    deadline = time.monotonic() + seconds
    i = 0
    while report.cases < cases and time.monotonic() < deadline:
        families[i % len(families)]()
        i += 1
