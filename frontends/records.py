"""A domain's typed records as the transports serialise them: the one conversion of every record type.

Domains answer with frozen dataclasses (``engine/<domain>/models.py``); gRPC turns one into its proto
message (frontends/grpc_api/base.py ``to_message``) and HTTP into the message's JSON form
(frontends/schema.py ``project``), both from the plain values this module gives: a record's fields by
name, recursively, so a record's field names are its message's field names.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import functools
from typing import Any

SCALARS = frozenset({str, int, float, bool, type(None)})  # plain() hands these on as they are


@functools.cache
def field_names(cls: type) -> tuple[str, ...]:
    """A record type's field names, read once per type."""
    return tuple(f.name for f in dataclasses.fields(cls))


def plain(value: Any) -> Any:
    """A record (a dataclass), or lists, tuples and dicts of them, as dicts, lists and scalars; an enum
    member as its value; bytes as base64 text (a proto bytes field's JSON form, which ParseDict takes
    back). Anything else as it is."""
    if type(value) in SCALARS:  # most values are: first (a SystemStatus answer took 74 us, now 25)
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: plain(getattr(value, name)) for name in field_names(type(value))}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(value).decode()
    return value
