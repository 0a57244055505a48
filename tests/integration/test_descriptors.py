"""Each process of ``engined serve`` holds only the descriptors it needs: read from /proc of a real
engine. A worker serves no socket (the HTTP listeners the supervisor binds are the frontend's), holds
neither end of the key pipe, nor the supervisor's signal wake-up pipe, the frontend's ready pipe or
another child's pipes, and of the doorbells only its own and the client's; the frontend holds the
key pipe's write end but not its read end. Checked again for a worker the supervisor restarted and
for the workers and frontend it starts after the frontend died."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import psutil
import pytest

from tests.served import Served, start_served, stop_served
from tests.utils import wait_until

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.multiprocess

TCP_LISTEN = "0A"
SO_ACCEPTCON = 0x10000  # /proc/net/unix Flags of a listening socket


@dataclass
class Held:
    """What one process holds: socket inodes, pipe ends as (inode, "r" or "w"), eventfd count."""

    pid: int
    sockets: set[int] = field(default_factory=set)
    pipes: set[tuple[int, str]] = field(default_factory=set)
    eventfds: int = 0

    @property
    def pipe_inodes(self) -> set[int]:
        return {inode for inode, _ in self.pipes}


def held(pid: int) -> Held:
    out = Held(pid)
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{name}")
            with open(f"/proc/{pid}/fdinfo/{name}") as info:
                flags = int(next(line for line in info if line.startswith("flags:")).split()[1], 8)
        except (FileNotFoundError, StopIteration):  # closed meanwhile
            continue
        if target.startswith("socket:["):
            out.sockets.add(int(target[8:-1]))
        elif target.startswith("pipe:["):
            out.pipes.add((int(target[6:-1]), "w" if flags & os.O_ACCMODE == os.O_WRONLY else "r"))
        elif target == "anon_inode:[eventfd]":
            out.eventfds += 1
    return out


def listening_inodes() -> set[int]:
    """Inodes of every listening TCP (v4, v6) and Unix stream socket on the box."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in list(f)[1:]:
                cols = line.split()
                if cols[3] == TCP_LISTEN:
                    found.add(int(cols[9]))
    with open("/proc/net/unix") as f:
        for line in list(f)[1:]:
            cols = line.split()
            if int(cols[3], 16) & SO_ACCEPTCON:
                found.add(int(cols[6]))
    return found


def engine_processes(served: Served) -> tuple[Held, list[Held], Held, set[int]]:
    """The supervisor, its workers (by index), the frontend, and the resource tracker's pipe inodes."""
    children = psutil.Process(served.proc.pid).children()
    names = {c.pid: c.name() for c in children}
    workers = sorted((p for p, n in names.items() if n.startswith("sv-worker-")), key=lambda p: names[p])
    frontend = next(p for p, n in names.items() if n == "sv-frontend")
    tracker = [held(p).pipe_inodes for p, n in names.items() if not n.startswith("sv-")]  # multiprocessing's
    return held(served.proc.pid), [held(p) for p in workers], held(frontend), set().union(*tracker)


def check_descriptors(served: Served) -> None:
    supervisor, workers, frontend, tracker = engine_processes(served)
    listening = listening_inodes()
    http_listeners = supervisor.sockets & listening
    assert len(http_listeners) == 2  # TCP and the Unix socket, bound once for every frontend incarnation
    assert http_listeners <= frontend.sockets
    for worker in workers:
        assert not worker.sockets & listening, f"worker {worker.pid} holds a listening socket"
        assert not worker.sockets, f"worker {worker.pid} holds sockets it never uses"
        assert worker.eventfds == 2  # its own doorbell and the client's
        # a pipe end the supervisor holds too (the key pipe, the wake-up pipe, the frontend's ready
        # pipe, another child's sentinel) is not the worker's: its own pipes' other ends are
        shared = {(i, end) for i, end in worker.pipes & supervisor.pipes if i not in tracker}
        assert not shared, f"worker {worker.pid} holds the supervisor's pipe ends {shared}"
        for other in [*workers, frontend]:
            if other is not worker:
                assert not (worker.pipe_inodes & other.pipe_inodes) - tracker, (worker.pid, other.pid)
    assert frontend.eventfds >= len(workers) + 1  # every worker's doorbell and its own (plus its loop's)
    shared = {(i, end) for i, end in frontend.pipes & supervisor.pipes if i not in tracker}
    assert {end for _, end in shared} == {"w"} and len(shared) == 1, shared  # the key pipe's write end only


def worker_pids(served: Served) -> list[int]:
    return sorted(c.pid for c in psutil.Process(served.proc.pid).children() if c.name().startswith("sv-worker-"))


def test_each_process_holds_only_its_descriptors(tmp_path: Path) -> None:
    served = start_served(tmp_path)
    try:
        check_descriptors(served)
        killed = worker_pids(served)[1]
        os.kill(killed, signal.SIGKILL)
        assert wait_until(lambda: len(set(worker_pids(served)) - {killed}) == 2, timeout=15), served.output()
        assert wait_until(lambda: _ready(served), timeout=15), served.output()
        check_descriptors(served)  # the restarted worker, forked while the others run
        frontend = next(c for c in psutil.Process(served.proc.pid).children() if c.name() == "sv-frontend")
        before = set(worker_pids(served))
        frontend.kill()  # its successor gets fresh workers, forked while its ready pipe may be open
        assert wait_until(lambda: not before & set(worker_pids(served)) and _ready(served), 20), served.output()
        check_descriptors(served)
    finally:
        assert stop_served(served) == 0, served.output()


def _ready(served: Served) -> bool:
    import httpx

    try:
        return httpx.get(f"{served.http}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
