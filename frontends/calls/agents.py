"""AgentService's reads and drain/resume as one table (frontends/calls/__init__.py): the engine's
agents, their task history and the swarm, as EngineMonitor answers them (engine/core/models.py).

DispatchTask is not here: it is the per-task hot path, hand-written in each transport
(frontends/grpc_api/agents.py, frontends/http_api/agents.py) with no layer between the request and
the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from frontends._gen.sigmavault.v1 import agents_pb2 as pb
from frontends.calls.table import Call, now

if TYPE_CHECKING:
    from engine.core.models import Agent
    from engine.runtime import Runtime

HAND_WRITTEN = ("DispatchTask",)


async def _set_drained(rt: Runtime, agent: int, drained: bool) -> Agent:
    rt.monitor.agent(agent, recent=0)  # NotFound for an unknown agent before anything changes
    rt.tasks.set_drained(agent, drained)
    return rt.monitor.agent(agent)


CALLS: dict[str, Call] = {
    "ListAgents": Call(pb.ListAgentsRequest, pb.ListAgentsResponse, lambda rt, r: now(rt.monitor.list_agents())),
    "GetAgent": Call(pb.GetAgentRequest, pb.Agent, lambda rt, r: now(rt.monitor.agent(r.agent_id))),
    "ListAgentTasks": Call(
        pb.ListAgentTasksRequest,
        pb.ListAgentTasksResponse,
        lambda rt, r: now(rt.monitor.agent_tasks(r.agent_id, r.page_size, r.page_token)),
    ),
    "GetSwarm": Call(pb.GetSwarmRequest, pb.Swarm, lambda rt, r: now(rt.monitor.swarm())),
    "DrainAgent": Call(pb.DrainAgentRequest, pb.Agent, lambda rt, r: _set_drained(rt, r.agent_id, True)),
    "ResumeAgent": Call(pb.ResumeAgentRequest, pb.Agent, lambda rt, r: _set_drained(rt, r.agent_id, False)),
}
