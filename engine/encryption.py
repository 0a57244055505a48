"""What EncryptionService.GetStatus reports: the suite, the key's fingerprint (never the key) and
the workers' encrypt/decrypt counters."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any


class EncryptionInfo:
    def __init__(self, data_dir: str, key: bytes) -> None:
        self.key_path = Path(data_dir) / "keys" / "engine.key"
        self.fingerprint = hashlib.sha256(key).hexdigest()[:16]  # computed once; the key is not kept here
        try:
            from cryptography.hazmat.primitives.asymmetric import mlkem  # noqa: F401

            self.pq_available = True
        except ImportError:  # pragma: no cover - cryptography < 47
            self.pq_available = False

    def status(self, kinds: dict[str, dict[str, int]]) -> dict[str, Any]:
        try:
            created = int(self.key_path.stat().st_mtime)
        except FileNotFoundError:
            created = 0
        return {
            "algorithm": "AES-256-GCM",
            "key_fingerprint": self.fingerprint,
            "key_path": str(self.key_path),
            "key_created_unix": created,
            "encrypt_tasks": kinds["encrypt"]["tasks"],
            "decrypt_tasks": kinds["decrypt"]["tasks"],
            "auth_failures": kinds["decrypt"]["errors"],
            "pq_wrapping_enabled": False,
            "pq_available": self.pq_available,
            "detail": "one data key in a 0600 file; hybrid ML-KEM-768 + X25519 key wrapping arrives with the keystore",
        }
