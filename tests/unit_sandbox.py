"""Run a command under the sandbox a systemd unit file asks for, without systemd: for testing the unit.

    python -m tests.unit_sandbox UNIT_FILE -- COMMAND [ARGS...]

Applies, from the unit's [Service] section, what can be applied to one process tree by hand:
NoNewPrivileges, CapabilityBoundingSet (by prctl PR_CAPBSET_DROP), MemoryDenyWriteExecute (by
prctl PR_SET_MDWE, the kernel's own form of it since 6.3, which newer systemd uses too) and
SystemCallFilter with SystemCallErrorNumber (a seccomp allow-list built here: groups expanded by
``systemd-analyze syscall-filter``, numbers from the kernel's asm/unistd_64.h), then execs COMMAND.
Namespaces, ProtectSystem and the other mount-based settings need systemd and are not applied.
x86-64 only; raises Unavailable with the reason where the machine lacks a piece.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

UNISTD = Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")
PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP, PR_SET_SECCOMP, PR_SET_MDWE = 38, 24, 22, 65
SECCOMP_MODE_FILTER, MDWE_REFUSE_EXEC_GAIN = 2, 1
AUDIT_ARCH_X86_64 = 0xC000003E
RET_ALLOW, RET_KILL, RET_ERRNO = 0x7FFF0000, 0x80000000, 0x00050000
LD_ABS_W, JEQ_K, RET_K = 0x20, 0x15, 0x06
# capability numbers are the positions in this list (linux/capability.h)
_CAP_NAMES = """CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE
NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE
SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL
SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE"""
CAPS = tuple(_CAP_NAMES.split())


class Unavailable(Exception):
    """This machine cannot apply the sandbox (no header, no systemd-analyze, not root, old kernel)."""


def service_settings(unit: Path) -> dict[str, list[str]]:
    """Each [Service] key with every value it is given (settings may repeat), comments dropped."""
    out: dict[str, list[str]] = {}
    section = ""
    for raw in unit.read_text().splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line
            continue
        key, _, value = line.partition("=")
        if section == "[Service]":
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def syscall_numbers() -> dict[str, int]:
    if not UNISTD.is_file():
        raise Unavailable(f"{UNISTD} is missing (package linux-libc-dev)")
    return {m[1]: int(m[2]) for m in re.finditer(r"#define __NR_(\w+) (\d+)", UNISTD.read_text())}


def expand(names: list[str], seen: set[str] | None = None) -> set[str]:
    """Syscall names, with @groups expanded through systemd-analyze (recursively)."""
    seen = set() if seen is None else seen
    out: set[str] = set()
    for name in names:
        if not name.startswith("@"):
            out.add(name)
            continue
        if name in seen:
            continue
        seen.add(name)
        try:
            text = subprocess.run(
                ["systemd-analyze", "syscall-filter", name], capture_output=True, text=True, check=True
            ).stdout
        except (OSError, subprocess.CalledProcessError) as exc:
            raise Unavailable(f"systemd-analyze syscall-filter {name}: {exc}") from None
        members = [w for line in text.splitlines()[1:] for w in line.split("#")[0].split()]
        out |= expand(members, seen)
    return out


def seccomp_program(allowed: set[int], errno_value: int) -> bytes:
    """Classic BPF: other architectures are killed; an allowed number returns ALLOW, the rest ERRNO."""
    insns = [(LD_ABS_W, 0, 0, 4), (JEQ_K, 1, 0, AUDIT_ARCH_X86_64), (RET_K, 0, 0, RET_KILL), (LD_ABS_W, 0, 0, 0)]
    for nr in sorted(allowed):
        insns += [(JEQ_K, 0, 1, nr), (RET_K, 0, 0, RET_ALLOW)]  # two steps each: jumps stay under 256
    insns.append((RET_K, 0, 0, RET_ERRNO | errno_value))
    return b"".join(struct.pack("HBBI", *insn) for insn in insns)


def apply(settings: dict[str, list[str]]) -> None:
    libc = ctypes.CDLL(None, use_errno=True)

    def prctl(*args: int) -> None:
        if libc.prctl(*[ctypes.c_ulong(a) for a in args]) != 0:
            raise OSError(ctypes.get_errno(), f"prctl{args[:2]}: {os.strerror(ctypes.get_errno())}")

    if os.geteuid() != 0:
        raise Unavailable("not root: the unit runs as root")
    filter_names = " ".join(settings.get("SystemCallFilter", [])).split()
    numbers = syscall_numbers() if filter_names else {}
    allowed = {numbers[n] for n in expand(filter_names) if n in numbers}
    keep = {c.removeprefix("CAP_") for v in settings.get("CapabilityBoundingSet", []) for c in v.split()}
    if settings.get("NoNewPrivileges", ["no"])[-1] == "yes" or allowed:
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    if "CapabilityBoundingSet" in settings:
        last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
        for number in range(last + 1):
            if number >= len(CAPS) or CAPS[number] not in keep:
                prctl(PR_CAPBSET_DROP, number, 0, 0, 0)
    if settings.get("MemoryDenyWriteExecute", ["no"])[-1] == "yes":
        try:
            prctl(PR_SET_MDWE, MDWE_REFUSE_EXEC_GAIN, 0, 0, 0)
        except OSError as exc:
            raise Unavailable(f"this kernel has no PR_SET_MDWE (6.3+): {exc}") from None
    if allowed:
        code = settings.get("SystemCallErrorNumber", ["EPERM"])[-1]
        program = seccomp_program(allowed, getattr(errno, code))
        buffer = ctypes.create_string_buffer(program)
        fprog = ctypes.create_string_buffer(struct.pack("HxxxxxxQ", len(program) // 8, ctypes.addressof(buffer)))
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0)


def main(argv: list[str]) -> None:
    if len(argv) < 3 or argv[1] != "--":
        sys.exit("usage: python -m tests.unit_sandbox UNIT_FILE -- COMMAND [ARGS...]")
    try:
        apply(service_settings(Path(argv[0])))
    except Unavailable as exc:
        print(f"unit_sandbox: unavailable: {exc}", file=sys.stderr)
        sys.exit(77)
    os.execvp(argv[2], argv[2:])


if __name__ == "__main__":
    main(sys.argv[1:])
