"""One grpc.aio channel per scenario per generator process, checked on open."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc

from perf.load.scenarios.base import TargetError

LIMIT_BYTES = 64 << 20


class Channel:
    def __init__(self, host: str, port: int) -> None:
        self.target = f"{host}:{port}"
        self.channel: grpc.aio.Channel | None = None

    async def open(self, timeout: float = 5.0) -> grpc.aio.Channel:
        if self.channel is None:
            options = [("grpc.max_send_message_length", LIMIT_BYTES), ("grpc.max_receive_message_length", LIMIT_BYTES)]
            self.channel = grpc.aio.insecure_channel(self.target, options=options)
            try:
                await asyncio.wait_for(self.channel.channel_ready(), timeout)
            except TimeoutError:
                raise TargetError(f"cannot reach gRPC at {self.target} (not ready in {timeout:g} s)") from None
        return self.channel

    async def close(self) -> None:
        if self.channel is not None:
            channel, self.channel = self.channel, None
            await channel.close(grace=None)


def status_name(error: grpc.RpcError) -> str:
    code = error.code() if hasattr(error, "code") else None
    return code.name if code is not None else "UNKNOWN"


async def agent_ids(stub: Any, pb: Any, capability: str) -> list[int]:
    """Agents able to run ``capability``, to spread tasks over every worker; [0] on a server without
    ListAgents (the bare baseline)."""
    try:
        answer = await stub.ListAgents(pb.ListAgentsRequest(), timeout=5)
    except grpc.RpcError as exc:
        if status_name(exc) == "UNIMPLEMENTED":
            return [0]
        raise TargetError(f"gRPC ListAgents at the target failed: {status_name(exc)}") from None
    ids = [agent.id for agent in answer.agents if capability in agent.capabilities]
    if not ids:
        raise TargetError(f"no agent of the target can {capability}")
    return ids
