"""Agent routes: the agents, their task history, the swarm, drain/resume (AgentService RPCs of
frontends/calls/agents.py, their requests built from the path and query), and running tasks.

The task bodies are DispatchTaskRequest as JSON (agents.proto); they are decoded by hand here
because this is the hot path (a generic proto parse costs ~20 us a request); tests check the
decoder against the schema in /openapi.json.
"""

from __future__ import annotations

import base64
import binascii
import time
from typing import TYPE_CHECKING, Any

from engine.core.codes import Kind
from engine.core.monitor import PAGE_SIZE_MAX
from frontends._gen.sigmavault.v1 import agents_pb2 as pb
from frontends.audit import note_target
from frontends.calls.agents import CALLS
from frontends.errors import RequestError
from frontends.http_api.calls import answer
from frontends.http_api.routing import Endpoint, JSONResponse, Query, int_query, path_id, read_json, str_query
from frontends.schema import shown

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from engine.core.tasks import TaskOutcome
    from engine.runtime import Runtime

_U32 = 2**32 - 1
_PARAM_TYPES: dict[str, type] = {"codec": str, "level": int, "algo": str, "k": int}
_BODY = ("kind", "data", "params", "timeout_ms")
_BODY_WITH_AGENT = ("agent_id", *_BODY)
_KINDS = {k.label: k for k in Kind if k.public}
PAGE_QUERY = (
    Query("page_size", {"type": "integer", "minimum": 1, "maximum": PAGE_SIZE_MAX, "default": 50}),
    Query("page_token", {"type": "string", "maxLength": 64}, "next_page_token of the previous page"),
)


def _integer(doc: dict[str, Any], name: str, lo: int, hi: int) -> int | None:
    """The field, None when absent; null is refused as the schema says (no field is nullable)."""
    if name not in doc:
        return None
    value = doc[name]
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise RequestError(f"{name} must be an integer in {lo}-{hi}, got {shown(value)}")
    return value


def decode_task(doc: Any, *, with_agent: bool) -> tuple[Kind, bytes, dict[str, Any], int | None, float | None]:
    """A DispatchTaskRequest body: (kind, data, params, agent_id or None, timeout in seconds or None)."""
    if not isinstance(doc, dict):
        raise RequestError("the body must be a JSON object")
    allowed = _BODY_WITH_AGENT if with_agent else _BODY
    unknown = sorted(set(doc) - set(allowed))
    if unknown:
        raise RequestError(f"unknown field(s): {', '.join(unknown)}; this body takes {', '.join(allowed)}")
    raw_kind = doc.get("kind")
    if not isinstance(raw_kind, str):
        raise RequestError(f"kind must be a string, one of {', '.join(_KINDS)}")
    kind = _KINDS.get(raw_kind)
    if kind is None:
        raise RequestError(f"kind must be one of {', '.join(_KINDS)}, got {shown(raw_kind)}", code="unknown_kind")
    data_b64, params = doc.get("data", ""), doc.get("params", {})
    if not isinstance(data_b64, str):
        raise RequestError("data must be a base64 string")
    try:
        data = base64.b64decode(data_b64, validate=True)
    except binascii.Error:
        raise RequestError("data is not valid base64", code="invalid_base64") from None
    if not isinstance(params, dict):
        raise RequestError("params must be an object")
    for name, value in params.items():
        want = _PARAM_TYPES.get(name)
        if want is None:
            raise RequestError(f"unknown parameter {name!r}; parameters are {', '.join(_PARAM_TYPES)}")
        if not isinstance(value, want) or isinstance(value, bool):
            raise RequestError(
                f"params.{name} must be {'an integer' if want is int else 'a string'}, got {shown(value)}"
            )
    timeout_ms = _integer(doc, "timeout_ms", 0, _U32)
    agent = _integer(doc, "agent_id", 0, _U32) if with_agent else None
    return kind, data, params, agent, (timeout_ms / 1000 if timeout_ms else None)


def task_answer(outcome: TaskOutcome, started_ns: int) -> dict[str, Any]:
    return {
        "agent_id": outcome.agent,
        "agent_name": outcome.agent_name,
        "worker": outcome.worker,
        "kind": outcome.kind.label,
        "data": base64.b64encode(outcome.data).decode(),
        "bytes_in": outcome.bytes_in,
        "bytes_out": len(outcome.data),
        "service_ns": outcome.service_ns,
        "engine_ns": outcome.engine_ns,
        "timing": {
            "service_us": outcome.service_ns / 1000,
            "engine_us": outcome.engine_ns / 1000,
            "total_us": (time.perf_counter_ns() - started_ns) / 1000,
        },
    }


