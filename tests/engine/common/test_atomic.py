"""engine/common/atomic.py: the one way the engine replaces a file (state files, job outputs, re-wraps)."""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING

import pytest

from engine.common.atomic import AtomicFile, temporary_name, write_file
from engine.common.fsutil import write_private

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture
def dir_fd(tmp_path: Path) -> Iterator[int]:
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    yield fd
    os.close(fd)


def test_a_small_write_replaces_the_file_whole_with_its_mode(tmp_path: Path, dir_fd: int) -> None:
    (tmp_path / "state").write_bytes(b"old")
    write_file(dir_fd, "state", b"new" * 1000, mode=0o640)
    assert (tmp_path / "state").read_bytes() == b"new" * 1000
    assert stat.S_IMODE((tmp_path / "state").stat().st_mode) == 0o640
    write_private(tmp_path / "state", b"x", durable=False)
    assert stat.S_IMODE((tmp_path / "state").stat().st_mode) == 0o600
    assert os.listdir(tmp_path) == ["state"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path, dir_fd: int) -> None:
    (tmp_path / "state").write_bytes(b"old")
    with pytest.raises(TypeError):
        write_file(dir_fd, "state", 12345)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError):
        fail_half_way(dir_fd)
    assert (tmp_path / "state").read_bytes() == b"old" and os.listdir(tmp_path) == ["state"]


def fail_half_way(dir_fd: int) -> None:
    with AtomicFile(dir_fd, "state", ".state.part") as out:
        os.write(out.open(), b"half")
        raise RuntimeError("the job failed")


def test_a_crashed_writers_temporary_is_replaced(tmp_path: Path, dir_fd: int) -> None:
    (tmp_path / temporary_name("state")).write_bytes(b"left by a crash of a process with this pid")
    write_file(dir_fd, "state", b"new")
    assert os.listdir(tmp_path) == ["state"] and (tmp_path / "state").read_bytes() == b"new"


def test_without_overwrite_a_file_that_appeared_is_kept(tmp_path: Path, dir_fd: int) -> None:
    with AtomicFile(dir_fd, "out", ".out.part", overwrite=False) as out:
        os.write(out.open(), b"mine")
        (tmp_path / "out").write_bytes(b"theirs")
        with pytest.raises(FileExistsError):
            out.commit()
    assert (tmp_path / "out").read_bytes() == b"theirs" and os.listdir(tmp_path) == ["out"]


def test_a_symlink_under_the_temporary_name_is_never_followed_nor_removed(tmp_path: Path, dir_fd: int) -> None:
    (tmp_path / "victim").write_bytes(b"keep")
    (tmp_path / ".out.part").symlink_to(tmp_path / "victim")
    out = AtomicFile(dir_fd, "out", ".out.part")
    with pytest.raises(FileExistsError):
        out.open()
    out.discard()  # it made nothing: it removes nothing
    assert (tmp_path / "victim").read_bytes() == b"keep" and (tmp_path / ".out.part").is_symlink()


def test_the_file_lands_where_the_descriptor_points(tmp_path: Path) -> None:
    (tmp_path / "share").mkdir()
    (tmp_path / "elsewhere").mkdir()
    fd = os.open(tmp_path / "share", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        (tmp_path / "share").rename(tmp_path / "moved")
        (tmp_path / "share").symlink_to(tmp_path / "elsewhere")
        write_file(fd, "state", b"x")
    finally:
        os.close(fd)
    assert os.listdir(tmp_path / "moved") == ["state"] and os.listdir(tmp_path / "elsewhere") == []


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_owner_then_mode(tmp_path: Path, dir_fd: int) -> None:
    with AtomicFile(dir_fd, "out", ".out.part", mode=0o2640, owner=(4242, 4343)) as out:
        fd = out.open()
        assert stat.S_IMODE(os.fstat(fd).st_mode) == 0o600  # private while it is written
        out.commit()
    st = (tmp_path / "out").stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (4242, 4343, 0o2640)


def test_create_mode_makes_the_file_whole_or_refuses(tmp_path: Path, dir_fd: int) -> None:
    write_file(dir_fd, "secret", b"first", overwrite=False)
    with pytest.raises(FileExistsError):
        write_private(tmp_path / "secret", b"second", overwrite=False)
    assert (tmp_path / "secret").read_bytes() == b"first" and os.listdir(tmp_path) == ["secret"]
    assert stat.S_IMODE((tmp_path / "secret").stat().st_mode) == 0o600
