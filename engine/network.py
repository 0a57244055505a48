"""Network: the PhantomMesh overlay (WireGuard, ``wg show all dump``) and the host's interfaces."""

from __future__ import annotations

import socket
from typing import Any

import psutil

from engine.commands import Source, run_tool
from engine.system import net_dict

WG_ARGV = ["wg", "show", "all", "dump"]


def parse_wg_dump(text: str) -> tuple[list[str], list[dict[str, Any]]]:
    """``wg show all dump``: interface lines have 5 tab-separated fields, peer lines 9."""
    interfaces, peers = [], []
    for line in text.splitlines():
        cols = line.split("\t")
        if len(cols) == 5:
            interfaces.append(cols[0])
        elif len(cols) == 9:
            iface, public_key, _psk, endpoint, allowed, handshake, rx, tx, _keepalive = cols
            peers.append({
                "interface": iface, "public_key": public_key,
                "endpoint": "" if endpoint == "(none)" else endpoint,
                "allowed_ips": [] if allowed == "(none)" else allowed.split(","),
                "latest_handshake_unix": int(handshake), "rx_bytes": int(rx), "tx_bytes": int(tx),
            })  # fmt: skip
    return interfaces, peers


def interfaces() -> list[dict[str, Any]]:
    stats = psutil.net_if_stats()
    addrs = psutil.net_if_addrs()
    io = psutil.net_io_counters(pernic=True)
    out = []
    for name in sorted(set(stats) | set(addrs)):
        st = stats.get(name)
        out.append({
            "name": name, "up": bool(st and st.isup), "speed_mbps": st.speed if st else 0, "mtu": st.mtu if st else 0,
            "addresses": [a.address for a in addrs.get(name, []) if a.family in (socket.AF_INET, socket.AF_INET6)],
            "io": net_dict(io[name]) if name in io else net_dict(psutil._common.snetio(0, 0, 0, 0, 0, 0, 0, 0)),
        })  # fmt: skip
    return out


async def mesh_status() -> dict[str, Any]:
    result = await run_tool(WG_ARGV)
    peers: list[dict[str, Any]] = []
    if not result.found:
        source = Source("wireguard", False, "wg is not installed: PhantomMesh is not configured on this node")
        enabled = False
    elif not result.ok:
        source = Source("wireguard", False, result.stderr.strip() or f"wg exited {result.returncode}")
        enabled = False
    else:
        names, peers = parse_wg_dump(result.stdout)
        enabled = bool(names)
        source = Source("wireguard", True, f"{len(names)} interface(s), {len(peers)} peer(s)")
    return {"enabled": enabled, "peers": peers, "interfaces": interfaces(), "sources": [source.as_dict()]}
