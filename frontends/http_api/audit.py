"""The audit log over HTTP: AuditMiddleware records every call that is not a read (frontends/audit.py
says which), and ``GET /api/v1/audit`` reads the log (admin callers only: frontends/auth.py ADMIN_READS).

The middleware sits outside AccessMiddleware, so a refused call (401, 403, 429) is recorded too; it
takes the caller the access checks admitted when the answer starts (still inside them), the status
from that start, and the error code from the body of an error answer (read only then, and bounded),
and records the entry as the last body part leaves: a client's next call already finds it. Reads
pass through after one set lookup.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from starlette.routing import Match

from engine.access.audit import LIST_LIMIT_MAX
from frontends._gen.sigmavault.v1 import system_pb2 as pb
from frontends.audit import UNAUDITED_CALLS, begin, end, format_target, http_result
from frontends.auth import OPEN_HTTP_PATHS, READ_HTTP_METHODS, client_key
from frontends.calls.system import CALLS
from frontends.http_api.calls import answer
from frontends.http_api.routing import Endpoint, Query, int_query, str_query
from frontends.http_api.session import SESSION_PATH

if TYPE_CHECKING:
    from collections.abc import MutableMapping

    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute
    from starlette.types import ASGIApp, Receive, Scope, Send

    from engine.access.audit import AuditLog
    from engine.runtime import Runtime
    from frontends.prom import RequestMetrics

SESSION_CALLS = {"POST": "session.Open", "DELETE": "session.Close"}  # GET is a read: not recorded
ERROR_BODY_MAX = 4096  # an error answer is {"error": {...}} of a few hundred bytes; more is not ours to parse


class AuditMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        audit: AuditLog,
        calls: dict[tuple[str, str], str],
        routes: list[BaseRoute],
        metrics: RequestMetrics,
        fields: dict[tuple[str, str], dict[str, str]] | None = None,
    ) -> None:
        """``calls``: (method, route template) -> the call's name (Endpoint.call); ``routes``: to name
        a call the access checks refused before it was routed; ``fields``: (method, template) -> path
        parameter -> the request field it fills, so a refused call's target reads like the admitted
        one's (``pool=tank`` both ways)."""
        self.app, self.audit, self.calls, self.routes, self.metrics = app, audit, calls, routes, metrics
        self.fields = fields or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in READ_HTTP_METHODS or scope["path"] in OPEN_HTTP_PATHS:
            await self.app(scope, receive, send)
            return
        pending, token = begin()
        status: int | None = None
        body = bytearray()
        recorded = False

        def record(result: str | None = None) -> None:
            nonlocal recorded
            recorded = True
            call, params = self._call(scope)
            if call is None:  # no route has this method and path: nothing it could change (counted instead)
                self.metrics.unrouted.labels(str(status or "-")).inc()
                return
            call = pending.call or call  # the name the access checks gave it (session.Open, ...)
            if call in UNAUDITED_CALLS:
                return
            client = scope.get("client")
            self.audit.record(
                pending.entry(
                    transport="http",
                    peer=client_key(client[0]) if client else "unix",
                    call=call,
                    target=format_target(params.items()),
                    result=result or http_result(status or 500, bytes(body)),
                    status=str(status or "-"),
                )
            )

        async def send_wrapper(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                pending.see_caller()
            else:
                if status is not None and status >= 400 and len(body) < ERROR_BODY_MAX:
                    body.extend(message.get("body", b"")[:ERROR_BODY_MAX])
                if not message.get("more_body", False) and not recorded:
                    record()  # before the client has its whole answer: its next call finds this entry
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except asyncio.CancelledError:  # the client went away, or shutdown: what was done is still recorded
            if not recorded:
                record("cancelled")
            raise
        finally:
            end(token)
            if not recorded:  # no complete answer went out (an error escaped every handler)
                record()

    def _call(self, scope: Scope) -> tuple[str | None, dict[str, Any]]:
        """The call's name and its path parameters by request field name; None for a method and path
        no route has (a 404 or 405: not recorded). A call refused before routing is routed here
        (rare: a refusal), so that it carries its name and target like an admitted one."""
        method, route, params = scope["method"], scope.get("route"), scope.get("path_params", {})
        if scope["path"] == SESSION_PATH:  # answered by AccessMiddleware itself, not a route
            return SESSION_CALLS.get(method), {}
        if route is None:
            for candidate in self.routes:
                match, child = candidate.matches(scope)
                if match is Match.FULL:
                    route, params = candidate, child.get("path_params", {})
                    break
        template = getattr(route, "path", None)
        if template is None or (call := self.calls.get((method, template))) is None:
            return None, params
        renamed = self.fields.get((method, template), {})
        return call, {renamed.get(name, name): value for name, value in params.items()}


def endpoints(rt: Runtime) -> list[Endpoint]:
    async def audit(request: Request) -> Response:
        message = pb.ListAuditEntriesRequest(
            since_unix=int_query(request, "since_unix", 0, 0, 2**40),
            limit=int_query(request, "limit", 100, 1, LIST_LIMIT_MAX),
            caller=str_query(request, "caller", 256),
            call=str_query(request, "call", 256),
        )
        # not exact: an entry without a uid leaves it out (None in the record); project costs what the
        # dicts it replaced did (13.6 ms for 1000 entries, either way, on this 2-core box)
        return await answer(rt, CALLS["ListAuditEntries"], message)

    query = (
        Query("limit", {"type": "integer", "minimum": 1, "maximum": LIST_LIMIT_MAX, "default": 100}, "newest first"),
        Query("since_unix", {"type": "integer", "minimum": 0, "maximum": 2**40}, "entries at or after (unix seconds)"),
        Query(
            "caller", {"type": "string", "maxLength": 256}, "only this caller's (a token's name, uid:<n>, anonymous)"
        ),
        Query("call", {"type": "string", "maxLength": 256}, "only this call's, e.g. storage.DestroyPool"),
    )
    return [
        Endpoint(
            "GET",
            "/api/v1/audit",
            audit,
            "The audit log: calls that changed state or were refused, newest first (admin callers only)",
            pb.ListAuditEntriesResponse.DESCRIPTOR,
            query=query,
            call="system.ListAuditEntries",
        ),
    ]
