from frontends._gen.sigmavault.v1 import common_pb2 as _common_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BlockRequest(_message.Message):
    __slots__ = ("kind", "data", "params", "agent_id", "request_id")
    KIND_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    kind: _common_pb2.TaskKind
    data: bytes
    params: _common_pb2.TaskParams
    agent_id: int
    request_id: int
    def __init__(self, kind: _Optional[_Union[_common_pb2.TaskKind, str]] = ..., data: _Optional[bytes] = ..., params: _Optional[_Union[_common_pb2.TaskParams, _Mapping]] = ..., agent_id: _Optional[int] = ..., request_id: _Optional[int] = ...) -> None: ...

class BlockResponse(_message.Message):
    __slots__ = ("request_id", "data", "agent_id", "service_ns", "error_code", "error_message")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    SERVICE_NS_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    data: bytes
    agent_id: int
    service_ns: int
    error_code: str
    error_message: str
    def __init__(self, request_id: _Optional[int] = ..., data: _Optional[bytes] = ..., agent_id: _Optional[int] = ..., service_ns: _Optional[int] = ..., error_code: _Optional[str] = ..., error_message: _Optional[str] = ...) -> None: ...
