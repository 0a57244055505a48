"""CallGuard: what every gRPC call passes before its servicer runs (a grpc.aio server interceptor).

1. The request bytes are decoded by a decoder that never raises: grpc would answer a request that
   does not parse as its message with UNKNOWN ("Unexpected DecodeError"), which tells a client
   nothing it can act on; here it is INVALID_ARGUMENT with reason MALFORMED_REQUEST.
2. The caller (frontends/auth.py): a peer of the Unix socket (``unix:`` peers, admitted by the
   kernel: admin, named ``unix``: gRPC gives no SO_PEERCRED) or the ``authorization`` metadata;
   then the role the call needs. The caller and the call's name are set (frontends/caller.py) in
   the task that runs the servicer.
3. The per-client cap (frontends/limits.py) by the caller's name, held until the answer or the stream ends.

The wrapped handler of each method is built once and cached (by method; the set of methods is the
server's, so the cache is bounded).
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

import grpc

from frontends.auth import grpc_call_name, grpc_method_is_open, grpc_peer_host, is_read
from frontends.caller import Caller, set_call, set_caller
from frontends.errors import ErrorAnswer

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable
    from typing import TypeAlias

    from frontends.auth import AccessPolicy
    from frontends.limits import ClientLimiter
    from frontends.prom import RequestMetrics

    Context: TypeAlias = grpc.aio.ServicerContext[Any, Any]

MALFORMED = ErrorAnswer(
    400,
    grpc.StatusCode.INVALID_ARGUMENT,
    "malformed_request",
    "the request bytes are not a valid message of this method's request type",
    {},
)


class _Malformed:
    """What the safe decoder hands on in place of a request that did not parse."""

    __slots__ = ()


class MalformedRequest(Exception):
    """A streamed request did not parse. Raised by the request iterator, wherever the servicer reads
    it, and turned into the status by the handler's own task: context.abort() from another task
    (a servicer's reader) can leave the call open until its deadline."""


_MALFORMED = _Malformed()


def _safe(decode: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    if decode is None:
        return None

    def safe_decode(data: bytes) -> Any:
        try:
            return decode(data)
        except Exception:  # DecodeError and whatever else a parser raises on hostile bytes
            return _MALFORMED

    return safe_decode


class CallGuard(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    def __init__(self, policy: AccessPolicy, limiter: ClientLimiter, metrics: RequestMetrics) -> None:
        self.policy, self.limiter, self.metrics = policy, limiter, metrics
        self._handlers: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(details)
        if handler is None:
            return None  # grpc answers UNIMPLEMENTED
        method: str = details.method
        cached = self._handlers.get(method)
        if cached is None or cached[0] is not handler:
            cached = self._handlers[method] = (handler, self._wrap(method, handler))
        return cached[1]

    async def admit(self, context: Context, open_call: bool, call: str, read: bool) -> str | None:
        """Aborts the call if the policy or the cap refuses it; else the client key it holds (None: not counted)."""
        if open_call:
            return None
        peer = context.peer()
        caller: Caller | ErrorAnswer
        if peer.startswith("unix:"):
            caller = self.policy.unix_caller("grpc", None)
        else:
            host = grpc_peer_host(peer) or peer
            authorization = next((v for k, v in context.invocation_metadata() or () if k == "authorization"), None)
            caller = self.policy.authenticate(authorization, "grpc", host)
        if isinstance(caller, ErrorAnswer):
            await self.abort(context, caller, peer, call)
            return None
        set_caller(caller)  # before a refusal too: the audit entry names who was refused (as over HTTP)
        refusal = self.policy.authorize(caller, call, read)
        if refusal is not None:
            await self.abort(context, refusal, caller.describe(), call)
        set_call(call)
        self.policy.admitted(caller, call)
        if not self.limiter.enabled:
            return None
        if not self.limiter.try_acquire(caller.name):
            await self.abort(context, self.limiter.refusal, caller.describe(), call)
        return caller.name

    def release(self, key: str | None) -> None:
        if key is not None:
            self.limiter.release(key)

    async def abort(self, context: Context, answer: ErrorAnswer, who: str = "", call: str = "") -> None:
        self.metrics.refused.labels("grpc", answer.code).inc()
        if who:
            self.policy.refused(who, call, answer)
        status = answer.grpc_status()
        await context.abort(status.code, status.details, status.trailing_metadata)

    def _wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        guarded = _Guarded(self, method, handler)
        if handler.response_streaming:
            behavior = guarded.answers if inspect.isasyncgenfunction(guarded.behavior) else guarded.answer
            factory = (
                grpc.stream_stream_rpc_method_handler
                if handler.request_streaming
                else grpc.unary_stream_rpc_method_handler
            )
        else:
            behavior = guarded.answer
            factory = (
                grpc.stream_unary_rpc_method_handler
                if handler.request_streaming
                else grpc.unary_unary_rpc_method_handler
            )
        return factory(
            behavior,
            request_deserializer=_safe(handler.request_deserializer),
            response_serializer=handler.response_serializer,
        )


async def _checked(requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
    async for request in requests:
        if request is _MALFORMED:
            raise MalformedRequest
        yield request


class _Guarded:
    """One method's servicer behind the guard, in the two shapes grpc.aio calls: ``answer`` (a
    coroutine: a unary answer, or a stream written with context.write(), e.g. Health.Watch) and
    ``answers`` (an async generator of streamed answers)."""

    def __init__(self, guard: CallGuard, method: str, handler: grpc.RpcMethodHandler) -> None:
        self.guard, self.open, self.call = guard, grpc_method_is_open(method), grpc_call_name(method)
        self.read = is_read(self.call)
        self.client_streams: bool = handler.request_streaming
        self.behavior: Callable[..., Any] = (
            handler.unary_unary or handler.unary_stream or handler.stream_unary or handler.stream_stream
        )

    async def _enter(self, request: Any, context: Context) -> tuple[str | None, Any]:
        key = await self.guard.admit(context, self.open, self.call, self.read)
        if self.client_streams:
            return key, _checked(request)
        if request is _MALFORMED:
            self.guard.release(key)
            await self.guard.abort(context, MALFORMED)
        return key, request

    async def answer(self, request: Any, context: Context) -> Any:
        key, request = await self._enter(request, context)
        try:
            return await self.behavior(request, context)
        except MalformedRequest:
            await self.guard.abort(context, MALFORMED)
        finally:
            self.guard.release(key)

    async def answers(self, request: Any, context: Context) -> AsyncIterator[Any]:
        key, request = await self._enter(request, context)
        try:
            async for answer in self.behavior(request, context):
                yield answer
        except MalformedRequest:
            await self.guard.abort(context, MALFORMED)
        finally:
            self.guard.release(key)
