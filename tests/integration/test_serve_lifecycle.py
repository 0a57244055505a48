"""``engined serve`` as an operator runs it: bad configuration, SIGTERM drain, a frontend or a
worker killed, the whole instance SIGKILLed."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import orjson
import psutil
import pytest

from ipc.segment import engine_segments, stale_segments
from perf.engine import make_blocks
from perf.procs import free_port
from tests.served import Served, start_served, stop_served
from tests.utils import wait_until

pytestmark = pytest.mark.multiprocess


def engined(*args: str, env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SIGMAVAULT_")}
    return subprocess.run(
        [sys.executable, "-m", "engine", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


def test_bad_configuration_stops_start_up_with_one_line(tmp_path: Path) -> None:
    result = engined("serve", env={"SIGMAVAULT_GRPC_PORT": "80", "SIGMAVAULT_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "SIGMAVAULT_GRPC_PORT" in lines[0]
    assert "1024-65535" in lines[0]
    (tmp_path / ".env").write_text("SIGMAVAULT_WORKERS=lots\n")
    result = engined("serve", env={}, cwd=tmp_path)
    assert result.returncode == 2
    assert "SIGMAVAULT_WORKERS" in result.stderr


def test_a_taken_port_stops_start_up_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            "SIGMAVAULT_ENGINE_PORT": str(port),
            "SIGMAVAULT_GRPC_PORT": str(free_port()),
            "SIGMAVAULT_DATA_DIR": str(tmp_path),
        }
        result = engined("serve", env=env)
    assert result.returncode == 2
    assert (
        result.stderr.strip() == f"engined: cannot listen on 127.0.0.1:{port} (SIGMAVAULT_ENGINE_PORT): "
        "Address already in use"
    )


def test_config_command_prints_the_effective_settings() -> None:
    result = engined("config", env={"SIGMAVAULT_ENGINE_PORT": "8100"})
    assert result.returncode == 0
    settings = orjson.loads(result.stdout)
    assert settings["SIGMAVAULT_ENGINE_PORT"] == "8100"
    assert settings["SIGMAVAULT_GRPC_PORT"] == "9003"
    assert settings["SIGMAVAULT_AGENTS"] == "40"


def test_sigterm_drains_in_flight_requests(tmp_path: Path) -> None:
    served = start_served(tmp_path, SIGMAVAULT_SHUTDOWN_GRACE="15")  # room for a slow CI machine
    pid = served.proc.pid
    children = psutil.Process(pid).children(recursive=True)
    names = [s for s in engine_segments() if s.startswith(f"sigmavault_{pid}_")]
    assert len(names) == 2
    # ~350 ms of zstd-19 each, run one after another on agent 0's worker: ~1 s, well inside the grace
    block = make_blocks(1, 900 * 1024)[0]
    body = {"kind": "compress", "data": base64.b64encode(block).decode(), "params": {"codec": "zstd", "level": 19}}
    codes: list[int] = []

    def slow_request() -> None:
        codes.append(
            httpx.post(f"{served.http}/api/v1/agents/0/task", headers=served.headers, json=body, timeout=30).status_code
        )

    threads = [threading.Thread(target=slow_request) for _ in range(3)]
    try:
        for t in threads:
            t.start()
        # every request is inside the engine (a connection that arrives after SIGTERM is refused:
        # drained means what was accepted finishes, not that the listener stays open)
        status = f"{served.http}/api/v1/system/status"
        assert wait_until(lambda: httpx.get(status, headers=served.headers).json()["inflight"] == 3, timeout=10)
    finally:
        assert stop_served(served) == 0
        for t in threads:
            t.join(30)
    assert codes == [200, 200, 200], served.output()
    # the resource tracker goes a moment after the last holder of its pipe
    assert wait_until(
        lambda: not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE], timeout=10
    )
    assert not set(names) & set(engine_segments())
    assert "stopped, segments removed" in served.output()


def _status(served: Served) -> dict[str, Any] | None:
    try:
        return httpx.get(f"{served.http}/api/v1/system/status", headers=served.headers, timeout=1).json()
    except httpx.HTTPError:
        return None


def test_killed_worker_then_frontend_are_restarted(tmp_path: Path) -> None:
    served = start_served(tmp_path)
    try:
        status = _status(served)
        assert status is not None
        worker_pid = status["workers"][1]["pid"]
        os.kill(worker_pid, signal.SIGKILL)

        def worker_back() -> bool:
            s = _status(served)
            return bool(s and s["state"] == "ok" and s["workers"][1]["pid"] != worker_pid)

        assert wait_until(worker_back, timeout=10), served.output()
        after_worker = _status(served)
        assert after_worker is not None
        assert [w["restarts"] for w in after_worker["workers"]] == [0, 1]
        # the frontend is the rings' only client: its successor gets fresh workers and empty rings,
        # so no task of the dead frontend can still write into a slot the new one hands out
        frontend = next(c for c in psutil.Process(served.proc.pid).children() if c.name() == "sv-frontend")
        frontend.kill()

        def frontend_back() -> bool:
            s = _status(served)
            return bool(s and s["state"] == "ok" and s["workers"][0]["pid"] != after_worker["workers"][0]["pid"])

        assert wait_until(frontend_back, timeout=15), served.output()
        final = _status(served)
        assert final is not None
        assert [w["restarts"] for w in final["workers"]] == [1, 2]
        data = os.urandom(3000) * 4
        packed = httpx.post(
            f"{served.http}/api/v1/agents/0/task",
            headers=served.headers,
            json={"kind": "compress", "data": base64.b64encode(data).decode()},
        ).json()
        back = httpx.post(
            f"{served.http}/api/v1/agents/0/task",
            headers=served.headers,
            json={"kind": "decompress", "data": packed["data"]},
        )
        assert base64.b64decode(back.json()["data"]) == data
    finally:
        assert stop_served(served) == 0


def test_sigkill_of_the_instance_leaves_nothing_running_and_segments_are_reclaimed(tmp_path: Path) -> None:
    served = start_served(tmp_path)
    pid = served.proc.pid
    children = psutil.Process(pid).children(recursive=True)
    served.proc.kill()
    served.proc.wait()
    # workers and frontend follow their supervisor (PR_SET_PDEATHSIG), draining first
    assert wait_until(
        lambda: not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE], timeout=15
    )
    # the dead owner's segments may still be there (stale) until the next start reclaims them
    leftovers = [s for s in engine_segments() if s.startswith(f"sigmavault_{pid}_")]
    assert set(leftovers) <= set(stale_segments())
    again = tmp_path / "again"
    again.mkdir()
    second = start_served(again)
    try:
        assert not [s for s in engine_segments() if s.startswith(f"sigmavault_{pid}_")]
    finally:
        assert stop_served(second) == 0


def test_sigterm_says_goodbye_to_websocket_clients(tmp_path: Path) -> None:
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    served = start_served(tmp_path)
    try:
        with connect(f"ws://127.0.0.1:{served.http_port}/ws", additional_headers=served.headers, open_timeout=5) as ws:
            assert orjson.loads(ws.recv(timeout=5))["type"] == "server.hello"
            served.proc.send_signal(signal.SIGTERM)
            closed = None
            try:
                for _ in range(100):  # bounded: a goodbye must come well before this runs out
                    ws.recv(timeout=10)
            except ConnectionClosed as exc:
                closed = exc
            assert closed is not None
            assert closed.rcvd is not None
            assert closed.rcvd.code == 1001  # going away: the server is shutting down
    finally:
        assert stop_served(served) == 0


def test_command_line_edges_answer_in_one_line(tmp_path: Path) -> None:
    version = engined("--version", env={})
    assert version.returncode == 0 and version.stdout.startswith("engined ")
    a_file = tmp_path / "file"
    a_file.write_text("")
    for command in ("serve", "config"):  # config checks the data directory too
        result = engined(command, env={"SIGMAVAULT_DATA_DIR": str(a_file / "data")})
        assert result.returncode == 2
        assert result.stderr.strip().splitlines() == [
            f"engined: configuration error: SIGMAVAULT_DATA_DIR='{a_file}/data' is invalid: cannot create it: "
            "Not a directory"
        ]
    printed = engined("config", env={"SIGMAVAULT_DATA_DIR": str(tmp_path / "fresh" / "data")})
    assert printed.returncode == 0 and orjson.loads(printed.stdout)["SIGMAVAULT_DATA_DIR"] == f"{tmp_path}/fresh/data"
    assert not (tmp_path / "fresh").exists()  # config only prints: it creates no data directory
    typo = engined("config", env={"SIGMAVAULT_WORKRES": "2", "SIGMAVAULT_DATA_DIR": str(tmp_path)})
    assert typo.returncode == 0
    assert (
        typo.stderr.strip() == "engined: warning: unknown setting SIGMAVAULT_WORKRES is ignored "
        "(did you mean SIGMAVAULT_WORKERS?)"
    )
    clash = engined("serve", env={"SIGMAVAULT_ENGINE_PORT": "9003", "SIGMAVAULT_DATA_DIR": str(tmp_path)})
    assert clash.returncode == 2
    assert "SIGMAVAULT_ENGINE_PORT='9003' is invalid: must differ from SIGMAVAULT_GRPC_PORT (9003)" in clash.stderr


def test_ports_chosen_at_start_are_kept_by_a_restarted_frontend(tmp_path: Path) -> None:
    served = start_served(tmp_path)  # ports 0: the engine picks them and writes run/ports.json
    try:
        ports = orjson.loads((served.data_dir / "run" / "ports.json").read_bytes())
        assert (ports["http"], ports["grpc"]) == (served.http_port, served.grpc_port)
        frontend = next(c for c in psutil.Process(served.proc.pid).children() if c.name() == "sv-frontend")
        frontend.kill()
        assert wait_until(
            lambda: (
                _status(served) is not None
                and orjson.loads((served.data_dir / "run" / "ports.json").read_bytes())["pid"] != frontend.pid
            ),
            timeout=20,
        )
        again = orjson.loads((served.data_dir / "run" / "ports.json").read_bytes())
        assert (again["http"], again["grpc"]) == (ports["http"], ports["grpc"])
    finally:
        assert stop_served(served) == 0
    assert not (served.data_dir / "run" / "ports.json").exists()  # no port is open after a stop: no file says one is


@pytest.mark.parametrize("inherited", [signal.SIG_DFL, signal.SIG_IGN], ids=["sigint_default", "sigint_ignored"])
def test_shm_inspect_watch_ends_quietly_on_ctrl_c(inherited: signal.Handlers) -> None:
    """Also when started with SIGINT ignored (a background job of a script, as CI may run the suite):
    the child inherits the ignore, and the watch used to run on until the test's 10 s were up."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tools.shm_inspect", "--watch", "0.1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
        preexec_fn=lambda: signal.signal(signal.SIGINT, inherited),
    )
    try:
        assert proc.stdout is not None
        proc.stdout.readline()  # it is watching
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert b"Traceback" not in err and b"KeyboardInterrupt" not in err


