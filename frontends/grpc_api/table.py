"""A servicer built from a domain's call table (frontends/calls/): one method per RPC of the service,
each counted, timed and error-mapped by Servicer.guard like every other."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from frontends.grpc_api.base import to_message

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import grpc
    from google.protobuf.descriptor import FileDescriptor
    from google.protobuf.message import Message

    from frontends.calls import Call
    from frontends.grpc_api.base import Servicer


def _method(service: str, name: str, call: Call) -> Callable[..., Awaitable[Message]]:
    label = f"{service}/{name}"

    async def method(self: Servicer, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Message:
        async def answer() -> Message:
            return to_message(call.response, await call.run(self.rt, request))

        return await self.guard(label, context, answer)

    method.__name__ = method.__qualname__ = name
    return method


def add_calls(
    servicer: type[Servicer],
    file: FileDescriptor,
    service: str,
    calls: dict[str, Call],
    *,
    hand_written: tuple[str, ...] = (),
) -> None:
    """Every RPC of ``service`` (declared in ``file``) as a method of ``servicer`` from its entry in
    ``calls``: a missing entry raises KeyError here, at import, and so does an entry for no RPC.
    ``hand_written``: RPCs the servicer defines itself (AgentService's DispatchTask, the hot path);
    each must be a method of the servicer's own and have no entry."""
    methods = file.services_by_name[service].methods_by_name
    extra = set(calls) - set(methods)
    if extra:
        raise KeyError(f"{service} has no RPC {', '.join(sorted(extra))}")
    for name in hand_written:
        if name in calls or name not in methods or name not in vars(servicer):
            raise KeyError(f"{service}.{name} is hand-written: an RPC the servicer defines, with no entry")
    for name in methods:
        if name not in hand_written:
            setattr(servicer, name, _method(service, name, calls[name]))
