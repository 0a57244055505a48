"""Baselines for the frontend benchmark: the same servers without the engine behind them.

python -m perf.bare grpc PORT        grpc.aio AgentService whose DispatchTask echoes in-process
python -m perf.bare http PORT BYTES  Starlette on uvicorn (uvloop, httptools), same settings as the
                                     frontend, answering GET with an orjson body of BYTES bytes and
                                     POST like the agent task endpoint (base64 echo)
"""

from __future__ import annotations

import base64
import sys
from typing import TYPE_CHECKING

import orjson

if TYPE_CHECKING:
    from starlette.requests import Request


def serve_grpc(port: int) -> None:
    import grpc
    import uvloop

    from frontends import pb, rpc

    class Echo(rpc.AgentServiceServicer):
        async def DispatchTask(self, request: pb.DispatchTaskRequest, context: object) -> pb.DispatchTaskResponse:
            return pb.DispatchTaskResponse(agent_id=request.agent_id, agent_name="bare", kind=request.kind,
                                           data=request.data, bytes_in=len(request.data),
                                           bytes_out=len(request.data))  # fmt: skip

    class Blocks(rpc.BlockServiceServicer):
        async def ProcessStream(self, requests: object, context: object):
            async for request in requests:  # type: ignore[attr-defined]
                yield pb.BlockResponse(request_id=request.request_id, data=request.data[: len(request.data) * 2 // 3])

    async def main() -> None:
        limit = 8 << 20
        server = grpc.aio.server(options=[("grpc.max_receive_message_length", limit),
                                          ("grpc.max_send_message_length", limit)])  # fmt: skip
        rpc.add_AgentServiceServicer_to_server(Echo(), server)
        rpc.add_BlockServiceServicer_to_server(Blocks(), server)
        server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
        await server.wait_for_termination()

    uvloop.run(main())


def serve_http(port: int, body_bytes: int) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

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

    app = Starlette(routes=[Route("/status", status), Route("/agents/{id}/task", task, methods=["POST"])])
    uvicorn.run(app, host="127.0.0.1", port=port, loop="uvloop", http="httptools", lifespan="off",
                access_log=False, log_level="warning")  # fmt: skip


if __name__ == "__main__":
    if sys.argv[1] == "grpc":
        serve_grpc(int(sys.argv[2]))
    else:
        serve_http(int(sys.argv[2]), int(sys.argv[3]))
