"""Domain: the one lifecycle of every NAS domain (docs/ADDING_A_DOMAIN.md).

A domain is one class (storage's StorageService, files' FileJobs, keys' KeyService...) that the
runtime opens in a declared order and closes in the reverse order (engine/runtime.py). ``open``
does what the domain needs before its first call (recover, open a store, start background work);
``close`` lets go of what it holds. Background work goes through ``self.background``, one
BackgroundTasks per domain (engine/background.py), which ``Domain.close`` cancels and waits for.

The lifecycle is ``open``/``close`` rather than ``start``/``close``: ``start`` is a call name of the
file jobs domain (StartJob), and a domain's calls keep the names the transports call.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, ClassVar, Self

from engine.background import BackgroundTasks

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import TracebackType

logger = logging.getLogger(__name__)


class Domain:
    """Base of every domain: subclasses set ``name`` and override ``open``/``close`` (calling super's close)."""

    name: ClassVar[str] = ""
    _background: BackgroundTasks | None = None  # made at first use: a half-built domain closes cleanly

    @property
    def background(self) -> BackgroundTasks:
        if self._background is None:
            self._background = BackgroundTasks(self.name)
        return self._background

    async def open(self) -> None:
        """Make the domain ready for its calls (nothing by default)."""

    async def close(self) -> None:
        """Cancel the domain's background tasks and wait for them; idempotent. Overrides call this."""
        if self._background is not None:
            await self._background.close()

    def background_restarts(self) -> dict[str, int]:
        """Restarts of this domain's background tasks by full name ("storage.snapshots")."""
        if self._background is None:
            return {}
        return {f"{self.name}.{task}": n for task, n in self._background.restarts().items()}

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


async def open_all(domains: Sequence[Domain]) -> None:
    """Open ``domains`` in their order; a failure propagates (the caller closes them all: a close is safe
    on a domain never opened)."""
    for domain in domains:
        await domain.open()


async def close_all(domains: Sequence[Domain]) -> None:
    """Close ``domains`` in the reverse of their order; each close runs even if one before it failed (logged)."""
    for domain in reversed(domains):
        try:
            await domain.close()
        except Exception:
            logger.exception("closing the %s domain failed", domain.name)
