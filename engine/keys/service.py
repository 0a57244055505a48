"""KeyService: the keys domain of a running engine (the frontend process owns the keystore).

The keystore (engine/keys/keystore.py) is opened off the event loop at start, since unlocking a passphrase-
sealed key runs scrypt (~0.5 s). If it cannot be opened (a wrong passphrase, an unreadable file) the
engine still serves: file encryption, rotation and export answer the keystore's error and
GetStatus says why, instead of a frontend that restarts forever.

Retiring a key (``retire``) deletes its private key after checking, by reading their headers, which
files the engine knows to be sealed to it (engine/keys/sealed_index.py): refused without ``confirm`` (the
key id), refused while files are still sealed to it unless ``force`` (they become unreadable for
good), never the current key.

Answers carry key ids, fingerprints, times and public keys only; nothing here returns, logs or
formats a private key, a seed or a data key.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING

from engine.common.logsafe import safe_text
from engine.domain import Domain
from engine.errors import BadRequest, Conflict, EngineClosed, EngineError, InvalidArgument
from engine.keys.keyfile import AEAD_ID, KDF_ID, KEM_ID, SUITE_NAME, KeystoreError, fingerprint_of
from engine.keys.keystore import Keystore
from engine.keys.models import KeyFiles, KeyInfo, KeyList, KeyRetirement, KeyState, KeystoreStatus, PublicKey
from engine.keys.sealed_index import KeyScan, SealedIndex, rows_from_jobs

if TYPE_CHECKING:
    from collections.abc import Callable

    from engine.jobs.model import JobRecord
    from engine.keys.keyfile import KeyPair
    from engine.keys.keystore import RetiredKey

    History = Callable[[], list[JobRecord]]

logger = logging.getLogger(__name__)

LISTED_FILES = 1000  # files a KeyFiles answer lists (files_sealed counts them all)
NAMED_IN_ERROR = 3  # files a refusal's message names


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


def parse_key_id(key_id: str) -> bytes:
    try:
        raw = bytes.fromhex(key_id)
    except ValueError:
        raw = b""
    if len(raw) != 16:
        raise BadRequest(f"key_id must be 32 hex digits, got {key_id[:64]!r}", metadata={"field": "key_id"})
    return raw


class KeyService(Domain):
    """The keys domain (engine/domain.py): ``open`` opens the keystore off the loop, ``close`` the sealed-file index."""

    name = "keys"

    def __init__(self, data_dir: str, passphrase_file: str = "", history: History | None = None) -> None:
        """``history``: the file jobs' records, to seed a new index of sealed files."""
        self.data_dir = data_dir
        self.passphrase_file = passphrase_file
        self.counters = FileCounters()
        self.index: SealedIndex | None = None
        self._history = history
        self._store: Keystore | None = None
        self._error: EngineError | None = None
        self._opened = asyncio.Event()
        self._rotating = asyncio.Lock()

    def __repr__(self) -> str:
        return f"KeyService(data_dir={self.data_dir!r}, open={self._store is not None})"

    async def open(self) -> None:
        """Open (or create) the keystore in a thread; a failure is kept and reported, not raised."""
        try:
            self.index = await asyncio.to_thread(self._open_index)
            self._store = await asyncio.to_thread(Keystore.open, self.data_dir, self.passphrase_file or None)
        except (KeystoreError, OSError, sqlite3.Error) as exc:
            reason = exc.message if isinstance(exc, EngineError) else _reason(exc)
            self._error = KeystoreError(f"the keystore could not be opened: {reason}", code="keystore_unavailable")
            logger.error("keystore unavailable: %s", reason)
        finally:
            self._opened.set()

    def _open_index(self) -> SealedIndex:
        index = SealedIndex.in_data_dir(self.data_dir)
        if index.fresh and self._history is not None:
            rows = rows_from_jobs(self._history())
            index.record_many(rows)
            logger.info("indexed %d sealed file(s) from the job history", len(rows))
        return index

    def record_sealed(self, path: str, key_id: bytes) -> None:
        """A file job sealed, re-wrapped or opened ``path``, whose header names ``key_id``."""
        if self.index is not None:
            try:
                self.index.record(path, key_id)
            except sqlite3.Error as exc:  # the index is a help for retirement, never a reason to fail a job
                logger.warning("could not index sealed file %s: %s", safe_text(path), exc)

    async def close(self) -> None:
        await super().close()
        if self.index is not None:
            self.index.close()

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

    async def rotate(self) -> KeyInfo:
        """A new current key pair; older ones stay to open older files (and to re-wrap them)."""
        store = await self.store()
        async with self._rotating:
            previous = store.current.key_id.hex()
            pair = await asyncio.to_thread(store.rotate)
        logger.info("rotated the file key: %s replaces %s", pair.key_id.hex(), previous)
        return replace(self._key_info(store, pair), previous_key_id=previous)

    async def public_key(self, key_id: str = "") -> PublicKey:
        store = await self.store()
        wanted = None
        if key_id:
            try:
                wanted = bytes.fromhex(key_id)
            except ValueError:
                raise BadRequest(f"key_id must be 32 hex digits, got {key_id[:64]!r}") from None
        pair = store.get(wanted or store.current.key_id)
        info = self._key_info(store, pair)
        return PublicKey(
            key_id=info.key_id,
            fingerprint=info.fingerprint,
            created_unix=info.created_unix,
            rotated_unix=info.rotated_unix,
            suite=info.suite,
            passphrase_protected=info.passphrase_protected,
            pem=store.export_public(pair.key_id),
            public_key=pair.public_bytes,
            kem_id=KEM_ID,
            kdf_id=KDF_ID,
            aead_id=AEAD_ID,
        )

    async def list_keys(self) -> KeyList:
        """Every key: current (seals new files), active (opens older files) or retired (public part only)."""
        store = await self.store()
        current, held = store.current.key_id, store.keys()
        keys = [
            _key_state(
                p.key_id,
                p.public_bytes,
                p.created_unix,
                "current" if p.key_id == current else "active",
                passphrase_protected=p.protected,
            )
            for p in held
        ]
        keys += [
            _key_state(r.key_id, r.public_bytes, r.created_unix, "retired", retired_unix=r.retired_unix)
            for r in store.retired()
        ]
        return KeyList(keys=tuple(sorted(keys, key=lambda k: k.created_unix)))

    async def key_files(self, key_id: str) -> KeyFiles:
        """The files the engine knows to be sealed to ``key_id``, each header read again now."""
        store = await self.store()
        wanted = parse_key_id(key_id)
        store.public_bytes(wanted)  # unknown_key for a key this box never held
        return _files_answer(await self._scan(wanted))

    async def retire(self, key_id: str, *, confirm: str = "", force: bool = False) -> KeyRetirement:
        """Delete ``key_id``'s private key; see the module docstring for when it is refused."""
        store = await self.store()
        wanted = parse_key_id(key_id)
        async with self._rotating:
            store.get(wanted)  # unknown_key (404) or key_retired (409)
            if wanted == store.current.key_id:
                raise Conflict(
                    f"key {key_id} is the current key (new files are sealed to it); rotate first",
                    code="key_current",
                    metadata={"key_id": key_id},
                )
            scan = await self._scan(wanted)
            meta = {"key_id": wanted.hex(), "files_sealed": len(scan.sealed), "files": _joined(scan.sealed)}
            if confirm != wanted.hex():
                raise InvalidArgument(
                    f"retiring key {wanted.hex()} deletes its private key for good and needs "
                    f"confirm={wanted.hex()!r} (the key id); {_still_sealed(scan)}",
                    code="confirmation_required",
                    metadata={**meta, "action": "retiring key"},
                )
            if scan.sealed and not force:
                raise Conflict(
                    f"key {wanted.hex()} is in use: {_still_sealed(scan)}; re-wrap them (a rewrap job) "
                    "or pass force to make them unreadable for good",
                    code="key_in_use",
                    metadata=meta,
                )
            retired = await asyncio.to_thread(store.retire, wanted)
        if scan.sealed:
            logger.warning(
                "retired key %s with force: %d file(s) sealed to it can no longer be opened",
                wanted.hex(),
                len(scan.sealed),
            )
        return KeyRetirement(
            key=_retired_state(retired),
            files_abandoned=tuple(scan.sealed[:LISTED_FILES]),
            files_abandoned_total=len(scan.sealed),
        )

    async def _scan(self, key_id: bytes) -> KeyScan:
        if self.index is None:
            raise EngineClosed("the index of sealed files is not open")
        return await asyncio.to_thread(self.index.scan, key_id)

    @staticmethod
    def _key_info(store: Keystore, pair: KeyPair) -> KeyInfo:
        return KeyInfo(
            key_id=pair.key_id.hex(),
            fingerprint=fingerprint_of(pair.public_bytes),
            created_unix=pair.created_unix,
            rotated_unix=store.rotated_unix,
            suite=SUITE_NAME,
            passphrase_protected=pair.protected,
        )

    def status(self) -> KeystoreStatus:
        """The keystore's part of EncryptionStatus (no key fields while it is not open: keystore_error)."""
        counters = asdict(self.counters)
        if self._store is None:
            error = self._error.message if self._error else "the keystore is opening"
            return KeystoreStatus(suite=SUITE_NAME, pq_enabled=False, keystore_error=error, **counters)
        status = self._store.status()
        return KeystoreStatus(
            suite=SUITE_NAME,
            pq_enabled=status["pq_enabled"],
            key_id=status["key_id"],
            fingerprint=status["fingerprint"],
            created_unix=status["created_unix"],
            rotated_unix=status["rotated_unix"],
            keys=status["keys"],
            retired_keys=status["retired_keys"],
            passphrase_protected=status["protected"],
            **counters,
        )


