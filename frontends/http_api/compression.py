"""Compression routes: the workers' figures, the jobs (one-block and file jobs) and range reads. Each is
a CompressionService RPC of frontends/calls/compression.py, its request built from the path, query and
body; the range read answers the plain bytes themselves, its figures in the headers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.responses import Response

from engine.core.tasks import JOB_LIMIT_MAX
from engine.files.ranges import MAX_RANGE_BYTES
from frontends._gen.sigmavault.v1 import compression_pb2 as pb
from frontends.audit import note_target
from frontends.calls.compression import CALLS, DEFAULT_LIMIT
from frontends.http_api.calls import answer
from frontends.http_api.routing import ID_PARAM, Endpoint, Query, int_query, path_name, read_json, str_query
from frontends.schema import parse_body

if TYPE_CHECKING:
    from starlette.requests import Request

    from engine.files.models import RangeRead
    from engine.runtime import Runtime

LIMIT = Query(
    "limit",
    {"type": "integer", "minimum": 1, "maximum": JOB_LIMIT_MAX, "default": DEFAULT_LIMIT},
    "how many jobs of each list, newest first",
)
RANGE = (
    Query("path", {"type": "string", "maxLength": 4096}, "a seekable zstd file under the job roots", required=True),
    Query("offset", {"type": "integer", "minimum": 0}, "first byte, in the decompressed data", required=True),
    Query("length", {"type": "integer", "minimum": 1, "maximum": MAX_RANGE_BYTES}, "bytes to read", required=True),
)
BODY_LIMIT = 64 * 1024
JOB_ID = (("id", ID_PARAM),)


def endpoints(rt: Runtime) -> list[Endpoint]:
    async def stats(request: Request) -> Response:
        return await answer(rt, CALLS["GetStats"])

    async def jobs(request: Request) -> Response:
        limit = int_query(request, "limit", DEFAULT_LIMIT, 1, JOB_LIMIT_MAX)
        return await answer(rt, CALLS["ListJobs"], pb.ListCompressionJobsRequest(limit=limit))

    async def start_job(request: Request) -> Response:
        message = parse_body(
            await read_json(request, BODY_LIMIT), pb.StartFileJobRequest, required=("operation", "source")
        )
        note_target(message)
        return await answer(rt, CALLS["StartJob"], message)

    async def get_job(request: Request) -> Response:
        return await answer(rt, CALLS["GetJob"], pb.GetFileJobRequest(id=path_name(request)))

    async def cancel_job(request: Request) -> Response:
        return await answer(rt, CALLS["CancelJob"], pb.CancelFileJobRequest(id=path_name(request)))

    async def read_range(request: Request) -> Response:
        message = pb.ReadRangeRequest(
            path=str_query(request, "path", 4096),
            offset=int_query(request, "offset", 0, 0, 2**63 - 1),
            length=int_query(request, "length", 0, 1, MAX_RANGE_BYTES),
        )
        got: RangeRead = await CALLS["ReadRange"].run(rt, message)
        start, total = got.offset, got.file_bytes
        headers = {
            "Content-Range": f"bytes {start}-{start + got.length - 1}/{total}" if got.length else f"bytes */{total}",
            "X-Sigmavault-File-Bytes": str(total),
        }
        return Response(got.data, media_type="application/octet-stream", headers=headers)

    job_errors = (409, 413, 429, 507)
    return [
        Endpoint("GET", "/api/v1/compression/stats", stats, "Compression totals", pb.CompressionStats.DESCRIPTOR),
        Endpoint(
            "GET",
            "/api/v1/compression/jobs",
            jobs,
            "Recent jobs, newest first: one-block jobs of tasks and streams (jobs) and file jobs (file_jobs)",
            pb.ListCompressionJobsResponse.DESCRIPTOR,
            query=(LIMIT,),
        ),
        Endpoint(
            "POST",
            "/api/v1/compression/jobs",
            start_job,
            "Start a file job: compress, decompress, encrypt, decrypt or rewrap a file",
            pb.FileJob.DESCRIPTOR,
            pb.StartFileJobRequest.DESCRIPTOR,
            required=("operation", "source"),
            errors=job_errors,
            call="compression.StartJob",
        ),
        Endpoint(
            "GET", "/api/v1/compression/jobs/{id}", get_job, "One file job", pb.FileJob.DESCRIPTOR, path_schemas=JOB_ID
        ),
        Endpoint(
            "DELETE",
            "/api/v1/compression/jobs/{id}",
            cancel_job,
            "Cancel a file job (nothing is left under its destination)",
            pb.FileJob.DESCRIPTOR,
            path_schemas=JOB_ID,
            call="compression.CancelJob",
        ),
        Endpoint(
            "GET",
            "/api/v1/compression/files/range",
            read_range,
            "Plain bytes of a seekable zstd file, "
            "decoding only the frames that hold them (bounded work: 413 past a limit)",
            None,
            query=RANGE,
            content_type="application/octet-stream",
            errors=(409, 413),
        ),
    ]
