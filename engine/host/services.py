"""The state of the NAS's own services, from systemd (``systemctl show``).

Listed: SMB (smbd, nmbd), NFS (nfs-server), SSH, every ``wg-quick@<interface>`` instance and the
engine itself. Where systemd is not the init system (containers, these sandboxes) nothing can be
known about them from systemd, and the answer says exactly that rather than guessing from ``ps``.
"""

from __future__ import annotations

import calendar
import time
from pathlib import Path

from engine.common.commands import C_LOCALE, Source, run_tool
from engine.host.models import Service, ServiceList

SERVICES = ("smbd.service", "nmbd.service", "nfs-server.service", "ssh.service", "sigmavault-engined.service")
PROPERTIES = (
    "Id",
    "Description",
    "LoadState",
    "ActiveState",
    "SubState",
    "UnitFileState",
    "ActiveEnterTimestamp",
    "InactiveEnterTimestamp",
    "StateChangeTimestamp",
    "Result",
    "ExecMainStatus",
    "MainPID",
    "NRestarts",
)
SYSTEMD_RUNTIME = Path("/run/systemd/system")  # exists exactly when systemd is PID 1 (sd_booted(3))


def parse_timestamp(value: str) -> float:
    """A systemd timestamp: ``@1795951234`` (``--timestamp=unix``) or ``Sun 2026-11-29 13:00:00 UTC``; 0 if unset."""
    value = value.strip()
    if not value or value == "n/a":
        return 0.0
    if value.startswith("@"):
        return float(value[1:])
    parts = value.split()
    stamp = time.strptime(" ".join(parts[1:3]), "%Y-%m-%d %H:%M:%S")
    # UTC is exact; other zone abbreviations are ambiguous, so they are read as this host's local time
    return float(calendar.timegm(stamp)) if parts[3:4] == ["UTC"] else time.mktime(stamp)


def parse_systemctl_show(text: str) -> list[dict[str, str]]:
    """``systemctl show -p ... UNIT...``: one block of Key=Value lines per unit, blank-line separated."""
    units: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in [*text.splitlines(), ""]:
        if not line.strip():
            if current:
                units.append(current)
            current = {}
            continue
        key, sep, value = line.partition("=")
        if sep:
            current[key] = value
    return units


def service_of(unit: dict[str, str]) -> Service:
    """One unit's block of ``systemctl show`` as its Service record."""
    active = unit.get("ActiveState", "")
    installed = unit.get("LoadState", "") not in ("not-found", "")
    since = unit.get("ActiveEnterTimestamp" if active == "active" else "StateChangeTimestamp", "")
    return Service(
        name=unit.get("Id", "").removesuffix(".service"),
        unit=unit.get("Id", ""),
        description=unit.get("Description", ""),
        installed=installed,
        load_state=unit.get("LoadState", ""),
        active_state=active,
        sub_state=unit.get("SubState", ""),
        enabled=unit.get("UnitFileState", ""),
        since_unix=parse_timestamp(since),
        result=unit.get("Result", ""),
        exit_status=int(unit.get("ExecMainStatus") or 0),
        main_pid=int(unit.get("MainPID") or 0),
        restarts=int(unit.get("NRestarts") or 0),
    )


def systemd_running() -> bool:
    return SYSTEMD_RUNTIME.is_dir()


def _pid1() -> str:
    try:
        return Path("/proc/1/comm").read_text().strip()
    except OSError:
        return "unknown"


async def _wireguard_units() -> list[str]:
    result = await run_tool(
        ["systemctl", "list-units", "--all", "--plain", "--no-legend", "--type=service", "wg-quick@*"],
        10.0,
        env=C_LOCALE,
    )
    return [line.split()[0] for line in result.stdout.splitlines() if line.strip()] if result.ok else []


def _none(detail: str) -> ServiceList:
    return ServiceList(services=(), sources=(Source("systemd", False, detail),))


async def list_services(units: tuple[str, ...] = SERVICES) -> ServiceList:
    """The NAS services with active state, since when, and the last result."""
    if not systemd_running():
        return _none(f"systemd is not running on this machine (PID 1 is {_pid1()}): service states cannot be read")
    wanted = [*units, *await _wireguard_units()]
    result = await run_tool(
        ["systemctl", "show", "--timestamp=unix", "-p", ",".join(PROPERTIES), *wanted], 10.0, env=C_LOCALE
    )
    if not result.found:
        return _none("systemctl is not installed")
    if not result.ok:
        return _none(result.reason())
    services = tuple(service_of(u) for u in parse_systemctl_show(result.stdout))
    source = Source("systemd", True, f"{sum(s.installed for s in services)} of {len(services)} unit(s) installed")
    return ServiceList(services=services, sources=(source,))
