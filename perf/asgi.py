"""In-process cost of one HTTP request through our ASGI app vs a bare Starlette app:
``python -m perf.asgi``. No sockets, so the figure is the app's own Python time, steady even on a
noisy machine; the network side (uvicorn, syscalls) is the same for both and is left out."""

from __future__ import annotations

import argparse
import base64
import secrets
import tempfile
import time
from typing import TYPE_CHECKING, Any

import orjson
import uvloop
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from engine.config import EngineConfig
from engine.core.embedded import Engine
from engine.runtime import Runtime
from frontends.calls.system import system_status
from frontends.events import EventHub
from frontends.http_api.app import build_app
from frontends.prom import RequestMetrics
from perf.report import Report, median

if TYPE_CHECKING:
    from starlette.requests import Request


def bare_app(body: bytes) -> Starlette:
    async def status(request: Request) -> Response:
        return Response(body, media_type="application/json")

    async def task(request: Request) -> Response:  # the same base64 echo as perf/bare.py
        doc = orjson.loads(await request.body())
        data = base64.b64decode(doc.get("data", ""), validate=True)
        answer = {
            "agent_id": int(request.path_params["id"]),
            "kind": doc["kind"],
            "data": base64.b64encode(data).decode(),
        }
        return Response(orjson.dumps(answer), media_type="application/json")

    return Starlette(routes=[Route("/status", status), Route("/agents/{id}/task", task, methods=["POST"])])


TASK_BODY = orjson.dumps({"kind": "echo", "data": base64.b64encode(b"x" * 64).decode()})
TOKEN = secrets.token_hex(32)  # every engine call carries it (the bare app ignores it): the check is in the figure


async def per_request_us(app: Any, path: str, count: int, body: bytes | None = None) -> float:
    scope = {
        "type": "http",
        "method": "GET" if body is None else "POST",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [
            (b"content-length", str(len(body or b"")).encode()),
            (b"authorization", f"Bearer {TOKEN}".encode()),
        ],
        "scheme": "http",
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 1),
        "root_path": "",
        "http_version": "1.1",
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body or b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    for _ in range(500):
        await app(dict(scope), receive, send)
    start = time.perf_counter()
    for _ in range(count):
        await app(dict(scope), receive, send)
    return (time.perf_counter() - start) / count * 1e6


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m perf.asgi", description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (median reported)")
    parser.add_argument("--requests", type=int, default=20000, help="requests per measurement")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    report = Report("ASGI app cost per request (perf.asgi)")
    n = args.requests
    with tempfile.TemporaryDirectory() as data_dir:
        cfg = EngineConfig.from_env(
            environ={}, env_file=None, workers=2, data_dir=data_dir, api_token=TOKEN, run_dir=f"{data_dir}/sock"
        )
        with Engine.start(cfg) as engine:
            hub = EventHub()
            rt = Runtime.build(cfg, engine.client, hub.publish)
            ours = build_app(rt, hub, RequestMetrics(rt.monitor))
            body = orjson.dumps(system_status(rt))
            bare = bare_app(body)

            async def run() -> tuple[list[float], ...]:
                b, s, h, bt, t = [], [], [], [], []
                for _ in range(args.rounds):  # interleaved
                    b.append(await per_request_us(bare, "/status", n))
                    s.append(await per_request_us(ours, "/api/v1/system/status", n))
                    h.append(await per_request_us(ours, "/healthz", n))
                    bt.append(await per_request_us(bare, "/agents/0/task", n, TASK_BODY))
                    t.append(await per_request_us(ours, "/api/v1/agents/0/task", n, TASK_BODY))
                await rt.close()  # never started (no pool restore, no schedules in a benchmark): its audit writer stops
                return b, s, h, bt, t

            bare_us, status_us, health_us, bare_task_us, task_us = uvloop.run(run())
    report.add("bare_status_us", median(bare_us), "us", note=f"constant {len(body)}-byte JSON")
    report.add("engine_status_us", median(status_us), "us", note="/api/v1/system/status, live table read")
    report.add("engine_healthz_us", median(health_us), "us", note="routing + middleware only")
    report.add("engine_status_extra_us", median(status_us) - median(bare_us), "us")
    report.add("bare_task_us", median(bare_task_us), "us", note="base64 echo in-process")
    report.add("engine_task_us", median(task_us), "us", note="echo through a worker and back, lone caller")
    report.add("engine_task_extra_us", median(task_us) - median(bare_task_us), "us")
    report.write(args.json)


if __name__ == "__main__":
    main()
