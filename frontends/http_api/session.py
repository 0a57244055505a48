"""The dashboard's login: ``/api/v1/session`` turns a token into a session cookie.

``POST /api/v1/session`` with ``{"token": "..."}`` (or an ``Authorization: Bearer`` header) answers
who the token is and sets ``sv_session``: HttpOnly (no script reads it), SameSite=Strict (no other
site's page sends it), Path=/, Secure when the port serves TLS, for SESSION_TTL_S. ``GET`` answers
who the current credential is (401 without one: the page then asks for the token), ``DELETE``
ends the session. A cookie counts only for same-origin requests (frontends/http_api/access.py
checks Origin).

The cookie is signed, not looked up: ``name~role~expiry~nonce~HMAC-SHA256`` under a key kept in
``<data_dir>/session-key`` (0600), so a restarted frontend or engine keeps its signed-in pages. It
never holds the token; it stops counting when it expires, when it is signed out (remembered until
then, in this process), or when its token is removed from the named tokens file.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING

from engine.access.credentials import load_or_create_secret
from frontends.caller import Caller

if TYPE_CHECKING:
    from collections.abc import Callable

    from frontends.caller import Role

COOKIE = "sv_session"
SESSION_PATH = "/api/v1/session"
SESSION_TTL_S = 12 * 3600
KEY_FILE = "session-key"
MAX_SIGNED_OUT = 4096  # signed-out cookies remembered until they expire; beyond this the oldest go


class SessionStore:
    def __init__(
        self, key: bytes, *, secure: bool, still_valid: Callable[[str, Role], bool], ttl_s: float = SESSION_TTL_S
    ) -> None:
        self.secure, self.ttl_s, self._key, self._still_valid = secure, ttl_s, key, still_valid
        self._signed_out: dict[str, float] = {}

    @classmethod
    def for_data_dir(cls, data_dir: str, *, secure: bool, still_valid: Callable[[str, Role], bool]) -> SessionStore:
        key, _ = load_or_create_secret(Path(data_dir) / KEY_FILE)
        return cls(bytes.fromhex(key) if len(key) == 64 else key.encode(), secure=secure, still_valid=still_valid)

    def _mac(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()

    def open(self, name: str, role: Role) -> str:
        body = f"{name}~{role}~{int(time.time() + self.ttl_s)}~{secrets.token_hex(8)}"
        return f"{body}~{self._mac(body)}"

    def caller(self, session: str, peer: str) -> Caller | None:
        body, _, mac = session.rpartition("~")
        parts = body.split("~")
        if len(parts) != 4 or not hmac.compare_digest(mac.encode(errors="replace"), self._mac(body).encode()):
            return None
        name, role, expiry, _ = parts
        if role not in ("admin", "read") or not expiry.isdigit() or int(expiry) < time.time():
            return None
        if session in self._signed_out or not self._still_valid(name, role):  # type: ignore[arg-type]
            return None
        return Caller(name, role, "http", peer)  # type: ignore[arg-type]

    def close(self, session: str) -> None:
        now = time.time()
        self._signed_out = {s: t for s, t in self._signed_out.items() if t > now}
        if len(self._signed_out) >= MAX_SIGNED_OUT:
            self._signed_out.pop(next(iter(self._signed_out)))
        self._signed_out[session] = now + self.ttl_s

    def set_cookie(self, session: str) -> str:
        secure = "; Secure" if self.secure else ""
        return f"{COOKIE}={session}; Path=/; Max-Age={int(self.ttl_s)}; HttpOnly; SameSite=Strict{secure}"

    def clear_cookie(self) -> str:
        secure = "; Secure" if self.secure else ""
        return f"{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict{secure}"


def session_cookie(cookie_header: str | None) -> str | None:
    """The ``sv_session`` value of a Cookie header, if any."""
    if not cookie_header:
        return None
    for part in cookie_header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE and value:
            return value
    return None
