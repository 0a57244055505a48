"""The frontend process's entry point, importable without grpc.

The supervisor imports this module and forks the frontend from it; grpc, uvicorn and the rest
are imported only inside the child, so the supervisor that forks workers never loads grpc.
"""

from __future__ import annotations

import os
import signal
from typing import TYPE_CHECKING

from engine.core.diag import Diagnostics
from engine.core.procutil import die_with_parent, set_process_name

if TYPE_CHECKING:
    import socket

    from engine.core.resources import EngineResources


def frontend_main(
    res: EngineResources,
    listener: socket.socket | None = None,
    ready_fd: int = -1,
    unix_listener: socket.socket | None = None,
) -> None:
    """Entry point of the forked frontend process. ``ready_fd``: a pipe to the supervisor, written
    once when the frontend serves (it tells systemd READY=1 then); ``listener`` and
    ``unix_listener``: the HTTP sockets (TCP, Unix) the supervisor bound."""
    set_process_name("sv-frontend")
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # until the loop installs its handlers
    diagnostics = Diagnostics(res.config.data_dir, "sv-frontend")  # engined profile's fallback
    diagnostics.install()
    # the frontend only forks to exec system tools (lsblk, zpool...): grpc's fork handlers are not needed
    os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")
    import uvloop

    from frontends.runner import serve_frontend

    def ready() -> None:
        if ready_fd >= 0:
            os.write(ready_fd, b"1")
            os.close(ready_fd)

    try:
        uvloop.run(
            serve_frontend(res, listener=listener, unix_listener=unix_listener, ready=ready, diagnostics=diagnostics)
        )
    finally:
        diagnostics.close()
