"""The keystore under ``<data_dir>/keys`` (directory 0700, files 0600), and the legacy raw key.

::

    keys/hpke-<key_id>.json   one key pair per file (engine/keyfile.py), current and retired: old
                              private keys stay to open files sealed before a rotation
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

import json
import logging
import os
import stat
import time
from pathlib import Path
from typing import Any

from engine.errors import NotFound
from engine.fsutil import write_private
from engine.keyfile import (
    KEY_FILE_FORMAT,
    SUITE_NAME,
    KeyPair,
    KeystoreError,
    export_public_key,
    fingerprint_of,
    new_key_document,
    read_passphrase,
    unseal_seed,
)

logger = logging.getLogger(__name__)

KEY_BYTES = 32


def load_or_create_key(data_dir: str) -> bytes:
    """The legacy raw AES-256 key of the inline encrypt/decrypt kinds (kept as it was)."""
    keys = Path(data_dir) / "keys"
    keys.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = keys / "engine.key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes()
        if len(key) != KEY_BYTES:
            raise ValueError(f"{path} holds {len(key)} bytes, expected {KEY_BYTES}") from None
        return key
    key = os.urandom(KEY_BYTES)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    logger.info("created the engine's data key at %s (mode 0600)", path)
    return key


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode != 0o700:
        logger.warning("key directory %s had mode %o; set to 0700", path, mode)
        path.chmod(0o700)


def _write_private(path: Path, text: str) -> None:
    write_private(path, text.encode())


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
        for path in sorted(directory.glob("hpke-*.json")):
            pair = KeyPair(path, _read_json(path), store._passphrase)
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
        try:
            return self._keys[key_id]
        except KeyError:
            held = ", ".join(k.hex() for k in self._keys)
            raise NotFound(
                f"key {key_id.hex()} is not in this keystore (it holds {held})", code="unknown_key"
            ) from None

    def keys(self) -> list[KeyPair]:
        return sorted(self._keys.values(), key=lambda k: k.created_unix)

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
            "protected": cur.protected,
            "key_dir": str(self.directory),
        }

    def _add_key(self, rotated_unix: int) -> KeyPair:
        doc = new_key_document(os.urandom(32), self._passphrase, int(time.time()))
        path = self.directory / f"hpke-{doc['key_id']}.json"
        _write_private(path, json.dumps(doc, indent=1) + "\n")
        pair = KeyPair(path, doc, self._passphrase)
        self._keys[pair.key_id] = pair
        self._set_current(pair.key_id, rotated_unix)
        logger.info("created HPKE key pair %s at %s (%s)", pair.key_id.hex(), path,
                    "passphrase-sealed" if pair.protected else "unsealed, file mode 0600")  # fmt: skip
        return pair

    def _set_current(self, key_id: bytes, rotated_unix: int) -> None:
        doc = {"key_id": key_id.hex(), "rotated_unix": rotated_unix}
        _write_private(self.directory / "current.json", json.dumps(doc) + "\n")
        self._current, self.rotated_unix = key_id, rotated_unix

    def _seal_clear_keys(self) -> None:
        for key_id, pair in list(self._keys.items()):
            if pair.protected:
                continue
            doc = _read_json(pair.path)
            seed = unseal_seed(doc["private_key"], key_id, None, pair.path)
            doc = new_key_document(seed, self._passphrase, pair.created_unix)
            assert doc["format"] == KEY_FILE_FORMAT and doc["key_id"] == key_id.hex()
            _write_private(pair.path, json.dumps(doc, indent=1) + "\n")
            self._keys[key_id] = KeyPair(pair.path, doc, self._passphrase)
            logger.info("sealed key pair %s at %s with the passphrase", key_id.hex(), pair.path)
