"""Runtime: the per-process bundle the transports are handed (STYLE.md: global state in one place).

Built once in the frontend process (frontends/runner.py, frontends/asgi.py) from the engine client;
the transports reach the engine only through these services, never through the client's insides.
"""

from __future__ import annotations

import importlib.metadata
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from engine.access.audit import AuditLog
from engine.core.monitor import EngineMonitor
from engine.core.tables import KEY_GENERATION_WORD
from engine.core.tasks import CompressionStats, TaskService, compression_stats
from engine.domain import close_all, open_all
from engine.files.service import FileJobs
from engine.host.service import HostService
from engine.jobs.manager import KEEP_FINISHED, JobManager
from engine.jobs.store import JobStore
from engine.keys.engine_key_rotation import EngineKeyService
from engine.keys.engine_key_status import EncryptionInfo
from engine.keys.service import KeyService
from engine.storage import disks, pools
from engine.storage.manager import StorageManager
from engine.storage.service import StorageService

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from engine.config import EngineConfig
    from engine.core.client import EngineClient
    from engine.domain import Domain
    from engine.jobs import Publish
    from engine.storage.models import DiskListing, PoolListing

T = TypeVar("T")
SLOW_FACTS_TTL_S = 2.0  # lsblk/zpool/wg answers are reused this long under load


@dataclass
class SlowFacts:
    """Facts that cost a system tool run, cached briefly so a burst of reads runs each tool once."""

    ttl_s: float = SLOW_FACTS_TTL_S
    list_pools: Callable[[], Awaitable[PoolListing]] = pools.list_pools
    _cache: dict[str, tuple[float, Any]] = field(default_factory=dict)

    async def _cached(self, key: str, fetch: Callable[[], Awaitable[T]]) -> T:
        hit = self._cache.get(key)
        now = time.monotonic()
        if hit is not None and now - hit[0] < self.ttl_s:
            cached: T = hit[1]
            return cached
        value = await fetch()
        self._cache[key] = (now, value)
        return value

    async def pools(self) -> PoolListing:
        return await self._cached("pools", self.list_pools)

    async def disks(self) -> DiskListing:
        return await self._cached("disks", disks.list_disks)

    def forget(self) -> None:
        """After a change the caller made (a pool created...), answer from the tools again."""
        self._cache.clear()


def version() -> str:
    try:
        return importlib.metadata.version("sigmavault-engined")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0+unknown"


@dataclass
class Runtime:
    config: EngineConfig
    tasks: TaskService
    monitor: EngineMonitor
    # every job: file jobs and storage operations (persisted, cancellable), the one-block compression
    # jobs of DispatchTask and streams (in memory); its lock table holds the pools and destinations
    jobs: JobManager
    facts: SlowFacts
    encryption: EncryptionInfo
    keys: KeyService  # the keystore (opened off the loop at start), rotation, export, retirement
    engine_key: EngineKeyService  # rotation of the inline ENCRYPT/DECRYPT key (engine.key)
    files: FileJobs  # file jobs (on jobs, category "file") and range reads
    publish: Publish
    storage: StorageService  # pools, volumes, snapshots, scrub, schedules, SMART, storage jobs
    audit: AuditLog  # who changed what: recorded by the transports (frontends/audit.py)
    # the host's name, CPU, memory and uptime (sampled every 0.5 s), services and network
    host: HostService
    version: str = field(default_factory=version)
    # opened in this order by start, closed in the reverse order by close (see build)
    domains: tuple[Domain, ...] = ()

    async def start(self) -> None:
        """Open every domain in the declared order (a failure propagates: the caller closes the runtime)."""
        await open_all(self.domains)

    async def close(self) -> None:
        """Close every domain in the reverse order; each close runs even if one before it failed (logged)."""
        await close_all(self.domains)

    def background_restarts(self) -> dict[str, int]:
        """Restarts of every domain's background tasks, by "<domain>.<task>" (/metrics)."""
        return {task: n for domain in self.domains for task, n in domain.background_restarts().items()}

    def compression_stats(self) -> CompressionStats:
        return compression_stats(self.monitor.kind_totals(), self.jobs)

    @classmethod
    def build(cls, config: EngineConfig, client: EngineClient, publish: Publish) -> Runtime:
        monitor = EngineMonitor(config, client.table, client.agents, client.admission, client.ring_depths)
        store = JobStore.in_data_dir(config.data_dir)
        jobs = JobManager(store, max_queued=config.job_queue_limit, max_running={"file": 2, "storage": 4})
        manager = StorageManager(config.pool_root, config.data_dir, locks=jobs.locks)
        facts = SlowFacts(list_pools=manager.list_pools)
        storage = StorageService(manager, jobs, publish, config.data_dir, forget=facts.forget)
        keys = KeyService(
            config.data_dir, config.key_passphrase_file, history=lambda: jobs.store.recent("file", KEEP_FINISHED)
        )
        res = client.res
        encryption = EncryptionInfo(
            config.data_dir,
            res.data_key,
            res.previous_key,
            protected=bool(config.key_passphrase_file),
            generation=lambda: int(client.table.words[KEY_GENERATION_WORD]) if client.table.words is not None else 0,
        )
        files = FileJobs(config, client, jobs, keys, publish)
        # one SQLite file for the engine: the audit log is a table beside the job history
        audit = AuditLog(store.path, retention_days=config.audit_retention_days, max_entries=config.audit_max_entries)
        host = HostService()
        return cls(
            config=config,
            tasks=TaskService(client, jobs, publish),
            monitor=monitor,
            jobs=jobs,
            facts=facts,
            encryption=encryption,
            engine_key=EngineKeyService(config, client, encryption),
            keys=keys,
            files=files,
            publish=publish,
            storage=storage,
            audit=audit,
            host=host,
            # Opened in this order, closed in the reverse: the audit log last (a call answered late
            # still has its line); the jobs end (cancelled, "interrupted") after storage has let go of
            # its operations and before the file jobs' I/O threads stop; the jobs' open (recovery, and
            # the removal of interrupted file jobs' partial outputs) before storage mounts the pools.
            domains=(audit, host, keys, files, jobs, storage),
        )
