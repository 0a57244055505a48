"""Call: one RPC of a domain's table (frontends/calls/<domain>.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from google.protobuf.message import Message

    from engine.runtime import Runtime


@dataclass(frozen=True)
class Call:
    """``run(rt, request)`` answers a typed record (or a dict keyed by the message's field names) that
    ``to_message`` and ``project`` turn into ``response``."""

    request: type[Message]
    response: type[Message]
    run: Callable[[Runtime, Any], Awaitable[Any]]
