"""Path rules of file jobs (engine/files/paths.py) and their atomic outputs (engine/files/output.py)."""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING

import pytest

from engine.errors import AlreadyExists, BadRequest, InsufficientSpace, NotFound
from engine.files.output import AtomicOutput, remove_stale, temporary_for
from engine.files.paths import PathPolicy, check_free_space

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def roots(tmp_path: Path) -> tuple[Path, Path, PathPolicy]:
    inside, outside = tmp_path / "inside", tmp_path / "outside"
    inside.mkdir()
    outside.mkdir()
    (inside / "file").write_bytes(b"data")
    (outside / "secret").write_bytes(b"secret")
    return inside, outside, PathPolicy([str(inside)])


def refused(call: object, *args: object) -> BadRequest:
    with pytest.raises(BadRequest) as info:
        call(*args)  # type: ignore[operator]
    return info.value


def test_sources_inside_the_roots(roots: tuple[Path, Path, PathPolicy]) -> None:
    inside, outside, policy = roots
    assert policy.source(str(inside / "file")) == inside / "file"
    assert refused(policy.source, str(outside / "secret")).code == "outside_roots"
    assert refused(policy.source, f"{inside}/../outside/secret").code == "path_escape"
    assert refused(policy.source, "relative/file").code == "invalid_path"
    assert refused(policy.source, "").code == "invalid_path"
    assert refused(policy.source, f"{inside}/a\0b").code == "invalid_path"
    with pytest.raises(NotFound):
        policy.source(str(inside / "missing"))


def test_symlinks_that_leave_the_roots(roots: tuple[Path, Path, PathPolicy]) -> None:
    inside, outside, policy = roots
    (inside / "out").symlink_to(outside / "secret")
    (inside / "outdir").symlink_to(outside)
    (inside / "in").symlink_to(inside / "file")
    assert refused(policy.source, str(inside / "out")).code == "symlink_escape"
    assert refused(policy.destination, str(inside / "outdir" / "new"), False).code == "symlink_escape"
    assert policy.source(str(inside / "in")) == inside / "file"  # a link that stays inside is followed
    assert refused(policy.destination, str(inside / "in"), True).code == "symlink_escape"


def test_not_regular_files(roots: tuple[Path, Path, PathPolicy]) -> None:
    inside, _, policy = roots
    os.mkfifo(inside / "fifo")
    (inside / "dir").mkdir()
    assert "a FIFO" in refused(policy.source, str(inside / "fifo")).message
    assert "a directory" in refused(policy.source, str(inside / "dir")).message
    assert "a FIFO" in refused(policy.destination, str(inside / "fifo"), True).message
    if os.geteuid() == 0:
        os.mknod(inside / "null", stat.S_IFCHR | 0o600, os.makedev(1, 3))
        assert "a character device" in refused(policy.source, str(inside / "null")).message
    assert refused(policy.destination, f"{inside}/nodir/x", False).code == "no_directory"
    assert refused(policy.destination, f"{inside}/", False).code == "not_a_file"


def test_destinations(roots: tuple[Path, Path, PathPolicy]) -> None:
    inside, _, policy = roots
    assert not policy.destination(str(inside / "new"), False).exists
    with pytest.raises(AlreadyExists):
        policy.destination(str(inside / "file"), False)
    assert policy.destination(str(inside / "file"), True).exists
    src = policy.source(str(inside / "file"))
    assert refused(policy.destination, str(inside / "file"), True, src).code == "same_file"


def test_names_the_kernel_refuses_are_refused_not_crashes(roots: tuple[Path, Path, PathPolicy]) -> None:
    """A name over NAME_MAX and a symlink loop raise OSError from stat: found by the paths fuzzer as 500s."""
    inside, _, policy = roots
    long_name = str(inside / ("y" * 300))
    assert "File name too long" in refused(policy.destination, long_name, False).message
    assert refused(policy.existing, long_name).code == "invalid_path"
    (inside / "loop").symlink_to(inside / "loop")
    assert "symbolic links" in refused(policy.existing, str(inside / "loop")).message
    assert refused(policy.source, str(inside / "loop")).code == "invalid_path"


def test_a_root_that_is_a_symlink(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    (tmp_path / "real" / "f").write_bytes(b"x")
    policy = PathPolicy([str(tmp_path / "link")])
    assert policy.source(str(tmp_path / "link" / "f")) == tmp_path / "real" / "f"


def test_free_space(tmp_path: Path) -> None:
    assert check_free_space(tmp_path, 1, "a test") > 0
    with pytest.raises(InsufficientSpace) as info:
        check_free_space(tmp_path, 1 << 62, "a test")
    assert info.value.metadata["needed"] == str(1 << 62)


def test_atomic_output(tmp_path: Path) -> None:
    dest = tmp_path / "out"
    tmp = temporary_for(dest, "job-00aa11bb22cc")
    out = AtomicOutput(dest, tmp, overwrite=False, mode=0o640)
    out.open()
    os.write(out.fd, b"hello")
    assert not dest.exists() and tmp.exists()
    out.commit()
    assert dest.read_bytes() == b"hello" and not tmp.exists()
    assert stat.S_IMODE(dest.stat().st_mode) == 0o640
    out.discard()  # after a commit: nothing to remove, the output stays
    assert dest.exists()


def test_output_without_overwrite_never_replaces(tmp_path: Path) -> None:
    dest = tmp_path / "out"
    out = AtomicOutput(dest, temporary_for(dest, "job-1"), overwrite=False)
    out.open()
    dest.write_bytes(b"appeared meanwhile")
    with pytest.raises(AlreadyExists):
        out.commit()
    out.discard()
    assert dest.read_bytes() == b"appeared meanwhile"
    assert os.listdir(tmp_path) == ["out"]


def test_discard_and_stale_temporaries(tmp_path: Path) -> None:
    dest = tmp_path / "out"
    out = AtomicOutput(dest, temporary_for(dest, "job-2"), overwrite=True)
    out.open()
    out.discard()
    assert os.listdir(tmp_path) == []
    stale = temporary_for(dest, "job-abc123")
    stale.write_bytes(b"partial")
    assert not remove_stale(str(tmp_path / "someone-elses-file"))
    (tmp_path / "someone-elses-file").write_bytes(b"keep")
    assert not remove_stale(str(tmp_path / "someone-elses-file"))
    assert remove_stale(str(stale)) and not stale.exists()
    assert not remove_stale(str(stale))
