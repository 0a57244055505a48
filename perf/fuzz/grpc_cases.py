"""gRPC: requests generated from the proto descriptors, sent to every RPC of a running engine.

For every method of every service the server has (ours from frontends/_gen, plus grpc.health.v1
and reflection), requests come from a hypothesis strategy built from the request message's
descriptor: every field present or absent, integers over their whole wire range (so out of the
range the service accepts), enum numbers that are not in the enum, strings of any Unicode, bytes
from empty to past the slot and past the message limit, nested messages to the depth the schema
allows. Beside those, raw bytes go through a channel call without any serializer: random garbage,
truncated valid messages, and unknown groups nested thousands deep. Streaming methods get streams
of 1-6 such requests.

Every call must end within its deadline (else: hung) with a status other than INTERNAL or UNKNOWN
(those mean a handler crashed or grpc could not make sense of our answer).
"""

from __future__ import annotations

import importlib
import itertools
import pkgutil
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

import frontends._gen.sigmavault.v1 as generated
from perf.fuzz.report import SurfaceReport, excluded

if TYPE_CHECKING:
    from collections.abc import Iterator

    from google.protobuf.descriptor import FileDescriptor, MethodDescriptor

_F = FieldDescriptor
CALL_TIMEOUT_S = 10.0
BATCH = 20  # cases per method before moving on to the next
MAX_DEPTH = 6
CRASH_CODES = frozenset({grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN})
_INT_RANGES = {
    _F.TYPE_INT32: (-(2**31), 2**31 - 1),
    _F.TYPE_SINT32: (-(2**31), 2**31 - 1),
    _F.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    _F.TYPE_UINT32: (0, 2**32 - 1),
    _F.TYPE_FIXED32: (0, 2**32 - 1),
    _F.TYPE_INT64: (-(2**63), 2**63 - 1),
    _F.TYPE_SINT64: (-(2**63), 2**63 - 1),
    _F.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    _F.TYPE_UINT64: (0, 2**64 - 1),
    _F.TYPE_FIXED64: (0, 2**64 - 1),
}


@dataclass(frozen=True)
class Method:
    path: str  # /package.Service/Method
    request: Descriptor
    client_streaming: bool
    server_streaming: bool


def _files() -> Iterator[FileDescriptor]:
    for info in pkgutil.iter_modules(generated.__path__):
        if info.name.endswith("_pb2"):
            yield importlib.import_module(f"{generated.__name__}.{info.name}").DESCRIPTOR
    yield health_pb2.DESCRIPTOR
    yield reflection_pb2.DESCRIPTOR


def rpc_methods() -> list[Method]:
    """Every RPC the engine serves, from the descriptors (a new service or method is covered as is)."""
    out = []
    for file in _files():
        for service in file.services_by_name.values():
            for m in service.methods:
                method: MethodDescriptor = m
                out.append(
                    Method(
                        f"/{service.full_name}/{method.name}",
                        method.input_type,
                        method.client_streaming,
                        method.server_streaming,
                    )
                )
    return out


