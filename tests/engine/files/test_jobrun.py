"""FileJobRun: a cancel that lands while the job's temporary output is being opened (on the I/O thread)
leaves no descriptor and no temporary file behind (__aexit__ never runs for a failed __aenter__)."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest

from engine.files.jobrun import FileEnv, FileJobRun, FileJobSpec, source_state
from engine.files.paths import PathPolicy
from engine.files.runner import FileIO
from engine.jobs.manager import JobContext, JobManager
from engine.jobs.model import JobRecord
from engine.jobs.store import JobStore
from tests.utils import run

if TYPE_CHECKING:
    from collections.abc import Callable


class GatedIO(FileIO):
    """The real FileIO, with the output's open held on its thread until the test lets it go."""

    def __init__(self) -> None:
        super().__init__(threads=1)
        self.opening = threading.Event()
        self.go = threading.Event()

    async def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        if getattr(fn, "__name__", "") != "open":
            return await super().call(fn, *args)

        def held(*a: Any) -> Any:
            self.opening.set()
            self.go.wait(10)
            return fn(*a)

        return await super().call(held, *args)


def open_fds() -> set[str]:
    return {
        os.readlink(f"/proc/self/fd/{n}") for n in os.listdir("/proc/self/fd") if os.path.exists(f"/proc/self/fd/{n}")
    }


def test_a_cancel_while_the_output_opens_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "src.bin").write_bytes(b"x" * 4096)
    policy = PathPolicy([str(tmp_path)])
    source = policy.source(str(tmp_path / "src.bin"))
    spec = FileJobSpec("compress", source, policy.destination(str(tmp_path / "out.zst"), False))
    io = GatedIO()
    env = FileEnv(config=cast(Any, None), runner=cast(Any, None), io=io, keys=cast(Any, None))
    manager = JobManager(JobStore(tmp_path / "jobs.sqlite3"))
    ctx = JobContext(manager, JobRecord("job-1", "compress", "file", str(tmp_path / "out.zst")))

    async def scenario() -> None:
        async def body() -> None:
            async with FileJobRun(env, ctx, spec, source_state(source)):
                pytest.fail("the job must not start")

        task = asyncio.create_task(body())
        await asyncio.to_thread(io.opening.wait, 10)
        task.cancel()
        await asyncio.sleep(0.05)  # the cancel is delivered; the open is still held on its thread
        io.go.set()
        with pytest.raises(asyncio.CancelledError):
            await task

    before = open_fds()
    run(scenario())
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "jobs.sqlite3" and "sqlite" not in p.name) == [
        "src.bin"
    ]
    assert not {fd for fd in open_fds() - before if ".part" in fd or "out.zst" in fd}
    spec.close()
    manager.store.close()
