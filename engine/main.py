"""The uvicorn entry point: ``uvicorn engine.main:app --port 8001`` serves HTTP, the WebSocket and
gRPC (SIGMAVAULT_GRPC_PORT) from one process tree; the app lives in frontends/asgi.py."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    # imported on use, so that the engine package never imports the transports at module level
    if name == "app":
        from frontends.asgi import EngineApp

        app = globals()["app"] = EngineApp()
        return app
    raise AttributeError(name)
