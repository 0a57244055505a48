"""The inline ENCRYPT/DECRYPT task kinds' part of EncryptionService.GetStatus: their algorithm, the
raw key's fingerprint (never the key), the previous key's after a rotation, the key generation and
the workers' counters. The keystore's part (file jobs, HPKE X-Wing) is engine/keys/service.py's."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from engine.keys.engine_key import fingerprint
from engine.keys.models import InlineKeyStatus

if TYPE_CHECKING:
    from collections.abc import Callable

    from engine.keys.engine_key import InlineKeys


class EncryptionInfo:
    def __init__(
        self,
        data_dir: str,
        key: bytes,
        previous: bytes = b"",
        *,
        protected: bool = False,
        generation: Callable[[], int] = lambda: 1,
    ) -> None:
        self.key_path = Path(data_dir) / "keys" / "engine.key"
        self.fingerprint = fingerprint(key)  # computed once per key; the key is not kept here
        self.previous_fingerprint = fingerprint(previous) if previous else ""
        self.protected = protected
        self._generation = generation
        try:
            from cryptography.hazmat.primitives.asymmetric import mlkem  # noqa: F401

            self.pq_available = True
        except ImportError:  # pragma: no cover - cryptography < 47
            self.pq_available = False

    def key_rotated(self, keys: InlineKeys) -> None:
        self.fingerprint, self.previous_fingerprint = keys.fingerprint, keys.previous_fingerprint

    def status(self, kinds: dict[str, dict[str, int]], *, pq_enabled: bool = False) -> InlineKeyStatus:
        """``kinds``: the workers' totals by task kind; ``pq_enabled``: the keystore's (file data keys are
        wrapped with X-Wing)."""
        try:
            created = int(self.key_path.stat().st_mtime)
        except FileNotFoundError:
            created = 0
        return InlineKeyStatus(
            algorithm="AES-256-GCM",
            key_fingerprint=self.fingerprint,
            key_path=str(self.key_path),
            key_created_unix=created,
            key_generation=self._generation(),
            previous_key_fingerprint=self.previous_fingerprint,
            key_passphrase_protected=self.protected,
            encrypt_tasks=kinds["encrypt"]["tasks"],
            decrypt_tasks=kinds["decrypt"]["tasks"],
            auth_failures=kinds["decrypt"]["errors"],
            pq_wrapping_enabled=pq_enabled,
            pq_available=self.pq_available,
            detail="inline encrypt/decrypt tasks use one AES-256 key in a 0600 file (sealed with the passphrase "
            "when one is set; rotated with POST /api/v1/encryption/engine-key/rotate); file jobs seal each file's "
            "data key to the keystore's ML-KEM-768 + X25519 (X-Wing) key pair",
        )
