"""HostService: the host domain of a running engine: the machine's status and figures (psutil), the
NAS's services (systemd) and its network (the PhantomMesh overlay, the interfaces).

Every answer is a typed record of engine/host/models.py. Nothing here knows the engine's workers
or the storage pools: SystemStatus and SystemMetrics put the host's part beside theirs
(frontends/calls/system.py).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from engine.domain import Domain
from engine.host import figures, network, services

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from engine.host.models import HostMetrics, HostStatus, MeshStatus, ServiceList

MESH_TTL_S = 2.0  # a `wg show` answer is reused this long, so a burst of mesh reads runs the tool once


class HostService(Domain):
    name = "host"

    def __init__(
        self,
        sampler: figures.HostSampler | None = None,
        *,
        mesh_ttl_s: float = MESH_TTL_S,
        mesh_status: Callable[[], Awaitable[MeshStatus]] = network.mesh_status,
        list_services: Callable[[], Awaitable[ServiceList]] = services.list_services,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``sampler``: the host's CPU and memory, sampled at most every 0.5 s (figures.HostSampler);
        ``mesh_status``, ``list_services``: the tool runs behind mesh() and services()."""
        self.sampler = sampler if sampler is not None else figures.HostSampler()
        self.mesh_ttl_s = mesh_ttl_s
        self._mesh_status = mesh_status
        self._list_services = list_services
        self._clock = clock
        self._mesh: tuple[float, MeshStatus] | None = None

    def __repr__(self) -> str:
        return f"HostService(hostname={self.hostname!r})"

    @property
    def hostname(self) -> str:
        return self.sampler.hostname

    def status(self) -> HostStatus:
        """The host's name, CPU, memory and uptime (no tool runs: cheap enough for every request)."""
        return self.sampler.read()

    def metrics(self) -> HostMetrics:
        """CPU (since the previous call), load, memory, swap, disk and network I/O, now."""
        return figures.host_metrics()

    async def services(self) -> ServiceList:
        """The NAS services (SMB, NFS, SSH, WireGuard, the engine) from systemd, or why not."""
        return await self._list_services()

    async def mesh(self) -> MeshStatus:
        """The PhantomMesh overlay's peers and the host's interfaces (``wg`` runs at most every
        ``mesh_ttl_s``)."""
        now = self._clock()
        if self._mesh is not None and now - self._mesh[0] < self.mesh_ttl_s:
            return self._mesh[1]
        answer = await self._mesh_status()
        self._mesh = (now, answer)
        return answer
