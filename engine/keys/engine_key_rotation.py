"""Rotation of the inline-task key (engine.key) in a running engine, without stopping a task.

1. The new key is written (engine/keys/engine_key.py ``rotate_files``: the old one becomes ``.previous``).
2. The supervisor is told through the key pipe and acknowledges by setting the tables' key
   generation word: every worker (and frontend) it forks from then on starts with the new key.
3. Every running worker that hosts an agent able to encrypt gets a SET_KEY task carrying the new
   key and the previous one. A worker's tasks run in ring order: tasks sent before it use the old
   key, tasks after it the new one; DECRYPT tries both, so nothing in flight breaks. A worker that
   restarts meanwhile is retried (STALE, WorkerLost); its new incarnation was forked after step 2
   or is reached by the retry.

The key never crosses an answer, a log or an error: only fingerprints (first 16 hex digits of its
SHA-256) do. The SET_KEY payload passes through one arena slot (as a file job's data key does in its
slot header) and is zeroed there by the worker and by this side before the slot is released.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from engine.core.codes import Kind, Status
from engine.core.tables import KEY_GENERATION_WORD
from engine.errors import EngineError, InvalidArgument, Unsupported, WorkerLost, WorkerUnavailable
from engine.keys.engine_key import InlineKeys, fingerprint, rotate_files, send_keys
from engine.keys.models import EngineKeyInfo

if TYPE_CHECKING:
    from engine.config import EngineConfig
    from engine.core.client import EngineClient
    from engine.keys.engine_key_status import EncryptionInfo

logger = logging.getLogger(__name__)

TAKEN_TIMEOUT_S = 5.0  # the supervisor's loop wakes on the pipe at once; this only bounds a dead one
RETRY_S, RETRIES = 0.1, 100  # a restarting worker is READY again within ~1 s


class EngineKeyService:
    def __init__(self, config: EngineConfig, client: EngineClient, info: EncryptionInfo) -> None:
        self.config = config
        self.client = client
        self.info = info
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"EngineKeyService(generation={self.generation})"

    @property
    def generation(self) -> int:
        words = self.client.table.words
        return int(words[KEY_GENERATION_WORD]) if words is not None else 0

    async def rotate(self, *, confirm: str) -> EngineKeyInfo:
        """A new inline key for the engine and every running worker (confirm = the current fingerprint)."""
        res = self.client.res
        if res.key_pipe_w < 0:  # resources attached, not created by the engine's owner: no supervisor to tell
            raise Unsupported("this process cannot rotate the inline-task key (it holds no key pipe to the supervisor)")
        async with self._lock:
            old = InlineKeys(res.data_key, res.previous_key)
            if confirm != old.fingerprint:
                raise InvalidArgument(
                    f"rotating the inline-task key drops the key before it (inline ciphertexts made under it no "
                    f"longer decrypt) and needs confirm={old.fingerprint!r} (the current key_fingerprint)",
                    code="confirmation_required",
                    metadata={"target": old.fingerprint, "action": "rotating the inline-task key"},
                )
            new = await asyncio.to_thread(
                rotate_files, self.config.data_dir, self.config.key_passphrase_file or None, old
            )
            generation = self.generation + 1
            send_keys(res.key_pipe_w, generation, new)
            res.data_key, res.previous_key = new.current, new.previous
            self.info.key_rotated(new)
            await self._taken(generation)
            updated = await self._update_workers(new)
        logger.info(
            "rotated the inline-task key: %s replaces %s (generation %d, %d worker(s) updated)",
            new.fingerprint,
            old.fingerprint,
            generation,
            updated,
        )
        return EngineKeyInfo(
            key_fingerprint=new.fingerprint,
            previous_key_fingerprint=fingerprint(new.previous),
            key_generation=generation,
            key_created_unix=new.created_unix,
            workers_updated=updated,
            key_passphrase_protected=new.protected,
        )

    async def _taken(self, generation: int) -> None:
        deadline = time.monotonic() + TAKEN_TIMEOUT_S
        while self.generation < generation:
            if time.monotonic() > deadline:
                raise WorkerUnavailable(
                    "the supervisor did not take the new inline key; the workers it restarts "
                    "would use the old one until the engine restarts",
                    code="unavailable",
                )
            await asyncio.sleep(0.01)

    async def _update_workers(self, keys: InlineKeys) -> int:
        """SET_KEY to one capable agent of each worker; returns how many workers took it."""
        targets: dict[int, int] = {}
        for spec in self.client.agents:
            if Kind.SET_KEY in spec.capabilities:
                targets.setdefault(spec.worker, spec.id)
        payload = keys.current + keys.previous
        updated = 0
        async with self.client.lease(slots=1) as lease:
            for agent in targets.values():
                updated += await self._send(lease, agent, payload)
        return updated

    async def _send(self, lease: Any, agent: int, payload: bytes) -> int:
        view = lease.view(0)
        n = len(payload)
        try:
            for _ in range(RETRIES):
                view[:n] = payload
                try:
                    done = await lease.run_control(Kind.SET_KEY, n, agent)
                except (WorkerLost, WorkerUnavailable):
                    await asyncio.sleep(RETRY_S)  # restarting: its next incarnation may predate the key
                    continue
                if done.status == Status.OK:
                    return 1
                if done.status != Status.STALE:
                    raise EngineError(
                        f"worker of agent {agent} refused the new inline key ({Status(done.status).name})"
                    )
                await asyncio.sleep(RETRY_S)
        finally:
            view[:n] = bytes(n)
        raise WorkerUnavailable(
            f"the worker of agent {agent} did not come back to take the new inline key", code="unavailable"
        )
