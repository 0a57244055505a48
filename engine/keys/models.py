"""The keys domain's typed records: field names are the proto messages' (encryption.proto), so
frontends/records.py ``plain()`` turns each into its message or its JSON. None is a field the
answer leaves out (the keystore's fields while it is not open): absent from the JSON, unset in proto.
Never key material: ids, fingerprints, times and public keys only."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """A key pair of the keystore; after RotateKey, ``previous_key_id`` names the one it replaced."""

    key_id: str
    fingerprint: str
    created_unix: int
    rotated_unix: int
    suite: str
    passphrase_protected: bool
    previous_key_id: str | None = None


@dataclass(frozen=True, slots=True)
class PublicKey:
    key_id: str
    fingerprint: str
    created_unix: int
    rotated_unix: int
    suite: str
    passphrase_protected: bool
    pem: str
    public_key: bytes  # raw; base64 in JSON (frontends/records.py)
    kem_id: int
    kdf_id: int
    aead_id: int


@dataclass(frozen=True, slots=True)
class KeyState:
    """state: "current" (seals new files), "active" (opens older files) or "retired" (public part only)."""

    key_id: str
    fingerprint: str
    created_unix: int
    state: str
    retired_unix: int = 0
    passphrase_protected: bool = False


@dataclass(frozen=True, slots=True)
class KeyList:
    keys: tuple[KeyState, ...]  # oldest first


@dataclass(frozen=True, slots=True)
class KeyFiles:
    key_id: str
    files: tuple[str, ...]  # still sealed to the key (at most LISTED_FILES)
    files_sealed: int
    files_rewrapped: int
    files_gone: int


@dataclass(frozen=True, slots=True)
class KeyRetirement:
    """RetireKeyResponse."""

    key: KeyState
    files_abandoned: tuple[str, ...]
    files_abandoned_total: int


@dataclass(frozen=True, slots=True)
class KeystoreStatus:
    """The keystore's part of EncryptionStatus: the suite, the file counters, and the current key's
    figures once the keystore is open (else ``keystore_error`` says why)."""

    suite: str
    pq_enabled: bool
    files_sealed: int
    bytes_sealed: int
    files_opened: int
    bytes_opened: int
    file_auth_failures: int
    files_rewrapped: int
    counters_since_unix: int
    keystore_error: str | None = None
    key_id: str | None = None
    fingerprint: str | None = None
    created_unix: int | None = None
    rotated_unix: int | None = None
    keys: int | None = None
    retired_keys: int | None = None
    passphrase_protected: bool | None = None


@dataclass(frozen=True, slots=True)
class InlineKeyStatus:
    """The inline ENCRYPT/DECRYPT task kinds' part of EncryptionStatus (engine/keys/engine_key_status.py)."""

    algorithm: str
    key_fingerprint: str
    key_path: str
    key_created_unix: int
    key_generation: int
    previous_key_fingerprint: str
    key_passphrase_protected: bool
    encrypt_tasks: int
    decrypt_tasks: int
    auth_failures: int
    pq_wrapping_enabled: bool
    pq_available: bool
    detail: str


@dataclass(frozen=True, slots=True)
class EngineKeyInfo:
    """The inline key after a rotation (never the key)."""

    key_fingerprint: str
    previous_key_fingerprint: str
    key_generation: int
    key_created_unix: int
    workers_updated: int
    key_passphrase_protected: bool
