"""engine/core/diag.py in this process: the SIGUSR1 stack dump, the SIGUSR2 tracemalloc toggle, clean-up,
the reclaim of a dead process's files and a forked child dropping what it inherited."""

from __future__ import annotations

import os
import signal
import tracemalloc
from typing import TYPE_CHECKING

from engine.core import diag
from tests.utils import wait_until

if TYPE_CHECKING:
    from pathlib import Path


def test_stack_dump_on_sigusr1_and_memory_snapshot(tmp_path: Path) -> None:
    d = diag.Diagnostics(str(tmp_path), "sv-test")
    d.install()
    stacks = d.path(diag.STACKS_SUFFIX)
    try:
        assert stacks.exists() and stacks.stat().st_mode & 0o777 == 0o600
        os.kill(os.getpid(), diag.STACKS_SIGNAL)
        assert wait_until(lambda: "test_stack_dump_on_sigusr1" in stacks.read_text(), timeout=5)
        assert "most recent call first" in stacks.read_text()
        assert d.toggle_memory() is None and tracemalloc.is_tracing()
        kept = [bytearray(1000) for _ in range(100)]
        snapshot = d.toggle_memory()
        assert snapshot == d.path(diag.MEMORY_SUFFIX) and not tracemalloc.is_tracing()
        top = tracemalloc.Snapshot.load(str(snapshot)).statistics("lineno")
        assert any(s.traceback[0].filename == __file__ and s.size >= 100_000 for s in top), kept[0][:1]
    finally:
        d.close()
        d.close()  # idempotent
    assert not stacks.exists() and not d.path(diag.MEMORY_SUFFIX).exists()
    assert signal.getsignal(diag.STACKS_SIGNAL) == signal.SIG_DFL


def test_forked_engine_process_drops_its_parents_file_and_reclaim_removes_the_dead(tmp_path: Path) -> None:
    d = diag.Diagnostics(str(tmp_path), "sv-parent")
    d.install()
    try:
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child installs its own: the parent's descriptor is closed, its file untouched
            child = diag.Diagnostics(str(tmp_path), "sv-child")
            child.install()  # left behind on purpose: the child "dies" without clean-up
            links = [
                os.readlink(f"/proc/self/fd/{fd}")
                for fd in os.listdir("/proc/self/fd")
                if os.path.exists(f"/proc/self/fd/{fd}")
            ]
            ok = [p for p in links if p.endswith(diag.STACKS_SUFFIX)] == [str(child.path(diag.STACKS_SUFFIX))]
            d.close()  # the parent's object in the child: must not touch the parent's registration
            os.write(write_fd, b"1" if ok else b"0")
            os._exit(0)
        os.close(write_fd)
        assert os.read(read_fd, 1) == b"1"
        os.close(read_fd)
        os.waitpid(pid, 0)
        orphan = tmp_path / "run" / "diag" / f"sv-child.{pid}{diag.STACKS_SUFFIX}"
        assert orphan.exists()
        diag.reclaim(str(tmp_path))
        assert not orphan.exists() and d.path(diag.STACKS_SUFFIX).exists()  # the living keep theirs
        os.kill(os.getpid(), diag.STACKS_SIGNAL)  # still ours after the child went
        assert wait_until(lambda: "most recent call first" in d.path(diag.STACKS_SUFFIX).read_text(), timeout=5)
    finally:
        d.close()


def test_a_data_dir_it_cannot_write_leaves_the_process_running(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    d = diag.Diagnostics(str(blocker), "sv-test")  # run/diag under a file: mkdir fails
    d.install()
    assert signal.getsignal(diag.STACKS_SIGNAL) == signal.SIG_DFL
    d.close()
