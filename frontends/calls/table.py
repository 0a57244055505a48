"""Call: one RPC of a domain's table (frontends/calls/<domain>.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from google.protobuf.message import Message

    from engine.runtime import Runtime

T = TypeVar("T")


@dataclass(frozen=True)
class Call:
    """``run(rt, request)`` answers a typed record (or a dict keyed by the message's field names) that
    ``to_message`` and ``project`` turn into ``response``."""

    request: type[Message]
    response: type[Message]
    run: Callable[[Runtime, Any], Awaitable[Any]]


async def now(value: T) -> T:
    """A domain answer known at once (a read of memory or the shared tables) as the awaitable ``run`` returns."""
    return value