def endpoints(rt: Runtime) -> list[Endpoint]:
    # base64 inflates by 4/3; leave room for the JSON around it
    max_body = rt.config.slot_bytes * 4 // 3 + 64 * 1024
    tasks = rt.tasks

    # exact=True: the monitor's records carry their message's fields and no others (see answer())
    async def list_agents(request: Request) -> Response:
        return await answer(rt, CALLS["ListAgents"], exact=True)

    async def get_agent(request: Request) -> Response:
        return await answer(rt, CALLS["GetAgent"], pb.GetAgentRequest(agent_id=path_id(request)), exact=True)

    async def agent_tasks(request: Request) -> Response:
        agent = path_id(request)
        size = int_query(request, "page_size", 50, 1, PAGE_SIZE_MAX)
        message = pb.ListAgentTasksRequest(
            agent_id=agent, page_size=size, page_token=str_query(request, "page_token", 64)
        )
        return await answer(rt, CALLS["ListAgentTasks"], message, exact=True)

    async def agent_task(request: Request) -> Response:
        agent = path_id(request)
        started = time.perf_counter_ns()
        kind, data, params, _, timeout = decode_task(await read_json(request, max_body), with_agent=False)
        outcome = await tasks.run(kind, data, params, agent=agent, timeout=timeout)
        return JSONResponse(task_answer(outcome, started))

    async def any_agent_task(request: Request) -> Response:
        started = time.perf_counter_ns()
        kind, data, params, agent, timeout = decode_task(await read_json(request, max_body), with_agent=True)
        outcome = await tasks.run(kind, data, params, agent=agent, timeout=timeout)
        return JSONResponse(task_answer(outcome, started))

    async def swarm(request: Request) -> Response:
        return await answer(rt, CALLS["GetSwarm"], exact=True)

    async def drain(request: Request) -> Response:
        agent = path_id(request)
        note_target(agent_id=agent)
        return await answer(rt, CALLS["DrainAgent"], pb.DrainAgentRequest(agent_id=agent), exact=True)

    async def resume(request: Request) -> Response:
        agent = path_id(request)
        note_target(agent_id=agent)
        return await answer(rt, CALLS["ResumeAgent"], pb.ResumeAgentRequest(agent_id=agent), exact=True)

    task_errors = (413, 429, 503, 504)
    return [
        Endpoint(
            "GET",
            "/api/v1/agents",
            list_agents,
            "All agents with live status and recent tasks",
            pb.ListAgentsResponse.DESCRIPTOR,
        ),
        Endpoint("GET", "/api/v1/agents/{id}", get_agent, "One agent", pb.Agent.DESCRIPTOR),
        Endpoint(
            "GET",
            "/api/v1/agents/{id}/tasks",
            agent_tasks,
            "An agent's task history, newest first, paged",
            pb.ListAgentTasksResponse.DESCRIPTOR,
            query=PAGE_QUERY,
        ),
        Endpoint(
            "POST",
            "/api/v1/agents/{id}/task",
            agent_task,
            "Run a task on one agent",
            pb.DispatchTaskResponse.DESCRIPTOR,
            pb.DispatchTaskRequest.DESCRIPTOR,
            exclude=("agent_id",),
            required=("kind",),
            errors=task_errors,
            call="agent.DispatchTask",
        ),
        Endpoint(
            "POST",
            "/api/v1/tasks",
            any_agent_task,
            "Run a task on any capable agent (or agent_id)",
            pb.DispatchTaskResponse.DESCRIPTOR,
            pb.DispatchTaskRequest.DESCRIPTOR,
            required=("kind",),
            errors=task_errors,
            call="agent.DispatchTask",
        ),
        Endpoint(
            "GET", "/api/v1/swarm", swarm, "Agents by status and role, load per worker, the queue", pb.Swarm.DESCRIPTOR
        ),
        Endpoint(
            "POST",
            "/api/v1/agents/{id}/drain",
            drain,
            "Take an agent out of service (in-flight tasks finish)",
            pb.Agent.DESCRIPTOR,
            call="agent.DrainAgent",
            path_fields=(("id", "agent_id"),),
        ),
        Endpoint(
            "POST",
            "/api/v1/agents/{id}/resume",
            resume,
            "Put a drained agent back into service",
            pb.Agent.DESCRIPTOR,
            call="agent.ResumeAgent",
            path_fields=(("id", "agent_id"),),
        ),
    ]
