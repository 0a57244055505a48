"""The agents: who they are (id, name, role, capabilities, worker) and the handlers behind each kind.

Agents are addressable units multiplexed onto worker processes: agent ``i`` lives on worker
``i % n_workers`` and roles rotate per round of workers, so every worker hosts every role.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.core.agents.base import Handler, echo
from engine.core.agents.compress import CompressionAgent
from engine.core.agents.crypto import CryptoAgent
from engine.core.agents.frames import FrameAgent
from engine.core.agents.hashing import hash_slot
from engine.core.agents.parity import xor_parity
from engine.core.agents.sealing import SealingAgent
from engine.core.codes import Kind

ROLES: tuple[tuple[str, frozenset[Kind]], ...] = (
    ("compression", frozenset({Kind.ECHO, Kind.COMPRESS, Kind.DECOMPRESS, Kind.HASH, Kind.ZSTD_FRAME, Kind.LZ4_FRAME})),
    (
        "crypto",
        frozenset({Kind.ECHO, Kind.ENCRYPT, Kind.DECRYPT, Kind.HASH, Kind.SEAL_BLOCK, Kind.OPEN_BLOCK, Kind.SET_KEY}),
    ),
    ("integrity", frozenset({Kind.ECHO, Kind.HASH, Kind.PARITY})),
    ("general", frozenset(Kind)),
)


@dataclass(frozen=True)
class AgentSpec:
    id: int
    name: str
    role: str
    capabilities: frozenset[Kind]
    worker: int

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "capabilities": sorted(k.label for k in self.capabilities),
            "worker": self.worker,
        }


def build_agents(n_agents: int, n_workers: int) -> tuple[AgentSpec, ...]:
    specs = []
    per_role: dict[str, int] = {}
    for i in range(n_agents):
        role, caps = ROLES[(i // n_workers) % len(ROLES)]
        per_role[role] = per_role.get(role, 0) + 1
        specs.append(AgentSpec(i, f"{role}-{per_role[role]:02d}", role, caps, i % n_workers))
    return tuple(specs)


def build_handlers(key: bytes, previous: bytes = b"") -> dict[int, Handler]:
    """One handler table per worker process (codec contexts are per process, not shared). ``key`` and
    ``previous``: the inline ENCRYPT/DECRYPT keys (engine/keys/engine_key.py)."""
    compression = CompressionAgent()
    crypto = CryptoAgent(key, previous)
    frames = FrameAgent()
    sealing = SealingAgent()
    return {
        Kind.ECHO: echo,
        Kind.COMPRESS: compression.compress,
        Kind.DECOMPRESS: compression.decompress,
        Kind.ENCRYPT: crypto.encrypt,
        Kind.DECRYPT: crypto.decrypt,
        Kind.HASH: hash_slot,
        Kind.PARITY: xor_parity,
        Kind.ZSTD_FRAME: frames.zstd_frame,
        Kind.LZ4_FRAME: frames.lz4_frame,
        Kind.SEAL_BLOCK: sealing.seal_block,
        Kind.OPEN_BLOCK: sealing.open_block,
        Kind.SET_KEY: crypto.set_keys,
    }
