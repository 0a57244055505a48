"""System tests: real loop devices, real btrfs, real network namespaces. They need root and the
tools; without them they skip saying which is missing. Everything they make is removed in the
fixtures' teardown, even when the test fails (lazy unmount as a last resort)."""

from __future__ import annotations

import contextlib
import hashlib
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
            result = subprocess.run(
                ["losetup", "-f", "--show", str(backing)], capture_output=True, text=True, timeout=30
            )
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


def pattern_file(path: Path, size: int) -> bytes:
    """Write ``size`` bytes of an 8 KiB block unique to this file; returns the block (to find it on disk)."""
    block = hashlib.sha256(path.name.encode()).hexdigest().encode() * 128
    path.write_bytes((block * (size // len(block) + 1))[:size])
    return block


def corrupt_first_copy(device: str, block: bytes) -> tuple[Path, int]:
    """Overwrite 4 KiB of a file's data on one mirror, in the loop device's backing file (the loop
    device reads the same pages); returns the backing file and the offset, to check the repair."""
    subprocess.run(["sync"], check=True, timeout=60)
    image = backing_file(device)
    offset = image.read_bytes().find(block)
    assert offset >= 0, "the file's data was not found on the first mirror"
    with open(image, "r+b") as f:
        f.seek(offset)
        f.write(b"\xde\xad" * 2048)
        os.fsync(f.fileno())
    return image, offset


@pytest.fixture
def manager(tmp_path: Path) -> StorageManager:
    return StorageManager(tmp_path / "pools", tmp_path / "data")


_pool_ids = itertools.count(1)


@pytest.fixture
def pool_name() -> str:
    """Unique per test and process: `btrfs filesystem show` lists every filesystem on the machine,
    and a parallel run's pool must never share a label with ours."""
    return f"sv{os.getpid()}-{next(_pool_ids)}"
