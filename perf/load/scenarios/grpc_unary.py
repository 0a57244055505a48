"""grpc-unary: AgentService.DispatchTask, an echo of 1 KiB and a real zstd compress of 64 KiB mixed data.

Tasks go round-robin over the agents able to run them, so every worker gets its share (with ``--route
any`` no agent is named and the engine picks). Weights ``echo`` and ``compress`` choose the blend (default 1:1).
A failure is its status name and, when the engine says, its error code: ``UNAVAILABLE worker_lost``.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import grpc

from perf.load import payloads
from perf.load.scenarios._grpc import Channel, agent_ids, error_code
from perf.load.scenarios._proto import Proto, pb, rpc
from perf.load.scenarios.base import Op, Outcome, Scenario

if TYPE_CHECKING:
    from collections.abc import Iterator

    from perf.load.spec import LoadSpec


class GrpcUnary:
    stub: Proto
    echo_agents: Iterator[int]
    compress_agents: Iterator[int]

    def __init__(self, spec: LoadSpec, index: int, weights: dict[str, float]) -> None:
        self.spec, self.weights = spec, weights
        self.channel = Channel(spec.host, spec.grpc_port, spec.metadata)
        self.echo_data = payloads.echo(spec.echo_bytes)
        blocks = payloads.mixed_set(spec.compress_bytes, 8, spec.seed + index) if weights.get("compress") else [b""]
        self.blocks = itertools.cycle(blocks)
        self.zstd = pb.TaskParams(codec="zstd", level=3)

    async def open(self) -> None:
        self.stub = rpc.AgentServiceStub(await self.channel.open())
        self.echo_agents = itertools.cycle(await agent_ids(self.stub, pb, "echo", self.spec.metadata))
        self.compress_agents = itertools.cycle(await agent_ids(self.stub, pb, "compress", self.spec.metadata))

    async def _dispatch(self, request: Proto, expect_bytes: int | None) -> Outcome:
        try:
            answer = await self.stub.DispatchTask(request, timeout=self.spec.timeout_s, metadata=self.spec.metadata)
        except grpc.RpcError as exc:
            return Outcome(error_code(exc))
        if expect_bytes is not None and len(answer.data) != expect_bytes:
            return Outcome("bad_response")
        return Outcome(nbytes=len(request.data))

    async def echo(self) -> Outcome:
        request = pb.DispatchTaskRequest(kind=pb.TASK_KIND_ECHO, data=self.echo_data)
        if self.spec.route != "any":
            request.agent_id = next(self.echo_agents)
        return await self._dispatch(request, len(self.echo_data))

    async def compress(self) -> Outcome:
        request = pb.DispatchTaskRequest(kind=pb.TASK_KIND_COMPRESS, data=next(self.blocks), params=self.zstd)
        if self.spec.route != "any":
            request.agent_id = next(self.compress_agents)
        return await self._dispatch(request, None)

    def scenario(self) -> Scenario:
        ops = [
            Op("echo", self.weights.get("echo", 0), self.echo),
            Op("compress", self.weights.get("compress", 0), self.compress),
        ]
        return Scenario(ops=[op for op in ops if op.weight > 0], opens=[self.open], closes=[self.channel.close])


def build(spec: LoadSpec, index: int, weights: dict[str, float]) -> Scenario:
    return GrpcUnary(spec, index, weights).scenario()
