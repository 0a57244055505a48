"""HostService: the host domain's one class answers typed records (engine/host/models.py), samples CPU
and memory at most every 0.5 s, and runs ``wg`` for the mesh at most every mesh_ttl_s."""

from __future__ import annotations

import socket
import time

import psutil

from engine.common.commands import Source
from engine.host import figures, network
from engine.host.models import HostMetrics, HostStatus, MeshStatus, ServiceList
from engine.host.service import HostService
from tests.utils import run

WG_DUMP = (
    "wg0\tcHJpdmF0ZQ==\tcHVibGlj\t51820\toff\n"
    "wg0\tcGVlcg==\t(none)\t192.0.2.10:51820\t10.77.0.2/32\t1700000000\t10\t20\t25\n"
)


def test_status_and_metrics_are_records_of_this_host() -> None:
    host = HostService()
    status = host.status()
    assert isinstance(status, HostStatus) and status.hostname == socket.gethostname() == host.hostname
    assert status.cpu.count == psutil.cpu_count() and len(status.cpu.load_average) == 3
    assert 0 < status.memory.used_bytes < status.memory.total_bytes
    assert abs(status.boot_time_unix + status.host_uptime_s - time.time()) < 5
    assert host.status().cpu is status.cpu  # within 0.5 s the sample is reused
    metrics = host.metrics()
    assert isinstance(metrics, HostMetrics) and metrics.memory.total == status.memory.total_bytes
    assert len(metrics.per_cpu_percent) == psutil.cpu_count() and metrics.net_io.bytes_recv >= 0
    assert abs(metrics.timestamp_unix_ns / 1e9 - time.time()) < 5


def test_mesh_is_read_once_per_ttl() -> None:
    now = [100.0]
    runs: list[float] = []
    names, peers = network.parse_wg_dump(WG_DUMP, now=1700000010)
    answer = MeshStatus(
        enabled=bool(names),
        peers=tuple(peers),
        wireguard_interfaces=tuple(network.parse_wg_interfaces(WG_DUMP)),
        interfaces=tuple(network.interfaces()),
        sources=(Source("wireguard", True, "1 interface(s)"),),
    )

    async def mesh_status() -> MeshStatus:
        runs.append(now[0])
        return answer

    host = HostService(mesh_status=mesh_status, mesh_ttl_s=2.0, clock=lambda: now[0])
    assert run(host.mesh()) is answer and run(host.mesh()) is answer and runs == [100.0]
    now[0] += 2.0  # the answer is as old as the TTL: the tool runs again
    assert run(host.mesh()) is answer and runs == [100.0, 102.0]
    assert answer.wireguard_interfaces[0].public_key == "cHVibGlj" and "cHJpdmF0ZQ" not in repr(answer)
    assert answer.peers[0].state == "connected" and answer.peers[0].allowed_ips == ("10.77.0.2/32",)
    assert any(i.name == "lo" for i in answer.interfaces)


def test_services_come_from_the_given_listing() -> None:
    listing = ServiceList(services=(), sources=(Source("systemd", False, "not here"),))

    async def list_services() -> ServiceList:
        return listing

    assert run(HostService(list_services=list_services).services()) is listing
    real = run(HostService().services())  # systemd or not, the answer says which
    assert isinstance(real, ServiceList) and real.sources[0].name == "systemd"


def test_the_sampler_takes_a_hostname() -> None:
    assert figures.HostSampler("nas-1").read().hostname == "nas-1"
