"""Exceptions of the shared-memory transport (one base: IpcError)."""

from __future__ import annotations


class IpcError(Exception):
    """Base of every transport error."""


class WouldBlock(IpcError):
    """Raised by the non-blocking ``try_*`` calls when the operation would have to wait."""


class RingFull(WouldBlock):
    """The ring has no free descriptor; the consumer is behind."""


class RingEmpty(WouldBlock):
    """The ring holds no descriptor."""


class LayoutMismatch(IpcError):
    """A segment's magic or version is not the one this code writes."""

    def __init__(self, what: str, expected: int, found: int) -> None:
        super().__init__(f"{what}: expected {expected:#x}, found {found:#x}")
        self.what = what
        self.expected = expected
        self.found = found


class NoFreeSlot(WouldBlock):
    """Every data slot of the arena is leased."""
