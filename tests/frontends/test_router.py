"""GroupedRouter answers exactly as Starlette's Router would, scanning only the request's group."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from frontends.http_api.router import GroupedRouter
from tests.utils import run


async def named(request):
    return PlainTextResponse(f"{request.scope['route'].path} {dict(request.path_params)}")


PATHS = [
    "/healthz",
    "/api/v1/agents",
    "/api/v1/agents/{id}",
    "/api/v1/agents/{id}/task",
    "/api/v1/tasks",
    "/api/v1/storage/pools/{name}",
    "/{anything}/deep",
]


def test_grouped_router_matches_like_starlette() -> None:
    routes = [Route(p, named, methods=["POST" if p.endswith("task") or p.endswith("tasks") else "GET"]) for p in PATHS]
    app = Starlette()
    app.router = GroupedRouter(routes)

    async def scenario() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            assert (await client.get("/healthz")).text == "/healthz {}"
            assert (await client.get("/api/v1/agents")).text == "/api/v1/agents {}"
            assert (await client.get("/api/v1/agents/7")).text == "/api/v1/agents/{id} {'id': '7'}"
            assert (await client.post("/api/v1/agents/7/task")).text == "/api/v1/agents/{id}/task {'id': '7'}"
            pool = await client.get("/api/v1/storage/pools/tank")
            assert pool.text == "/api/v1/storage/pools/{name} {'name': 'tank'}"
            assert (await client.get("/x/deep")).text == "/{anything}/deep {'anything': 'x'}"  # its own group
            wrong = await client.get("/api/v1/tasks")
            assert wrong.status_code == 405 and wrong.headers["allow"] == "POST"
            assert (await client.get("/api/v1/nothing")).status_code == 404
            assert (await client.get("/api/v1/agents/7/nope")).status_code == 404

    run(scenario())
    grouped = app.router
    assert isinstance(grouped, GroupedRouter)
    assert len(grouped._candidates("/api/v1/storage/pools/tank")) == 1  # not every route


def test_405_allows_every_method_of_the_path() -> None:
    """Starlette's 405 named the methods of the first route of the path only (``Allow: PATCH`` on a
    schedule that DELETE also answers); the Allow header names every route's, HEAD wherever GET."""
    routes = [Route("/api/v1/storage/schedules/{id}", named, methods=[m]) for m in ("PATCH", "DELETE", "GET")]
    routes += [Route("/api/v1/storage/pools/{name}", named, methods=[m]) for m in ("GET", "DELETE")]
    routes.append(Route("/api/v1/storage/pools/import", named, methods=["POST"]))
    app = Starlette()
    app.router = GroupedRouter(routes)

    async def scenario() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            wrong = await client.put("/api/v1/storage/schedules/1")
            assert (wrong.status_code, wrong.headers["allow"]) == (405, "DELETE, GET, HEAD, PATCH")
            assert (await client.delete("/api/v1/storage/schedules/1")).status_code == 200
            # a path two templates match: the methods of both
            both = await client.put("/api/v1/storage/pools/import")
            assert (both.status_code, both.headers["allow"]) == (405, "DELETE, GET, HEAD, POST")
            only = await client.put("/api/v1/storage/pools/tank")
            assert (only.status_code, only.headers["allow"]) == (405, "DELETE, GET, HEAD")

    run(scenario())
