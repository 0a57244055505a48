"""FrontendStack: what a frontend process runs beside its HTTP server, built in one place for both
ways of serving (``engined serve``'s forked frontend, frontends/runner.py; and the module-level
ASGI app under an outside uvicorn, frontends/asgi.py): the engine client's Runtime, the gRPC
server, the WebSocket hub and its watchers, and the ASGI app for HTTP."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from typing import TYPE_CHECKING, Any

import orjson

from engine.access import unixsock
from engine.common.fsutil import private_dir, write_private
from engine.core.client import EngineClient
from engine.runtime import Runtime
from engine.storage import disks, pools
from frontends.auth import AccessPolicy
from frontends.calls.system import metrics_event
from frontends.events import EventHub, Watchers
from frontends.grpc_api.server import create_server, set_serving
from frontends.http_api.app import build_app
from frontends.limits import ClientLimiter
from frontends.prom import RequestMetrics
from frontends.records import plain

if TYPE_CHECKING:
    from collections.abc import Callable

    from starlette.types import ASGIApp

    from engine.core.resources import EngineResources

logger = logging.getLogger(__name__)


def _present(value: Any) -> Any:
    """Plain values without the None fields, as the HTTP answers leave them out (frontends/schema.py)."""
    if isinstance(value, dict):
        return {key: _present(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_present(item) for item in value]
    return value


async def _storage_snapshot() -> dict[str, Any]:
    """What the storage watcher compares every 5 s and sends in its events: pools and disks in their
    messages' JSON form (a pool's ``managed`` and a disk's ``smart`` are not asked here: absent)."""
    pool_list = await pools.list_pools(detail=False)  # health and devices: enough to see a change
    disk_list = await disks.list_disks(with_smart=False)
    return {"pools": _present(plain(pool_list.pools)), "disks": _present(plain(disk_list.disks))}


class FrontendStack:
    def __init__(
        self,
        res: EngineResources,
        *,
        alive: Callable[[], bool] | None = None,
        client: EngineClient | None = None,
        grpc_port: int | None = None,
    ) -> None:
        cfg = self.config = res.config
        self._owns_client = client is None
        self.client = client or EngineClient(res, alive=alive)
        self.hub = EventHub()
        self.runtime = Runtime.build(cfg, self.client, self.hub.publish)
        metrics = RequestMetrics(self.runtime.monitor, background=self._background_restarts)
        self.limiter = ClientLimiter(cfg.client_max_inflight)  # one count per client across both ports
        self.policy = AccessPolicy.from_config(cfg)  # one for both transports (one read of the tokens file)
        self.app: ASGIApp = build_app(self.runtime, self.hub, metrics, self.limiter, policy=self.policy)
        self.grpc_server, self.grpc_port, self._health = create_server(
            self.runtime, metrics, port=grpc_port, limiter=self.limiter, policy=self.policy, unix_socket=True
        )
        self._serving = False
        monitor = self.runtime.monitor
        specs = self.client.agents
        self.watchers = Watchers(
            self.hub,
            metrics=functools.partial(metrics_event, self.runtime),
            agent_states=monitor.agent_statuses,
            agent_info=lambda i: {k: v for k, v in specs[i].as_dict().items() if k != "capabilities"},
            storage=_storage_snapshot,
            metrics_interval=cfg.metrics_interval,
            on_tick=self._tick,
        )

    def _background_restarts(self) -> dict[str, int]:
        """/metrics: the restarts of the domains' background tasks and of the watchers'."""
        return {**self.runtime.background_restarts(), **self.watchers.background_restarts()}

    async def _tick(self) -> None:
        """Every 100 ms: gRPC health follows worker readiness; the client's figures reach the tables."""
        self.client.publish_stats()
        ready = self.runtime.monitor.readiness()[0]
        if ready != self._serving:
            self._serving = ready
            await set_serving(self._health, ready)

    def write_ports(self, http_port: int) -> None:
        """<data dir>/run/ports.json: where this frontend listens (tools and tests read it; the
        configured ports may be 0). Written under a temporary name and renamed: never half a file.
        ``http_port`` 0: not known here (an outside ASGI server owns the HTTP socket)."""
        private_dir(self.config.ports_file.parent)
        doc = {
            "http": http_port,
            "grpc": self.grpc_port,
            "pid": os.getpid(),
            "tls": self.config.tls,
            "grpc_socket": self.config.grpc_socket,
            "http_socket": self.config.http_socket if http_port else "",
        }
        # 0600 (SECURITY.md); rebuilt each start
        write_private(self.config.ports_file, orjson.dumps(doc), durable=False)

    def remove_ports(self) -> None:
        """At stop: ports.json goes with the ports it names, unless a newer frontend (a restart) wrote it since."""
        with contextlib.suppress(OSError, orjson.JSONDecodeError, TypeError, KeyError):
            if orjson.loads(self.config.ports_file.read_bytes())["pid"] == os.getpid():
                self.config.ports_file.unlink()

    async def start(self) -> None:
        """The domains (engine/runtime.py: in their declared order), then the gRPC server and the watchers."""
        await self.runtime.start()
        await self.grpc_server.start()
        self.watchers.start()

    async def say_goodbye(self) -> None:
        """First steps of a shutdown: health NOT_SERVING, WebSocket clients told (1001)."""
        await set_serving(self._health, False)
        await self.hub.close()

    async def stop(self, grace: float) -> None:
        """Let in-flight RPCs finish (``grace`` seconds), stop the watchers, close the domains (in the
        reverse of their order: the audit log last, so a call answered late still has its line),
        release the client."""
        self.remove_ports()
        await self.grpc_server.stop(grace)
        unixsock.unlink_quietly(self.config.grpc_socket)
        await self.watchers.stop()
        await self.runtime.close()
        if self._owns_client:
            self.client.close()
