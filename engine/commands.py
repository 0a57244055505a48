"""Running a system tool: present or not, exit status, output, bounded in time."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from dataclasses import dataclass


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


async def run_tool(argv: list[str], timeout: float = 5.0) -> ToolOutput:
    """Run ``argv``; a missing tool gives ``found=False``, a hung one is killed at ``timeout``."""
    path = shutil.which(argv[0])
    if path is None:
        return ToolOutput(False, 127, "", f"{argv[0]} not found")
    proc = await asyncio.create_subprocess_exec(
        path, *argv[1:], stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        return ToolOutput(True, -9, "", f"{argv[0]} timed out after {timeout:g} s")
    return ToolOutput(True, proc.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace"))
