"""configs/sigmavault-engined.service: systemd accepts it, and the engine runs inside its sandbox.

systemd-analyze verify needs the ExecStart binary to exist, so the unit is verified as a copy whose
ExecStart points at an executable made here. The sandbox test applies the unit's syscall filter,
capability bound, NoNewPrivileges and MemoryDenyWriteExecute by hand (tests/unit_sandbox.py; no
systemd is running here) to a real ``engined serve`` and drives every task path through it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.config import EngineConfig
from perf.procs import free_port
from tests.leaks import own
from tests.unit_sandbox import service_settings

ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "configs" / "sigmavault-engined.service"
DROP_IN = ROOT / "configs" / "sigmavault-engined.service.d" / "host-mounts.conf"
ANALYZE = shutil.which("systemd-analyze") or "/usr/bin/systemd-analyze"


def verify(unit_dir: Path, name: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SYSTEMD_UNIT_PATH": f"{unit_dir}:"}  # the trailing ':' keeps the system's paths
    return subprocess.run(
        [ANALYZE, "verify", str(unit_dir / name)], capture_output=True, text=True, env=env, timeout=60
    )


@pytest.fixture
def unit_dir(tmp_path: Path) -> Path:
    if not Path(ANALYZE).exists():
        pytest.skip("systemd-analyze is not installed (package systemd)")
    binary = tmp_path / "bin" / "engined"
    binary.parent.mkdir()
    binary.write_text("#!/bin/sh\nexit 0\n")
    binary.chmod(0o755)
    text = UNIT.read_text()
    assert "ExecStart=/opt/sigmavault/venv/bin/engined serve" in text
    (tmp_path / UNIT.name).write_text(text.replace("/opt/sigmavault/venv/bin/engined", str(binary)))
    return tmp_path


def test_unit_verifies(unit_dir: Path) -> None:
    done = verify(unit_dir, UNIT.name)
    # verify exits 0 on unknown keys and bad values, only printing them: any output is a failure
    assert done.returncode == 0 and not done.stdout.strip() and not done.stderr.strip(), done.stdout + done.stderr


def test_unit_with_the_host_mounts_drop_in_verifies(unit_dir: Path) -> None:
    drop_ins = unit_dir / f"{UNIT.name}.d"
    drop_ins.mkdir()
    shutil.copy(DROP_IN, drop_ins)
    done = verify(unit_dir, UNIT.name)
    assert done.returncode == 0 and not done.stdout.strip() and not done.stderr.strip(), done.stdout + done.stderr


def test_verify_is_not_vacuous(unit_dir: Path) -> None:
    path = unit_dir / UNIT.name
    path.write_text(path.read_text().replace("ProtectSystem=strict", "ProtectSystm=strict"))
    assert "Unknown key 'ProtectSystm'" in verify(unit_dir, UNIT.name).stderr


def test_unit_settings_that_matter() -> None:
    settings = service_settings(UNIT)
    assert settings["Type"] == ["notify"] and settings["NotifyAccess"] == ["main"]
    assert settings["CapabilityBoundingSet"] == ["CAP_SYS_ADMIN CAP_SYS_RAWIO"]
    assert settings["StateDirectory"] == ["sigmavault"]
    assert settings["EnvironmentFile"] == ["-/etc/sigmavault/engined.env"]
    assert settings["KillMode"] == ["mixed"]  # SIGTERM to the supervisor alone: it drains its children


def _get(url: str, token: str = "") -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(request, timeout=5) as response:
        return int(response.status)


@pytest.fixture
def sandboxed_engine(tmp_path: Path) -> Iterator[tuple[int, int, subprocess.Popen[bytes], Path]]:
    if os.geteuid() != 0:
        pytest.skip("the unit runs the engine as root; this test needs root to apply its bounds")
    http_port, grpc_port = free_port(), free_port()
    log = tmp_path / "engined.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SIGMAVAULT_")},
        "PYTHONPATH": str(ROOT),
        "SIGMAVAULT_HOST": "127.0.0.1",
        "SIGMAVAULT_ENGINE_PORT": str(http_port),
        "SIGMAVAULT_GRPC_PORT": str(grpc_port),
        "SIGMAVAULT_WORKERS": "2",
        "SIGMAVAULT_SLOTS": "64",
        "SIGMAVAULT_DATA_DIR": str(tmp_path / "data"),
        "SIGMAVAULT_RUN_DIR": str(tmp_path / "sock"),  # not the box's /run/sigmavault
        "SIGMAVAULT_METRICS_INTERVAL": "0.2",
        "SIGMAVAULT_SHUTDOWN_GRACE": "3",
    }
    with log.open("wb") as out:
        command = [sys.executable, "-m", "tests.unit_sandbox", str(UNIT), "--", sys.executable, "-m", "engine", "serve"]
        proc = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
    own(proc.pid)  # exec keeps the pid: the engine's segments are this run's
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                if proc.returncode == 77:
                    pytest.skip(log.read_text().strip())
                pytest.fail(f"engined serve under the unit's sandbox exited {proc.returncode}:\n{log.read_text()}")
            try:
                if _get(f"http://127.0.0.1:{http_port}/readyz") == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield http_port, grpc_port, proc, log
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _status(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {k: v.strip() for k, _, v in (line.partition(":") for line in lines)}


@pytest.mark.multiprocess
def test_engine_runs_inside_the_units_sandbox(
    sandboxed_engine: tuple[int, int, subprocess.Popen[bytes], Path], tmp_path: Path
) -> None:
    http_port, grpc_port, proc, log = sandboxed_engine
    token_file = log.parent / "data" / "api-token"  # generated at the engine's first start
    import psutil

    for process in [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]:
        status = _status(process.pid)
        assert status["Seccomp"] == "2" and status["NoNewPrivs"] == "1", status
        assert int(status["CapBnd"], 16) == (1 << 21) | (1 << 17)  # CAP_SYS_ADMIN, CAP_SYS_RAWIO
    # the data plane (gRPC compress and echo, lz4 streams, HTTP tasks) and the system readers
    for scenario in ("grpc-unary", "grpc-stream", "http"):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "perf",
                "load",
                "--grpc-port",
                str(grpc_port),
                "--http-port",
                str(http_port),
                "--scenario",
                scenario,
                "--duration",
                "0.7",
                "--concurrency",
                "2",
                "--token-file",
                str(token_file),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        )
        assert done.returncode == 0, done.stderr
        assert " errors 0" in done.stdout, done.stdout
    for path in ("system/status", "system/metrics", "storage/disks", "storage/pools", "network/phantommesh"):
        assert _get(f"http://127.0.0.1:{http_port}/api/v1/{path}", token_file.read_text().strip()) == 200, path
    text = log.read_text()
    assert "Traceback" not in text and "Operation not permitted" not in text, text


def test_the_sandbox_helper_is_not_vacuous() -> None:
    """Under the unit's bounds a call outside the filter gets EPERM and W+X memory is refused."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    probe = (
        "import ctypes, mmap\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "libc.syscall(168, b'/nonexistent'); print('swapoff', ctypes.get_errno())\n"  # swapoff: not in the filter
        "libc.syscall(165, b'none', b'/nonexistent', b'tmpfs', 0, None); print('mount', ctypes.get_errno())\n"
        "try:\n    mmap.mmap(-1, 4096, prot=7)\nexcept OSError as exc:\n    print('wx', exc.errno)\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "tests.unit_sandbox", str(UNIT), "--", sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
    )
    if done.returncode == 77:
        pytest.skip(done.stderr.strip())
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["swapoff", "1", "mount", "2", "wx", "13"]  # EPERM; ENOENT (allowed); EACCES


def test_the_pool_root_is_writable_under_the_unit() -> None:
    """SIGMAVAULT_POOL_ROOT's default is a path the unit's ReadWritePaths= names, as the env example says."""
    settings = service_settings(UNIT)
    pool_root = EngineConfig.from_env(environ={}, env_file=None).pool_root
    assert pool_root in settings["ReadWritePaths"][0].split()
    example = (ROOT / "configs" / "production.env.example").read_text()
    assert f"SIGMAVAULT_POOL_ROOT={pool_root}\n" in example
