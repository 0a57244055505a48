"""engined profile against a real, loaded ``engined serve``: with py-spy, and with the engine's own
stack dumps (SIGUSR1) plus tracemalloc (SIGUSR2); the engine keeps answering and nothing restarts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import pytest

from tests.served import Served, start_served, stop_served
from tools.engine_view import choose_engine, read_engine
from tools.flamegraph import parse_folded

ROLES = ("sv-supervisor", "sv-frontend", "sv-worker-0", "sv-worker-1")
PY_SPY = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))


def profile(served: Served, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "engine",
            "profile",
            "--pid",
            str(served.proc.pid),
            "--seconds",
            "3",
            "--out",
            str(out),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def outputs(out: Path) -> dict[str, Path]:
    """role -> its flame graph, from the files written (<name>-<pid>.svg)."""
    return {p.stem.rsplit("-", 1)[0]: p for p in out.glob("*.svg")}


def check_engine_is_untouched(served: Served, frontend_pid: int) -> None:
    with httpx.Client(base_url=served.http, headers=served.headers, timeout=10) as http:
        assert http.get("/readyz").status_code == 200
        echo = http.post("/api/v1/tasks", json={"kind": "echo", "data": "cHJvZmlsZWQ="})
        assert echo.status_code == 200 and echo.json()["data"] == "cHJvZmlsZWQ="
    name, _ = choose_engine(pid=served.proc.pid)
    reading = read_engine(name)
    assert [w["restarts"] for w in reading.workers] == [0, 0] and all(w["state"] == "ready" for w in reading.workers)
    ports = orjson.loads((served.data_dir / "run" / "ports.json").read_bytes())
    assert ports["pid"] == frontend_pid  # the frontend was never restarted


@pytest.mark.multiprocess
def test_profile_a_loaded_engine_with_py_spy_and_with_signals(tmp_path: Path) -> None:
    served = start_served(tmp_path)
    load = None
    try:
        frontend_pid = orjson.loads((served.data_dir / "run" / "ports.json").read_bytes())["pid"]
        # 1 KiB echo on agent 0 (worker 0), 8 in flight, for as long as both profiles take
        env = {**os.environ, "PERF_TOKEN": served.token}  # every call needs the engine's token
        load = subprocess.Popen(
            [sys.executable, "-m", "perf.loadgen", "grpc-dispatch", served.grpc, "16", "8", "1024"],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        time.sleep(1.0)
        if PY_SPY is not None:
            spy = profile(served, tmp_path / "spy", "--method", "py-spy")
            assert spy.returncode == 0, spy.stderr
            graphs = outputs(tmp_path / "spy")
            assert set(graphs) == set(ROLES), sorted(graphs)
            assert all(p.read_text().startswith("<svg") for p in graphs.values())
            worker = parse_folded((tmp_path / "spy" / f"{graphs['sv-worker-0'].stem}.folded").read_text().splitlines())
            assert any("BatchRunner" in frame for frames in worker for frame in frames)
            frontend = (tmp_path / "spy" / f"{graphs['sv-frontend'].stem}.folded").read_text()
            assert "DispatchTask" in frontend
            assert ", py-spy, 4 processes" in spy.stdout and "Top 25 functions by own samples" in spy.stdout
        signals = profile(served, tmp_path / "signals", "--method", "signals", "--memory", "--rate", "50")
        assert signals.returncode == 0, signals.stderr
        graphs = outputs(tmp_path / "signals")
        assert set(graphs) == set(ROLES), sorted(graphs)  # an idle process gets one saying it had no samples
        worker = parse_folded((tmp_path / "signals" / f"{graphs['sv-worker-0'].stem}.folded").read_text().splitlines())
        assert sum(worker.values()) > 10 and any("engine/core/worker.py" in f for frames in worker for f in frames)
        frontend = (tmp_path / "signals" / f"{graphs['sv-frontend'].stem}.folded").read_text()
        assert "frontends/grpc_api/agents.py" in frontend
        memory = (tmp_path / "signals" / "memory.txt").read_text()
        for role in ROLES:
            assert f"\n{role}-" in memory and "no snapshot" not in memory
        assert len(list((tmp_path / "signals").glob("*.tracemalloc"))) == 4
        # the dump files were emptied after reading, and the snapshots moved out
        diag = sorted((served.data_dir / "run" / "diag").iterdir())
        assert len(diag) == 4 and all(p.suffix == ".stacks" and p.stat().st_size == 0 for p in diag)
        stdout, _ = load.communicate(timeout=60)
        result = orjson.loads(stdout.strip().splitlines()[-1])
        assert result["errors"] == 0 and result["requests"] > 100
        check_engine_is_untouched(served, frontend_pid)
    finally:
        if load is not None and load.poll() is None:
            load.kill()
            load.wait()
        stop_served(served)
    assert not (served.data_dir / "run" / "diag").exists() or not any((served.data_dir / "run" / "diag").iterdir())
