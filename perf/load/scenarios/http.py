"""http: GET /api/v1/system/status and POST /api/v1/agents/{id}/task (echo of 1 KiB, base64 in JSON).

Weights ``status`` and ``task`` choose the blend (default 1:1). Keep-alive connections, one request
per connection at a time (perf/load/httpclient.py); tasks go round-robin over the agents, or with
``--route any`` to ``POST /api/v1/tasks`` (the engine picks the agent, as most callers let it).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
from typing import TYPE_CHECKING

import orjson

from perf.load import payloads
from perf.load.httpclient import HttpPool
from perf.load.scenarios.base import Op, Outcome, Scenario, TargetError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from perf.load.spec import LoadSpec

STATUS_PATH = "/api/v1/system/status"
TASK_PATH = "/api/v1/agents/{}/task"
ANY_TASK_PATH = "/api/v1/tasks"


async def fetch(pool: HttpPool, method: str, path: str, body: bytes | None, timeout: float) -> tuple[int, bytes]:
    """(status, body), or (0, b"timeout" / the exception's name) when no answer came."""
    try:
        async with asyncio.timeout(timeout):
            return await pool.request(method, path, body)
    except TimeoutError:
        return 0, b"timeout"
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        return 0, type(exc).__name__.encode()


def code_of(status: int, body: bytes) -> str:
    """``HTTP 429 busy`` (with the engine's error code when the body has one), or the transport failure."""
    if status == 0:
        return body.decode()
    try:
        code = orjson.loads(body)["error"]["code"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return f"HTTP {status}"
    return f"HTTP {status} {code}"


async def check_reachable(pool: HttpPool, what: str) -> None:
    try:
        async with asyncio.timeout(5):
            await pool.request("GET", "/healthz")
    except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
        reason = "no answer in 5 s" if isinstance(exc, TimeoutError) else type(exc).__name__
        if isinstance(exc, OSError) and exc.strerror:
            reason = exc.strerror.lower()
        raise TargetError(f"cannot reach {what} at {pool.host}:{pool.port} ({reason})") from None


async def agent_ids(pool: HttpPool, capability: str) -> list[int]:
    """Agents able to run ``capability`` from GET /api/v1/agents; [0] where the route is missing (bare)."""
    status, body = await pool.request("GET", "/api/v1/agents")
    if status == 404:
        return [0]
    if status != 200:
        raise TargetError(f"GET /api/v1/agents at the target answered HTTP {status}")
    ids = [a["id"] for a in orjson.loads(body)["agents"] if capability in a.get("capabilities", [])]
    if not ids:
        raise TargetError(f"no agent of the target can {capability}")
    return ids


class Http:
    agents: Iterator[int]

    def __init__(self, spec: LoadSpec) -> None:
        self.spec = spec
        self.pool = HttpPool(spec.host, spec.http_port, spec.auth_header)
        self.task_body = orjson.dumps(
            {"kind": "echo", "data": base64.b64encode(payloads.echo(spec.echo_bytes)).decode()}
        )

    async def open(self) -> None:
        await check_reachable(self.pool, "HTTP")
        self.agents = itertools.cycle(await agent_ids(self.pool, "echo"))

    async def status(self) -> Outcome:
        status, body = await fetch(self.pool, "GET", STATUS_PATH, None, self.spec.timeout_s)
        return Outcome(nbytes=len(body)) if status == 200 else Outcome(code_of(status, body))

    async def task(self) -> Outcome:
        path = ANY_TASK_PATH if self.spec.route == "any" else TASK_PATH.format(next(self.agents))
        status, body = await fetch(self.pool, "POST", path, self.task_body, self.spec.timeout_s)
        return Outcome(nbytes=self.spec.echo_bytes) if status == 200 else Outcome(code_of(status, body))

    def scenario(self, weights: dict[str, float]) -> Scenario:
        ops = [Op("status", weights.get("status", 0), self.status), Op("task", weights.get("task", 0), self.task)]
        return Scenario(ops=[op for op in ops if op.weight > 0], opens=[self.open], closes=[self.pool.close])


def build(spec: LoadSpec, index: int, weights: dict[str, float]) -> Scenario:
    return Http(spec).scenario(weights)