def _key_state(
    key_id: bytes,
    public: bytes,
    created_unix: int,
    state: str,
    *,
    retired_unix: int = 0,
    passphrase_protected: bool = False,
) -> KeyState:
    return KeyState(
        key_id=key_id.hex(),
        fingerprint=fingerprint_of(public),
        created_unix=created_unix,
        state=state,
        retired_unix=retired_unix,
        passphrase_protected=passphrase_protected,
    )


def _retired_state(key: RetiredKey) -> KeyState:
    return _key_state(key.key_id, key.public_bytes, key.created_unix, "retired", retired_unix=key.retired_unix)


def _files_answer(scan: KeyScan) -> KeyFiles:
    return KeyFiles(
        key_id=scan.key_id,
        files=tuple(scan.sealed[:LISTED_FILES]),
        files_sealed=len(scan.sealed),
        files_rewrapped=scan.rewrapped,
        files_gone=scan.gone,
    )


def _still_sealed(scan: KeyScan) -> str:
    if not scan.sealed:
        return "no file the engine knows of is still sealed to it"
    named = ", ".join(scan.sealed[:NAMED_IN_ERROR])
    more = f" and {len(scan.sealed) - NAMED_IN_ERROR} more" if len(scan.sealed) > NAMED_IN_ERROR else ""
    return f"{len(scan.sealed)} file(s) are still sealed to it: {named}{more} (GET .../keys/{scan.key_id}/files)"


def _joined(paths: list[str], limit: int = 240) -> str:
    """As many whole paths as fit an error's metadata value, colon-separated."""
    out = ""
    for path in paths:
        candidate = f"{out}:{path}" if out else path
        if len(candidate.encode()) > limit:
            break
        out = candidate
    return out


def _reason(exc: OSError | sqlite3.Error) -> str:
    if isinstance(exc, OSError):
        return f"{type(exc).__name__}: {exc.strerror}"
    return f"{type(exc).__name__}: {exc}"