def _loose_tokens_file(tmp_path: Path) -> Path:
    tokens = tmp_path / "tokens"
    tokens.write_text(f"ops admin sha256:{'0' * 64}\n")
    tokens.chmod(0o644)
    return tokens


def test_config_runs_the_checks_serve_runs_and_makes_nothing(tmp_path: Path) -> None:
    """A tokens file serve would refuse (mode 0644) is refused by ``engined config`` with the same line,
    and so is a generated admin token left readable by others; config creates no data directory."""
    env = {
        "SIGMAVAULT_DATA_DIR": str(tmp_path / "data"),
        "SIGMAVAULT_RUN_DIR": str(tmp_path / "sock"),
        "SIGMAVAULT_API_TOKENS_FILE": str(_loose_tokens_file(tmp_path)),
        "SIGMAVAULT_ENGINE_PORT": "0",
        "SIGMAVAULT_GRPC_PORT": "0",
    }
    checked, served = engined("config", env=env), engined("serve", env=env)
    assert checked.returncode == served.returncode == 2, (checked.stderr, served.stderr)
    assert checked.stderr == served.stderr and len(checked.stderr.splitlines()) == 1
    assert "SIGMAVAULT_API_TOKENS_FILE" in checked.stderr and "(mode 0644); chmod it 0600" in checked.stderr
    assert sorted(os.listdir(tmp_path)) == ["tokens"]  # neither made a data directory or a run directory
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "api-token").write_text("0123456789abcdef0123456789abcdef\n")
    (tmp_path / "data" / "api-token").chmod(0o644)
    env.pop("SIGMAVAULT_API_TOKENS_FILE")
    checked, served = engined("config", env=env), engined("serve", env=env)
    assert checked.returncode == served.returncode == 2 and checked.stderr == served.stderr, checked.stderr
    assert "api-token: is readable or writable by its group or other users" in checked.stderr


