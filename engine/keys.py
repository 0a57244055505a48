"""The engine's AES-256 data key: a 0600 file in the data directory, created on first start.

Deliberately simple until the keystore issue lands (rotation, ML-KEM-768 + X25519 wrapping).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)

KEY_BYTES = 32


def load_or_create_key(data_dir: str) -> bytes:
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
