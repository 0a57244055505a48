"""What every handler is: a callable from one slot to a slot.

``handler(src, length, param, dst) -> n_out``: the input is ``src[:length]``; the output goes to
``dst[:n_out]``, where the client reads it. ``dst`` is usually ``src`` itself (output replaces input
in the same slot); a caller that wants its input kept names a second slot. Bad input raises
TaskError with a Status code; the worker turns that into an error result and lives on.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable

from engine.core.codes import Status

Handler = Callable[[memoryview, int, int, memoryview], int]


class TaskError(Exception):
    def __init__(self, status: Status, detail: str = "") -> None:
        super().__init__(detail or status.name)
        self.status = status


def echo(src: memoryview, length: int, param: int, dst: memoryview) -> int:
    if dst is not src:
        dst[:length] = src[:length]
    return length


def store_output(dst: memoryview, out: bytes | memoryview) -> int:
    """Copy a codec's freshly allocated output into the slot (the one copy those codecs force on us)."""
    n = len(out)
    if n > len(dst):
        raise TaskError(Status.TOO_LARGE, f"output of {n} bytes exceeds the {len(dst)}-byte slot")
    dst[:n] = out
    return n


def _address(view: memoryview) -> int:
    return ctypes.addressof(ctypes.c_char.from_buffer(view))


def overlaps(src: memoryview, dst: memoryview) -> bool:
    """Whether two writable views share memory (output over input: a handler writing into ``dst``
    while reading ``src`` must then go through a temporary)."""
    if dst is src:
        return True
    if src.readonly or dst.readonly or not len(src) or not len(dst):
        return False
    a, b = _address(src), _address(dst)
    return a < b + len(dst) and b < a + len(src)
