"""Running a system tool: present or not, exit status, output, bounded in time."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.errors import InvalidArgument, ToolFailed, Unsupported

if TYPE_CHECKING:
    from collections.abc import Mapping

# Tools print dates and numbers for humans; the C locale makes what we parse the same everywhere.
C_LOCALE = {"LC_ALL": "C", "LANG": "C"}

# Lines tools print before the one that says what went wrong (btrfs-progs prints its banner first).
_NOISE_PREFIXES = ("btrfs-progs v", "See http", "See https", "NOTE:", "Performing full device TRIM")


@dataclass(frozen=True)
class Source:
    """Where a kind of fact comes from and whether this machine has it."""

    name: str
    available: bool
    detail: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "available": self.available, "detail": self.detail}


@dataclass(frozen=True)
class ToolOutput:
    found: bool
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.found and self.returncode == 0

    def reason(self) -> str:
        """The tool's own short explanation of a failure: its first meaningful stderr line."""
        return first_error_line(self.stderr) or first_error_line(self.stdout) or f"exited {self.returncode}"


def first_error_line(text: str) -> str:
    """The line of a tool's output that says what went wrong: an ``ERROR:`` line if there is one,
    else the first line that is not a banner or a note; the ``ERROR:`` prefix itself is dropped."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        if line.upper().startswith("ERROR:"):
            return line[6:].strip()
    for line in lines:
        if not line.startswith(_NOISE_PREFIXES):
            return line
    return ""


def operand(value: str, what: str = "device") -> str:
    """``value`` as an operand of a subcommand that takes no ``--`` (zfs-fuse's ``zpool remove`` and
    ``zfs set``, btrfs-progs 6.2's ``quota enable``): refused when getopt could read it as an option."""
    if value.startswith("-"):
        raise InvalidArgument(
            f"{what} {value!r} is refused: it starts with '-' and would be read as an option",
            code="invalid_argument",
            metadata={"field": what},
        )
    return value


async def run_tool(
    argv: list[str],
    timeout: float = 5.0,
    *,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
) -> ToolOutput:
    """Run ``argv``; a missing tool gives ``found=False``, a hung one is killed at ``timeout``.

    ``env`` is added to this process's environment (e.g. ``C_LOCALE``); ``stdin`` is written to the tool.
    """
    path = shutil.which(argv[0])
    if path is None:
        return ToolOutput(False, 127, "", f"{argv[0]} not found")
    proc = await asyncio.create_subprocess_exec(
        path,
        *argv[1:],
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **env} if env else None,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(stdin), timeout)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        return ToolOutput(True, -9, "", f"{argv[0]} timed out after {timeout:g} s")
    return ToolOutput(True, proc.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace"))


async def run_checked(
    argv: list[str],
    timeout: float = 30.0,
    *,
    env: Mapping[str, str] | None = C_LOCALE,
    package: str = "",
    ok_codes: tuple[int, ...] = (0,),
) -> ToolOutput:
    """Run ``argv`` for an operation: a missing tool raises Unsupported (naming its package), a
    failure raises ToolFailed carrying the tool's own first meaningful line."""
    result = await run_tool(argv, timeout, env=env)
    if not result.found:
        hint = f" (package {package})" if package else ""
        raise Unsupported(f"{argv[0]} is not installed on this machine{hint}", metadata={"tool": argv[0]})
    if result.returncode not in ok_codes:
        raise ToolFailed(
            f"{' '.join(argv[:3])}: {result.reason()}", metadata={"tool": argv[0], "exit_status": result.returncode}
        )
    return result
