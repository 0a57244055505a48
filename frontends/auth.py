"""Who may call what: one AccessPolicy for HTTP, the WebSocket and gRPC (docs/SECURITY.md).

- Without SIGMAVAULT_API_TOKEN the engine binds loopback only (engine/config.py refuses anything
  else) and serves loopback clients only: a non-loopback peer is refused 403 / PERMISSION_DENIED,
  which also covers an outside uvicorn told ``--host 0.0.0.0``.
- With a token, every call that is not a read needs ``Authorization: Bearer <token>`` (gRPC
  metadata ``authorization``); reads are open to loopback peers only, a non-loopback peer needs
  the token for them too. A token that is present but wrong is refused even where none is needed,
  so a misconfigured client finds out at once. Compared with hmac.compare_digest.
- Always open: /healthz, /readyz and grpc.health.v1 (probes carry no credentials).

What is a read: HTTP GET/HEAD/OPTIONS; the WebSocket relay (it only sends events, a client's
messages change only its own subscriptions); gRPC methods named Get*/List*/Watch*, and server
reflection. Everything else (POST/PUT/PATCH/DELETE, DispatchTask, BlockService, Drain/Resume, ...)
mutates or spends the engine's work, and needs the token.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

import grpc

from engine.credentials import is_loopback
from frontends.errors import ErrorAnswer

if TYPE_CHECKING:
    from engine.config import EngineConfig

OPEN_HTTP_PATHS = frozenset({"/healthz", "/readyz"})
READ_HTTP_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
OPEN_GRPC_SERVICES = ("/grpc.health.v1.Health/",)
READ_GRPC_SERVICES = ("/grpc.reflection.v1alpha.ServerReflection/", "/grpc.reflection.v1.ServerReflection/")
READ_GRPC_PREFIXES = ("Get", "List", "Watch")
REALM = 'Bearer realm="sigmavault"'


def grpc_method_is_read(method: str) -> bool:
    """``/package.Service/Method``: a read by its name (Get*, List*, Watch*) or its service."""
    if method.startswith(READ_GRPC_SERVICES):
        return True
    return method.rpartition("/")[2].startswith(READ_GRPC_PREFIXES)


def grpc_method_is_open(method: str) -> bool:
    return method.startswith(OPEN_GRPC_SERVICES)


def grpc_peer_host(peer: str) -> str | None:
    """The address in a gRPC peer string (``ipv4:127.0.0.1:5000``, ``ipv6:[::1]:5000``); None for
    a Unix socket or anything unparsable (both local)."""
    kind, _, rest = peer.partition(":")
    if kind == "ipv4":
        return rest.rpartition(":")[0]
    if kind == "ipv6":
        return rest.rpartition(":")[0].strip("[]")
    return None


def client_key(host: str | None) -> str:
    """The identity per-client limits count by: the peer address (IPv4-mapped IPv6 as IPv4)."""
    if host is None:
        return "local"
    return host.removeprefix("::ffff:") if host.startswith("::ffff:") and "." in host else host


def _unauthenticated(presented: bool) -> ErrorAnswer:
    challenge = f'{REALM}, error="invalid_token"' if presented else REALM
    return ErrorAnswer(401, grpc.StatusCode.UNAUTHENTICATED, "unauthenticated",
                       "this call needs a valid 'Authorization: Bearer <token>' (docs/SECURITY.md)", {},
                       extra_headers={"WWW-Authenticate": challenge})  # fmt: skip


LOOPBACK_ONLY = ErrorAnswer(403, grpc.StatusCode.PERMISSION_DENIED, "loopback_only",
                            "this engine has no API token, so it serves loopback clients only (docs/SECURITY.md)",
                            {})  # fmt: skip
MISSING_TOKEN = _unauthenticated(False)
WRONG_TOKEN = _unauthenticated(True)


class AccessPolicy:
    """Decides one call from the peer's address, whether the call is a read, and its credentials."""

    def __init__(self, token: str) -> None:
        self._expected = f"Bearer {token}".encode() if token else b""

    @classmethod
    def from_config(cls, config: EngineConfig) -> AccessPolicy:
        return cls(config.api_token)

    @property
    def enabled(self) -> bool:
        return bool(self._expected)

    def _token_ok(self, authorization: str) -> bool:
        scheme, _, value = authorization.strip().partition(" ")
        presented = f"Bearer {value.strip()}".encode(errors="replace") if scheme.lower() == "bearer" else b""
        return hmac.compare_digest(presented, self._expected)

    def refusal(self, host: str | None, *, read: bool, authorization: str | None) -> ErrorAnswer | None:
        """None when the call may go on, else the answer that refuses it (never naming the token)."""
        local = host is None or is_loopback(host)
        if not self._expected:
            return None if local else LOOPBACK_ONLY
        if authorization is not None:
            return None if self._token_ok(authorization) else WRONG_TOKEN
        return None if read and local else MISSING_TOKEN
