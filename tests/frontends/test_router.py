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


PATHS = ["/healthz", "/api/v1/agents", "/api/v1/agents/{id}", "/api/v1/agents/{id}/task", "/api/v1/tasks",
         "/api/v1/storage/pools/{name}", "/{anything}/deep"]  # fmt: skip


def test_grouped_router_matches_like_starlette() -> None:
    routes = [Route(p, named, methods=["POST" if p.endswith("task") or p.endswith("tasks") else "GET"])
              for p in PATHS]  # fmt: skip
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
