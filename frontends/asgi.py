"""A module-level ASGI app for running the engine under an outside uvicorn:

    uvicorn engine.main:app --host 127.0.0.1 --port 8001

(``engine.main`` re-exports ``app`` from here.) Its lifespan does what ``engined serve`` does in
one process tree: the startup creates the shared memory, forks the supervisor (which forks one
worker per core), waits for every worker, then starts the gRPC server (SIGMAVAULT_GRPC_PORT) and the
watchers on uvicorn's own loop; HTTP and the WebSocket are served by uvicorn itself. The shutdown
says goodbye to WebSocket clients, lets in-flight RPCs finish, drains the supervisor and removes the
segments. Configuration is the usual SIGMAVAULT_* (uvicorn's --host/--port decide the HTTP side).
Run it with one uvicorn worker: each uvicorn process would start an engine of its own.
Every call needs a credential as under ``engined serve`` (docs/SECURITY.md): the admin token
(``<data_dir>/api-token`` when none is configured) or the gRPC Unix socket; a socket uvicorn
serves itself (``--uds``) is not the engine's, and its callers need the token too.
"""

from __future__ import annotations

import os

# the supervisor is forked from this process: keep grpc's fork handlers out of it (import order matters)
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")

import logging
from typing import TYPE_CHECKING

from engine.config import ConfigError, EngineConfig
from engine.core.embedded import Engine
from frontends import logfilters
from frontends.stack import FrontendStack

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

logger = logging.getLogger(__name__)


class EngineApp:
    """ASGI: lifespan starts and stops the engine; every other scope goes to the HTTP app."""

    def __init__(self, config: EngineConfig | None = None) -> None:
        self._config = config
        self.engine: Engine | None = None
        self.stack: FrontendStack | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if self.stack is None:  # a server without lifespan support: refuse plainly
            raise RuntimeError("the engine is not started: run under an ASGI server with lifespan (uvicorn does)")
        await self.stack.app(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except ConfigError as exc:  # one line (uvicorn logs the message), as engined says it
                    await send({"type": "lifespan.startup.failed", "message": f"configuration error: {exc}"})
                    return
                except Exception as exc:
                    logger.exception("engine start-up failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def startup(self) -> None:
        config = self._config or EngineConfig.from_env()
        os.environ.pop("SIGMAVAULT_API_TOKEN", None)  # read: the system tools the engine runs need not inherit it
        logfilters.install()
        config.check_data_dir()
        config, created = config.with_api_token()  # every call needs a credential: one token always exists
        if created:  # the path, never the value
            logger.warning("engine: generated the admin API token in %s (mode 0600)", config.api_token_file)
        self.engine = Engine.start(config)  # forks before grpc starts any thread in this process
        assert self.engine.res is not None
        self.stack = FrontendStack(self.engine.res, client=self.engine.client)
        await self.stack.start()
        self.stack.write_ports(0)
        logger.info("engine: %d workers ready; gRPC on %s:%d", config.workers, config.host, self.stack.grpc_port)

    async def shutdown(self) -> None:
        if self.stack is not None:
            await self.stack.say_goodbye()
            await self.stack.stop(self.stack.config.shutdown_grace)
            self.stack = None
        if self.engine is not None:
            self.engine.close()
            self.engine = None
