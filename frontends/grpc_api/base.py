"""What every servicer shares: counting and timing calls, and turning errors into rich statuses."""

from __future__ import annotations

import inspect
import time
from typing import TYPE_CHECKING, Any, TypeVar, cast

import grpc
from google.protobuf.json_format import ParseDict
from google.protobuf.message import Message

from engine.errors import EngineError
from frontends.errors import describe
from frontends.records import plain

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from engine.runtime import Runtime
    from frontends.prom import RequestMetrics

M = TypeVar("M", bound=Message)


def to_message(cls: type[M], data: Any) -> M:
    """A service answer (a typed record, or a dict keyed by the proto's field names) as its message."""
    message: M = cls()
    ParseDict(plain(data), message, ignore_unknown_fields=True)
    return message


async def abort(context: grpc.aio.ServicerContext[Any, Any], exc: BaseException) -> None:
    """End the call with the error's code, message and google.rpc.Status details (raises)."""
    status = describe(exc).grpc_status()
    await context.abort(status.code, status.details, status.trailing_metadata)


class Servicer:
    def __init__(self, rt: Runtime, metrics: RequestMetrics) -> None:
        self.rt = rt
        self.metrics = metrics
        self._children: dict[tuple[str, grpc.StatusCode], tuple[Any, Any]] = {}

    def observe(self, method: str, code: grpc.StatusCode, seconds: float) -> None:
        """Count and time one call; labelled children are cached (labels() costs ~2 us a call)."""
        children = self._children.get((method, code))
        if children is None:
            children = self._children[method, code] = (
                self.metrics.grpc_requests.labels(method, code.name),
                self.metrics.grpc_latency.labels(method),
            )
        children[0].inc()
        children[1].observe(seconds)

    async def guard(
        self, method: str, context: grpc.aio.ServicerContext[Any, Any], call: Callable[[], M | Awaitable[M]]
    ) -> M:
        """Run one unary call: count it, time it, and turn engine errors into status codes."""
        start = time.perf_counter()
        code = grpc.StatusCode.OK
        try:
            result = call()
            if inspect.isawaitable(result):
                return cast("M", await result)
            return result
        except (EngineError, TimeoutError, ValueError) as exc:
            code = describe(exc).grpc_code
            await abort(context, exc)
            raise  # unreachable: abort raises
        finally:
            self.observe(method, code, time.perf_counter() - start)
