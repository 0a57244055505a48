"""The audit log over gRPC: two server interceptors around the CallGuard (frontends/grpc_api/guard.py).

- ``AuditInterceptor``, outermost, records every recorded method's call (frontends/audit.py says
  which) once it has answered: the status code, the ErrorInfo reason of an error, the target the
  request names. Outside the guard, it sees the guard's refusals as well.
- ``CallerTap``, innermost (after the guard), notes the caller the guard admitted for the pending
  record: the guard's contextvar (frontends/caller.py) is read while it is still set.

Both decide per method once (cached by method: the server's methods are a bounded set) and hand a
read its own handler back untouched, so a read costs a dict lookup in each.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import TYPE_CHECKING, Any

import grpc
from google.protobuf.message import DecodeError, Message
from google.rpc import error_details_pb2, status_pb2

from engine.common.logsafe import safe_text
from frontends.audit import UNAUDITED_CALLS, begin, end, message_target, see_caller
from frontends.auth import client_key, grpc_call_name, grpc_method_is_open, grpc_method_is_read, grpc_peer_host

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable
    from typing import TypeAlias

    from engine.access.audit import AuditLog
    from frontends.audit import Pending

    Context: TypeAlias = grpc.aio.ServicerContext[Any, Any]
    Continuation: TypeAlias = Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]]

_CODES = {code.value[0]: code for code in grpc.StatusCode}
_DETAILS_KEY = "grpc-status-details-bin"


def recorded(method: str) -> bool:
    return not (grpc_method_is_open(method) or grpc_method_is_read(method) or grpc_call_name(method) in UNAUDITED_CALLS)


def _behavior(handler: grpc.RpcMethodHandler) -> Callable[..., Any]:
    return handler.unary_unary or handler.unary_stream or handler.stream_unary or handler.stream_stream  # type: ignore[no-any-return]


def _rewrap(
    handler: grpc.RpcMethodHandler, answer: Callable[..., Any], answers: Callable[..., Any]
) -> grpc.RpcMethodHandler:
    """``handler`` with its behavior replaced by ``answer`` (a coroutine) or ``answers`` (an async
    generator, for a generator behavior), same shape and (de)serializers."""
    if handler.response_streaming:
        behavior = answers if inspect.isasyncgenfunction(_behavior(handler)) else answer
        factory = (
            grpc.stream_stream_rpc_method_handler if handler.request_streaming else grpc.unary_stream_rpc_method_handler
        )
    else:
        behavior = answer
        factory = (
            grpc.stream_unary_rpc_method_handler if handler.request_streaming else grpc.unary_unary_rpc_method_handler
        )
    return factory(
        behavior, request_deserializer=handler.request_deserializer, response_serializer=handler.response_serializer
    )


class _Cached(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Wraps the handlers of recorded methods once per method; hands any other back as it came."""

    def __init__(self) -> None:
        self._handlers: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler | None]] = {}

    async def intercept_service(
        self, continuation: Continuation, details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(details)
        if handler is None:
            return None
        cached = self._handlers.get(details.method)
        if cached is None or cached[0] is not handler:
            method: str = details.method
            cached = self._handlers[method] = (handler, self._wrap(method, handler) if recorded(method) else None)
        return cached[1] or handler

    def _wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        raise NotImplementedError


class CallerTap(_Cached):
    def _wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        behavior = _behavior(handler)

        async def answer(request: Any, context: Context) -> Any:
            see_caller()
            return await behavior(request, context)

        async def answers(request: Any, context: Context) -> AsyncIterator[Any]:
            see_caller()
            async for item in behavior(request, context):
                yield item

        return _rewrap(handler, answer, answers)


class AuditInterceptor(_Cached):
    def __init__(self, audit: AuditLog) -> None:
        super().__init__()
        self.audit = audit

    def _wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        behavior, call = _behavior(handler), grpc_call_name(method)

        async def answer(request: Any, context: Context) -> Any:
            pending, token = begin()
            failed: BaseException | None = None
            try:
                return await behavior(request, context)
            except BaseException as exc:  # abort()'s AbortError, a cancelled call: recorded, then on its way
                failed = exc
                raise
            finally:
                pending.see_caller()  # a call the guard refused never reached CallerTap
                end(token)
                self._record(pending, call, request, context, failed)

        async def answers(request: Any, context: Context) -> AsyncIterator[Any]:
            pending, token = begin()
            failed: BaseException | None = None
            try:
                async for item in behavior(request, context):
                    yield item
            except BaseException as exc:
                failed = exc
                raise
            finally:
                pending.see_caller()  # a call the guard refused never reached CallerTap
                end(token)
                self._record(pending, call, request, context, failed)

        return _rewrap(handler, answer, answers)

    def _record(
        self, pending: Pending, call: str, request: Any, context: Context, failed: BaseException | None
    ) -> None:
        code = _code(context, failed)
        host = grpc_peer_host(context.peer())
        self.audit.record(
            pending.entry(
                transport="grpc",
                peer=client_key(host) if host else "unix",
                call=call,
                target=message_target(request) if isinstance(request, Message) else "",
                result="ok" if code is grpc.StatusCode.OK else _reason(context) or code.name.lower(),
                status=code.name,
            )
        )


def _code(context: Context, failed: BaseException | None) -> grpc.StatusCode:
    code = context.code()
    if isinstance(code, int):
        code = _CODES.get(code, grpc.StatusCode.UNKNOWN)
    if isinstance(code, grpc.StatusCode) and (code is not grpc.StatusCode.OK or failed is None):
        return code
    if failed is None:
        return grpc.StatusCode.OK
    # raised without a status: grpc answers a cancelled call CANCELLED and anything else UNKNOWN
    return grpc.StatusCode.CANCELLED if isinstance(failed, asyncio.CancelledError) else grpc.StatusCode.UNKNOWN


def _reason(context: Context) -> str | None:
    """The ErrorInfo reason of the answer's google.rpc.Status (frontends/errors.py), lower case."""
    for key, value in context.trailing_metadata() or ():
        if key != _DETAILS_KEY or not isinstance(value, bytes):
            continue
        try:
            rich = status_pb2.Status.FromString(value)
        except DecodeError:  # not a google.rpc.Status after all: the code alone then
            return None
        for detail in rich.details:
            info = error_details_pb2.ErrorInfo()
            if detail.Unpack(info) and info.reason:
                return safe_text(info.reason.lower(), 64)
    return None
