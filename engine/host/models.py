"""The host domain's typed records: field names are the proto messages' (system.proto, network.proto,
common.proto), so frontends/records.py ``plain()`` turns each into its message or its JSON.

CpuStatus, MemoryStatus and HostStatus are in every ``GET /api/v1/system/status`` answer, so they are
frozen WITHOUT ``slots`` (as the core's per-status records, engine/core/models.py): orjson writes a
dataclass with a ``__dict__`` at a dict's speed (CpuStatus 0.33 us against 1.08 us with slots,
MemoryStatus 0.25 against 1.03; timeit, Python 3.11). The others are read when a caller asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.common.commands import Source


@dataclass(frozen=True)
class CpuStatus:
    count: int  # logical CPUs
    physical_count: int  # cores
    model: str
    percent: float  # busy since the previous sample
    load_average: tuple[float, ...]  # 1, 5, 15 minutes


@dataclass(frozen=True)
class MemoryStatus:
    total_bytes: int
    available_bytes: int
    used_bytes: int
    percent: float


@dataclass(frozen=True)
class HostStatus:
    """The host's part of SystemStatus (the engine's state is the monitor's, the storage sources the
    storage domain's)."""

    hostname: str
    host_uptime_s: float
    boot_time_unix: float
    cpu: CpuStatus
    memory: MemoryStatus


@dataclass(frozen=True, slots=True)
class MemoryStats:
    total: int
    available: int
    used: int
    percent: float


@dataclass(frozen=True, slots=True)
class IoCounters:
    read_bytes: int = 0
    write_bytes: int = 0
    read_count: int = 0
    write_count: int = 0


@dataclass(frozen=True, slots=True)
class NetCounters:
    bytes_sent: int = 0
    bytes_recv: int = 0
    packets_sent: int = 0
    packets_recv: int = 0
    errin: int = 0
    errout: int = 0


@dataclass(frozen=True, slots=True)
class HostMetrics:
    """The host's part of SystemMetrics (the engine's counters are the monitor's)."""

    timestamp_unix_ns: int
    cpu_percent: float
    per_cpu_percent: tuple[float, ...]
    load_average: tuple[float, ...]  # 1, 5, 15 minutes
    memory: MemoryStats
    swap: MemoryStats
    disk_io: IoCounters
    net_io: NetCounters


@dataclass(frozen=True, slots=True)
class Service:
    """A NAS service's systemd unit (see engine/host/services.py)."""

    name: str  # unit without ".service"
    unit: str
    description: str
    installed: bool
    load_state: str
    active_state: str
    sub_state: str
    enabled: str
    since_unix: float
    result: str
    exit_status: int
    main_pid: int
    restarts: int


@dataclass(frozen=True, slots=True)
class ServiceList:
    services: tuple[Service, ...]  # empty where systemd is not running: sources says so
    sources: tuple[Source, ...]


@dataclass(frozen=True, slots=True)
class NetInterface:
    name: str
    up: bool
    speed_mbps: int
    mtu: int
    addresses: tuple[str, ...]
    io: NetCounters


@dataclass(frozen=True, slots=True)
class MeshPeer:
    interface: str
    public_key: str
    endpoint: str
    allowed_ips: tuple[str, ...]
    latest_handshake_unix: int
    rx_bytes: int
    tx_bytes: int
    state: str  # "connected", or "stale" (engine/host/network.py STALE_AFTER_S)
    handshake_age_s: int  # -1 when there never was one
    preshared_key: bool  # whether one is set (never the key)
    persistent_keepalive_s: int  # 0: off


@dataclass(frozen=True, slots=True)
class WireGuardInterface:
    """A WireGuard interface; its private key never leaves engine/host/network.py."""

    name: str
    public_key: str
    listen_port: int
    fwmark: int


@dataclass(frozen=True, slots=True)
class MeshStatus:
    enabled: bool  # a WireGuard interface carries the PhantomMesh overlay
    peers: tuple[MeshPeer, ...]
    wireguard_interfaces: tuple[WireGuardInterface, ...]
    interfaces: tuple[NetInterface, ...]
    sources: tuple[Source, ...]
