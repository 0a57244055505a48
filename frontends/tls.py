"""TLS for both ports from SIGMAVAULT_TLS_CERT / SIGMAVAULT_TLS_KEY, and mutual TLS with
SIGMAVAULT_TLS_CLIENT_CA (docs/SECURITY.md).

HTTP: uvicorn wraps the listener the supervisor bound and the frontend inherited (the socket stays
plain TCP; TLS is set up per connection by the event loop). gRPC: grpc's own TLS on its port. With a
client CA both ports require a client certificate signed by it; TLS 1.2 is the oldest offered.
Certificates are read at start: after renewing them, restart the engine (systemctl reload-or-restart).
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc

if TYPE_CHECKING:
    from engine.config import EngineConfig


def server_ssl_context(cfg: EngineConfig) -> ssl.SSLContext | None:
    """The HTTP side's context, or None without TLS."""
    if not cfg.tls:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cfg.tls_cert, cfg.tls_key)
    if cfg.tls_client_ca:
        context.load_verify_locations(cafile=cfg.tls_client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def uvicorn_options(cfg: EngineConfig) -> dict[str, Any]:
    """uvicorn.Config keyword arguments for TLS (none without it)."""
    context = server_ssl_context(cfg)
    if context is None:
        return {}
    return {"ssl_context_factory": lambda config, default: context}


def grpc_credentials(cfg: EngineConfig) -> grpc.ServerCredentials | None:
    """The gRPC port's credentials, or None for a plain port."""
    if not cfg.tls:
        return None
    pair = (Path(cfg.tls_key).read_bytes(), Path(cfg.tls_cert).read_bytes())
    client_ca = Path(cfg.tls_client_ca).read_bytes() if cfg.tls_client_ca else None
    return grpc.ssl_server_credentials([pair], root_certificates=client_ca, require_client_auth=client_ca is not None)
