"""One job's record: what it is, where it stands, and how it ended."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobState.DONE, JobState.FAILED, JobState.CANCELLED)


@dataclass
class JobRecord:
    """Keys are the proto's field names (a ``Job`` message); ``params`` and ``result`` are the
    job kind's own (a path, a codec, errors found...)."""

    id: str
    kind: str  # e.g. compress, decompress, encrypt, decrypt, rewrap, scrub, balance, remove_device
    category: str  # "file" or "storage": which listing and which WebSocket event
    target: str  # what it works on: a destination path, a pool name
    state: JobState = JobState.QUEUED
    params: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)
    created_unix_ns: int = field(default_factory=time.time_ns)
    started_unix_ns: int = 0
    finished_unix_ns: int = 0
    done_units: int = 0  # bytes for file jobs; whatever the kind counts otherwise
    total_units: int = 0
    percent: float = 0.0
    rate_per_s: float = 0.0  # done_units per second while running
    eta_s: float = -1.0  # -1: unknown
    message: str = ""  # the latest progress note ("scrubbing devid 2")
    error: str = ""  # why it failed or was cancelled

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["state"] = str(self.state)
        return out


EventSink = Callable[[JobRecord, str], None]  # (record, "progress" or "done")
Publish = Callable[[str, Any], None]  # the event hub: (event type, a record or a dict)
