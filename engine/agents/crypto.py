"""encrypt / decrypt: AES-256-GCM, output ``nonce(12) | ciphertext | tag(16)``.

The key comes from engine/keys.py (a 0600 file in the data directory). Random 96-bit nonces keep
one key safe for ~2**32 messages (NIST SP 800-38D); the keystore issue adds rotation.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from engine.agents.base import TaskError, store_output
from engine.status import Status

NONCE_BYTES = 12
TAG_BYTES = 16


class CryptoAgent:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("AES-256 needs a 32-byte key")
        self._aead = AESGCM(key)

    def encrypt(self, slot: memoryview, length: int, param: int, dst: memoryview) -> int:
        if length + NONCE_BYTES + TAG_BYTES > len(dst):
            raise TaskError(Status.TOO_LARGE, "plaintext plus nonce and tag exceeds the slot")
        nonce = os.urandom(NONCE_BYTES)
        src = slot[:length]
        sealed = self._aead.encrypt(nonce, src, None)
        del src
        dst[:NONCE_BYTES] = nonce
        return NONCE_BYTES + store_output(dst[NONCE_BYTES:], sealed)

    def decrypt(self, slot: memoryview, length: int, param: int, dst: memoryview) -> int:
        if length < NONCE_BYTES + TAG_BYTES:
            raise TaskError(Status.CORRUPT_INPUT, "ciphertext shorter than nonce and tag")
        nonce = bytes(slot[:NONCE_BYTES])
        sealed = slot[NONCE_BYTES:length]
        try:
            plain = self._aead.decrypt(nonce, sealed, None)
        except InvalidTag:
            raise TaskError(Status.AUTH_FAILED) from None
        finally:
            del sealed
        return store_output(dst, plain)
