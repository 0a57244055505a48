"""What both transports share for file jobs and keys: StartFileJobRequest as the domain's arguments,
and the enum labels of the domain's answers (FileOperation, FileCodec, FileJobState)."""

from __future__ import annotations

from typing import Any

from frontends._gen.sigmavault.v1 import compression_pb2 as pb
from frontends.schema import enum_labels

_OPERATIONS = {number: label for label, number in enum_labels(pb.FileOperation.DESCRIPTOR).items()}
_CODECS = {number: label for label, number in enum_labels(pb.FileCodec.DESCRIPTOR).items()}


def start_args(request: pb.StartFileJobRequest) -> dict[str, Any]:
    """Keyword arguments of FileJobs.start (unset enums are empty strings, an unset level None)."""
    return {
        "operation": _OPERATIONS.get(request.operation, ""),
        "source": request.source,
        "destination": request.destination,
        "codec": _CODECS.get(request.codec, ""),
        "level": request.level if request.HasField("level") else None,
        "overwrite": request.overwrite,
        "compress": request.compress,
    }
