"""Runtime: the per-process bundle the transports are handed (STYLE.md: global state in one place).

Built once in the frontend process (frontends/runner.py, frontends/asgi.py) from the engine client;
the transports reach the engine only through these services, never through the client's insides.
"""

from __future__ import annotations

import importlib.metadata
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.access.audit import AuditLog
from engine.core.monitor import EngineMonitor
from engine.core.tables import KEY_GENERATION_WORD
from engine.core.tasks import TaskService
from engine.files.service import FileJobs
from engine.host.service import HostService
from engine.jobs import JobTracker, compression_stats
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
    from engine.jobs import Publish

SLOW_FACTS_TTL_S = 2.0  # lsblk/zpool/wg answers are reused this long under load


@dataclass
class SlowFacts:
    """Facts that cost a system tool run, cached briefly so a burst of reads runs each tool once."""

    ttl_s: float = SLOW_FACTS_TTL_S
    list_pools: Callable[[], Awaitable[dict[str, Any]]] = pools.list_pools
    _cache: dict[str, tuple[float, dict[str, Any]]] = field(default_factory=dict)

    async def _cached(self, key: str, fetch: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
        hit = self._cache.get(key)
        now = time.monotonic()
        if hit is not None and now - hit[0] < self.ttl_s:
            return hit[1]
        value = await fetch()
        self._cache[key] = (now, value)
        return value

    async def pools(self) -> dict[str, Any]:
        return await self._cached("pools", self.list_pools)

    async def disks(self) -> dict[str, Any]:
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
    jobs: JobTracker  # one-block compression jobs of DispatchTask and streams (in memory)
    long_jobs: JobManager  # file jobs and storage operations (persisted, cancellable)
    facts: SlowFacts
    encryption: EncryptionInfo
    keys: KeyService  # the keystore (opened off the loop at start), rotation, export, retirement
    engine_key: EngineKeyService  # rotation of the inline ENCRYPT/DECRYPT key (engine.key)
    files: FileJobs  # file jobs (on long_jobs, category "file") and range reads
    publish: Publish
    storage: StorageService  # pools, volumes, snapshots, scrub, schedules, SMART, storage jobs
    audit: AuditLog  # who changed what: recorded by the transports (frontends/audit.py)
    # the host's name, CPU, memory and uptime (sampled every 0.5 s), services and network
    host: HostService = field(default_factory=HostService)
    version: str = field(default_factory=version)

    def compression_stats(self) -> dict[str, Any]:
        return compression_stats(self.monitor.kind_totals(), self.jobs)

    @classmethod
    def build(cls, config: EngineConfig, client: EngineClient, publish: Publish) -> Runtime:
        jobs = JobTracker(publish)
        monitor = EngineMonitor(config, client.table, client.agents, client.admission, client.ring_depths)
        store = JobStore.in_data_dir(config.data_dir)
        long_jobs = JobManager(store, max_queued=config.job_queue_limit, max_running={"file": 2, "storage": 4})
        manager = StorageManager(config.pool_root, config.data_dir)
        facts = SlowFacts(list_pools=manager.list_pools)
        storage = StorageService(manager, long_jobs, publish, config.data_dir, forget=facts.forget)
        keys = KeyService(
            config.data_dir, config.key_passphrase_file, history=lambda: long_jobs.store.recent("file", KEEP_FINISHED)
        )
        res = client.res
        encryption = EncryptionInfo(
            config.data_dir,
            res.data_key,
            res.previous_key,
            protected=bool(config.key_passphrase_file),
            generation=lambda: int(client.table.words[KEY_GENERATION_WORD]) if client.table.words is not None else 0,
        )
        return cls(
            config=config,
            tasks=TaskService(client, jobs),
            monitor=monitor,
            jobs=jobs,
            long_jobs=long_jobs,
            facts=facts,
            encryption=encryption,
            engine_key=EngineKeyService(config, client, encryption),
            keys=keys,
            files=FileJobs(config, client, long_jobs, keys, publish),
            publish=publish,
            storage=storage,
            # one SQLite file for the engine: the audit log is a table beside the job history
            audit=AuditLog(
                store.path, retention_days=config.audit_retention_days, max_entries=config.audit_max_entries
            ),
        )
