"""The frontend process: uvicorn (HTTP + WebSocket) and grpc.aio on one uvloop loop.

``serve_frontend(res)`` runs in the process frontends/process.py forks. It owns its signals: uvicorn's
own capture_signals() would re-raise SIGTERM after its shutdown and skip our clean-up, so it is
switched off and SIGTERM/SIGINT set one stop event. Shutdown order: health NOT_SERVING, say
goodbye to WebSocket clients, stop accepting HTTP, ``grpc_server.stop(grace)`` for in-flight
RPCs, wait for uvicorn, stop the watchers, then release the engine client's shared memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import signal
from collections.abc import Generator
from typing import Any

import uvicorn

from engine.client import EngineClient
from engine.jobs import JobTracker
from engine.resources import EngineResources
from engine.storage import disks, pools
from frontends.events import EventHub, Watchers
from frontends.grpc_service import create_server, set_serving
from frontends.http_app import build_app
from frontends.prom import RequestMetrics
from frontends.service import EngineService

logger = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the frontend process handles its own signals (see module docstring)


async def _storage_snapshot() -> dict[str, Any]:
    pool_list = await pools.list_pools()
    disk_list = await disks.list_disks(with_smart=False)
    return {"pools": pool_list["pools"], "disks": disk_list["disks"]}


async def serve_frontend(res: EngineResources, stop: asyncio.Event | None = None) -> None:
    cfg = res.config
    loop = asyncio.get_running_loop()
    stop = stop or asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    supervisor_pid = os.getppid()
    client = EngineClient(res, alive=lambda: os.getppid() == supervisor_pid)
    hub = EventHub()
    jobs = JobTracker(hub.publish)
    service = EngineService(client, cfg, jobs)
    metrics = RequestMetrics(client)
    grpc_server, grpc_port, health = create_server(cfg, service, metrics)
    await grpc_server.start()
    uv_config = uvicorn.Config(
        build_app(service, hub, metrics), host=cfg.host, port=cfg.engine_port, loop="none", http="httptools",
        ws="websockets-sansio", lifespan="off", access_log=cfg.debug, log_level="debug" if cfg.debug else "warning",
        ws_max_size=64 * 1024, ws_ping_interval=20.0, ws_ping_timeout=20.0,
        timeout_graceful_shutdown=math.ceil(cfg.shutdown_grace),
    )  # fmt: skip
    http = _Server(uv_config)
    serving = {"ready": False}

    async def track_readiness() -> None:
        ready = service.readiness()[0]
        if ready != serving["ready"]:
            serving["ready"] = ready
            await set_serving(health, ready)

    watchers = Watchers(
        hub, metrics=service.system_metrics, agent_states=service.agent_statuses,
        agent_info=lambda i: {k: v for k, v in client.agents[i].as_dict().items() if k != "capabilities"},
        storage=_storage_snapshot, metrics_interval=cfg.metrics_interval,
        on_tick=track_readiness,
    )  # fmt: skip
    http_task = asyncio.create_task(http.serve())
    watchers.start()
    logger.info("frontend: HTTP on %s:%d, gRPC on %s:%d", cfg.host, cfg.engine_port, cfg.host, grpc_port)
    stop_task = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({http_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
        if http_task.done() and not stop.is_set():
            http_task.result()  # uvicorn ended on its own (e.g. the port was taken): surface why
            raise RuntimeError(f"HTTP server on {cfg.host}:{cfg.engine_port} stopped unexpectedly")
    finally:
        await set_serving(health, False)
        await hub.close()
        http.should_exit = True
        await grpc_server.stop(cfg.shutdown_grace)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(http_task, cfg.shutdown_grace + 1)
        stop_task.cancel()
        await watchers.stop()
        client.close()
        logger.info("frontend: stopped")
