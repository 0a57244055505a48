"""Load generators for perf/frontend.py, run as their own process so client and server never
share an event loop. Each prints one JSON line: {"requests": N, "seconds": S, "errors": E, ...}.

    python -m perf.loadgen grpc-dispatch TARGET SECONDS CONCURRENCY PAYLOAD_BYTES
    python -m perf.loadgen grpc-stream   TARGET SECONDS WINDOW BLOCK_BYTES CODEC
    python -m perf.loadgen http          URL SECONDS CONNECTIONS [POST_BODY_FILE]
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from urllib.parse import urlsplit

import orjson
import uvloop

# the engine's token (perf/frontend.py passes it to both sides alike; a bare server ignores it)
TOKEN = os.environ.get("PERF_TOKEN", "")
METADATA = (("authorization", f"Bearer {TOKEN}"),) if TOKEN else ()


async def grpc_dispatch(target: str, seconds: float, concurrency: int, payload: int) -> dict[str, float]:
    import grpc

    from frontends import pb, rpc

    async with grpc.aio.insecure_channel(target) as channel:
        stub = rpc.AgentServiceStub(channel)
        request = pb.DispatchTaskRequest(agent_id=0, kind=pb.TASK_KIND_ECHO, data=b"x" * payload)
        for _ in range(200):
            await stub.DispatchTask(request, metadata=METADATA)
        counts = {"ok": 0, "errors": 0}
        deadline = time.perf_counter() + seconds

        async def caller() -> None:
            while time.perf_counter() < deadline:
                try:
                    await stub.DispatchTask(request, metadata=METADATA)
                    counts["ok"] += 1
                except grpc.RpcError:
                    counts["errors"] += 1

        start = time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(concurrency)))
        return {"requests": counts["ok"], "errors": counts["errors"], "seconds": time.perf_counter() - start}


async def grpc_stream(target: str, seconds: float, window: int, block: int, codec: str) -> dict[str, float]:
    import grpc

    from frontends import pb, rpc
    from perf.engine import make_blocks

    blocks = make_blocks(size=block)
    options = [("grpc.max_send_message_length", 4 * block), ("grpc.max_receive_message_length", 4 * block)]
    async with grpc.aio.insecure_channel(target, options=options) as channel:
        stub = rpc.BlockServiceStub(channel)
        params = pb.TaskParams(codec=codec)
        requests = [pb.BlockRequest(kind=pb.TASK_KIND_COMPRESS, data=b, params=params) for b in blocks]
        deadline = time.perf_counter() + seconds
        sent = {"n": 0}

        async def produce():
            while time.perf_counter() < deadline:
                yield requests[sent["n"] % len(requests)]
                sent["n"] += 1

        done = errors = 0
        start = time.perf_counter()
        async for answer in stub.ProcessStream(produce(), metadata=METADATA):
            done += 1
            errors += bool(answer.error_code)
        elapsed = time.perf_counter() - start
        return {"requests": done, "errors": errors, "seconds": elapsed, "mb_per_s": done * block / elapsed / 1e6}


async def http_load(url: str, seconds: float, connections: int, body: bytes | None) -> dict[str, float]:
    """Keep-alive HTTP/1.1 over raw asyncio streams (no client library overhead in the way)."""
    parts = urlsplit(url)
    method = "POST" if body is not None else "GET"
    head = f"{method} {parts.path} HTTP/1.1\r\nHost: {parts.hostname}\r\n"
    if TOKEN:
        head += f"Authorization: Bearer {TOKEN}\r\n"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    request = (head + "\r\n").encode() + (body or b"")
    counts = {"ok": 0, "errors": 0}
    deadline = time.perf_counter() + seconds

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            while time.perf_counter() < deadline:
                writer.write(request)
                status_line = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                await reader.readexactly(length)
                counts["ok" if b" 200 " in status_line else "errors"] += 1
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(connections)))
    return {"requests": counts["ok"], "errors": counts["errors"], "seconds": time.perf_counter() - start}


def main() -> None:
    mode, target, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    if mode == "grpc-dispatch":
        result = uvloop.run(grpc_dispatch(target, seconds, int(sys.argv[4]), int(sys.argv[5])))
    elif mode == "grpc-stream":
        result = uvloop.run(grpc_stream(target, seconds, int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]))
    else:
        body = open(sys.argv[5], "rb").read() if len(sys.argv) > 5 else None  # noqa: SIM115
        result = uvloop.run(http_load(target, seconds, int(sys.argv[4]), body))
    print(orjson.dumps(result).decode())


if __name__ == "__main__":
    main()
