from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetCompressionStatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CompressionStats(_message.Message):
    __slots__ = ("compress_tasks", "decompress_tasks", "errors", "bytes_in", "bytes_out", "ratio", "compress_mb_per_s", "decompress_mb_per_s", "jobs_running", "jobs_total")
    COMPRESS_TASKS_FIELD_NUMBER: _ClassVar[int]
    DECOMPRESS_TASKS_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    BYTES_IN_FIELD_NUMBER: _ClassVar[int]
    BYTES_OUT_FIELD_NUMBER: _ClassVar[int]
    RATIO_FIELD_NUMBER: _ClassVar[int]
    COMPRESS_MB_PER_S_FIELD_NUMBER: _ClassVar[int]
    DECOMPRESS_MB_PER_S_FIELD_NUMBER: _ClassVar[int]
    JOBS_RUNNING_FIELD_NUMBER: _ClassVar[int]
    JOBS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    compress_tasks: int
    decompress_tasks: int
    errors: int
    bytes_in: int
    bytes_out: int
    ratio: float
    compress_mb_per_s: float
    decompress_mb_per_s: float
    jobs_running: int
    jobs_total: int
    def __init__(self, compress_tasks: _Optional[int] = ..., decompress_tasks: _Optional[int] = ..., errors: _Optional[int] = ..., bytes_in: _Optional[int] = ..., bytes_out: _Optional[int] = ..., ratio: _Optional[float] = ..., compress_mb_per_s: _Optional[float] = ..., decompress_mb_per_s: _Optional[float] = ..., jobs_running: _Optional[int] = ..., jobs_total: _Optional[int] = ...) -> None: ...

class ListCompressionJobsRequest(_message.Message):
    __slots__ = ("limit",)
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    limit: int
    def __init__(self, limit: _Optional[int] = ...) -> None: ...

class CompressionJob(_message.Message):
    __slots__ = ("id", "kind", "codec", "state", "source", "blocks", "bytes_in", "bytes_out", "errors", "started_unix_ns", "finished_unix_ns", "error")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CODEC_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    BLOCKS_FIELD_NUMBER: _ClassVar[int]
    BYTES_IN_FIELD_NUMBER: _ClassVar[int]
    BYTES_OUT_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    STARTED_UNIX_NS_FIELD_NUMBER: _ClassVar[int]
    FINISHED_UNIX_NS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    id: str
    kind: str
    codec: str
    state: str
    source: str
    blocks: int
    bytes_in: int
    bytes_out: int
    errors: int
    started_unix_ns: int
    finished_unix_ns: int
    error: str
    def __init__(self, id: _Optional[str] = ..., kind: _Optional[str] = ..., codec: _Optional[str] = ..., state: _Optional[str] = ..., source: _Optional[str] = ..., blocks: _Optional[int] = ..., bytes_in: _Optional[int] = ..., bytes_out: _Optional[int] = ..., errors: _Optional[int] = ..., started_unix_ns: _Optional[int] = ..., finished_unix_ns: _Optional[int] = ..., error: _Optional[str] = ...) -> None: ...

class ListCompressionJobsResponse(_message.Message):
    __slots__ = ("jobs",)
    JOBS_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[CompressionJob]
    def __init__(self, jobs: _Optional[_Iterable[_Union[CompressionJob, _Mapping]]] = ...) -> None: ...
