"""One grpc.aio channel per scenario per generator process, checked on open."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
from google.rpc import error_details_pb2, status_pb2

from perf.load.scenarios.base import TargetError

LIMIT_BYTES = 64 << 20
STATUS_DETAILS_KEY = "grpc-status-details-bin"
CLIENT_SIDE_INTERNAL = "Internal error from Core"


class Channel:
    def __init__(self, host: str, port: int, metadata: tuple[tuple[str, str], ...] = ()) -> None:
        self.target = f"{host}:{port}"
        self.metadata = metadata  # sent with every call: the engine's token
        self.channel: grpc.aio.Channel | None = None

    async def open(self, timeout: float = 5.0) -> grpc.aio.Channel:
        if self.channel is None:
            # reconnect back-off capped at 1 s: grpc's default doubles it (x1.6) from 1 s, so a frontend that takes
            # 1.1 s to come back after a kill (measured; it was so before issue 16 too) was retried only ~2.6 s
            # later, and perf chaos counted the client's wait as the engine not serving
            options = [
                ("grpc.max_send_message_length", LIMIT_BYTES),
                ("grpc.max_receive_message_length", LIMIT_BYTES),
                ("grpc.max_reconnect_backoff_ms", 1000),
            ]
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


def error_code(error: grpc.RpcError) -> str:
    """``UNAVAILABLE worker_lost``: the status name and the engine's error code (the ErrorInfo reason in
    the google.rpc.Status trailer, lower case, as HTTP answers carry it), or the bare name without one.
    ``INTERNAL client_side``: grpc's asyncio client made that status itself (a write on a stream whose
    connection had just died fails a batch in the client: ``set_internal_error``, "Internal error from
    Core", grpc/grpc#36066); no server sent it."""
    name = status_name(error)
    if name == "INTERNAL" and hasattr(error, "details") and error.details() == CLIENT_SIDE_INTERNAL:
        return "INTERNAL client_side"
    trailers = error.trailing_metadata() if hasattr(error, "trailing_metadata") else None
    for key, value in trailers or ():
        if key == STATUS_DETAILS_KEY and isinstance(value, bytes):
            rich = status_pb2.Status.FromString(value)
            for detail in rich.details:
                info = error_details_pb2.ErrorInfo()
                if detail.Unpack(info) and info.reason:
                    return f"{name} {info.reason.lower()}"
    return name


async def agent_ids(stub: Any, pb: Any, capability: str, metadata: tuple[tuple[str, str], ...] = ()) -> list[int]:
    """Agents able to run ``capability``, to spread tasks over every worker; [0] on a server without
    ListAgents (the bare baseline)."""
    try:
        answer = await stub.ListAgents(pb.ListAgentsRequest(), timeout=5, metadata=metadata)
    except grpc.RpcError as exc:
        if status_name(exc) == "UNIMPLEMENTED":
            return [0]
        raise TargetError(f"gRPC ListAgents at the target failed: {status_name(exc)}") from None
    ids = [agent.id for agent in answer.agents if capability in agent.capabilities]
    if not ids:
        raise TargetError(f"no agent of the target can {capability}")
    return ids
