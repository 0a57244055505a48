from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class TaskKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_KIND_UNSPECIFIED: _ClassVar[TaskKind]
    TASK_KIND_ECHO: _ClassVar[TaskKind]
    TASK_KIND_COMPRESS: _ClassVar[TaskKind]
    TASK_KIND_DECOMPRESS: _ClassVar[TaskKind]
    TASK_KIND_ENCRYPT: _ClassVar[TaskKind]
    TASK_KIND_DECRYPT: _ClassVar[TaskKind]
    TASK_KIND_HASH: _ClassVar[TaskKind]
    TASK_KIND_PARITY: _ClassVar[TaskKind]
TASK_KIND_UNSPECIFIED: TaskKind
TASK_KIND_ECHO: TaskKind
TASK_KIND_COMPRESS: TaskKind
TASK_KIND_DECOMPRESS: TaskKind
TASK_KIND_ENCRYPT: TaskKind
TASK_KIND_DECRYPT: TaskKind
TASK_KIND_HASH: TaskKind
TASK_KIND_PARITY: TaskKind

class TaskParams(_message.Message):
    __slots__ = ("codec", "level", "algo", "k")
    CODEC_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    ALGO_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    codec: str
    level: int
    algo: str
    k: int
    def __init__(self, codec: _Optional[str] = ..., level: _Optional[int] = ..., algo: _Optional[str] = ..., k: _Optional[int] = ...) -> None: ...

class Source(_message.Message):
    __slots__ = ("name", "available", "detail")
    NAME_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    name: str
    available: bool
    detail: str
    def __init__(self, name: _Optional[str] = ..., available: _Optional[bool] = ..., detail: _Optional[str] = ...) -> None: ...

class IoCounters(_message.Message):
    __slots__ = ("read_bytes", "write_bytes", "read_count", "write_count")
    READ_BYTES_FIELD_NUMBER: _ClassVar[int]
    WRITE_BYTES_FIELD_NUMBER: _ClassVar[int]
    READ_COUNT_FIELD_NUMBER: _ClassVar[int]
    WRITE_COUNT_FIELD_NUMBER: _ClassVar[int]
    read_bytes: int
    write_bytes: int
    read_count: int
    write_count: int
    def __init__(self, read_bytes: _Optional[int] = ..., write_bytes: _Optional[int] = ..., read_count: _Optional[int] = ..., write_count: _Optional[int] = ...) -> None: ...

class NetCounters(_message.Message):
    __slots__ = ("bytes_sent", "bytes_recv", "packets_sent", "packets_recv", "errin", "errout")
    BYTES_SENT_FIELD_NUMBER: _ClassVar[int]
    BYTES_RECV_FIELD_NUMBER: _ClassVar[int]
    PACKETS_SENT_FIELD_NUMBER: _ClassVar[int]
    PACKETS_RECV_FIELD_NUMBER: _ClassVar[int]
    ERRIN_FIELD_NUMBER: _ClassVar[int]
    ERROUT_FIELD_NUMBER: _ClassVar[int]
    bytes_sent: int
    bytes_recv: int
    packets_sent: int
    packets_recv: int
    errin: int
    errout: int
    def __init__(self, bytes_sent: _Optional[int] = ..., bytes_recv: _Optional[int] = ..., packets_sent: _Optional[int] = ..., packets_recv: _Optional[int] = ..., errin: _Optional[int] = ..., errout: _Optional[int] = ...) -> None: ...
