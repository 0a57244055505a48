"""Baselines for the frontend benchmark and ``perf compare``: the same servers without the engine behind them.

python -m perf.bare grpc PORT        grpc.aio AgentService whose DispatchTask echoes in-process (and, for
                                     a compress task, compresses inline in the server's one process);
                                     BlockService.ProcessStream answers 2/3 of each block (gRPC's ceiling)
python -m perf.bare http PORT BYTES [INTERVAL_S EVENT_BYTES]
                                     Starlette on uvicorn (uvloop, httptools), same settings as the
                                     frontend, answering GET with an orjson body of BYTES bytes and
                                     POST like the agent task endpoint (base64 echo), at the engine's
                                     paths too (/api/v1/system/status, /api/v1/agents/{id}/task, /healthz);
                                     /ws publishes a system.metrics-like event of EVENT_BYTES to its
                                     subscribers every INTERVAL_S (default 1 s, 1 KiB); and
                                     POST /api/v1/compression/jobs compresses a file with zstd in a thread
                                     of the server's one process, polled at GET /api/v1/compression/jobs/{id}
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import sys
import time
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.websockets import WebSocket


def serve_grpc(port: int) -> None:
    import grpc
    import uvloop

    from frontends import pb, rpc

    class Echo(rpc.AgentServiceServicer):
        async def DispatchTask(self, request: pb.DispatchTaskRequest, context: object) -> pb.DispatchTaskResponse:
            data = request.data
            if request.kind == pb.TASK_KIND_COMPRESS:  # inline, as a one-process server without workers would
                import zstandard

                level = request.params.level if request.params.HasField("level") else 3
                data = zstandard.ZstdCompressor(level=level).compress(data)
            return pb.DispatchTaskResponse(
                agent_id=request.agent_id,
                agent_name="bare",
                kind=request.kind,
                data=data,
                bytes_in=len(request.data),
                bytes_out=len(data),
            )

    class Blocks(rpc.BlockServiceServicer):
        async def ProcessStream(self, requests: object, context: object):
            async for request in requests:  # type: ignore[attr-defined]
                yield pb.BlockResponse(request_id=request.request_id, data=request.data[: len(request.data) * 2 // 3])

    async def main() -> None:
        limit = 8 << 20
        server = grpc.aio.server(
            options=[("grpc.max_receive_message_length", limit), ("grpc.max_send_message_length", limit)]
        )
        rpc.add_AgentServiceServicer_to_server(Echo(), server)
        rpc.add_BlockServiceServicer_to_server(Blocks(), server)
        server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
        await server.wait_for_termination()

    uvloop.run(main())


def serve_http(port: int, body_bytes: int, interval_s: float = 1.0, event_bytes: int = 1024) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route, WebSocketRoute

    filler = "x" * max(0, body_bytes - len(orjson.dumps({"state": "ok", "filler": ""})))
    body = orjson.dumps({"state": "ok", "filler": filler})

    async def status(request: Request) -> Response:
        return Response(orjson.dumps(orjson.loads(body)), media_type="application/json")

    async def task(request: Request) -> Response:
        doc = orjson.loads(await request.body())
        data = base64.b64decode(doc.get("data", ""), validate=True)
        agent = int(request.path_params["id"])
        answer = {"agent_id": agent, "kind": doc["kind"], "data": base64.b64encode(data).decode()}
        return Response(orjson.dumps(answer), media_type="application/json")

    async def healthz(request: Request) -> Response:
        return Response(b'{"status": "ok"}', media_type="application/json")

    events = _BareEvents(interval_s, event_bytes)
    jobs = _BareJobs()
    app = Starlette(
        routes=[
            Route("/status", status),
            Route("/api/v1/system/status", status),
            Route("/healthz", healthz),
            Route("/agents/{id}/task", task, methods=["POST"]),
            Route("/api/v1/agents/{id}/task", task, methods=["POST"]),
            Route("/api/v1/compression/jobs", jobs.start, methods=["POST"]),
            Route("/api/v1/compression/jobs/{id}", jobs.get),
            WebSocketRoute("/ws", events.serve),
        ]
    )
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        lifespan="off",
        access_log=False,
        log_level="warning",
    )


class _BareEvents:
    """/ws: every subscriber of system.metrics gets one event of about ``event_bytes`` per interval."""

    def __init__(self, interval_s: float, event_bytes: int) -> None:
        self.interval_s = interval_s
        self.filler = "x" * max(0, event_bytes - 64)
        self.subscribers: set[WebSocket] = set()
        self.publisher: asyncio.Task[None] | None = None

    async def publish(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            message = orjson.dumps({"type": "system.metrics", "ts": time.time(), "data": {"filler": self.filler}})
            for ws in list(self.subscribers):
                with contextlib.suppress(Exception):
                    await ws.send_text(message.decode())

    async def serve(self, websocket: WebSocket) -> None:
        from starlette.websockets import WebSocketDisconnect

        if self.publisher is None:
            self.publisher = asyncio.get_running_loop().create_task(self.publish())
        await websocket.accept()
        await websocket.send_text(orjson.dumps({"type": "server.hello", "ts": time.time(), "data": {}}).decode())
        try:
            while True:
                message = orjson.loads(await websocket.receive_text())
                if message.get("type") == "client.subscribe":
                    self.subscribers.add(websocket)
                    ack = {"type": "client.subscribed", "ts": time.time(), "data": {"subscribed": ["system.metrics"]}}
                    await websocket.send_text(orjson.dumps(ack).decode())
        except WebSocketDisconnect:
            pass
        finally:
            self.subscribers.discard(websocket)


class _BareJobs:
    """POST /api/v1/compression/jobs: zstd of a whole file in one thread of this one process."""

    def __init__(self) -> None:
        self.jobs: dict[str, dict[str, str]] = {}

    async def start(self, request: Request) -> Response:
        from starlette.responses import JSONResponse

        doc = orjson.loads(await request.body() or b"{}")
        if not isinstance(doc, dict) or not doc.get("source") or not doc.get("destination"):
            return JSONResponse({"error": {"code": "invalid_argument", "message": "source, destination"}}, 400)
        job = {"id": f"job-{len(self.jobs) + 1}", "state": "running", "error": ""}
        self.jobs[job["id"]] = job
        asyncio.get_running_loop().create_task(self._run(job, doc))
        return JSONResponse(job, 202)

    @staticmethod
    def _compress(source: str, destination: str, level: int) -> None:
        import zstandard

        with open(source, "rb") as src, open(destination, "wb") as dst:
            zstandard.ZstdCompressor(level=level).copy_stream(src, dst)

    async def _run(self, job: dict[str, str], doc: dict[str, Any]) -> None:
        try:
            await asyncio.to_thread(
                self._compress, str(doc["source"]), str(doc["destination"]), int(doc.get("level") or 3)
            )
            job["state"] = "done"
        except OSError as exc:
            job["state"], job["error"] = "failed", str(exc)

    async def get(self, request: Request) -> Response:
        from starlette.responses import JSONResponse

        job = self.jobs.get(request.path_params["id"])
        if job is None:
            return JSONResponse({"error": {"code": "not_found", "message": "no such job"}}, 404)
        return JSONResponse(job)


if __name__ == "__main__":
    if sys.argv[1] == "grpc":
        serve_grpc(int(sys.argv[2]))
    else:
        extra = [float(sys.argv[4]), int(sys.argv[5])] if len(sys.argv) > 5 else []
        serve_http(int(sys.argv[2]), int(sys.argv[3]), *extra)  # type: ignore[arg-type]
