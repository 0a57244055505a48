"""The files domain's typed records beside the job record (engine/jobs/): field names are the proto
messages' (compression.proto)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.core.tasks import CompressionJob


@dataclass(frozen=True, slots=True)
class RangeRead:
    """ReadRangeResponse, and the HTTP range answer's body and headers: plain bytes [offset, offset +
    length) of a seekable file, clamped to its end (``file_bytes``: its whole decompressed size)."""

    data: bytes
    offset: int
    length: int
    file_bytes: int


@dataclass(frozen=True, slots=True)
class FileJob:
    """One file job (the FileJob message): enums as their JSON labels (``operation`` "compress",
    ``state`` "running", ``codec`` "zstd"); ``codec`` None where the job has none (rewrap, decrypt, a
    decompress that has not read its file yet): absent from the answer, as an unset enum is.
    The ``compression.progress`` event carries ``event_fields()``, the same JSON."""

    id: str
    operation: str  # compress, decompress, encrypt, decrypt, rewrap
    state: str  # queued, running, done, failed, cancelled
    source: str
    destination: str
    codec: str | None
    level: int
    overwrite: bool
    compress: bool
    bytes_total: int
    bytes_done: int
    percent: float
    mb_per_s: float
    eta_s: float
    bytes_out: int
    blocks: int
    blocks_resent: int
    format: str
    mode: str
    key_id: str
    ratio: float
    files_total: int
    files_done: int
    files_rewrapped: int
    created_unix_ns: int
    started_unix_ns: int
    finished_unix_ns: int
    message: str
    error: str
    error_code: str

    def event_fields(self) -> dict[str, object]:
        """The ``compression.progress`` event's data: the record's fields, ``codec`` left out when
        None (as the HTTP answer leaves it out) rather than null."""
        fields = {name: getattr(self, name) for name in _FILE_JOB_FIELDS}
        if self.codec is None:
            del fields["codec"]
        return fields


_FILE_JOB_FIELDS = tuple(FileJob.__dataclass_fields__)


@dataclass(frozen=True, slots=True)
class Rewrapped:
    """One sealed file re-wrapped, or not (engine/files/sealed_files.py ``rewrap_at``)."""

    key_id: str  # hex: the key the file is sealed to now; "" for a file skipped
    rewrapped: bool  # False: it was on that key already (or skipped)
    previous_key_id: str = ""  # hex, when re-wrapped
    skipped: bool = False  # not a sealed file (``skip_unsealed``): left alone
    path: str = ""  # ``rewrap_file``: the path it was given


@dataclass(frozen=True, slots=True)
class JobListing:
    """ListCompressionJobsResponse: the newest one-block jobs of tasks and streams (engine/core/tasks.py)
    and the newest file jobs, each newest first."""

    jobs: tuple[CompressionJob, ...]
    file_jobs: tuple[FileJob, ...]
