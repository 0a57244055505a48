"""AgentService: agents, task history, the swarm and drain/resume are entries of
frontends/calls/agents.py (the table HTTP uses too); DispatchTask, the hot path, is written here."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import grpc

from engine.core.codes import Kind
from engine.errors import BadRequest, EngineError
from frontends._gen.sigmavault.v1 import agents_pb2 as pb
from frontends._gen.sigmavault.v1 import agents_pb2_grpc as rpc
from frontends.calls.agents import CALLS, HAND_WRITTEN
from frontends.errors import describe
from frontends.grpc_api.base import Servicer, abort
from frontends.grpc_api.table import add_calls

if TYPE_CHECKING:
    from frontends._gen.sigmavault.v1 import blocks_pb2, common_pb2


def task_kind(value: int) -> Kind:
    """A TaskKind a caller may send; the file jobs' per-block kinds are not among them (nor named)."""
    try:
        kind = Kind(value)
    except ValueError:
        kind = None
    if kind is None or not kind.public:
        known = ", ".join(f"{k.value} ({k.name})" for k in Kind if k.public)
        raise BadRequest(f"kind must be a TaskKind other than UNSPECIFIED ({known}), got {value}")
    return kind


def task_params(request: pb.DispatchTaskRequest | blocks_pb2.BlockRequest) -> dict[str, Any]:
    if not request.HasField("params"):
        return {}
    p: common_pb2.TaskParams = request.params
    given: dict[str, Any] = {"codec": p.codec or None, "algo": p.algo or None, "k": p.k or None}
    if p.HasField("level"):
        given["level"] = p.level
    return {k: v for k, v in given.items() if v is not None}


def deadline(timeout_ms: int, remaining: float | None) -> float | None:
    """The tighter of the request's timeout_ms and the call's deadline (None: neither)."""
    if timeout_ms and (remaining is None or timeout_ms / 1000 < remaining):
        return timeout_ms / 1000
    return remaining


class AgentServicer(Servicer, rpc.AgentServiceServicer):
    async def DispatchTask(
        self, request: pb.DispatchTaskRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.DispatchTaskResponse:
        start = time.perf_counter_ns()
        code = grpc.StatusCode.OK
        try:
            kind = task_kind(request.kind)
            agent = request.agent_id if request.HasField("agent_id") else None
            timeout = deadline(request.timeout_ms, context.time_remaining())
            outcome = await self.rt.tasks.run(kind, request.data, task_params(request), agent=agent, timeout=timeout)
            total_ns = time.perf_counter_ns() - start
            # built directly, not through ParseDict: this is the hot path
            return pb.DispatchTaskResponse(
                agent_id=outcome.agent,
                agent_name=outcome.agent_name,
                worker=outcome.worker,
                kind=int(kind),  # type: ignore[arg-type]
                data=outcome.data,
                bytes_in=outcome.bytes_in,
                bytes_out=len(outcome.data),
                service_ns=outcome.service_ns,
                engine_ns=outcome.engine_ns,
                timing=pb.TaskTiming(
                    service_us=outcome.service_ns / 1000, engine_us=outcome.engine_ns / 1000, total_us=total_ns / 1000
                ),
            )
        except (EngineError, TimeoutError, ValueError) as exc:
            code = describe(exc).grpc_code
            await abort(context, exc)
            raise  # unreachable: abort raises
        finally:
            self.observe("AgentService/DispatchTask", code, (time.perf_counter_ns() - start) / 1e9)

    register = staticmethod(rpc.add_AgentServiceServicer_to_server)


add_calls(AgentServicer, pb.DESCRIPTOR, "AgentService", CALLS, hand_written=HAND_WRITTEN)
