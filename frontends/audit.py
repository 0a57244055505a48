"""What both transports share for the audit log (engine/access/audit.py): which calls are recorded, the one
name of a call, what it targets and who made it (only admins read it: frontends/auth.py ADMIN_READS).

Recorded: every call that is not a read, after it answers, refused ones (401/403) included: HTTP
POST/PUT/PATCH/DELETE, gRPC methods other than Get*/List*/Watch*, health and reflection (the split
frontends/auth.py makes for the token), less the calls that only compute over the caller's own
bytes and change nothing (UNAUDITED_CALLS: tasks and block streams, the engine's hot path, which
would also push every real change out of the log within seconds). Reads cost one set lookup.

The recording middleware (HTTP) and interceptor (gRPC) sit outside the access checks, so they see
refusals; the caller those checks admitted is read from frontends/caller.py while the call runs.
"""

from __future__ import annotations

import contextvars
import time
from typing import TYPE_CHECKING

import orjson
from google.protobuf.descriptor import FieldDescriptor

from engine.access.audit import LIST_LIMIT_MAX, AuditEntry, AuditListing
from engine.common.logsafe import TEXT_MAX_CHARS, safe_text
from frontends.caller import current_call, current_caller
from frontends.schema import enum_labels

if TYPE_CHECKING:
    from collections.abc import Iterable

    from google.protobuf.message import Message

    from engine.access.audit import AuditLog
    from frontends.caller import Caller

UNAUDITED_CALLS = frozenset({"agent.DispatchTask", "block.Process", "block.ProcessStream", "compression.ReadRange"})
# request fields that name what a call acts on, in the order a target lists them
_STORAGE_TARGETS = ("pool", "name", "volume", "snapshot", "new_volume", "device", "old_device", "new_device", "disk")
TARGET_FIELDS = (*_STORAGE_TARGETS, "id", "agent_id", "key_id", "operation", "source", "destination")
TARGET_MAX_CHARS = TEXT_MAX_CHARS
SINCE_MAX_UNIX = 2**33  # the year 2242: later is "nothing yet", and its ns still fit SQLite's int64
# the access checks' refusals (docs/SECURITY.md): entries kept under their own, smaller cap (engine/access/audit.py)
REFUSALS = frozenset({"unauthenticated", "permission_denied", "cross_origin", "client_limit", "malformed_request"})
ANONYMOUS = "anonymous"  # no credential admitted the call: refused, or an engine without tokens


def _value(value: object) -> str:
    text = str(value)
    if text and text.isprintable() and not any(c in text for c in ' "='):
        return text
    # quoted (names may hold spaces); control characters are escaped by safe_text over the whole target
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_target(fields: Iterable[tuple[str, object]]) -> str:
    """``pool=tank volume=home``, bounded to TARGET_MAX_CHARS."""
    return safe_text(" ".join(f"{name}={_value(value)}" for name, value in fields))


def message_target(message: Message) -> str:
    """The target a request message names: its TARGET_FIELDS that are set (integers always: 0 is an id)."""
    descriptor = message.DESCRIPTOR
    found: list[tuple[str, object]] = []
    for name in TARGET_FIELDS:
        field = descriptor.fields_by_name.get(name)
        if field is None or field.is_repeated:
            continue
        value = getattr(message, name)
        if field.type == FieldDescriptor.TYPE_ENUM:
            labels = {number: label for label, number in enum_labels(field.enum_type).items()}
            value = labels.get(value, "")
        if value != "":
            found.append((name, value))
    return format_target(found)


class Pending:
    """The call being recorded: what the handler said it targets, who the access checks admitted."""

    __slots__ = ("call", "caller", "start", "target")

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.target: str | None = None
        self.caller: Caller | None = None
        self.call: str | None = None

    def see_caller(self) -> None:
        """Called while the call runs, inside the access checks: the caller they set, if any, and
        the name they gave the call (frontends/caller.py set_call)."""
        if self.caller is None:
            self.caller = current_caller()
        if self.call is None:
            self.call = current_call()

    def entry(self, *, transport: str, peer: str, call: str, target: str, result: str, status: str) -> AuditEntry:
        caller = self.caller
        return AuditEntry(
            time_unix_ns=time.time_ns(),
            caller=safe_text(caller.name) if caller else ANONYMOUS,
            peer=safe_text(caller.peer if caller else peer),
            transport=transport,
            call=safe_text(call),
            target=self.target if self.target is not None else target,
            result=result,
            status=status,
            refused=result in REFUSALS,
            duration_ms=round((time.perf_counter() - self.start) * 1000, 3),
            uid=caller.uid if caller else None,
        )


_pending: contextvars.ContextVar[Pending | None] = contextvars.ContextVar("sigmavault_audit", default=None)


def see_caller() -> None:
    """Inside the access checks (the gRPC CallerTap): the pending record takes the caller they set."""
    pending = _pending.get()
    if pending is not None:
        pending.see_caller()


def begin() -> tuple[Pending, contextvars.Token[Pending | None]]:
    pending = Pending()
    return pending, _pending.set(pending)


def end(token: contextvars.Token[Pending | None]) -> None:
    _pending.reset(token)


def note_target(message: Message | None = None, **fields: object) -> None:
    """A handler names what its call acts on (a request message, or fields such as ``agent_id=3``),
    where the transport alone cannot tell (a JSON body). Nothing happens outside a recorded call."""
    pending = _pending.get()
    if pending is not None:
        pending.target = message_target(message) if message is not None else format_target(fields.items())


def http_result(status: int, body: bytes) -> str:
    """``ok``, or the error code of an error answer's body (``{"error": {"code": ...}}``)."""
    if status < 400:
        return "ok"
    try:
        code = orjson.loads(body)["error"]["code"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        code = None
    return safe_text(code, 64) if isinstance(code, str) and code else f"http_{status}"


def list_entries(audit: AuditLog, *, since_unix: int, limit: int, caller: str, call: str) -> AuditListing:
    """The ListAuditEntriesResponse of both transports; ``limit`` 0: 100."""
    entries = audit.recent(
        since_unix_ns=min(max(since_unix, 0), SINCE_MAX_UNIX) * 10**9,
        limit=min(limit or 100, LIST_LIMIT_MAX),
        caller=caller,
        call=call,
    )
    return AuditListing(tuple(entry.listed() for entry in entries))
