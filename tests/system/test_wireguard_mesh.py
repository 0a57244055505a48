"""PhantomMesh on a real WireGuard tunnel: a network namespace joined to the host by a veth pair,
wireguard-go (userspace WireGuard; this kernel has no module) at both ends, a ping through the
tunnel; mesh_status() then shows that peer connected with traffic, and a configured peer that
never answers as stale. Names and addresses derive from the pid so parallel runs never clash;
every process, link, namespace and key file is removed even when the test fails."""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from engine.host import network
from tests.system.conftest import need_root_and
from tests.utils import run

pytestmark = pytest.mark.system
WG_SOCKETS = Path("/var/run/wireguard")


def sh(*argv: str, netns: str = "", stdin: str | None = None) -> str:
    cmd = ["ip", "netns", "exec", netns, *argv] if netns else list(argv)
    done = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=20)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {done.stderr.strip()}")
    return done.stdout.strip()


def keypair() -> tuple[str, str]:
    private = sh("wg", "genkey")
    return private, sh("wg", "pubkey", stdin=private + "\n")


def ping(address: str, timeout: float = 5.0) -> bool:
    """One ICMP echo (a raw socket: root), answered by the kernel at the far end of the tunnel."""
    ident = os.getpid() & 0xFFFF
    header = struct.pack("!BBHHH", 8, 0, 0, ident, 1)
    payload = b"sigmavault-mesh-test"
    data = header + payload
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    checksum = ~((total & 0xFFFF) + (total >> 16)) & 0xFFFF
    packet = struct.pack("!BBHHH", 8, 0, checksum, ident, 1) + payload
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as sock:
        sock.settimeout(0.5)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:  # the first packets wait for the handshake
            sock.sendto(packet, (address, 0))
            with contextlib.suppress(TimeoutError):
                reply, (source, _) = sock.recvfrom(1024)
                icmp = reply[(reply[0] & 0x0F) * 4 :]
                if source == address and icmp[0] == 0 and struct.unpack("!H", icmp[4:6])[0] == ident:
                    return True
    return False


