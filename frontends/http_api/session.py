"""The dashboard's login: ``/api/v1/session`` turns a token into a session cookie.

``POST /api/v1/session`` with ``{"token": "..."}`` (or an ``Authorization: Bearer`` header) answers
who the token is and sets ``sv_session``: HttpOnly (no script reads it), SameSite=Strict (no other
site's page sends it), Path=/, Secure when the port serves TLS, for SESSION_TTL_S. ``GET`` answers
who the current credential is (401 without one: the page then asks for the token), ``DELETE``
ends the session. Sessions live in the frontend's memory: a restarted frontend asks again.
A cookie counts only for same-origin requests (frontends/http_api/access.py checks Origin).
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from typing import TYPE_CHECKING

from frontends.caller import Caller

if TYPE_CHECKING:
    from frontends.caller import Role

COOKIE = "sv_session"
SESSION_PATH = "/api/v1/session"
SESSION_TTL_S = 12 * 3600
MAX_SESSIONS = 4096  # the oldest session is forgotten beyond this (a login flood cannot grow memory)


class SessionStore:
    def __init__(self, *, secure: bool, ttl_s: float = SESSION_TTL_S) -> None:
        self.secure, self.ttl_s = secure, ttl_s
        self._sessions: OrderedDict[str, tuple[str, Role, float]] = OrderedDict()

    def open(self, name: str, role: Role) -> str:
        session = secrets.token_urlsafe(32)
        self._sessions[session] = (name, role, time.monotonic() + self.ttl_s)
        while len(self._sessions) > MAX_SESSIONS:
            self._sessions.popitem(last=False)
        return session

    def caller(self, session: str, peer: str) -> Caller | None:
        entry = self._sessions.get(session)
        if entry is None:
            return None
        if entry[2] < time.monotonic():
            del self._sessions[session]
            return None
        return Caller(entry[0], entry[1], "http", peer)

    def close(self, session: str) -> None:
        self._sessions.pop(session, None)

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
