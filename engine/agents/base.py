"""What every handler is: a callable that works on one slot in place.

``handler(slot, length, param) -> n_out``: the input is ``slot[:length]``; the handler writes its
output to ``slot[:n_out]`` (the client copies it out from there). Bad input raises TaskError with
a Status code; the worker turns that into an error result and lives on.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.status import Status

Handler = Callable[[memoryview, int, int], int]


class TaskError(Exception):
    def __init__(self, status: Status, detail: str = "") -> None:
        super().__init__(detail or status.name)
        self.status = status


def echo(slot: memoryview, length: int, param: int) -> int:
    return length


def store_output(slot: memoryview, out: bytes | memoryview) -> int:
    """Copy a codec's freshly allocated output into the slot (the one copy those codecs force on us)."""
    n = len(out)
    if n > len(slot):
        raise TaskError(Status.TOO_LARGE, f"output of {n} bytes exceeds the {len(slot)}-byte slot")
    slot[:n] = out
    return n