@dataclass
class Mesh:
    tag: int
    netns: str = ""
    veth_host: str = ""
    wg_host: str = ""
    wg_ns: str = ""
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.netns, self.veth_host = f"svmesh{self.tag}", f"svvh{self.tag}"
        self.veth_ns, self.wg_host, self.wg_ns = f"svvn{self.tag}", f"svwh{self.tag}", f"svwn{self.tag}"
        a, b = 200 + (self.tag // 250) % 50, self.tag % 250  # unique per pid below 12 500
        self.underlay = (f"10.{a}.{b}.1", f"10.{a}.{b}.2")
        self.tunnel = (f"100.{64 + (self.tag // 250) % 50}.{b}.1", f"100.{64 + (self.tag // 250) % 50}.{b}.2")
        self.ports = (20000 + self.tag % 20000, 40000 + self.tag % 20000)

    def start_wireguard(self, name: str, netns: str = "") -> None:
        argv = ["wireguard-go", "-f", name]
        cmd = ["ip", "netns", "exec", netns, *argv] if netns else argv
        env = {**os.environ, "WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD": "1"}
        self.processes.append(subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        deadline = time.monotonic() + 10
        while not (WG_SOCKETS / f"{name}.sock").exists():
            if time.monotonic() > deadline or self.processes[-1].poll() is not None:
                raise RuntimeError(f"wireguard-go did not bring up {name}")
            time.sleep(0.02)

    def teardown(self) -> None:
        for proc in self.processes:
            proc.terminate()
        for proc in self.processes:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        for argv in (
            ["ip", "link", "del", self.veth_host],
            ["ip", "link", "del", self.wg_host],
            ["ip", "netns", "del", self.netns],
        ):
            subprocess.run(argv, capture_output=True, timeout=20)
        for name in (self.wg_host, self.wg_ns):
            with contextlib.suppress(FileNotFoundError):
                (WG_SOCKETS / f"{name}.sock").unlink()


@pytest.fixture
def mesh(tmp_path: Path) -> Iterator[Mesh]:
    need_root_and("ip", "wg", "wireguard-go")
    m = Mesh(os.getpid() % 100000)
    try:
        sh("ip", "netns", "add", m.netns)
    except RuntimeError as exc:
        pytest.skip(f"cannot create a network namespace: {exc}")
    try:
        yield m
    finally:
        m.teardown()


def test_mesh_status_on_a_real_tunnel(mesh: Mesh, tmp_path: Path) -> None:
    m = mesh
    host_ip, ns_ip = m.underlay
    host_tun, ns_tun = m.tunnel
    sh("ip", "link", "add", m.veth_host, "type", "veth", "peer", "name", m.veth_ns)
    sh("ip", "link", "set", m.veth_ns, "netns", m.netns)
    sh("ip", "addr", "add", f"{host_ip}/30", "dev", m.veth_host)
    sh("ip", "link", "set", m.veth_host, "up")
    sh("ip", "addr", "add", f"{ns_ip}/30", "dev", m.veth_ns, netns=m.netns)
    sh("ip", "link", "set", m.veth_ns, "up", netns=m.netns)
    sh("ip", "link", "set", "lo", "up", netns=m.netns)

    (host_key, host_pub), (ns_key, ns_pub), (_, phantom_pub) = keypair(), keypair(), keypair()
    for name, key in (("host.key", host_key), ("ns.key", ns_key)):
        (tmp_path / name).write_text(key + "\n")
        (tmp_path / name).chmod(0o600)
    m.start_wireguard(m.wg_host)
    m.start_wireguard(m.wg_ns, netns=m.netns)
    sh(
        "wg",
        "set",
        m.wg_host,
        "private-key",
        str(tmp_path / "host.key"),
        "listen-port",
        str(m.ports[0]),
        "peer",
        ns_pub,
        "allowed-ips",
        f"{ns_tun}/32",
        "endpoint",
        f"{ns_ip}:{m.ports[1]}",
        "peer",
        phantom_pub,
        "allowed-ips",
        "192.0.2.99/32",
        "endpoint",
        "192.0.2.1:51820",
    )
    sh(
        "wg",
        "set",
        m.wg_ns,
        "private-key",
        str(tmp_path / "ns.key"),
        "listen-port",
        str(m.ports[1]),
        "peer",
        host_pub,
        "allowed-ips",
        f"{host_tun}/32",
        "endpoint",
        f"{host_ip}:{m.ports[0]}",
        netns=m.netns,
    )
    for netns, name, mine, theirs in ((None, m.wg_host, host_tun, ns_tun), (m.netns, m.wg_ns, ns_tun, host_tun)):
        sh("ip", "addr", "add", f"{mine}/32", "peer", f"{theirs}/32", "dev", name, netns=netns or "")
        sh("ip", "link", "set", name, "up", netns=netns or "")

    assert ping(ns_tun), "no echo reply through the tunnel"
    status = run(network.mesh_status())
    assert status.enabled and status.sources[0].available
    ours = {p.public_key: p for p in status.peers if p.interface == m.wg_host}
    peer, phantom = ours[ns_pub], ours[phantom_pub]
    assert peer.state == "connected" and 0 <= peer.handshake_age_s < 60
    assert peer.rx_bytes > 0 and peer.tx_bytes > 0 and peer.endpoint == f"{ns_ip}:{m.ports[1]}"
    assert (phantom.state, phantom.latest_handshake_unix, phantom.handshake_age_s) == ("stale", 0, -1)
    wg = next(i for i in status.wireguard_interfaces if i.name == m.wg_host)
    assert (wg.public_key, wg.listen_port) == (host_pub, m.ports[0])
    assert host_key not in str(status)  # the private key never leaves the engine
    assert any(i.name == m.wg_host and i.up for i in status.interfaces)
