"""What every servicer shares: counting and timing calls, and turning errors into rich statuses."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import time
from typing import TYPE_CHECKING, Any, TypeVar, cast

import grpc
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.json_format import ParseDict
from google.protobuf.message import Message

from engine.errors import EngineError
from frontends.errors import describe
from frontends.records import field_names, plain
from frontends.schema import from_labels

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from google.protobuf.descriptor import Descriptor

    from engine.runtime import Runtime
    from frontends.prom import RequestMetrics

M = TypeVar("M", bound=Message)


def to_message(cls: type[M], data: Any) -> M:
    """A service answer (a typed record, or a dict keyed by the proto's field names) as its message.
    Enum fields hold their JSON labels ("compress", as HTTP answers them): turned into numbers here.
    A record's own bytes fields go in as they are, not through base64 (8 MiB of ReadRange data: 0.8 ms
    against 70 through base64 and ParseDict on this 2-core box)."""
    message: M = cls()
    descriptor = cls.DESCRIPTOR
    raw = _bytes_fields(descriptor) if dataclasses.is_dataclass(data) and not isinstance(data, type) else ()
    if raw:
        record_type: type = type(data)
        doc = {name: plain(getattr(data, name)) for name in field_names(record_type) if name not in raw}
    else:
        doc = plain(data)
    if _has_enums(descriptor):
        doc = from_labels(descriptor, doc)
    ParseDict(doc, message, ignore_unknown_fields=True)
    for name in raw:
        value = getattr(data, name, None)
        if value is not None:
            setattr(message, name, value)
    return message


@functools.cache
def _bytes_fields(descriptor: Descriptor) -> tuple[str, ...]:
    return tuple(f.name for f in descriptor.fields if f.type == FieldDescriptor.TYPE_BYTES and not f.is_repeated)


@functools.cache
def _has_enums(descriptor: Descriptor, seen: frozenset[str] = frozenset()) -> bool:
    """Whether the message or one it holds has an enum field."""
    for field in descriptor.fields:
        if field.type == FieldDescriptor.TYPE_ENUM:
            return True
        inner = field.message_type
        if inner is not None and inner.full_name not in seen and _has_enums(inner, seen | {descriptor.full_name}):
            return True
    return False


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
