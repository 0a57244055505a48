"""uvicorn's HTTP and WebSocket protocols for the Unix socket, telling the app who connected.

uvicorn puts no client address in the scope of a Unix-socket connection; these subclasses put
``("unix", <peer uid>)`` there instead (SO_PEERCRED of the connection), which
frontends/http_api/access.py takes as a caller the kernel admitted. Only the engine's own socket
is served with them (frontends/runner.py), so no other listener can claim to be the socket.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from engine.access.unixsock import peer_uid

if TYPE_CHECKING:
    import asyncio


def _unix_client(transport: asyncio.BaseTransport) -> tuple[str, int]:
    sock = transport.get_extra_info("socket")
    uid = peer_uid(sock) if sock is not None else None
    return ("unix", -1 if uid is None else uid)


class UnixHttpProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.client = _unix_client(transport)


class UnixWebSocketProtocol(WebSocketsSansIOProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.client = _unix_client(transport)
