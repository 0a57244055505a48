"""The keystore under ``<data_dir>/keys`` (directory 0700, files 0600), and the legacy raw key.

::

    keys/hpke-<key_id>.json   one key pair per file (engine/keys/keyfile.py), current and older: old
                              private keys stay to open files sealed before a rotation
    keys/retired-<key_id>.json  a retired key: its public part and when it was retired; the private
                              key is gone (``retire``: the hpke file overwritten, removed, directory fsynced)
    keys/current.json         {"key_id": "<hex>", "rotated_unix": <int, 0 = never rotated>}
    keys/engine.key           32 raw bytes: the AES-256 key of the inline ENCRYPT/DECRYPT task kinds
                              (``load_or_create_key``, unchanged); file jobs never use it

Every write is a temporary file, fsync, rename, fsync of the directory, so a crash leaves the old
or the new file, never half of one. One process (the engine's job runner) owns a keystore.
With a passphrase file, new keys are sealed with it and keys found in the clear are sealed at open.
Opening unlocks the current key at once (a wrong passphrase fails at start-up, not mid-job); older
keys unlock on first use. scrypt takes ~0.5 s per key: call ``open``/``rotate`` off the event loop.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import stat
import time
from pathlib import Path
from typing import Any

from engine.common.fsutil import fsync_directory, write_private
from engine.errors import Conflict, NotFound
from engine.keys.keyfile import (
    KEY_FILE_FORMAT,
    SUITE_NAME,
    KeyPair,
    KeystoreError,
    export_public_key,
    fingerprint_of,
    key_id_of,
    new_key_document,
    read_passphrase,
    unseal_seed,
)

logger = logging.getLogger(__name__)

KEY_BYTES = 32
RETIRED_FORMAT = "sigmavault-retired-key"


def load_or_create_key(data_dir: str) -> bytes:
    """The legacy raw AES-256 key of the inline encrypt/decrypt kinds (kept as it was)."""
    keys = Path(data_dir) / "keys"
    keys.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = keys / "engine.key"
    key = os.urandom(KEY_BYTES)
    try:
        write_private(path, key, overwrite=False)
    except FileExistsError:
        key = path.read_bytes()
        if len(key) != KEY_BYTES:
            raise ValueError(f"{path} holds {len(key)} bytes, expected {KEY_BYTES}") from None
        return key
    logger.info("created the engine's data key at %s (mode 0600)", path)
    return key


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode != 0o700:
        logger.warning("key directory %s had mode %o; set to 0700", path, mode)
        path.chmod(0o700)


def _read_json(path: Path) -> dict[str, Any]:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        logger.warning("key file %s had mode %o; set to 0600", path, mode)
        path.chmod(0o600)
    try:
        doc = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError):
        raise KeystoreError(f"{path} is not valid JSON") from None
    if not isinstance(doc, dict):
        raise KeystoreError(f"{path} does not hold a JSON object")
    return doc


class Keystore:
    """The engine's key pairs: ``current`` seals new files, every pair opens the files sealed to it."""

    def __init__(self, directory: Path, passphrase: bytes | None) -> None:
        self.directory = directory
        self._passphrase = passphrase
        self._keys: dict[bytes, KeyPair] = {}
        self._retired: dict[bytes, RetiredKey] = {}
        self._current = b""
        self.rotated_unix = 0

    def __repr__(self) -> str:
        return f"Keystore(directory={str(self.directory)!r}, current={self._current.hex()}, keys={len(self._keys)})"

    @classmethod
    def open(cls, data_dir: str | Path, passphrase_file: str | Path | None = None, *, create: bool = True) -> Keystore:
        """Load ``<data_dir>/keys``; with ``create``, make the first key pair if there is none."""
        directory = Path(data_dir) / "keys"
        _private_dir(directory)
        store = cls(directory, read_passphrase(passphrase_file) if passphrase_file else None)
        for path in sorted(directory.glob("retired-*.json")):
            retired = RetiredKey.from_doc(path, _read_json(path))
            store._retired[retired.key_id] = retired
        for path in sorted(directory.glob("hpke-*.json")):
            pair = KeyPair(path, _read_json(path), store._passphrase)
            if pair.key_id in store._retired:  # a retirement cut short by a crash: finish it
                _destroy(path)
                continue
            store._keys[pair.key_id] = pair
        pointer = directory / "current.json"
        if pointer.exists():
            doc = _read_json(pointer)
            try:
                store._current, store.rotated_unix = bytes.fromhex(doc["key_id"]), int(doc["rotated_unix"])
            except (KeyError, ValueError, TypeError):
                raise KeystoreError(f"{pointer} is malformed") from None
            if store._current not in store._keys:
                raise KeystoreError(f"{pointer} names key {doc['key_id']}, which is not in {directory}")
        elif store._keys:
            newest = max(store._keys.values(), key=lambda k: k.created_unix)
            store._set_current(newest.key_id, 0)
        elif create:
            store._add_key(rotated_unix=0)
        else:
            raise NotFound(f"no key pair in {directory}")
        store.current.private_key  # noqa: B018 -- unlock now: a wrong passphrase fails at start-up
        if store._passphrase is not None:
            store._seal_clear_keys()
        return store

    @property
    def current(self) -> KeyPair:
        return self._keys[self._current]

    def get(self, key_id: bytes) -> KeyPair:
        """The key pair that opens files sealed to ``key_id``; unknown_key (404) or key_retired (409)."""
        try:
            return self._keys[key_id]
        except KeyError:
            retired = self._retired.get(key_id)
            if retired is not None:
                raise Conflict(
                    f"key {key_id.hex()} was retired (its private key deleted) at {retired.retired_unix}: "
                    "files still sealed to it cannot be opened",
                    code="key_retired",
                    metadata={"key_id": key_id.hex(), "retired_unix": retired.retired_unix},
                ) from None
            held = ", ".join(k.hex() for k in self._keys)
            raise NotFound(
                f"key {key_id.hex()} is not in this keystore (it holds {held})", code="unknown_key"
            ) from None

    def public_bytes(self, key_id: bytes) -> bytes:
        """The public key of a held or retired key (a retired key's public part stays)."""
        retired = self._retired.get(key_id)
        return retired.public_bytes if retired is not None else self.get(key_id).public_bytes

    def keys(self) -> list[KeyPair]:
        return sorted(self._keys.values(), key=lambda k: k.created_unix)

    def retired(self) -> list[RetiredKey]:
        return sorted(self._retired.values(), key=lambda k: k.created_unix)

    def retire(self, key_id: bytes) -> RetiredKey:
        """Delete ``key_id``'s private key for good, keeping its public part in ``retired-<id>.json``.
        The current key cannot be retired (rotate first). Crash-safe: the retired record is durable
        before the key file goes, and a key file found beside its retired record is removed at open."""
        pair = self.get(key_id)
        if key_id == self._current:
            raise Conflict(
                f"key {key_id.hex()} is the current key (new files are sealed to it); rotate first",
                code="key_current",
                metadata={"key_id": key_id.hex()},
            )
        retired = RetiredKey(
            self.directory / f"retired-{key_id.hex()}.json",
            key_id,
            pair.public_bytes,
            pair.created_unix,
            int(time.time()),
        )
        write_private(retired.path, (json.dumps(retired.as_doc(), indent=1) + "\n").encode())
        _destroy(pair.path)
        del self._keys[key_id]
        self._retired[key_id] = retired
        logger.info("retired key pair %s: private key deleted from %s", key_id.hex(), pair.path)
        return retired

    def rotate(self) -> KeyPair:
        """A new key pair becomes current; the old ones stay to open older files."""
        return self._add_key(rotated_unix=int(time.time()))

    def export_public(self, key_id: bytes | None = None) -> str:
        return export_public_key(self.get(key_id or self._current).public_bytes)

    def status(self) -> dict[str, Any]:
        cur = self.current
        return {
            "suite": SUITE_NAME,
            "pq_enabled": True,
            "key_id": cur.key_id.hex(),
            "fingerprint": fingerprint_of(cur.public_bytes),
            "created_unix": cur.created_unix,
            "rotated_unix": self.rotated_unix,
            "keys": len(self._keys),
            "retired_keys": len(self._retired),
            "protected": cur.protected,
            "key_dir": str(self.directory),
        }

    def _add_key(self, rotated_unix: int) -> KeyPair:
        doc = new_key_document(os.urandom(32), self._passphrase, int(time.time()))
        path = self.directory / f"hpke-{doc['key_id']}.json"
        write_private(path, (json.dumps(doc, indent=1) + "\n").encode())
        pair = KeyPair(path, doc, self._passphrase)
        self._keys[pair.key_id] = pair
        self._set_current(pair.key_id, rotated_unix)
        logger.info(
            "created HPKE key pair %s at %s (%s)",
            pair.key_id.hex(),
            path,
            "passphrase-sealed" if pair.protected else "unsealed, file mode 0600",
        )
        return pair

    def _set_current(self, key_id: bytes, rotated_unix: int) -> None:
        doc = {"key_id": key_id.hex(), "rotated_unix": rotated_unix}
        write_private(self.directory / "current.json", (json.dumps(doc) + "\n").encode())
        self._current, self.rotated_unix = key_id, rotated_unix

    def _seal_clear_keys(self) -> None:
        for key_id, pair in list(self._keys.items()):
            if pair.protected:
                continue
            doc = _read_json(pair.path)
            seed = unseal_seed(doc["private_key"], key_id, None, pair.path)
            doc = new_key_document(seed, self._passphrase, pair.created_unix)
            assert doc["format"] == KEY_FILE_FORMAT and doc["key_id"] == key_id.hex()
            write_private(pair.path, (json.dumps(doc, indent=1) + "\n").encode())
            self._keys[key_id] = KeyPair(pair.path, doc, self._passphrase)
            logger.info("sealed key pair %s at %s with the passphrase", key_id.hex(), pair.path)


