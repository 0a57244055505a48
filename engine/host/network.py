"""Network: the PhantomMesh overlay (WireGuard, ``wg show all dump``) and the host's interfaces."""

from __future__ import annotations

import socket
import time

import psutil

from engine.common.commands import Source, run_tool
from engine.host.figures import net_counters
from engine.host.models import MeshPeer, MeshStatus, NetInterface, WireGuardInterface

WG_ARGV = ["wg", "show", "all", "dump"]
# WireGuard re-keys every 2 minutes while traffic flows (REKEY_AFTER_TIME = 120 s), so a peer with
# no handshake for 3 minutes is not talking to us; one that never shook hands is stale too.
STALE_AFTER_S = 180


def peer_state(latest_handshake_unix: int, now: float) -> tuple[str, int]:
    """("connected" | "stale", seconds since the handshake, or -1 when there never was one)."""
    if latest_handshake_unix <= 0:
        return "stale", -1
    age = max(0, int(now - latest_handshake_unix))
    return ("connected" if age <= STALE_AFTER_S else "stale"), age


def parse_wg_dump(text: str, now: float | None = None) -> tuple[list[str], list[MeshPeer]]:
    """``wg show all dump``: interface lines have 5 tab-separated fields, peer lines 9."""
    now = time.time() if now is None else now
    interfaces: list[str] = []
    peers: list[MeshPeer] = []
    for line in text.splitlines():
        cols = line.split("\t")
        if len(cols) == 5:
            interfaces.append(cols[0])
        elif len(cols) == 9:
            iface, public_key, psk, endpoint, allowed, handshake, rx, tx, keepalive = cols
            state, age = peer_state(int(handshake), now)
            peers.append(
                MeshPeer(
                    interface=iface,
                    public_key=public_key,
                    endpoint="" if endpoint == "(none)" else endpoint,
                    allowed_ips=() if allowed == "(none)" else tuple(allowed.split(",")),
                    latest_handshake_unix=int(handshake),
                    rx_bytes=int(rx),
                    tx_bytes=int(tx),
                    state=state,
                    handshake_age_s=age,
                    preshared_key=psk != "(none)",
                    persistent_keepalive_s=0 if keepalive == "off" else int(keepalive),
                )
            )
    return interfaces, peers


def parse_wg_interfaces(text: str) -> list[WireGuardInterface]:
    """The interface lines of the dump, without the private key (it never leaves this module)."""
    out = []
    for line in text.splitlines():
        cols = line.split("\t")
        if len(cols) == 5:
            name, _private, public_key, port, fwmark = cols
            fw = 0 if fwmark == "off" else int(fwmark, 0)
            out.append(WireGuardInterface(name=name, public_key=public_key, listen_port=int(port), fwmark=fw))
    return out


def interfaces() -> list[NetInterface]:
    stats = psutil.net_if_stats()
    addrs = psutil.net_if_addrs()
    io = psutil.net_io_counters(pernic=True)
    out = []
    for name in sorted(set(stats) | set(addrs)):
        st = stats.get(name)
        out.append(
            NetInterface(
                name=name,
                up=bool(st and st.isup),
                speed_mbps=st.speed if st else 0,
                mtu=st.mtu if st else 0,
                addresses=tuple(
                    a.address for a in addrs.get(name, []) if a.family in (socket.AF_INET, socket.AF_INET6)
                ),
                io=net_counters(io.get(name)),
            )
        )
    return out


async def mesh_status() -> MeshStatus:
    result = await run_tool(WG_ARGV)
    peers: list[MeshPeer] = []
    wg_interfaces: list[WireGuardInterface] = []
    if not result.found:
        source = Source("wireguard", False, "wg is not installed: PhantomMesh is not configured on this node")
        enabled = False
    elif not result.ok:
        source = Source("wireguard", False, result.stderr.strip() or f"wg exited {result.returncode}")
        enabled = False
    else:
        names, peers = parse_wg_dump(result.stdout)
        wg_interfaces = parse_wg_interfaces(result.stdout)
        enabled = bool(names)
        connected = sum(1 for p in peers if p.state == "connected")
        source = Source("wireguard", True, f"{len(names)} interface(s), {len(peers)} peer(s), {connected} connected")
    return MeshStatus(
        enabled=enabled,
        peers=tuple(peers),
        wireguard_interfaces=tuple(wg_interfaces),
        interfaces=tuple(interfaces()),
        sources=(source,),
    )
