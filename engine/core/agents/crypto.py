"""encrypt / decrypt: AES-256-GCM, output ``nonce(12) | ciphertext | tag(16)``; set_key.

The key comes from engine/keys/engine_key.py (``keys/engine.key``, read before the workers fork). Random
96-bit nonces keep one key safe for ~2**32 messages (NIST SP 800-38D); a rotation (engine/keys/engine_key_rotation.py)
sends every worker a SET_KEY task with the new key and the one it replaces: ENCRYPT uses the new key
from the next task on, DECRYPT tries the new key, then the previous one, so ciphertexts made before
the rotation still open (until the next rotation drops that key).
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from engine.core.agents.base import TaskError, store_output
from engine.core.codes import Status

NONCE_BYTES = 12
TAG_BYTES = 16
KEY_BYTES = 32


class CryptoAgent:
    def __init__(self, key: bytes, previous: bytes = b"") -> None:
        if len(key) != KEY_BYTES or len(previous) not in (0, KEY_BYTES):
            raise ValueError("AES-256 needs a 32-byte key")
        self._aead = AESGCM(key)
        self._previous = AESGCM(previous) if previous else None

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
            plain = self._open_previous(nonce, sealed)
        finally:
            del sealed
        return store_output(dst, plain)

    def _open_previous(self, nonce: bytes, sealed: memoryview) -> bytes:
        if self._previous is None:
            raise TaskError(Status.AUTH_FAILED)
        try:
            return self._previous.decrypt(nonce, sealed, None)
        except InvalidTag:
            raise TaskError(Status.AUTH_FAILED) from None

    def set_keys(self, slot: memoryview, length: int, param: int, dst: memoryview) -> int:
        """New keys: the slot holds the current key (32 bytes), then the previous one (32, optional).
        The slot is zeroed once read (the client zeroes it too before releasing it)."""
        if length not in (KEY_BYTES, 2 * KEY_BYTES):
            raise TaskError(Status.BAD_PARAMS, "set_key takes a 32-byte key and an optional previous one")
        key, previous = bytes(slot[:KEY_BYTES]), bytes(slot[KEY_BYTES:length])
        slot[:length] = bytes(length)
        self._aead = AESGCM(key)
        self._previous = AESGCM(previous) if previous else None
        return 0
