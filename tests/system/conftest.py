"""System tests: real loop devices, real btrfs, real network namespaces. They need root and the
tools; without them they skip saying which is missing. Everything they make is removed in the
fixtures' teardown, even when the test fails (lazy unmount as a last resort)."""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine.storage.manager import StorageManager


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "system: needs root and real devices (loop, btrfs, netns); skips otherwise")


def need_root_and(*tools: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root (loop devices, mounts)")
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")


def _mounts_under(root: Path) -> list[str]:
    prefix = str(root)
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mountpoint = line.split()[4]
            if mountpoint == prefix or mountpoint.startswith(prefix + "/"):
                found.append(mountpoint)
    return sorted(found, key=len, reverse=True)


def _unmount_all(root: Path) -> None:
    for mountpoint in _mounts_under(root):
        if subprocess.run(["umount", mountpoint], capture_output=True, timeout=60).returncode != 0:
            subprocess.run(["umount", "-l", mountpoint], capture_output=True, timeout=60)


@pytest.fixture
def loop_devices(tmp_path: Path) -> Iterator[Callable[[int, int], list[str]]]:
    """``make(count, size_mib)`` attaches loop devices over sparse files in tmp_path. Teardown
    unmounts anything under tmp_path, detaches the loops and lets the kernel forget their btrfs."""
    need_root_and("losetup", "btrfs", "mkfs.btrfs", "wipefs")
    attached: list[str] = []

    def make(count: int, size_mib: int = 256) -> list[str]:
        out = []
        for _ in range(count):
            backing = tmp_path / f"disk{len(attached)}.img"
            with open(backing, "wb") as f:
                f.truncate(size_mib << 20)
            result = subprocess.run(["losetup", "-f", "--show", str(backing)], capture_output=True, text=True,
                                    timeout=30)  # fmt: skip
            if result.returncode != 0:
                pytest.skip(f"cannot attach a loop device: {result.stderr.strip()}")
            attached.append(result.stdout.strip())
            out.append(attached[-1])
        return out

    try:
        yield make
    finally:
        _unmount_all(tmp_path)
        for dev in attached:
            subprocess.run(["losetup", "-d", dev], capture_output=True, timeout=30)
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(["btrfs", "device", "scan", "--forget"], capture_output=True, timeout=30)


def backing_file(device: str) -> Path:
    """The sparse file behind a loop device (to corrupt one mirror of a pool on purpose)."""
    name = os.path.basename(device)
    return Path(Path(f"/sys/class/block/{name}/loop/backing_file").read_text().strip())


@pytest.fixture
def manager(tmp_path: Path) -> StorageManager:
    return StorageManager(tmp_path / "pools", tmp_path / "data")


_pool_ids = itertools.count(1)


@pytest.fixture
def pool_name() -> str:
    """Unique per test and process: `btrfs filesystem show` lists every filesystem on the machine,
    and a parallel run's pool must never share a label with ours."""
    return f"sv{os.getpid()}-{next(_pool_ids)}"
