"""Errors of the file formats: each says what is wrong with which file and carries a short code.

``CorruptFile`` (CORRUPT_INPUT): the bytes are not in the format they claim (bad magic, truncated,
inconsistent table). ``AuthenticationFailed`` (AUTH_FAILED): a tag did not verify, so the data was
altered, reordered, spliced from another file, or the key is not the one it was sealed to.
Codes (``error.code``) let a caller branch; messages never contain key material.
"""

from __future__ import annotations

from engine.core.codes import Status
from engine.errors import EngineError


class CorruptFile(EngineError):
    status = Status.CORRUPT_INPUT


class AuthenticationFailed(EngineError):
    status = Status.AUTH_FAILED
