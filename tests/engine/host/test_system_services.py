"""System status (CPU, memory, uptime) on this machine, and service states from systemctl show:
parsed from its exact output format, and said plainly to be unknowable where systemd is not PID 1."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import psutil
import pytest

from engine.host import figures as system
from engine.host import services
from tests.utils import run

FIXTURES = Path(__file__).parents[2] / "fixtures" / "systemd"


def test_system_status() -> None:
    ticks = iter([0.0, 0.1, 0.2, 0.7])
    host = system.HostSampler(max_age_s=0.5, clock=lambda: next(ticks))
    status = host.read()
    assert status.hostname == socket.gethostname()
    assert status.cpu.count == psutil.cpu_count() and status.cpu.model
    assert status.cpu.physical_count == (psutil.cpu_count(logical=False) or 0)
    assert 0.0 <= status.cpu.percent <= 100.0 and len(status.cpu.load_average) == 3
    memory = status.memory
    assert 0 < memory.used_bytes < memory.total_bytes and 0 < memory.available_bytes <= memory.total_bytes
    assert abs(status.host_uptime_s - (time.time() - psutil.boot_time())) < 5
    assert status.boot_time_unix == psutil.boot_time()
    busy_until = time.perf_counter() + 0.2
    while time.perf_counter() < busy_until:  # some work, so the interval has busy time in it
        pass
    # within max_age_s the sample is reused (a status request must not read /proc and /sys) ...
    assert host.read().memory is memory and host.read().memory is memory
    # ... and after it the figures are read again, the busy % over the whole interval
    again = host.read()
    assert again.memory is not memory and 0.0 < again.cpu.percent <= 100.0


def test_systemctl_show() -> None:
    units = [
        services.service_of(u)
        for u in services.parse_systemctl_show((FIXTURES / "systemctl_show_unix.txt").read_text())
    ]
    by_name = {s.name: s for s in units}
    assert list(by_name) == ["smbd", "nmbd", "nfs-server", "ssh", "sigmavault-engined", "wg-quick@wg0"]
    smbd = by_name["smbd"]
    assert (smbd.active_state, smbd.sub_state, smbd.since_unix, smbd.main_pid) == (
        "active",
        "running",
        1795900810.0,
        812,
    )
    ssh = by_name["ssh"]
    assert (ssh.active_state, ssh.result, ssh.exit_status, ssh.restarts) == ("failed", "exit-code", 255, 5)
    assert ssh.since_unix == 1795951234.0  # when it failed, not when it last started
    assert by_name["nmbd"].since_unix == 0.0 and by_name["nmbd"].enabled == "disabled"
    assert by_name["sigmavault-engined"].installed is False
    assert by_name["wg-quick@wg0"].sub_state == "exited"
    (old_format,) = services.parse_systemctl_show((FIXTURES / "systemctl_show_default.txt").read_text())
    assert services.service_of(old_format).since_unix == 1795900810.0


@pytest.mark.skipif(services.systemd_running(), reason="systemd runs here: the not-running answer cannot be seen")
def test_without_systemd_the_answer_says_so() -> None:
    answer = run(services.list_services())
    assert answer.services == ()
    (source,) = answer.sources
    assert source.available is False and "systemd is not running" in source.detail


@pytest.mark.skipif(not services.systemd_running(), reason="systemd is not PID 1 on this machine")
def test_live_services() -> None:
    answer = run(services.list_services())
    assert answer.sources[0].available
    assert {s.unit for s in answer.services} >= set(services.SERVICES)
