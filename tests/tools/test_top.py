"""engined top: the screen rendered from a real engine's segment, and the command driven under tmux
as a person would (it starts, shows the 40 agents live, refreshes, quits on q and on Ctrl-C)."""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import httpx
import pytest
from rich.console import Console

from engine.core.embedded import Engine
from tests.served import start_served, stop_served
from tests.utils import run, wait_until
from tools.engine_view import NoEngine, choose_engine, read_engine
from tools.top import render

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from engine.config import EngineConfig

AGENT_ROW = re.compile(r"^\s*(\d+)\s+(\d+)\s+(idle|busy|error|restarting|draining|drained|unknown)\s")


def agent_rows(text: str) -> list[tuple[int, str]]:
    """(agent id, status) of every row of the agents table, in screen order."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("agents (by")), None)
    if start is None:  # not drawn yet
        return []
    return [(int(m[1]), m[3]) for line in lines[start:] if (m := AGENT_ROW.match(line))]


def screen(renderable: object, *, colour: bool = False) -> str:
    console = Console(file=io.StringIO(), width=160, record=True, force_terminal=colour, color_system="standard")
    console.print(renderable)
    return console.export_text(styles=colour)


@pytest.fixture
def engine(config: EngineConfig) -> Iterator[Engine]:
    with Engine.start(config) as engine:
        yield engine


@pytest.mark.multiprocess
def test_screen_of_a_live_engine_sorted_and_coloured(engine: Engine) -> None:
    assert engine.res is not None
    name = f"{engine.res.prefix}_ctl"
    engine.client.publish_stats()  # an embedded engine's caller refreshes its row itself
    prev = read_engine(name)

    async def load() -> None:
        for _ in range(40):
            await engine.submit("echo", b"x" * 1000, agent=3)
        for _ in range(10):
            await engine.submit("echo", b"x" * 1000, agent=5)

    run(load())
    engine.client.set_drained(6, True)
    engine.client.publish_stats()
    assert wait_until(lambda: read_engine(name).agents[5]["tasks"] == 10, timeout=5)  # counted after answering
    time.sleep(0.05)
    cur = read_engine(name)
    text = screen(render(prev, cur, note=name))
    assert "engined top" in text and name in text
    rows = agent_rows(text)
    assert sorted(agent for agent, _ in rows) == list(range(8))  # every agent, once
    assert [agent for agent, _ in rows[:2]] == [3, 5]  # by tasks/s: the busiest first
    assert dict(rows)[6] == "drained"
    assert "2 workers" in text and "8 agents" in text and text.count("ready") == 2
    assert "0 in flight" in text and "admitted 50" in text
    assert re.search(r"[1-9][\d.]*k? tasks/s", text)  # the total rate from the two readings
    by_id = screen(render(prev, cur, sort="id"))
    assert [agent for agent, _ in agent_rows(by_id)] == list(range(8))
    coloured = screen(render(prev, cur), colour=True)
    assert "\x1b[32midle" in coloured  # idle agents in green
    assert "\x1b[32mready" in coloured
    assert "\x1b[35mdrained" in coloured or "\x1b[2;35mdrained" in coloured
    short = screen(render(prev, cur, height=20))
    assert len(agent_rows(short)) == 20 - 14 - 2 and "more agents (a taller terminal shows them)" in short


@pytest.mark.multiprocess
def test_which_engine_by_segment_owner_or_worker_pid(engine: Engine) -> None:
    assert engine.res is not None
    name = f"{engine.res.prefix}_ctl"
    assert choose_engine(segment=engine.res.prefix)[0] == name
    assert choose_engine(segment=f"/dev/shm/{engine.res.prefix}_arena")[0] == name
    assert choose_engine(pid=os.getpid())[0] == name  # the owner
    worker_pid = engine.worker_pids()[1]
    chosen, note = choose_engine(pid=worker_pid)
    assert chosen == name and f"owner pid {os.getpid()}" in note
    with pytest.raises(NoEngine, match="no engine segment sigmavault_1_dead_ctl in /dev/shm"):
        choose_engine(segment="sigmavault_1_dead")
    with pytest.raises(NoEngine, match="no running engine has a process with pid 1"):
        choose_engine(pid=1)


@pytest.mark.multiprocess
def test_command_prints_one_screen_when_not_on_a_terminal_and_says_when_no_engine_matches(engine: Engine) -> None:
    assert engine.res is not None
    done = subprocess.run(
        [sys.executable, "-m", "engine", "top", "--segment", engine.res.prefix],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "160"},
    )
    assert done.returncode == 0, done.stderr
    assert sorted(agent for agent, _ in agent_rows(done.stdout)) == list(range(8))
    missing = subprocess.run(
        [sys.executable, "-m", "engine", "top", "--pid", "1"], capture_output=True, text=True, timeout=60
    )
    assert missing.returncode == 1
    assert missing.stderr.startswith("engined top: no running engine has a process with pid 1")


class Tmux:
    """A private tmux server (its own socket), killed at the end whatever happened."""

    def __init__(self, tmp_path: Path) -> None:
        self.dir = tmp_path
        self.socket = str(tmp_path / "tmux.sock")

    def __call__(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-S", self.socket, *args], capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def start(self, session: str, command: str) -> None:
        """Run ``command`` in a 200 x 60 terminal; its exit status lands in <session>.rc."""
        env = {**os.environ, "TERM": "xterm-256color"}
        wrapped = f"{command}; echo $? > {self.dir / session}.rc"
        subprocess.run(
            ["tmux", "-S", self.socket, "new-session", "-d", "-s", session, "-x", "200", "-y", "60", wrapped],
            env=env,
            check=True,
            timeout=30,
        )

    def screen(self, session: str) -> str:
        return self("capture-pane", "-p", "-t", session)

    def exit_status(self, session: str) -> int | None:
        rc = self.dir / f"{session}.rc"
        text = rc.read_text().strip() if rc.exists() else ""
        return int(text) if text else None

    def kill(self) -> None:
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True, timeout=30)


@pytest.mark.multiprocess
def test_top_under_tmux_shows_the_40_agents_live_and_quits_on_q_and_ctrl_c(tmp_path: Path) -> None:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (.ci/run installs it)")
    served = start_served(tmp_path)
    tmux = Tmux(tmp_path)
    try:
        command = f"{sys.executable} -m engine top --pid {served.proc.pid}"
        tmux.start("top", command)
        assert wait_until(lambda: len(agent_rows(tmux.screen("top"))) == 40, timeout=20), tmux.screen("top")
        first = tmux.screen("top")
        assert sorted(agent for agent, _ in agent_rows(first)) == list(range(40))
        assert first.count("ready") == 2 and "q quit" in first and f"owner pid {served.proc.pid}" in first
        with httpx.Client(base_url=served.http, headers=served.headers, timeout=10) as http:
            for _ in range(30):
                answer = http.post("/api/v1/tasks", json={"kind": "echo", "data": base64.b64encode(b"top").decode()})
                assert answer.status_code == 200

        def counted() -> bool:
            return "admitted 30 " in tmux.screen("top")

        assert wait_until(counted, timeout=10), tmux.screen("top")  # the screen refreshed by itself
        tmux("send-keys", "-t", "top", "s")
        assert wait_until(lambda: "agents (by MB/s in)" in tmux.screen("top"), timeout=5)
        tmux("send-keys", "-t", "top", "q")
        assert wait_until(lambda: tmux.exit_status("top") is not None, timeout=10)
        assert tmux.exit_status("top") == 0
        tmux.start("top2", command)
        assert wait_until(lambda: len(agent_rows(tmux.screen("top2"))) == 40, timeout=20)
        tmux("send-keys", "-t", "top2", "C-c")
        assert wait_until(lambda: tmux.exit_status("top2") is not None, timeout=10)
        assert tmux.exit_status("top2") == 130
    finally:
        tmux.kill()
        stop_served(served)
