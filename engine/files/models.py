"""The files domain's typed records beside the job record (engine/jobs/): field names are the proto
messages' (compression.proto)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RangeRead:
    """ReadRangeResponse, and the HTTP range answer's body and headers: plain bytes [offset, offset +
    length) of a seekable file, clamped to its end (``file_bytes``: its whole decompressed size)."""

    data: bytes
    offset: int
    length: int
    file_bytes: int
