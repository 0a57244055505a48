"""systemd's notify protocol (sd_notify(3)): one datagram per message to ``$NOTIFY_SOCKET``.

Only when systemd asked for it (``Type=notify`` sets ``NOTIFY_SOCKET``); otherwise every call is a
no-op. ``from_environment()`` also removes the variables, as ``sd_notify(unset_environment=1)``
does, so the engine's children (frontend, workers, the system tools it runs) never talk to systemd
in its name. ``WATCHDOG_USEC`` (set by ``WatchdogSec=``) gives the ping interval: half of it.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import MutableMapping

logger = logging.getLogger(__name__)


class Notifier:
    _sock: socket.socket | None = None

    def __init__(self, address: str = "", watchdog_usec: int = 0) -> None:
        self.address = "\0" + address[1:] if address.startswith("@") else address  # '@': abstract namespace
        self.watchdog_interval_s = watchdog_usec / 2e6 if watchdog_usec > 0 else None
        if self.address:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

    @classmethod
    def from_environment(cls, environ: MutableMapping[str, str] | None = None) -> Notifier:
        env = os.environ if environ is None else environ
        address = env.pop("NOTIFY_SOCKET", "")
        usec, watchdog_pid = env.pop("WATCHDOG_USEC", ""), env.pop("WATCHDOG_PID", "")
        if address and not address.startswith(("/", "@")):
            logger.warning("NOTIFY_SOCKET=%s is not a UNIX socket path; systemd will not hear from the engine", address)
            address = ""
        if watchdog_pid and watchdog_pid != str(os.getpid()):
            usec = ""  # the watchdog is meant for another process
        return cls(address, int(usec) if usec.isdigit() else 0)

    @property
    def enabled(self) -> bool:
        return self._sock is not None

    def send(self, *lines: str) -> bool:
        """Send ``KEY=VALUE`` lines as one message; False (logged) when systemd cannot be reached."""
        if self._sock is None:
            return False
        try:
            self._sock.sendto("\n".join(lines).encode(), self.address)
        except OSError as exc:
            logger.warning("sd_notify to %r failed: %s", self.address, exc)
            return False
        return True

    def ready(self, status: str) -> bool:
        return self.send("READY=1", f"STATUS={status}")

    def status(self, status: str) -> bool:
        return self.send(f"STATUS={status}")

    def watchdog(self) -> bool:
        return self.send("WATCHDOG=1")

    def stopping(self, status: str) -> bool:
        return self.send("STOPPING=1", f"STATUS={status}")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


READY_POLL_S = 0.05  # until READY=1 is sent the supervisor looks at worker states this often


class ServiceNotes:
    """What the supervisor tells systemd, and when: READY=1 once (every worker READY and, with a
    frontend, the frontend serving), WATCHDOG=1 every ``watchdog_interval_s`` from the loop, STATUS=
    on changes, STOPPING=1 on the way out. All no-ops without ``NOTIFY_SOCKET``."""

    def __init__(self, notifier: Notifier, serving: str) -> None:
        self.notifier = notifier
        self.serving = serving  # the STATUS= line once ready, e.g. "2 workers, HTTP 127.0.0.1:8001 ..."
        self.ready_sent = False
        self._next_ping = 0.0

    def wait_timeout(self, now: float, longest: float) -> float:
        """How long the supervisor's loop may sleep without missing a ping or readiness."""
        timeout = longest
        if not self.ready_sent and self.notifier.enabled:
            timeout = min(timeout, READY_POLL_S)
        if self.notifier.watchdog_interval_s is not None:
            timeout = min(timeout, max(0.0, self._next_ping - now))
        return timeout

    def tick(self, now: float, *, ready: bool) -> None:
        """Once per loop turn: READY=1 the first time ``ready`` holds, and the watchdog ping when due."""
        if ready and not self.ready_sent:
            self.ready_sent = True
            self.notifier.ready(f"serving: {self.serving}")
        interval = self.notifier.watchdog_interval_s
        if interval is not None and now >= self._next_ping:
            self.notifier.watchdog()
            self._next_ping = now + interval

    def status(self, text: str) -> None:
        self.notifier.status(text)

    def back_to_serving(self) -> None:
        if self.ready_sent:
            self.notifier.status(f"serving: {self.serving}")

    def stopping(self) -> None:
        self.notifier.stopping("draining: frontend, then workers")

    def close(self) -> None:
        self.notifier.close()
