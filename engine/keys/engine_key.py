"""The inline-task key ``<data_dir>/keys/engine.key``: the AES-256 key of the ENCRYPT/DECRYPT task
kinds, on disk and across a rotation.

::

    keys/engine.key            the current key: 32 raw bytes (file mode 0600), or, when a passphrase
                               file is set, a JSON document with the key sealed by it (scrypt, as the
                               keystore's seeds: engine/keys/keyfile.py ``seal_seed``)
    keys/engine.key.previous   the key before the last rotation, same format: inline ciphertexts made
                               before a rotation still decrypt until the next one

Read once by the process that creates the engine's resources (before it forks: every worker and the
frontend inherit the keys), so a passphrase-sealed key costs one scrypt at start. A key found in the
clear while a passphrase is set is sealed in place (migration). ``rotate_files`` moves the current key
to ``.previous`` (the older previous one is overwritten and removed) and writes a new current one;
engine/keys/engine_key_rotation.py hands the new key to the running workers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import struct
import time
from dataclasses import dataclass
from pathlib import Path

from engine.common.fsutil import fsync_directory, write_private
from engine.keys.keyfile import KeystoreError, read_passphrase, seal_seed, unseal_seed

logger = logging.getLogger(__name__)

KEY_BYTES = 32
ENGINE_KEY_FORMAT = "sigmavault-engine-key"
# one key-pipe message (frontend -> supervisor): generation u64, current key, previous key (zeros:
# none). 72 bytes, under PIPE_BUF, so a write is atomic and a reader sees whole messages.
KEY_MESSAGE = struct.Struct("<Q32s32s")


@dataclass(frozen=True, slots=True, repr=False)
class InlineKeys:
    """The inline key, the previous one (b"" when none) and how they are stored. Never printed."""

    current: bytes
    previous: bytes = b""
    created_unix: int = 0
    protected: bool = False

    def __repr__(self) -> str:
        return f"InlineKeys(fingerprint={self.fingerprint}, previous={bool(self.previous)}, protected={self.protected})"

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.current)

    @property
    def previous_fingerprint(self) -> str:
        return fingerprint(self.previous) if self.previous else ""


def fingerprint(key: bytes) -> str:
    """First 16 hex digits of SHA-256 of the key (what GetStatus shows; never the key)."""
    return hashlib.sha256(key).hexdigest()[:16]


def _key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"sigmavault-engine-key" + key).digest()[:16]


def _encode(key: bytes, passphrase: bytes | None, created_unix: int) -> bytes:
    if passphrase is None:
        return key
    doc = {
        "format": ENGINE_KEY_FORMAT,
        "version": 1,
        "key_id": _key_id(key).hex(),
        "created_unix": created_unix,
        "private_key": seal_seed(key, _key_id(key), passphrase),
    }
    return (json.dumps(doc, indent=1) + "\n").encode()


def _decode(path: Path, raw: bytes, passphrase: bytes | None) -> tuple[bytes, bool]:
    """(key, sealed) from a file's bytes: 32 raw bytes, or the sealed JSON document."""
    if len(raw) == KEY_BYTES:
        return raw, False
    try:
        doc = json.loads(raw)
        key_id, sealed = bytes.fromhex(doc["key_id"]), doc["private_key"]
        ok = doc.get("format") == ENGINE_KEY_FORMAT and isinstance(sealed, dict)
    except (ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        raise KeystoreError(f"{path} holds neither {KEY_BYTES} raw bytes nor a sealed {ENGINE_KEY_FORMAT} document")
    key = unseal_seed(sealed, key_id, passphrase, path)
    if _key_id(key) != key_id:
        raise KeystoreError(f"{path}: the key does not match its key id")
    return key, True


def _read(path: Path, passphrase: bytes | None) -> bytes:
    key, sealed = _decode(path, path.read_bytes(), passphrase)
    if passphrase is not None and not sealed:  # found in the clear: seal it in place
        write_private(path, _encode(key, passphrase, int(path.stat().st_mtime)))
        logger.info("sealed the inline-task key %s with the passphrase", path)
    return key


def load_inline_keys(data_dir: str | Path, passphrase_file: str | Path | None = None) -> InlineKeys:
    """The inline keys under ``<data_dir>/keys``, the current one created (0600) if missing."""
    keys = Path(data_dir) / "keys"
    keys.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        passphrase = read_passphrase(passphrase_file) if passphrase_file else None
    except OSError as exc:
        raise KeystoreError(f"the passphrase file {passphrase_file} cannot be read ({exc.strerror})") from None
    path = keys / "engine.key"
    if path.exists():
        current = _read(path, passphrase)
    else:
        current = os.urandom(KEY_BYTES)
        write_private(path, _encode(current, passphrase, int(time.time())))
        logger.info(
            "created the engine's inline-task key at %s (%s)", path, "passphrase-sealed" if passphrase else "mode 0600"
        )
    previous_path = keys / "engine.key.previous"
    previous = _read(previous_path, passphrase) if previous_path.exists() else b""
    return InlineKeys(current, previous, int(path.stat().st_mtime), passphrase is not None)


def rotate_files(data_dir: str | Path, passphrase_file: str | Path | None, old: InlineKeys) -> InlineKeys:
    """A new current key on disk; ``old.current`` becomes the previous one. Crash-safe: the current
    file is renamed to ``.previous`` (atomic) before the new one is written, so a crash leaves either
    the old pair or the old key as previous and no current (a new one is made at the next start)."""
    keys = Path(data_dir) / "keys"
    passphrase = read_passphrase(passphrase_file) if passphrase_file else None
    new = os.urandom(KEY_BYTES)
    encoded = _encode(new, passphrase, int(time.time()))  # scrypt before any file changes
    path, previous = keys / "engine.key", keys / "engine.key.previous"
    _overwrite(previous)
    os.replace(path, previous)
    fsync_directory(keys)
    write_private(path, encoded)
    return InlineKeys(new, old.current, int(path.stat().st_mtime), passphrase is not None)


def _overwrite(path: Path) -> None:
    """Zeros over a key file about to be replaced (helps on ext4/XFS; not on copy-on-write filesystems)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    try:
        os.pwrite(fd, bytes(os.fstat(fd).st_size), 0)
        os.fsync(fd)
    finally:
        os.close(fd)


def send_keys(fd: int, generation: int, keys: InlineKeys) -> None:
    """Tell the supervisor (the key pipe) which keys the workers it forks from now on start with."""
    message = KEY_MESSAGE.pack(generation, keys.current, keys.previous or bytes(KEY_BYTES))
    if os.write(fd, message) != len(message):  # pragma: no cover - a pipe write under PIPE_BUF is whole
        raise OSError("short write to the key pipe")


def receive_keys(fd: int) -> tuple[int, bytes, bytes] | None:
    """The newest whole message waiting on the (non-blocking) key pipe: (generation, current, previous)."""
    latest = None
    while True:
        try:
            data = os.read(fd, KEY_MESSAGE.size * 16)
        except BlockingIOError:
            break
        if not data:
            break
        for offset in range(0, len(data) - KEY_MESSAGE.size + 1, KEY_MESSAGE.size):
            latest = KEY_MESSAGE.unpack_from(data, offset)
    if latest is None:
        return None
    generation, current, previous = latest
    return generation, current, b"" if previous == bytes(KEY_BYTES) else previous
