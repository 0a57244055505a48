from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetEncryptionStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class EncryptionStatus(_message.Message):
    __slots__ = ("algorithm", "key_fingerprint", "key_path", "key_created_unix", "encrypt_tasks", "decrypt_tasks", "auth_failures", "pq_wrapping_enabled", "pq_available", "detail", "suite", "pq_enabled", "key_id", "fingerprint", "created_unix", "rotated_unix", "keys", "passphrase_protected", "files_sealed", "bytes_sealed", "files_opened", "bytes_opened", "file_auth_failures", "files_rewrapped", "counters_since_unix", "keystore_error", "retired_keys", "key_generation", "previous_key_fingerprint", "key_passphrase_protected")
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
    SUITE_FIELD_NUMBER: _ClassVar[int]
    PQ_ENABLED_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_FIELD_NUMBER: _ClassVar[int]
    ROTATED_UNIX_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    PASSPHRASE_PROTECTED_FIELD_NUMBER: _ClassVar[int]
    FILES_SEALED_FIELD_NUMBER: _ClassVar[int]
    BYTES_SEALED_FIELD_NUMBER: _ClassVar[int]
    FILES_OPENED_FIELD_NUMBER: _ClassVar[int]
    BYTES_OPENED_FIELD_NUMBER: _ClassVar[int]
    FILE_AUTH_FAILURES_FIELD_NUMBER: _ClassVar[int]
    FILES_REWRAPPED_FIELD_NUMBER: _ClassVar[int]
    COUNTERS_SINCE_UNIX_FIELD_NUMBER: _ClassVar[int]
    KEYSTORE_ERROR_FIELD_NUMBER: _ClassVar[int]
    RETIRED_KEYS_FIELD_NUMBER: _ClassVar[int]
    KEY_GENERATION_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_KEY_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    KEY_PASSPHRASE_PROTECTED_FIELD_NUMBER: _ClassVar[int]
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
    suite: str
    pq_enabled: bool
    key_id: str
    fingerprint: str
    created_unix: int
    rotated_unix: int
    keys: int
    passphrase_protected: bool
    files_sealed: int
    bytes_sealed: int
    files_opened: int
    bytes_opened: int
    file_auth_failures: int
    files_rewrapped: int
    counters_since_unix: int
    keystore_error: str
    retired_keys: int
    key_generation: int
    previous_key_fingerprint: str
    key_passphrase_protected: bool
    def __init__(self, algorithm: _Optional[str] = ..., key_fingerprint: _Optional[str] = ..., key_path: _Optional[str] = ..., key_created_unix: _Optional[int] = ..., encrypt_tasks: _Optional[int] = ..., decrypt_tasks: _Optional[int] = ..., auth_failures: _Optional[int] = ..., pq_wrapping_enabled: _Optional[bool] = ..., pq_available: _Optional[bool] = ..., detail: _Optional[str] = ..., suite: _Optional[str] = ..., pq_enabled: _Optional[bool] = ..., key_id: _Optional[str] = ..., fingerprint: _Optional[str] = ..., created_unix: _Optional[int] = ..., rotated_unix: _Optional[int] = ..., keys: _Optional[int] = ..., passphrase_protected: _Optional[bool] = ..., files_sealed: _Optional[int] = ..., bytes_sealed: _Optional[int] = ..., files_opened: _Optional[int] = ..., bytes_opened: _Optional[int] = ..., file_auth_failures: _Optional[int] = ..., files_rewrapped: _Optional[int] = ..., counters_since_unix: _Optional[int] = ..., keystore_error: _Optional[str] = ..., retired_keys: _Optional[int] = ..., key_generation: _Optional[int] = ..., previous_key_fingerprint: _Optional[str] = ..., key_passphrase_protected: _Optional[bool] = ...) -> None: ...

class RotateKeyRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class KeyInfo(_message.Message):
    __slots__ = ("key_id", "fingerprint", "created_unix", "rotated_unix", "suite", "passphrase_protected", "previous_key_id")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_FIELD_NUMBER: _ClassVar[int]
    ROTATED_UNIX_FIELD_NUMBER: _ClassVar[int]
    SUITE_FIELD_NUMBER: _ClassVar[int]
    PASSPHRASE_PROTECTED_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    fingerprint: str
    created_unix: int
    rotated_unix: int
    suite: str
    passphrase_protected: bool
    previous_key_id: str
    def __init__(self, key_id: _Optional[str] = ..., fingerprint: _Optional[str] = ..., created_unix: _Optional[int] = ..., rotated_unix: _Optional[int] = ..., suite: _Optional[str] = ..., passphrase_protected: _Optional[bool] = ..., previous_key_id: _Optional[str] = ...) -> None: ...

class GetPublicKeyRequest(_message.Message):
    __slots__ = ("key_id",)
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    def __init__(self, key_id: _Optional[str] = ...) -> None: ...

