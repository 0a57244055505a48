"""Caller: who is making the call being served, as the transports' access checks found it.

The access checks (frontends/auth.py, through the HTTP middleware and the gRPC guard) set it once per
call, before the route or servicer runs; whatever needs the caller afterwards (the audit log, the
access log, per-client limits) reads it here instead of parsing credentials again.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from typing import Literal

Role = Literal["admin", "read"]
Transport = Literal["http", "grpc", "websocket"]


@dataclass(frozen=True, slots=True)
class Caller:
    """``name``: the token's name over TCP, ``uid:<n>`` (or ``unix``) over the Unix socket.
    ``uid``: the peer's uid where the transport lets us read it (SO_PEERCRED), else None.
    ``peer``: the TCP peer address, or ``unix`` for the socket."""

    name: str
    role: Role
    transport: Transport
    peer: str
    uid: int | None = None

    def describe(self) -> str:
        """One short phrase for logs: ``token ops@127.0.0.1`` / ``uid 0 over unix``."""
        if self.peer == "unix":
            return f"uid {self.uid} over unix" if self.uid is not None else "unix socket"
        return f"{self.name}@{self.peer}"


_current: contextvars.ContextVar[Caller | None] = contextvars.ContextVar("sigmavault_caller", default=None)


def current_caller() -> Caller | None:
    """The caller of the call being served in this task (None outside a checked call)."""
    return _current.get()


def set_caller(caller: Caller | None) -> contextvars.Token[Caller | None]:
    return _current.set(caller)


# the policy's name of the call being served (frontends/auth.py CALLS: ``storage.DestroyPool``,
# ``compression.ReadRange``, ``events.Subscribe``): one name whatever the transport
_call: contextvars.ContextVar[str | None] = contextvars.ContextVar("sigmavault_call", default=None)


def current_call() -> str | None:
    """The policy name of the call being served in this task (None outside a checked call)."""
    return _call.get()


def set_call(name: str | None) -> contextvars.Token[str | None]:
    return _call.set(name)
