from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class GetEncryptionStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class EncryptionStatus(_message.Message):
    __slots__ = ("algorithm", "key_fingerprint", "key_path", "key_created_unix", "encrypt_tasks", "decrypt_tasks", "auth_failures", "pq_wrapping_enabled", "pq_available", "detail")
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    KEY_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    KEY_PATH_FIELD_NUMBER: _ClassVar[int]
    KEY_CREATED_UNIX_FIELD_NUMBER: _ClassVar[int]
    ENCRYPT_TASKS_FIELD_NUMBER: _ClassVar[int]
    DECRYPT_TASKS_FIELD_NUMBER: _ClassVar[int]
    AUTH_FAILURES_FIELD_NUMBER: _ClassVar[int]
    PQ_WRAPPING_ENABLED_FIELD_NUMBER: _ClassVar[int]
    PQ_AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    algorithm: str
    key_fingerprint: str
    key_path: str
    key_created_unix: int
    encrypt_tasks: int
    decrypt_tasks: int
    auth_failures: int
    pq_wrapping_enabled: bool
    pq_available: bool
    detail: str
    def __init__(self, algorithm: _Optional[str] = ..., key_fingerprint: _Optional[str] = ..., key_path: _Optional[str] = ..., key_created_unix: _Optional[int] = ..., encrypt_tasks: _Optional[int] = ..., decrypt_tasks: _Optional[int] = ..., auth_failures: _Optional[int] = ..., pq_wrapping_enabled: _Optional[bool] = ..., pq_available: _Optional[bool] = ..., detail: _Optional[str] = ...) -> None: ...
