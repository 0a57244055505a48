"""AccessMiddleware: who the caller is, before any HTTP route or /ws runs; and the per-route role check.

1. Open paths (/healthz, /readyz, the dashboard page and /static/) pass as they are.
2. The caller: the Unix socket's peer (``scope["client"] == ("unix", uid)``, set by
   frontends/unix_http.py's protocols: only our own socket has it), the ``Authorization: Bearer``
   header, or the dashboard's ``sv_session`` cookie (frontends/http_api/session.py). None of these:
   401 saying how to get in; a WebSocket upgrade without one is let through to authenticate with
   its first message (``{"type": "auth", "token": "..."}``, frontends/events.py).
3. Cross-site: a request with an ``Origin`` of another site is refused 403 on unsafe methods and
   on the WebSocket, and a cookie counts for those only with our own Origin.
4. The caller is set (frontends/caller.py) and the per-client cap taken by its name.
5. Each route's handler is wrapped by ``guard_route``: it names the call (frontends/auth.py
   CALLS) and refuses 403 a role that may not make it.

Refusals leave as the usual error body with ``sigmavault_refused_calls_total`` counted and one
line on the ``sigmavault.access`` log. A refused WebSocket upgrade gets the same HTTP answer (the
ASGI denial-response extension), or a close with 1008 (policy violation) where the server lacks it.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

import grpc
import orjson

from frontends.auth import READ_HTTP_METHODS, http_path_is_open, is_read
from frontends.caller import Caller, current_caller, set_call, set_caller
from frontends.errors import ErrorAnswer
from frontends.http_api.routing import JSONResponse
from frontends.http_api.session import SESSION_PATH, session_cookie

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.types import ASGIApp, Receive, Scope, Send

    from frontends.auth import AccessPolicy
    from frontends.caller import Transport
    from frontends.http_api.routing import Handler
    from frontends.http_api.session import SessionStore
    from frontends.limits import ClientLimiter
    from frontends.prom import RequestMetrics

MAX_LOGIN_BODY_BYTES = 4096
SESSION_METHODS = "DELETE, GET, HEAD, POST"  # HEAD answers as GET does
FOREIGN_ORIGIN = ErrorAnswer(
    403,
    grpc.StatusCode.PERMISSION_DENIED,
    "cross_origin",
    "a request from another site's page may not act here (its Origin is not this engine's)",
    {},
)
NO_ORIGIN = ErrorAnswer(
    403,
    grpc.StatusCode.PERMISSION_DENIED,
    "cross_origin",
    "a session cookie counts for this request only with this engine's Origin header; "
    "send 'Authorization: Bearer <token>' instead",
    {},
)
BAD_LOGIN = ErrorAnswer(
    400,
    grpc.StatusCode.INVALID_ARGUMENT,
    "invalid_argument",
    'the body must be JSON {"token": "<token>"} (at most 4 KiB)',
    {},
)


def _headers(scope: Scope) -> tuple[str | None, str | None, str | None, str | None]:
    """(authorization, cookie, origin, host) of a request, each None when absent."""
    authorization = cookie = origin = host = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            authorization = value.decode("latin-1")
        elif name == b"cookie":
            cookie = value.decode("latin-1")
        elif name == b"origin":
            origin = value.decode("latin-1")
        elif name == b"host":
            host = value.decode("latin-1")
    return authorization, cookie, origin, host


def _own_origin(scope: Scope, origin: str, host: str | None) -> bool:
    secure = scope.get("scheme") in ("https", "wss")
    return host is not None and origin == f"{'https' if secure else 'http'}://{host}"


def _peer(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "-"


class AccessMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        policy: AccessPolicy,
        limiter: ClientLimiter,
        metrics: RequestMetrics,
        sessions: SessionStore,
    ) -> None:
        self.app, self.policy, self.limiter, self.metrics, self.sessions = app, policy, limiter, metrics, sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket") or (kind == "http" and http_path_is_open(scope["path"])):
            await self.app(scope, receive, send)
            return
        authorization, cookie, origin, host = _headers(scope)
        unsafe = kind == "websocket" or scope["method"] not in READ_HTTP_METHODS
        call = "events.Subscribe" if kind == "websocket" else f"http.{scope['method']} {scope['path']}"
        if unsafe and origin is not None and not _own_origin(scope, origin, host):
            await self._refuse(scope, receive, send, FOREIGN_ORIGIN, _peer(scope), call)
            return
        if kind == "http" and scope["path"] == SESSION_PATH and scope["method"] == "POST":
            await self._login(scope, receive, send, authorization)
            return
        caller = self._caller(scope, kind, authorization, cookie)
        if isinstance(caller, ErrorAnswer):
            if kind == "websocket" and caller is self.policy.missing:  # may authenticate with its first message
                scope["sigmavault.authenticate"] = self._first_message_check(scope)
                await self.app(scope, receive, send)
                return
            await self._refuse(scope, receive, send, caller, _peer(scope), call)
            return
        if unsafe and authorization is None and caller.peer != "unix" and origin is None:
            await self._refuse(scope, receive, send, NO_ORIGIN, caller.describe(), call)  # cookie only
            return
        set_caller(caller)
        if kind == "websocket":
            set_call(call)
            self.policy.admitted(caller, call)
            await self.app(scope, receive, send)
            return
        if scope["path"] == SESSION_PATH:
            await self._session(scope, receive, send, caller, cookie)
            return
        if not self.limiter.enabled:
            await self.app(scope, receive, send)
            return
        key = caller.name
        if not self.limiter.try_acquire(key):
            await self._refuse(scope, receive, send, self.limiter.refusal, caller.describe(), call)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.limiter.release(key)

    def _caller(self, scope: Scope, kind: str, authorization: str | None, cookie: str | None) -> Caller | ErrorAnswer:
        client = scope.get("client")
        server = scope.get("server")
        transport: Transport = "websocket" if kind == "websocket" else "http"
        if client and client[0] == "unix" and server is not None and server[1] is None:
            uid = int(client[1])
            return self.policy.unix_caller(transport, uid if uid >= 0 else None)
        if authorization is None and cookie is not None:
            session = session_cookie(cookie)
            found = self.sessions.caller(session, _peer(scope)) if session else None
            if found is not None:
                return found if transport == "http" else Caller(found.name, found.role, transport, found.peer)
        return self.policy.authenticate(authorization, transport, _peer(scope))

    def _first_message_check(self, scope: Scope) -> Any:
        def check(token: object) -> Caller | ErrorAnswer:
            caller = self.policy.authenticate(
                f"Bearer {token}" if isinstance(token, str) else None, "websocket", _peer(scope)
            )
            if isinstance(caller, ErrorAnswer):
                self.metrics.refused.labels("websocket", caller.code).inc()
                self.policy.refused(_peer(scope), "events.Subscribe", caller)
                return caller
            set_caller(caller)
            set_call("events.Subscribe")
            self.policy.admitted(caller, "events.Subscribe")
            return caller

        return check

    async def _login(self, scope: Scope, receive: Receive, send: Send, authorization: str | None) -> None:
        set_call("session.Open")  # the audit entry's name (frontends/http_api/audit.py), refused or not
        token: object = None
        if authorization is None:
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if len(body) > MAX_LOGIN_BODY_BYTES or not message.get("more_body"):
                    break
            try:
                doc = orjson.loads(body) if len(body) <= MAX_LOGIN_BODY_BYTES else None
            except orjson.JSONDecodeError:
                doc = None
            token = doc.get("token") if isinstance(doc, dict) else None
            if not isinstance(token, str):
                await self._refuse(scope, receive, send, BAD_LOGIN, _peer(scope), "session.Open")
                return
            authorization = f"Bearer {token}"
        caller = self.policy.authenticate(authorization, "http", _peer(scope))
        if isinstance(caller, ErrorAnswer):
            await self._refuse(scope, receive, send, caller, _peer(scope), "session.Open")
            return
        set_caller(caller)  # the audit entry's caller: the token's name, not anonymous
        self.policy.admitted(caller, "session.Open")
        session = self.sessions.open(caller.name, caller.role)
        doc = {"name": caller.name, "role": caller.role, "expires_in_s": int(self.sessions.ttl_s)}
        await JSONResponse(doc, headers={"Set-Cookie": self.sessions.set_cookie(session)})(scope, receive, send)

    async def _session(self, scope: Scope, receive: Receive, send: Send, caller: Caller, cookie: str | None) -> None:
        """GET: who the credential is; DELETE: end the cookie's session (a bearer caller has none)."""
        set_call({"GET": "session.Get", "HEAD": "session.Get", "DELETE": "session.Close"}.get(scope["method"]))
        if scope["method"] == "DELETE":
            session = session_cookie(cookie)
            if session:
                self.sessions.close(session)
            await JSONResponse({"closed": bool(session)}, headers={"Set-Cookie": self.sessions.clear_cookie()})(
                scope, receive, send
            )
            return
        if scope["method"] not in ("GET", "HEAD"):
            answer = ErrorAnswer(
                405,
                grpc.StatusCode.UNIMPLEMENTED,
                "method_not_allowed",
                f"{scope['method']} is not allowed here; allowed: {SESSION_METHODS}",
                {},
                extra_headers={"Allow": SESSION_METHODS},
            )
            await JSONResponse(answer.body(), status_code=405, headers=answer.headers())(scope, receive, send)
            return
        self.policy.admitted(caller, "session.Get")
        doc = {"name": caller.name, "role": caller.role, "transport": caller.transport}
        await JSONResponse(doc)(scope, receive, send)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, answer: ErrorAnswer, who: str, call: str
    ) -> None:
        self.metrics.refused.labels("http", answer.code).inc()
        self.policy.refused(who, call, answer)
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


def guard_route(handler: Handler, call: str, policy: AccessPolicy, metrics: RequestMetrics) -> Handler:
    """``handler`` behind the role check of ``call`` (the caller was set by AccessMiddleware)."""
    read = is_read(call)

    async def guarded(request: Request) -> Response:
        set_call(call)
        caller = current_caller()
        if caller is None:  # pragma: no cover - AccessMiddleware refuses a call without a caller first
            raise RuntimeError(f"{call} was reached without a caller")
        refusal = policy.authorize(caller, call, read)
        if refusal is not None:
            metrics.refused.labels("http", refusal.code).inc()
            policy.refused(caller.describe(), call, refusal)
            return JSONResponse(refusal.body(), status_code=refusal.http_status, headers=refusal.headers())
        policy.admitted(caller, call)
        return await handler(request)

    return guarded