def test_a_refused_start_leaves_no_file_behind(tmp_path: Path) -> None:
    """Refused over its tokens file, over a taken port, or because another engine answers on its run
    directory's sockets: the start made no data directory, no admin token and no run directory."""
    fresh = {
        "SIGMAVAULT_DATA_DIR": str(tmp_path / "new" / "data"),
        "SIGMAVAULT_ENGINE_PORT": "0",
        "SIGMAVAULT_RUN_DIR": str(tmp_path / "new" / "sock"),
        "SIGMAVAULT_GRPC_PORT": "0",
    }
    refused = engined("serve", env={**fresh, "SIGMAVAULT_API_TOKENS_FILE": str(_loose_tokens_file(tmp_path))})
    assert refused.returncode == 2 and "chmod it 0600" in refused.stderr
    assert not (tmp_path / "new").exists()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        refused = engined("serve", env={**fresh, "SIGMAVAULT_ENGINE_PORT": str(taken.getsockname()[1])})
    assert refused.returncode == 2 and "Address already in use" in refused.stderr
    assert not (tmp_path / "new").exists()  # the data directory and the token it generated were removed again
    (tmp_path / "first").mkdir()
    served = start_served(tmp_path / "first")
    try:
        refused = engined("serve", env={**fresh, "SIGMAVAULT_RUN_DIR": str(served.run_dir)})
        assert refused.returncode == 2, refused.stderr
        assert (
            refused.stderr.strip() == f"engined: another engine serves {served.http_socket}: stop it, or give "
            "this one another SIGMAVAULT_RUN_DIR"
        )
        assert not (tmp_path / "new").exists()
        assert served.http_socket.is_socket() and _status(served) is not None  # the first engine serves on
    finally:
        assert stop_served(served) == 0


