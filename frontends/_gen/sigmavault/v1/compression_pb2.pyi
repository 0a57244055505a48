from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FileOperation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FILE_OPERATION_UNSPECIFIED: _ClassVar[FileOperation]
    FILE_OPERATION_COMPRESS: _ClassVar[FileOperation]
    FILE_OPERATION_DECOMPRESS: _ClassVar[FileOperation]
    FILE_OPERATION_ENCRYPT: _ClassVar[FileOperation]
    FILE_OPERATION_DECRYPT: _ClassVar[FileOperation]
    FILE_OPERATION_REWRAP: _ClassVar[FileOperation]

class FileCodec(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FILE_CODEC_UNSPECIFIED: _ClassVar[FileCodec]
    FILE_CODEC_ZSTD: _ClassVar[FileCodec]
    FILE_CODEC_LZ4: _ClassVar[FileCodec]

class FileJobState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FILE_JOB_STATE_UNSPECIFIED: _ClassVar[FileJobState]
    FILE_JOB_STATE_QUEUED: _ClassVar[FileJobState]
    FILE_JOB_STATE_RUNNING: _ClassVar[FileJobState]
    FILE_JOB_STATE_DONE: _ClassVar[FileJobState]
    FILE_JOB_STATE_FAILED: _ClassVar[FileJobState]
    FILE_JOB_STATE_CANCELLED: _ClassVar[FileJobState]
FILE_OPERATION_UNSPECIFIED: FileOperation
FILE_OPERATION_COMPRESS: FileOperation
FILE_OPERATION_DECOMPRESS: FileOperation
FILE_OPERATION_ENCRYPT: FileOperation
FILE_OPERATION_DECRYPT: FileOperation
FILE_OPERATION_REWRAP: FileOperation
FILE_CODEC_UNSPECIFIED: FileCodec
FILE_CODEC_ZSTD: FileCodec
FILE_CODEC_LZ4: FileCodec
FILE_JOB_STATE_UNSPECIFIED: FileJobState
FILE_JOB_STATE_QUEUED: FileJobState
FILE_JOB_STATE_RUNNING: FileJobState
FILE_JOB_STATE_DONE: FileJobState
FILE_JOB_STATE_FAILED: FileJobState
FILE_JOB_STATE_CANCELLED: FileJobState

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
    __slots__ = ("jobs", "file_jobs")
    JOBS_FIELD_NUMBER: _ClassVar[int]
    FILE_JOBS_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[CompressionJob]
    file_jobs: _containers.RepeatedCompositeFieldContainer[FileJob]
    def __init__(self, jobs: _Optional[_Iterable[_Union[CompressionJob, _Mapping]]] = ..., file_jobs: _Optional[_Iterable[_Union[FileJob, _Mapping]]] = ...) -> None: ...

class StartFileJobRequest(_message.Message):
    __slots__ = ("operation", "source", "destination", "codec", "level", "overwrite", "compress")
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    CODEC_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    OVERWRITE_FIELD_NUMBER: _ClassVar[int]
    COMPRESS_FIELD_NUMBER: _ClassVar[int]
    operation: FileOperation
    source: str
    destination: str
    codec: FileCodec
    level: int
    overwrite: bool
    compress: bool
    def __init__(self, operation: _Optional[_Union[FileOperation, str]] = ..., source: _Optional[str] = ..., destination: _Optional[str] = ..., codec: _Optional[_Union[FileCodec, str]] = ..., level: _Optional[int] = ..., overwrite: _Optional[bool] = ..., compress: _Optional[bool] = ...) -> None: ...

class GetFileJobRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class CancelFileJobRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class FileJob(_message.Message):
    __slots__ = ("id", "operation", "state", "source", "destination", "codec", "level", "overwrite", "compress", "bytes_total", "bytes_done", "percent", "mb_per_s", "eta_s", "bytes_out", "blocks", "blocks_resent", "format", "mode", "key_id", "ratio", "files_total", "files_done", "files_rewrapped", "created_unix_ns", "started_unix_ns", "finished_unix_ns", "message", "error", "error_code")
    ID_FIELD_NUMBER: _ClassVar[int]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    CODEC_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    OVERWRITE_FIELD_NUMBER: _ClassVar[int]
    COMPRESS_FIELD_NUMBER: _ClassVar[int]
    BYTES_TOTAL_FIELD_NUMBER: _ClassVar[int]
    BYTES_DONE_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    MB_PER_S_FIELD_NUMBER: _ClassVar[int]
    ETA_S_FIELD_NUMBER: _ClassVar[int]
    BYTES_OUT_FIELD_NUMBER: _ClassVar[int]
    BLOCKS_FIELD_NUMBER: _ClassVar[int]
    BLOCKS_RESENT_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    RATIO_FIELD_NUMBER: _ClassVar[int]
    FILES_TOTAL_FIELD_NUMBER: _ClassVar[int]
    FILES_DONE_FIELD_NUMBER: _ClassVar[int]
    FILES_REWRAPPED_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_NS_FIELD_NUMBER: _ClassVar[int]
    STARTED_UNIX_NS_FIELD_NUMBER: _ClassVar[int]
    FINISHED_UNIX_NS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    id: str
    operation: FileOperation
    state: FileJobState
    source: str
    destination: str
    codec: FileCodec
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
    def __init__(self, id: _Optional[str] = ..., operation: _Optional[_Union[FileOperation, str]] = ..., state: _Optional[_Union[FileJobState, str]] = ..., source: _Optional[str] = ..., destination: _Optional[str] = ..., codec: _Optional[_Union[FileCodec, str]] = ..., level: _Optional[int] = ..., overwrite: _Optional[bool] = ..., compress: _Optional[bool] = ..., bytes_total: _Optional[int] = ..., bytes_done: _Optional[int] = ..., percent: _Optional[float] = ..., mb_per_s: _Optional[float] = ..., eta_s: _Optional[float] = ..., bytes_out: _Optional[int] = ..., blocks: _Optional[int] = ..., blocks_resent: _Optional[int] = ..., format: _Optional[str] = ..., mode: _Optional[str] = ..., key_id: _Optional[str] = ..., ratio: _Optional[float] = ..., files_total: _Optional[int] = ..., files_done: _Optional[int] = ..., files_rewrapped: _Optional[int] = ..., created_unix_ns: _Optional[int] = ..., started_unix_ns: _Optional[int] = ..., finished_unix_ns: _Optional[int] = ..., message: _Optional[str] = ..., error: _Optional[str] = ..., error_code: _Optional[str] = ...) -> None: ...

class ReadRangeRequest(_message.Message):
    __slots__ = ("path", "offset", "length")
    PATH_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    path: str
    offset: int
    length: int
    def __init__(self, path: _Optional[str] = ..., offset: _Optional[int] = ..., length: _Optional[int] = ...) -> None: ...

class ReadRangeResponse(_message.Message):
    __slots__ = ("data", "offset", "file_bytes")
    DATA_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    FILE_BYTES_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    offset: int
    file_bytes: int
    def __init__(self, data: _Optional[bytes] = ..., offset: _Optional[int] = ..., file_bytes: _Optional[int] = ...) -> None: ...