def _bytes(big_sizes: tuple[int, ...]) -> st.SearchStrategy[bytes]:
    huge = st.sampled_from(big_sizes).flatmap(lambda n: st.sampled_from([b"\0" * n, bytes(range(256)) * (n // 256)]))
    return st.one_of(st.binary(max_size=64), st.binary(min_size=1000, max_size=70_000), huge)


def _scalar(field: FieldDescriptor, big_sizes: tuple[int, ...]) -> st.SearchStrategy[Any]:
    t = field.type
    if t in _INT_RANGES:
        lo, hi = _INT_RANGES[t]
        return st.integers(lo, hi)
    if t == _F.TYPE_DOUBLE:
        return st.floats()
    if t == _F.TYPE_FLOAT:
        return st.floats(width=32)
    if t == _F.TYPE_BOOL:
        return st.booleans()
    if t == _F.TYPE_STRING:
        return st.one_of(st.text(max_size=40), st.text(min_size=300, max_size=5000), st.sampled_from(["..", "/"]))
    if t == _F.TYPE_BYTES:
        return _bytes(big_sizes)
    if t == _F.TYPE_ENUM:  # the enum's own numbers, and numbers it does not have (proto3 enums are open)
        return st.one_of(st.sampled_from([v.number for v in field.enum_type.values]), st.integers(-(2**31), 2**31 - 1))
    raise TypeError(f"no strategy for field type {t}")  # pragma: no cover - every proto3 scalar is above


def message_strategy(message: Descriptor, big_sizes: tuple[int, ...], depth: int = 0) -> st.SearchStrategy[Any]:
    """Instances of ``message``: any subset of its fields, each with any value of its wire type."""
    cls = message_factory.GetMessageClass(message)

    def value(field: FieldDescriptor) -> st.SearchStrategy[Any]:
        if field.message_type is not None:
            return message_strategy(field.message_type, big_sizes, depth + 1)
        return _scalar(field, big_sizes)

    fields: dict[str, st.SearchStrategy[Any]] = {}
    for field in message.fields:
        if field.message_type is not None and depth >= MAX_DEPTH:
            continue
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            key, val = field.message_type.fields_by_name["key"], field.message_type.fields_by_name["value"]
            fields[field.name] = st.dictionaries(value(key), value(val), max_size=4)
        elif field.is_repeated:
            fields[field.name] = st.lists(value(field), max_size=4)
        else:
            fields[field.name] = value(field)

    def build(values: dict[str, Any]) -> Any:
        out = cls()
        for name, v in values.items():
            field = message.fields_by_name[name]
            target = getattr(out, name) if field.message_type is not None or field.is_repeated else None
            if target is None:
                setattr(out, name, v)
            elif isinstance(v, dict):
                for k, item in v.items():
                    (target[k].CopyFrom(item) if hasattr(item, "DESCRIPTOR") else target.__setitem__(k, item))
            elif isinstance(v, list):
                target.extend(v)
            else:
                target.CopyFrom(v)
        return out

    return st.fixed_dictionaries({}, optional=fields).map(build)


def _nested_groups(depth: int) -> bytes:
    """An unknown field (number 1000) holding groups nested ``depth`` deep: a parser that recurses
    to skip unknown fields must stop at its limit, not at the stack's."""
    start, end = bytes([0xC3, 0x3E]), bytes([0xC4, 0x3E])  # tag varints (1000 << 3 | 3) and (1000 << 3 | 4)
    return start * depth + end * depth


def raw_strategy(message: Descriptor, big_sizes: tuple[int, ...]) -> st.SearchStrategy[bytes]:
    """Bytes that are (mostly) not a valid ``message``: garbage, a valid one cut short, deep nesting."""
    valid = message_strategy(message, big_sizes).map(lambda m: m.SerializeToString())
    truncated = valid.flatmap(lambda b: st.integers(0, max(0, len(b) - 1)).map(lambda n: b[:n]))
    nested = st.sampled_from([10, 100, 101, 1000, 50_000]).map(_nested_groups)
    return st.one_of(st.binary(max_size=512), truncated, nested)


def request_strategy(method: Method, big_sizes: tuple[int, ...]) -> st.SearchStrategy[list[bytes]]:
    """What one call sends: a list of serialized requests (exactly one for a unary request)."""
    one = st.one_of(
        message_strategy(method.request, big_sizes).map(lambda m: m.SerializeToString()),
        raw_strategy(method.request, big_sizes),
    )
    return st.lists(one, min_size=1, max_size=6) if method.client_streaming else one.map(lambda b: [b])


class _Runner:
    def __init__(
        self, channel: grpc.Channel, metadata: tuple[tuple[str, str], ...], report: SurfaceReport, deadline: float
    ) -> None:
        self.channel, self.metadata, self.report, self.deadline = channel, metadata, report, deadline

    def call(self, method: Method, requests: list[bytes]) -> None:
        if time.monotonic() > self.deadline:
            return
        started = time.monotonic()
        try:
            if method.client_streaming:
                call = (
                    self.channel.stream_stream(method.path)
                    if method.server_streaming
                    else self.channel.stream_unary(method.path)
                )
                answer = call(iter(requests), timeout=CALL_TIMEOUT_S, metadata=self.metadata)
            else:
                call = (
                    self.channel.unary_stream(method.path)
                    if method.server_streaming
                    else self.channel.unary_unary(method.path)
                )
                answer = call(requests[0], timeout=CALL_TIMEOUT_S, metadata=self.metadata)
            if method.server_streaming:
                next(answer, None)  # the first answer must come; a Watch never ends by itself: hang up after it
                answer.cancel()
            code = grpc.StatusCode.OK
        except grpc.RpcError as exc:
            code = exc.code()
            details = exc.details()
        self.report.record(code.name)
        sizes = [len(r) for r in requests]
        if code == grpc.StatusCode.DEADLINE_EXCEEDED and time.monotonic() - started >= CALL_TIMEOUT_S * 0.9:
            self.report.hung += 1
            self.report.fail(f"hung: {method.path} with requests {[r.hex() for r in requests]}")
        elif code in CRASH_CODES:
            self.report.fail(
                f"{code.name} from {method.path} ({details!r}) for {[r[:64] for r in requests]} (sizes {sizes})"
            )

    def batch(self, method: Method, examples: int, seed: int, big_sizes: tuple[int, ...]) -> None:
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
        )
        @hypothesis_seed(seed)
        @given(requests=request_strategy(method, big_sizes))
        def run(requests: list[bytes]) -> None:
            self.call(method, requests)

        run()


def fuzz_grpc(
    channel: grpc.Channel,
    *,
    cases: int,
    seconds: float,
    slot_bytes: int,
    max_message_bytes: int,
    metadata: tuple[tuple[str, str], ...] = (),
    seed: int = 0,
    exclude: tuple[str, ...] = (),
) -> SurfaceReport:
    """At least ``cases`` calls over every RPC (or ``seconds``); bytes fields reach past the slot
    (``slot_bytes``) and past the server's message limit (``max_message_bytes``); ``exclude``:
    method paths (prefixes, e.g. ``/sigmavault.v1.StorageService/Destroy``) to leave out."""
    report = SurfaceReport("grpc")
    big_sizes = (slot_bytes - 1, slot_bytes, slot_bytes + 1, max_message_bytes + 1)
    methods = [m for m in rpc_methods() if not excluded(m.path, exclude)]
    report.operations = len(methods)
    runner = _Runner(channel, metadata, report, time.monotonic() + seconds)
    for round_ in itertools.count():
        if report.cases >= cases or time.monotonic() > runner.deadline:
            break
        for method in methods:
            runner.batch(method, BATCH, seed + round_, big_sizes)
    return report
