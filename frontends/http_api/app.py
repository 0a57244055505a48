"""build_app(): the Starlette application on SIGMAVAULT_ENGINE_PORT.

Routes come from one Endpoint list per domain (frontends/http_api/*.py), the same list
/openapi.json is generated from. Every error leaves through one exception handler as
``{"error": {"code", "message", "metadata"}}`` with its status and headers (Retry-After on 429
and 503, Allow on 405) from frontends/errors.py.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute

from engine.errors import EngineError
from frontends.auth import AccessPolicy, http_call_name, http_path_is_open
from frontends.errors import describe, error_body
from frontends.http_api import agents, audit, compression, dashboard, encryption, network, storage, system
from frontends.http_api.access import AccessMiddleware, guard_route
from frontends.http_api.audit import AuditMiddleware
from frontends.http_api.router import GroupedRouter
from frontends.http_api.routing import Endpoint, JSONResponse
from frontends.http_api.session import SessionStore
from frontends.limits import ClientLimiter
from frontends.openapi import openapi_document
from frontends.prom import CONTENT_TYPE

if TYPE_CHECKING:
    from collections.abc import MutableMapping

    from starlette.requests import Request
    from starlette.types import ASGIApp, Receive, Scope, Send

    from engine.runtime import Runtime
    from frontends.events import EventHub
    from frontends.prom import RequestMetrics

DOMAINS = (system, agents, storage, compression, encryption, network, audit, dashboard)


class MetricsMiddleware:
    """Counts requests and observes latency by route template (raw paths would explode labels).

    Labelled children are cached: ``labels()`` takes a lock and builds a key on every call,
    which measured ~4 us of the ~6 us this middleware cost per request.
    """

    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._histograms: dict[str, Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            path = getattr(scope.get("route"), "path", "unmatched")
            key = (scope["method"], path, status)
            counter = self._counters.get(key)
            if counter is None:
                counter = self._counters[key] = self.metrics.http_requests.labels(key[0], path, str(status))
            histogram = self._histograms.get(path)
            if histogram is None:
                histogram = self._histograms[path] = self.metrics.http_latency.labels(path)
            counter.inc()
            histogram.observe(time.perf_counter() - start)


def endpoints(rt: Runtime, metrics: RequestMetrics) -> list[Endpoint]:
    """Every HTTP route but the WebSocket, in one list (routes and /openapi.json both come from it)."""
    out = [endpoint for domain in DOMAINS for endpoint in domain.endpoints(rt)]

    async def prometheus(request: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    out.append(
        Endpoint(
            "GET",
            "/metrics",
            prometheus,
            "Prometheus metrics of the engine (text format)",
            None,
            content_type="text/plain",
        )
    )
    document: list[bytes] = []  # built once the list is complete, this route included

    async def openapi_json(request: Request) -> Response:
        return Response(document[0], media_type="application/json")

    out.append(Endpoint("GET", "/openapi.json", openapi_json, "This OpenAPI 3.1 document", None))
    document.append(orjson.dumps(openapi_document(rt.version, out)))
    return out


async def on_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        message, headers = str(exc.detail), dict(exc.headers or {})
        if exc.status_code == 405 and "Allow" in headers:
            headers["Allow"] = ", ".join(sorted(headers["Allow"].split(", ")))  # Starlette's comes from a set
            message = f"{request.method} is not allowed here; allowed: {headers['Allow']}"
        return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=headers)
    answer = describe(exc)
    return JSONResponse(answer.body(), status_code=answer.http_status, headers=answer.headers())


def build_app(
    rt: Runtime,
    hub: EventHub,
    metrics: RequestMetrics,
    limiter: ClientLimiter | None = None,
    *,
    policy: AccessPolicy | None = None,
) -> ASGIApp:
    """The routes behind the access policy and the per-client cap (``limiter``, shared with gRPC), and
    around those the audit log's recording."""
    policy = policy or AccessPolicy.from_config(rt.config)
    described = endpoints(rt, metrics)
    routes: list[BaseRoute] = []
    for e in described:
        handler = (
            e.handler
            if http_path_is_open(e.path)
            else guard_route(e.handler, e.call or http_call_name(e.method, e.path), policy, metrics)
        )
        routes.append(Route(e.path, handler, methods=[e.method]))
    routes.append(WebSocketRoute("/ws", hub.serve))
    routes.append(dashboard.static_files())  # the page's files: not API routes, so not in /openapi.json
    # expected errors go through ExceptionMiddleware (answered, not logged as crashes); a bare
    # Exception handler is Starlette's last resort for real bugs (answered 500, then logged)
    handlers = {cls: on_error for cls in (HTTPException, EngineError, ValueError, TimeoutError, Exception)}
    app = Starlette(exception_handlers=handlers)
    app.router = GroupedRouter(routes)  # before the first request builds the middleware stack around it
    limiter = limiter or ClientLimiter(rt.config.client_max_inflight)
    sessions = SessionStore.for_data_dir(rt.config.data_dir, secure=rt.config.tls, still_valid=policy.holds)
    access = AccessMiddleware(app, policy, limiter, metrics, sessions)
    # the audit log outside the access checks: it records their refusals too (frontends/http_api/audit.py)
    calls = {(e.method, e.path): e.call or http_call_name(e.method, e.path) for e in described}
    fields = {(e.method, e.path): dict(e.path_fields) for e in described if e.path_fields}
    return MetricsMiddleware(AuditMiddleware(access, rt.audit, calls, routes, metrics, fields), metrics)