class RetiredKey:
    """A key whose private part was deleted: what listings show, and why files sealed to it are refused."""

    def __init__(self, path: Path, key_id: bytes, public_bytes: bytes, created_unix: int, retired_unix: int) -> None:
        self.path, self.key_id, self.public_bytes = path, key_id, public_bytes
        self.created_unix, self.retired_unix = created_unix, retired_unix

    def __repr__(self) -> str:
        return f"RetiredKey(key_id={self.key_id.hex()}, retired_unix={self.retired_unix})"

    @classmethod
    def from_doc(cls, path: Path, doc: dict[str, Any]) -> RetiredKey:
        try:
            key_id, public = bytes.fromhex(doc["key_id"]), base64.b64decode(doc["public_key"], validate=True)
            created, retired = int(doc["created_unix"]), int(doc["retired_unix"])
        except (KeyError, ValueError, TypeError):
            raise KeystoreError(f"retired key file {path} is malformed") from None
        if doc.get("format") != RETIRED_FORMAT or key_id_of(public) != key_id:
            raise KeystoreError(f"{path} is not a {RETIRED_FORMAT} file for its key id")
        return cls(path, key_id, public, created, retired)

    def as_doc(self) -> dict[str, Any]:
        return {
            "format": RETIRED_FORMAT,
            "version": 1,
            "key_id": self.key_id.hex(),
            "created_unix": self.created_unix,
            "retired_unix": self.retired_unix,
            "public_key": base64.b64encode(self.public_bytes).decode(),
        }


def _destroy(path: Path) -> None:
    """Overwrite a key file with zeros, fsync, remove it, fsync the directory. The overwrite helps on
    ext4/XFS; on copy-on-write filesystems (btrfs, ZFS), in snapshots and on SSDs old blocks may
    survive, which is why a passphrase (the seed sealed at rest) is the real protection."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    try:
        size = os.fstat(fd).st_size
        os.pwrite(fd, bytes(size), 0)
        os.fsync(fd)
    finally:
        os.close(fd)
    path.unlink()
    fsync_directory(path.parent)
