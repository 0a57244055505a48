"""The frontend process of ``engined serve``: uvicorn (HTTP + WebSocket) and grpc.aio on one uvloop loop.

HTTP is served twice from the same app: on the TCP listener (TLS when configured) and on the Unix
socket ``engined.http.sock`` (plain; its protocols put the peer's uid in the scope,
frontends/unix_http.py). Both listeners are bound by the supervisor and inherited.

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
import socket
from typing import TYPE_CHECKING

import uvicorn

from engine.access import unixsock
from engine.core.diag import MEMORY_SIGNAL
from frontends import logfilters
from frontends.stack import FrontendStack
from frontends.tls import uvicorn_options
from frontends.unix_http import UnixHttpProtocol, UnixWebSocketProtocol

if TYPE_CHECKING:
    from collections.abc import Callable, Generator

    from starlette.types import ASGIApp

    from engine.core.diag import Diagnostics
    from engine.core.resources import EngineResources

logger = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the frontend process handles its own signals (see module docstring)


def _listen(host: str, port: int) -> socket.socket:
    """The HTTP listener, bound here (port 0: any free port) so the real port is known before serving."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(False)
    return sock


def _unix_server(app: ASGIApp, base: uvicorn.Config) -> _Server:
    """uvicorn for the Unix socket: the same app, plain HTTP (the kernel checks who connects, TLS
    would add nothing), and protocols that tell the app the peer's uid (frontends/unix_http.py)."""
    config = uvicorn.Config(
        app,
        loop="none",
        http=UnixHttpProtocol,
        ws=UnixWebSocketProtocol,
        lifespan="off",
        access_log=base.access_log,
        log_level=base.log_level,
        ws_max_size=base.ws_max_size,
        ws_ping_interval=base.ws_ping_interval,
        ws_ping_timeout=base.ws_ping_timeout,
        timeout_graceful_shutdown=base.timeout_graceful_shutdown,
        proxy_headers=False,
    )
    return _Server(config)


async def serve_frontend(
    res: EngineResources,
    stop: asyncio.Event | None = None,
    listener: socket.socket | None = None,
    ready: Callable[[], None] | None = None,
    diagnostics: Diagnostics | None = None,
    unix_listener: socket.socket | None = None,
) -> None:
    """Serve until SIGTERM/SIGINT or ``stop``; ``listener`` and ``unix_listener``: the HTTP sockets
    (TCP, Unix) bound by the supervisor; ``ready()`` is called once HTTP and gRPC both serve;
    ``diagnostics`` gets MEMORY_SIGNAL."""
    cfg = res.config
    loop = asyncio.get_running_loop()
    stop = stop or asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if diagnostics is not None:
        loop.add_signal_handler(MEMORY_SIGNAL, diagnostics.toggle_memory)
    supervisor_pid = os.getppid()
    stack = FrontendStack(res, alive=lambda: os.getppid() == supervisor_pid)
    await stack.start()
    uv_config = uvicorn.Config(
        stack.app,
        host=cfg.host,
        port=cfg.engine_port,
        loop="none",
        http="httptools",
        ws="websockets-sansio",
        lifespan="off",
        access_log=cfg.debug,
        log_level="debug" if cfg.debug else "warning",
        ws_max_size=64 * 1024,
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        timeout_graceful_shutdown=math.ceil(cfg.shutdown_grace),
        proxy_headers=False,  # the peer is the TCP peer: X-Forwarded-For would let a client pick its address
        **uvicorn_options(cfg),
    )
    http = _Server(uv_config)
    logfilters.install()
    if listener is None:
        listener = _listen(cfg.host, cfg.engine_port)
    if unix_listener is None:
        unixsock.prepare_run_dir(cfg.run_dir, cfg.socket_gid)
        unix_listener = unixsock.bind_unix(cfg.http_socket, cfg.socket_gid)
    unix_http = _unix_server(stack.app, uv_config)
    http_port = listener.getsockname()[1]
    http_task = asyncio.create_task(http.serve(sockets=[listener]))
    unix_task = asyncio.create_task(unix_http.serve(sockets=[unix_listener]))
    stack.write_ports(http_port)
    logger.info(
        "frontend: HTTP on %s:%d and %s, gRPC on %s:%d and %s",
        cfg.host,
        http_port,
        cfg.http_socket,
        cfg.host,
        stack.grpc_port,
        cfg.grpc_socket,
    )
    stop_task = asyncio.create_task(stop.wait())
    try:
        # uvicorn says it serves with a flag, not an event
        def starting() -> bool:
            done = http_task.done() or unix_task.done() or stop.is_set()
            return not (http.started and unix_http.started) and not done

        while starting():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        if http.started and unix_http.started and ready is not None:
            ready()
        await asyncio.wait({http_task, unix_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
        for task in (http_task, unix_task):
            if task.done() and not stop.is_set():
                task.result()  # uvicorn ended on its own (e.g. the port was taken): surface why
                raise RuntimeError(f"HTTP server on {cfg.host}:{cfg.engine_port} stopped unexpectedly")
    finally:
        await stack.say_goodbye()
        http.should_exit = unix_http.should_exit = True
        await stack.grpc_server.stop(cfg.shutdown_grace)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.gather(http_task, unix_task), cfg.shutdown_grace + 1)
        stop_task.cancel()
        await stack.stop(0)
        logger.info("frontend: stopped")
