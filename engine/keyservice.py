"""KeyService: the keys domain of a running engine (the frontend process owns the keystore).

The keystore (engine/keys.py) is opened off the event loop at start, since unlocking a passphrase-
sealed key runs scrypt (~0.5 s). If it cannot be opened (a wrong passphrase, an unreadable file) the
engine still serves: file encryption, rotation and export answer the keystore's error and
GetStatus says why, instead of a frontend that restarts forever.

Answers carry key ids, fingerprints, times and public keys only; nothing here returns, logs or
formats a private key, a seed or a data key.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from engine.errors import BadRequest, EngineClosed, EngineError
from engine.keyfile import AEAD_ID, KDF_ID, KEM_ID, SUITE_NAME, KeystoreError, fingerprint_of
from engine.keys import Keystore

if TYPE_CHECKING:
    from engine.keyfile import KeyPair

logger = logging.getLogger(__name__)


@dataclass
class FileCounters:
    """What file jobs did with the keys since this engine started (the frontend's memory)."""

    files_sealed: int = 0
    bytes_sealed: int = 0
    files_opened: int = 0
    bytes_opened: int = 0
    file_auth_failures: int = 0
    files_rewrapped: int = 0
    counters_since_unix: int = field(default_factory=lambda: int(time.time()))


class KeyService:
    def __init__(self, data_dir: str, passphrase_file: str = "") -> None:
        self.data_dir = data_dir
        self.passphrase_file = passphrase_file
        self.counters = FileCounters()
        self._store: Keystore | None = None
        self._error: EngineError | None = None
        self._opened = asyncio.Event()
        self._rotating = asyncio.Lock()

    def __repr__(self) -> str:
        return f"KeyService(data_dir={self.data_dir!r}, open={self._store is not None})"

    async def open(self) -> None:
        """Open (or create) the keystore in a thread; a failure is kept and reported, not raised."""
        try:
            self._store = await asyncio.to_thread(Keystore.open, self.data_dir, self.passphrase_file or None)
        except (KeystoreError, OSError) as exc:
            reason = exc.message if isinstance(exc, EngineError) else f"{type(exc).__name__}: {exc.strerror}"
            self._error = KeystoreError(f"the keystore could not be opened: {reason}", code="keystore_unavailable")
            logger.error("keystore unavailable: %s", reason)
        finally:
            self._opened.set()

    async def store(self) -> Keystore:
        """The open keystore (waiting for the start-up open), or the error it failed with."""
        await self._opened.wait()
        if self._store is None:
            raise self._error or EngineClosed("the keystore is not open")
        return self._store

    def opened_store(self) -> Keystore:
        """The keystore for code running in a thread (a job's planning): open, or the error it failed
        with; EngineClosed in the moment before the start-up open ends."""
        if self._store is None:
            raise self._error or EngineClosed("the keystore is still opening; retry shortly")
        return self._store

    async def rotate(self) -> dict[str, Any]:
        """A new current key pair; older ones stay to open older files (and to re-wrap them)."""
        store = await self.store()
        async with self._rotating:
            previous = store.current.key_id.hex()
            pair = await asyncio.to_thread(store.rotate)
        logger.info("rotated the file key: %s replaces %s", pair.key_id.hex(), previous)
        return {**self._key_info(store, pair), "previous_key_id": previous}

    async def public_key(self, key_id: str = "") -> dict[str, Any]:
        store = await self.store()
        wanted = None
        if key_id:
            try:
                wanted = bytes.fromhex(key_id)
            except ValueError:
                raise BadRequest(f"key_id must be 32 hex digits, got {key_id[:64]!r}") from None
        pair = store.get(wanted or store.current.key_id)
        return {**self._key_info(store, pair), "pem": store.export_public(pair.key_id),
                "public_key": pair.public_bytes, "kem_id": KEM_ID, "kdf_id": KDF_ID, "aead_id": AEAD_ID}  # fmt: skip

    @staticmethod
    def _key_info(store: Keystore, pair: KeyPair) -> dict[str, Any]:
        return {"key_id": pair.key_id.hex(), "fingerprint": fingerprint_of(pair.public_bytes),
                "created_unix": pair.created_unix, "rotated_unix": store.rotated_unix, "suite": SUITE_NAME,
                "passphrase_protected": pair.protected}  # fmt: skip

    def status(self) -> dict[str, Any]:
        """The keystore's part of EncryptionStatus (empty key fields while it is not open)."""
        out: dict[str, Any] = {"suite": SUITE_NAME, **asdict(self.counters)}
        if self._store is None:
            out["pq_enabled"] = False
            out["keystore_error"] = self._error.message if self._error else "the keystore is opening"
            return out
        status = self._store.status()
        return {**out, "pq_enabled": status["pq_enabled"], "key_id": status["key_id"],
                "fingerprint": status["fingerprint"], "created_unix": status["created_unix"],
                "rotated_unix": status["rotated_unix"], "keys": status["keys"],
                "passphrase_protected": status["protected"]}  # fmt: skip
