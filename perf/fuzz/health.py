"""Is the engine still fine after a fuzzer? Every worker ready, status ok, and a real task answers on
both ports (agents a fuzzer drained are put back in service first: draining is a legal request)."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import grpc
import httpx

from frontends import pb, rpc

if TYPE_CHECKING:
    from collections.abc import Mapping


def engine_healthy(
    http_base: str,
    channel: grpc.Channel,
    headers: Mapping[str, str] | None = None,
    metadata: tuple[tuple[str, str], ...] = (),
    verify: object = True,
) -> tuple[bool, str]:
    """(healthy, why not)."""
    headers = dict(headers or {})
    try:
        with httpx.Client(base_url=http_base, headers=headers, timeout=10, verify=verify) as http:  # type: ignore[arg-type]
            if http.get("/readyz").status_code != 200:
                return False, "/readyz is not 200"
            for agent in http.get("/api/v1/agents").raise_for_status().json()["agents"]:
                if not agent["in_service"]:
                    http.post(f"/api/v1/agents/{agent['id']}/resume").raise_for_status()
            task = http.post("/api/v1/tasks", json={"kind": "echo", "data": base64.b64encode(b"still here").decode()})
            if task.status_code != 200 or base64.b64decode(task.json()["data"]) != b"still here":
                return False, f"an echo task over HTTP answered {task.status_code}: {task.text[:200]}"
        status = rpc.SystemServiceStub(channel).GetStatus(pb.GetStatusRequest(), timeout=10, metadata=metadata)
        if status.state != "ok":
            return False, f"GetStatus says {status.state}"
        echo = rpc.AgentServiceStub(channel).DispatchTask(
            pb.DispatchTaskRequest(kind=pb.TASK_KIND_ECHO, data=b"still here"), timeout=10, metadata=metadata
        )
        if echo.data != b"still here":
            return False, "an echo task over gRPC came back changed"
    except (httpx.HTTPError, grpc.RpcError, KeyError, ValueError) as exc:
        return False, f"{type(exc).__name__}: {exc}"
    return True, ""
