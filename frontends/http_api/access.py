"""AccessMiddleware: the AccessPolicy and the per-client cap in front of every HTTP route and /ws.

Refusals leave as the usual error body: 401 with ``WWW-Authenticate: Bearer`` (no or wrong token),
403 (a non-loopback peer of an engine without a token), 429 with Retry-After (the client's cap).
A refused WebSocket upgrade gets the same HTTP answer (the ASGI denial-response extension), or a
close with 1008 (policy violation) where the server lacks it.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from frontends.auth import OPEN_HTTP_PATHS, READ_HTTP_METHODS, client_key
from frontends.http_api.routing import JSONResponse

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

    from frontends.auth import AccessPolicy
    from frontends.errors import ErrorAnswer
    from frontends.limits import ClientLimiter
    from frontends.prom import RequestMetrics


def _authorization(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return str(value.decode("latin-1"))
    return None


class AccessMiddleware:
    def __init__(self, app: ASGIApp, policy: AccessPolicy, limiter: ClientLimiter, metrics: RequestMetrics) -> None:
        self.app, self.policy, self.limiter, self.metrics = app, policy, limiter, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket") or scope["path"] in OPEN_HTTP_PATHS:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        host = client[0] if client else None
        read = kind == "websocket" or scope["method"] in READ_HTTP_METHODS
        authorization = _authorization(scope) if self.policy.enabled else None
        refusal = self.policy.refusal(host, read=read, authorization=authorization)
        if refusal is not None:
            await self._refuse(scope, receive, send, refusal)
            return
        if kind == "websocket" or not self.limiter.enabled:  # a subscription is not a call in flight
            await self.app(scope, receive, send)
            return
        key = client_key(host)
        if not self.limiter.try_acquire(key):
            await self._refuse(scope, receive, send, self.limiter.refusal)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.limiter.release(key)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, answer: ErrorAnswer) -> None:
        self.metrics.refused.labels("http", answer.code).inc()
        response = JSONResponse(answer.body(), status_code=answer.http_status, headers=answer.headers())
        if scope["type"] == "http":
            await response(scope, receive, send)
            return
        await receive()  # websocket.connect
        if "websocket.http.response" not in scope.get("extensions", {}):  # pragma: no cover - uvicorn has it
            await send({"type": "websocket.close", "code": 1008})
            return
        await response(scope, receive, send)  # Starlette sends websocket.http.response.*
        # uvicorn (0.54) counts the handshake as done only once the connection is gone, and logs an
        # error for an app that returns before: wait for that (its second disconnect), 1 s at most
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                for _ in range(2):
                    await receive()