def test_the_run_directory_an_engine_made_is_removed_at_stop_unless_something_else_is_in_it(tmp_path: Path) -> None:
    served = start_served(tmp_path, SIGMAVAULT_RUN_DIR=str(tmp_path / "run" / "sigmavault"))
    assert served.http_socket.is_socket() and served.grpc_socket.is_socket()
    assert stop_served(served) == 0
    assert not served.run_dir.exists() and (tmp_path / "run").is_dir()  # only what it made: not the parent
    assert not (served.data_dir / "run" / "ports.json").exists()
    served = start_served(tmp_path, SIGMAVAULT_RUN_DIR=str(tmp_path / "run" / "sigmavault"))
    (served.run_dir / "another.sock").write_text("")  # e.g. another engine's, or an administrator's
    assert stop_served(served) == 0
    assert os.listdir(served.run_dir) == ["another.sock"]  # kept, with what it holds
    served = start_served(tmp_path, SIGMAVAULT_RUN_DIR=str(tmp_path / "run" / "sigmavault"))
    (served.run_dir / "another.sock").unlink()
    assert stop_served(served) == 0
    assert served.run_dir.is_dir()  # it was there before this engine: not its to remove


def test_a_missing_job_root_is_named_in_one_warning_at_start(tmp_path: Path) -> None:
    (tmp_path / "there").mkdir()
    roots = f"{tmp_path}/there:{tmp_path}/pool-not-mounted:{tmp_path}/gone"
    served = start_served(tmp_path, SIGMAVAULT_JOB_ROOTS=roots)
    try:
        answer = httpx.post(
            f"{served.http}/api/v1/compression/jobs",
            headers=served.headers,
            json={"operation": "compress", "source": f"{tmp_path}/gone/x", "destination": f"{tmp_path}/gone/x.zst"},
        )
        assert answer.status_code == 409 and answer.json()["error"]["code"] == "root_unavailable", answer.text
    finally:
        assert stop_served(served) == 0
    warnings = [line for line in served.output().splitlines() if "do not exist" in line]
    assert len(warnings) == 1 and " WARNING " in warnings[0], warnings
    assert warnings[0].endswith(
        f"SIGMAVAULT_JOB_ROOTS names directories that do not exist (yet): "
        f"{tmp_path}/pool-not-mounted, {tmp_path}/gone; file jobs there are refused "
        "(409 root_unavailable) until they are made or mounted"
    )