class PublicKey(_message.Message):
    __slots__ = ("key_id", "fingerprint", "created_unix", "rotated_unix", "suite", "passphrase_protected", "pem", "public_key", "kem_id", "kdf_id", "aead_id")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_FIELD_NUMBER: _ClassVar[int]
    ROTATED_UNIX_FIELD_NUMBER: _ClassVar[int]
    SUITE_FIELD_NUMBER: _ClassVar[int]
    PASSPHRASE_PROTECTED_FIELD_NUMBER: _ClassVar[int]
    PEM_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    KEM_ID_FIELD_NUMBER: _ClassVar[int]
    KDF_ID_FIELD_NUMBER: _ClassVar[int]
    AEAD_ID_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    fingerprint: str
    created_unix: int
    rotated_unix: int
    suite: str
    passphrase_protected: bool
    pem: str
    public_key: bytes
    kem_id: int
    kdf_id: int
    aead_id: int
    def __init__(self, key_id: _Optional[str] = ..., fingerprint: _Optional[str] = ..., created_unix: _Optional[int] = ..., rotated_unix: _Optional[int] = ..., suite: _Optional[str] = ..., passphrase_protected: _Optional[bool] = ..., pem: _Optional[str] = ..., public_key: _Optional[bytes] = ..., kem_id: _Optional[int] = ..., kdf_id: _Optional[int] = ..., aead_id: _Optional[int] = ...) -> None: ...

class KeyState(_message.Message):
    __slots__ = ("key_id", "fingerprint", "created_unix", "state", "retired_unix", "passphrase_protected")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    RETIRED_UNIX_FIELD_NUMBER: _ClassVar[int]
    PASSPHRASE_PROTECTED_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    fingerprint: str
    created_unix: int
    state: str
    retired_unix: int
    passphrase_protected: bool
    def __init__(self, key_id: _Optional[str] = ..., fingerprint: _Optional[str] = ..., created_unix: _Optional[int] = ..., state: _Optional[str] = ..., retired_unix: _Optional[int] = ..., passphrase_protected: _Optional[bool] = ...) -> None: ...

class ListKeysRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class KeyList(_message.Message):
    __slots__ = ("keys",)
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[KeyState]
    def __init__(self, keys: _Optional[_Iterable[_Union[KeyState, _Mapping]]] = ...) -> None: ...

class ListKeyFilesRequest(_message.Message):
    __slots__ = ("key_id",)
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    def __init__(self, key_id: _Optional[str] = ...) -> None: ...

class KeyFiles(_message.Message):
    __slots__ = ("key_id", "files", "files_sealed", "files_rewrapped", "files_gone")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    FILES_SEALED_FIELD_NUMBER: _ClassVar[int]
    FILES_REWRAPPED_FIELD_NUMBER: _ClassVar[int]
    FILES_GONE_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    files: _containers.RepeatedScalarFieldContainer[str]
    files_sealed: int
    files_rewrapped: int
    files_gone: int
    def __init__(self, key_id: _Optional[str] = ..., files: _Optional[_Iterable[str]] = ..., files_sealed: _Optional[int] = ..., files_rewrapped: _Optional[int] = ..., files_gone: _Optional[int] = ...) -> None: ...

class RetireKeyRequest(_message.Message):
    __slots__ = ("key_id", "confirm", "force")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    CONFIRM_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    confirm: str
    force: bool
    def __init__(self, key_id: _Optional[str] = ..., confirm: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class RetireKeyResponse(_message.Message):
    __slots__ = ("key", "files_abandoned", "files_abandoned_total")
    KEY_FIELD_NUMBER: _ClassVar[int]
    FILES_ABANDONED_FIELD_NUMBER: _ClassVar[int]
    FILES_ABANDONED_TOTAL_FIELD_NUMBER: _ClassVar[int]
    key: KeyState
    files_abandoned: _containers.RepeatedScalarFieldContainer[str]
    files_abandoned_total: int
    def __init__(self, key: _Optional[_Union[KeyState, _Mapping]] = ..., files_abandoned: _Optional[_Iterable[str]] = ..., files_abandoned_total: _Optional[int] = ...) -> None: ...

class RotateEngineKeyRequest(_message.Message):
    __slots__ = ("confirm",)
    CONFIRM_FIELD_NUMBER: _ClassVar[int]
    confirm: str
    def __init__(self, confirm: _Optional[str] = ...) -> None: ...

class EngineKeyInfo(_message.Message):
    __slots__ = ("key_fingerprint", "previous_key_fingerprint", "key_generation", "key_created_unix", "workers_updated", "key_passphrase_protected")
    KEY_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_KEY_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    KEY_GENERATION_FIELD_NUMBER: _ClassVar[int]
    KEY_CREATED_UNIX_FIELD_NUMBER: _ClassVar[int]
    WORKERS_UPDATED_FIELD_NUMBER: _ClassVar[int]
    KEY_PASSPHRASE_PROTECTED_FIELD_NUMBER: _ClassVar[int]
    key_fingerprint: str
    previous_key_fingerprint: str
    key_generation: int
    key_created_unix: int
    workers_updated: int
    key_passphrase_protected: bool
    def __init__(self, key_fingerprint: _Optional[str] = ..., previous_key_fingerprint: _Optional[str] = ..., key_generation: _Optional[int] = ..., key_created_unix: _Optional[int] = ..., workers_updated: _Optional[int] = ..., key_passphrase_protected: _Optional[bool] = ...) -> None: ...
