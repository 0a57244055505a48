"""CallGuard: what every gRPC call passes before its servicer runs (a grpc.aio server interceptor).

1. The request bytes are decoded by a decoder that never raises: grpc would answer a request that
   does not parse as its message with UNKNOWN ("Unexpected DecodeError"), which tells a client
   nothing it can act on; here it is INVALID_ARGUMENT with reason MALFORMED_REQUEST.
2. The AccessPolicy (frontends/auth.py) with the ``authorization`` metadata and the peer address.
3. The per-client cap (frontends/limits.py), held until the answer or the stream ends.

The wrapped handler of each method is built once and cached (by method; the set of methods is the
server's, so the cache is bounded).
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

import grpc

from frontends.auth import client_key, grpc_method_is_open, grpc_method_is_read, grpc_peer_host
from frontends.errors import ErrorAnswer

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable
    from typing import TypeAlias

    from frontends.auth import AccessPolicy
    from frontends.limits import ClientLimiter
    from frontends.prom import RequestMetrics

    Context: TypeAlias = grpc.aio.ServicerContext[Any, Any]

MALFORMED = ErrorAnswer(400, grpc.StatusCode.INVALID_ARGUMENT, "malformed_request",
                        "the request bytes are not a valid message of this method's request type", {})  # fmt: skip


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

    async def _admit(self, method: str, context: Context, open_call: bool, read: bool) -> str | None:
        """Aborts the call if the policy or the cap refuses it; else the client key it holds (None: not counted)."""
        if open_call:
            return None
        host = grpc_peer_host(context.peer())
        authorization = None
        if self.policy.enabled:
            authorization = next((v for k, v in context.invocation_metadata() or () if k == "authorization"), None)
        refusal = self.policy.refusal(host, read=read, authorization=authorization)
        if refusal is None and self.limiter.enabled:
            key = client_key(host)
            if self.limiter.try_acquire(key):
                return key
            refusal = self.limiter.refusal
        if refusal is not None:
            await self._abort(context, refusal)
        return None

    async def _abort(self, context: Context, answer: ErrorAnswer) -> None:
        self.metrics.refused.labels("grpc", answer.code).inc()
        status = answer.grpc_status()
        await context.abort(status.code, status.details, status.trailing_metadata)

    def _wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        open_call, read = grpc_method_is_open(method), grpc_method_is_read(method)
        guard = self
        decode, encode = _safe(handler.request_deserializer), handler.response_serializer

        async def checked(request: Any, context: Context) -> None:
            if request is _MALFORMED:
                await guard._abort(context, MALFORMED)

        async def requests(iterator: AsyncIterator[Any]) -> AsyncIterator[Any]:
            async for request in iterator:
                if request is _MALFORMED:
                    raise MalformedRequest
                yield request

        if handler.unary_unary is not None:
            unary_unary = handler.unary_unary

            async def uu(request: Any, context: Context) -> Any:
                key = await guard._admit(method, context, open_call, read)
                try:
                    await checked(request, context)
                    return await unary_unary(request, context)
                finally:
                    if key is not None:
                        guard.limiter.release(key)

            return grpc.unary_unary_rpc_method_handler(uu, request_deserializer=decode, response_serializer=encode)
        if handler.stream_unary is not None:
            stream_unary = handler.stream_unary

            async def su(iterator: AsyncIterator[Any], context: Context) -> Any:
                key = await guard._admit(method, context, open_call, read)
                try:
                    return await stream_unary(requests(iterator), context)
                except MalformedRequest:
                    await guard._abort(context, MALFORMED)
                finally:
                    if key is not None:
                        guard.limiter.release(key)

            return grpc.stream_unary_rpc_method_handler(su, request_deserializer=decode, response_serializer=encode)
        streaming = handler.unary_stream or handler.stream_stream
        client_streams = handler.stream_stream is not None

        async def prepare(request: Any, context: Context) -> tuple[str | None, Any]:
            key = await guard._admit(method, context, open_call, read)
            if client_streams:
                return key, requests(request)
            try:
                await checked(request, context)
            except BaseException:
                if key is not None:
                    guard.limiter.release(key)
                raise
            return key, request

        async def xs_generator(request: Any, context: Context) -> AsyncIterator[Any]:
            key, request = await prepare(request, context)
            try:
                async for answer in streaming(request, context):
                    yield answer
            except MalformedRequest:
                await guard._abort(context, MALFORMED)
            finally:
                if key is not None:
                    guard.limiter.release(key)

        async def xs_writer(request: Any, context: Context) -> None:  # e.g. Health.Watch: context.write()
            key, request = await prepare(request, context)
            try:
                await streaming(request, context)
            except MalformedRequest:
                await guard._abort(context, MALFORMED)
            finally:
                if key is not None:
                    guard.limiter.release(key)

        behavior = xs_generator if inspect.isasyncgenfunction(streaming) else xs_writer
        factory = grpc.stream_stream_rpc_method_handler if client_streams else grpc.unary_stream_rpc_method_handler
        return factory(behavior, request_deserializer=decode, response_serializer=encode)
