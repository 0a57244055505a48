"""Per-client concurrency caps (SIGMAVAULT_CLIENT_MAX_INFLIGHT), shared by HTTP and gRPC.

A client is its caller's name (frontends/caller.py): a token's name (``admin``, ``prometheus``...),
or ``uid:<n>`` / ``unix`` on the Unix sockets, whatever address it calls from. A call counts from
the moment it is let in until its answer (or its stream) ends, on both ports together; the
WebSocket relay and the health probes are not counted. A client over its cap is refused at once
(429 / RESOURCE_EXHAUSTED, reason CLIENT_LIMIT, Retry-After) while others go on: the engine's own
admission (SIGMAVAULT_MAX_WORKERS, SIGMAVAULT_QUEUE_LIMIT) still bounds everyone together.
One event loop owns this object, so plain counters need no lock.
"""

from __future__ import annotations

import grpc

from frontends.errors import ErrorAnswer

RETRY_AFTER_S = 1


class ClientLimiter:
    def __init__(self, max_inflight: int) -> None:
        self.max_inflight = max_inflight  # 0: no cap
        self._inflight: dict[str, int] = {}
        self.refused = 0
        self.refusal = ErrorAnswer(
            429,
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            "client_limit",
            f"this client already has {max_inflight} calls in flight (SIGMAVAULT_CLIENT_MAX_INFLIGHT); retry later",
            {"limit": str(max_inflight), "retry_after_s": str(RETRY_AFTER_S)},
        )

    @property
    def enabled(self) -> bool:
        return self.max_inflight > 0

    def try_acquire(self, client: str) -> bool:
        """Count one more call for ``client``; False (and nothing counted) when it is at its cap."""
        held = self._inflight.get(client, 0)
        if held >= self.max_inflight:
            self.refused += 1
            return False
        self._inflight[client] = held + 1
        return True

    def release(self, client: str) -> None:
        held = self._inflight[client] - 1
        if held:
            self._inflight[client] = held
        else:
            del self._inflight[client]  # idle clients cost nothing: the map holds active ones only

    def inflight(self, client: str) -> int:
        return self._inflight.get(client, 0)

    def active_clients(self) -> int:
        return len(self._inflight)
