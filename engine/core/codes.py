"""Integer codes that cross process boundaries: task kinds, result statuses, worker/agent states."""

from __future__ import annotations

from enum import IntEnum


class Kind(IntEnum):
    ECHO = 1
    COMPRESS = 2
    DECOMPRESS = 3
    ENCRYPT = 4
    DECRYPT = 5
    HASH = 6
    PARITY = 7
    # per-block work of file jobs (engine/core/agents/frames.py, engine/core/agents/sealing.py)
    ZSTD_FRAME = 8
    LZ4_FRAME = 9
    SEAL_BLOCK = 10
    OPEN_BLOCK = 11
    # the engine's own: a worker's new inline ENCRYPT/DECRYPT keys after a rotation (engine/keys/engine_key_rotation.py)
    SET_KEY = 12

    @property
    def label(self) -> str:
        return self.name.lower()

    @property
    def public(self) -> bool:
        """Kinds a caller may send (TaskKind in common.proto); the per-block kinds of file jobs carry
        key material in their slot header and are the file-job runner's alone."""
        return self <= Kind.PARITY

    @classmethod
    def parse(cls, value: str | int | Kind) -> Kind:
        if isinstance(value, Kind):
            return value
        if isinstance(value, str):
            try:
                return cls[value.upper()]
            except KeyError:
                raise ValueError(f"unknown task kind {value!r}; known: {', '.join(k.label for k in cls)}") from None
        return cls(value)


class Status(IntEnum):
    """Result of one task. Codes up to 63 come from workers; 64+ are decided by the client."""

    OK = 0
    UNKNOWN_KIND = 1
    BAD_PARAMS = 2
    CORRUPT_INPUT = 3
    AUTH_FAILED = 4
    TOO_LARGE = 5  # input or output does not fit the bound (slot size or the caller's limit)
    NOT_CAPABLE = 6  # the agent's role does not include this kind
    UNKNOWN_AGENT = 7
    STALE = 8  # submitted to a worker incarnation that has since died
    INTERNAL = 9
    WORKER_LOST = 64
    BUSY = 65
    TIMEOUT = 66
    CLOSED = 67
    UNAVAILABLE = 68  # the agent's worker is restarting
    # decided by the NAS domains (storage, files, keys, jobs)
    NOT_FOUND = 69
    ALREADY_EXISTS = 70
    CONFLICT = 71  # the target is busy with another operation, or in the wrong state for this one
    UNSUPPORTED = 72  # this machine lacks the facility (no ZFS, no SMART, ...)
    TOOL_FAILED = 73  # a system tool refused the operation; the message is the tool's own
    INSUFFICIENT_SPACE = 74


class WorkerState(IntEnum):
    STOPPED = 0
    STARTING = 1
    READY = 2
    RESTARTING = 3
    DRAINING = 4


class AgentStatus(IntEnum):
    IDLE = 0
    BUSY = 1
    ERROR = 2
    RESTARTING = 3


class Codec(IntEnum):
    LZ4 = 1
    ZSTD = 2


class HashAlgo(IntEnum):
    BLAKE2B = 1
    SHA256 = 2
