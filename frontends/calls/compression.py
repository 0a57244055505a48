"""CompressionService's RPCs as one table (frontends/calls/__init__.py): the workers' figures, the
jobs (the one-block jobs of tasks and streams, engine/core/tasks.py, and the file jobs of the files
domain) and range reads of seekable files.

ListJobs is composed here from its two owners (TaskService and FileJobs). A StartFileJobRequest's
enums arrive as numbers and go to FileJobs as their labels ("compress", "zstd"; unset: "").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.files.models import FileJob, JobListing
from frontends._gen.sigmavault.v1 import compression_pb2 as pb
from frontends.calls.table import Call
from frontends.schema import enum_labels

if TYPE_CHECKING:
    from engine.core.tasks import CompressionStats
    from engine.runtime import Runtime

_OPERATIONS = {number: label for label, number in enum_labels(pb.FileOperation.DESCRIPTOR).items()}
_CODECS = {number: label for label, number in enum_labels(pb.FileCodec.DESCRIPTOR).items()}
DEFAULT_LIMIT = 50


async def _stats(rt: Runtime, request: pb.GetCompressionStatsRequest) -> CompressionStats:
    return rt.compression_stats()


async def _jobs(rt: Runtime, request: pb.ListCompressionJobsRequest) -> JobListing:
    limit = request.limit or DEFAULT_LIMIT
    return JobListing(tuple(rt.tasks.recent_jobs(limit)), tuple(rt.files.recent(limit)))


async def _start(rt: Runtime, request: pb.StartFileJobRequest) -> FileJob:
    return await rt.files.start(
        _OPERATIONS.get(request.operation, ""),
        request.source,
        request.destination,
        codec=_CODECS.get(request.codec, ""),
        level=request.level if request.HasField("level") else None,
        overwrite=request.overwrite,
        compress=request.compress,
    )


async def _get(rt: Runtime, request: pb.GetFileJobRequest) -> FileJob:
    return rt.files.get(request.id)


CALLS: dict[str, Call] = {
    "GetStats": Call(pb.GetCompressionStatsRequest, pb.CompressionStats, _stats),
    "ListJobs": Call(pb.ListCompressionJobsRequest, pb.ListCompressionJobsResponse, _jobs),
    "StartJob": Call(pb.StartFileJobRequest, pb.FileJob, _start),
    "GetJob": Call(pb.GetFileJobRequest, pb.FileJob, _get),
    "CancelJob": Call(pb.CancelFileJobRequest, pb.FileJob, lambda rt, r: rt.files.cancel(r.id)),
    "ReadRange": Call(
        pb.ReadRangeRequest, pb.ReadRangeResponse, lambda rt, r: rt.files.read_range(r.path, r.offset, r.length)
    ),
}
