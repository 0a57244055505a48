"""The access checks set the Caller and the call's name where the servicer or the route runs (the
audit log reads them there): the gRPC guard inside the wrapped behaviour, the HTTP middleware and
the route's role check in the request's task. In process, with real servers on loopback / ASGI."""

from __future__ import annotations

import grpc
import httpx
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from frontends.auth import AccessPolicy
from frontends.caller import current_call, current_caller
from frontends.grpc_api.guard import CallGuard
from frontends.http_api.access import AccessMiddleware, guard_route
from frontends.http_api.session import SessionStore
from frontends.limits import ClientLimiter
from frontends.prom import RequestMetrics
from tests.utils import run

TOKEN = "caller-test-token-0123456789"
METHOD = "/sigmavault.v1.StorageService/DestroyPool"


def _seen() -> bytes:
    caller = current_caller()
    return f"{caller.name if caller else None} {caller.role if caller else None} {current_call()}".encode()


def test_grpc_servicer_sees_the_caller_and_the_call_name() -> None:
    async def scenario() -> list[str]:
        async def behaviour(request: bytes, context: object) -> bytes:
            return _seen()

        handler = grpc.unary_unary_rpc_method_handler(behaviour)
        service = grpc.method_handlers_generic_handler("sigmavault.v1.StorageService", {"DestroyPool": handler})
        guard = CallGuard(AccessPolicy(TOKEN), ClientLimiter(2), RequestMetrics())
        server = grpc.aio.server(interceptors=[guard])
        server.add_generic_rpc_handlers((service,))
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        out = []
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                call = channel.unary_unary(METHOD)
                out.append((await call(b"", metadata=(("authorization", f"Bearer {TOKEN}"),))).decode())
                try:
                    await call(b"")
                except grpc.aio.AioRpcError as exc:
                    out.append(exc.code().name)
        finally:
            await server.stop(0)
        return out

    assert run(scenario()) == ["admin admin storage.DestroyPool", "UNAUTHENTICATED"]


def test_http_route_sees_the_caller_and_the_call_name() -> None:
    policy, metrics = AccessPolicy(TOKEN), RequestMetrics()

    async def destroy(request: object) -> JSONResponse:
        return JSONResponse(_seen().decode())

    route = Route(
        "/api/v1/storage/pools/{name}", guard_route(destroy, "storage.DestroyPool", policy, metrics), methods=["DELETE"]
    )
    sessions = SessionStore(b"k" * 32, secure=False, still_valid=policy.holds)
    app = AccessMiddleware(Starlette(routes=[route]), policy, ClientLimiter(0), metrics, sessions)

    async def scenario() -> list[object]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            ok = await client.delete("/api/v1/storage/pools/tank", headers={"Authorization": f"Bearer {TOKEN}"})
            refused = await client.delete("/api/v1/storage/pools/tank")
            return [ok.json(), refused.status_code]

    assert run(scenario()) == ["admin admin storage.DestroyPool", 401]
