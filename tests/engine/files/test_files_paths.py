"""Path rules of file jobs (engine/files/paths.py, resolved by engine/files/beneath.py) and their atomic
outputs (engine/files/output.py). The races (a parent directory swapped for a symlink, a file for a
FIFO) are in tests/engine/files/test_files_beneath.py."""

from __future__ import annotations

import contextlib
import os
import stat
from typing import TYPE_CHECKING

import pytest

from engine.errors import AlreadyExists, BadRequest, Conflict, InsufficientSpace, NotFound
from engine.files.output import AtomicOutput, remove_stale, temporary_for
from engine.files.paths import PathPolicy, Resolved, check_free_space

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


def path_of(handle: Resolved) -> str:
    with handle:
        return handle.path


def dir_fd(path: Path) -> int:
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY)


def test_sources_inside_the_roots(roots: tuple[Path, Path, PathPolicy]) -> None:
    inside, outside, policy = roots
    with policy.source(str(inside / "file")) as source:
        assert source.path == str(inside / "file") and source.name == "file"
        assert os.pread(source.fd, 4, 0) == b"data"  # opened at the request: the job reads this descriptor
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
    assert path_of(policy.source(str(inside / "in"))) == str(inside / "file")  # a link that stays inside is followed
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
    assert refused(policy.destination, str(inside), True).code == "not_a_file"  # the root itself


def test_destinations(roots: tuple[Path, Path, PathPolicy]) -> None:
    inside, _, policy = roots
    with policy.destination(str(inside / "new"), False) as new:
        assert not new.exists and new.name == "new" and new.fd == -1
        assert os.path.samestat(os.fstat(new.dir_fd), os.stat(inside))
    with pytest.raises(AlreadyExists):
        policy.destination(str(inside / "file"), False)
    with policy.destination(str(inside / "file"), True) as existing:
        assert existing.exists
    with policy.source(str(inside / "file")) as src:
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
    assert path_of(policy.source(str(tmp_path / "link" / "f"))) == str(tmp_path / "real" / "f")
    assert path_of(policy.source(str(tmp_path / "real" / "f"))) == str(tmp_path / "real" / "f")
    (tmp_path / "real" / "abs").symlink_to(tmp_path / "link" / "f")  # absolute, through the root's own link
    assert path_of(policy.source(str(tmp_path / "real" / "abs"))) == str(tmp_path / "real" / "f")


def test_free_space(tmp_path: Path) -> None:
    fd = dir_fd(tmp_path)
    try:
        assert check_free_space(fd, 1, "a test", str(tmp_path)) > 0
        with pytest.raises(InsufficientSpace) as info:
            check_free_space(fd, 1 << 62, "a test", str(tmp_path))
    finally:
        os.close(fd)
    assert info.value.metadata["needed"] == str(1 << 62)


def test_atomic_output(tmp_path: Path) -> None:
    fd = dir_fd(tmp_path)
    try:
        out = AtomicOutput(fd, "out", temporary_for("out", "job-00aa11bb22cc"), overwrite=False, mode=0o640)
        out.open()
        os.write(out.fd, b"hello")
        assert os.listdir(tmp_path) == [".out.job-00aa11bb22cc.part"]
        out.commit()
        out.discard()  # after a commit: nothing to remove, the output stays
    finally:
        os.close(fd)
    assert (tmp_path / "out").read_bytes() == b"hello" and os.listdir(tmp_path) == ["out"]
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o640


def test_output_is_made_where_the_descriptor_points_not_where_the_name_leads_now(tmp_path: Path) -> None:
    """The directory renamed away and a symlink put in its place after the request: the output still
    lands in the directory the request opened, never through the symlink."""
    (tmp_path / "share").mkdir()
    (tmp_path / "elsewhere").mkdir()
    fd = dir_fd(tmp_path / "share")
    try:
        (tmp_path / "share").rename(tmp_path / "moved")
        (tmp_path / "share").symlink_to(tmp_path / "elsewhere")
        out = AtomicOutput(fd, "out", temporary_for("out", "job-1"), overwrite=True)
        out.open()
        out.commit()
    finally:
        os.close(fd)
    assert os.listdir(tmp_path / "moved") == ["out"] and os.listdir(tmp_path / "elsewhere") == []


def test_output_without_overwrite_never_replaces(tmp_path: Path) -> None:
    fd = dir_fd(tmp_path)
    try:
        out = AtomicOutput(fd, "out", temporary_for("out", "job-1"), overwrite=False)
        out.open()
        (tmp_path / "out").write_bytes(b"appeared meanwhile")
        with pytest.raises(AlreadyExists):
            out.commit()
        out.discard()
    finally:
        os.close(fd)
    assert (tmp_path / "out").read_bytes() == b"appeared meanwhile"
    assert os.listdir(tmp_path) == ["out"]


def test_the_temporary_never_follows_a_symlink_planted_under_its_name(tmp_path: Path) -> None:
    (tmp_path / "victim").write_bytes(b"keep")
    (tmp_path / ".out.job-7.part").symlink_to(tmp_path / "victim")
    fd = dir_fd(tmp_path)
    try:
        with pytest.raises(FileExistsError):
            AtomicOutput(fd, "out", temporary_for("out", "job-7"), overwrite=True).open()
    finally:
        os.close(fd)
    assert (tmp_path / "victim").read_bytes() == b"keep"


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_output_gets_the_owner_it_is_given(tmp_path: Path) -> None:
    fd = dir_fd(tmp_path)
    try:
        out = AtomicOutput(fd, "out", temporary_for("out", "job-8"), overwrite=True, owner=(4242, 4343))
        out.open()
        out.commit()
    finally:
        os.close(fd)
    st = (tmp_path / "out").stat()
    assert (st.st_uid, st.st_gid) == (4242, 4343)


def test_discard_and_stale_temporaries(tmp_path: Path) -> None:
    policy = PathPolicy([str(tmp_path)])
    fd = dir_fd(tmp_path)
    try:
        out = AtomicOutput(fd, "out", temporary_for("out", "job-2"), overwrite=True)
        out.open()
        out.discard()
    finally:
        os.close(fd)
    assert os.listdir(tmp_path) == []
    stale = tmp_path / temporary_for("out", "job-abc123")
    stale.write_bytes(b"partial")
    assert not remove_stale(policy, str(tmp_path / "someone-elses-file"))
    (tmp_path / "someone-elses-file").write_bytes(b"keep")
    assert not remove_stale(policy, str(tmp_path / "someone-elses-file"))
    assert remove_stale(policy, str(stale)) and not stale.exists()
    assert not remove_stale(policy, str(stale))


def test_stale_temporaries_are_removed_only_beneath_the_roots(tmp_path: Path) -> None:
    """A crash's record names a temporary; the directory was swapped for a symlink out of the root
    since: the file of the same name out there is left alone."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    name = temporary_for("out", "job-abc")
    (outside / name).write_bytes(b"not ours")
    (root / "share").symlink_to(outside)
    assert not remove_stale(PathPolicy([str(root)]), str(root / "share" / name))
    assert (outside / name).exists()


def test_no_roots_is_said_clearly(tmp_path: Path) -> None:
    policy = PathPolicy([])
    for call in (policy.source, policy.existing):
        with pytest.raises(Conflict) as info:
            call(str(tmp_path / "x"))
        assert info.value.code == "no_job_roots" and "SIGMAVAULT_JOB_ROOTS" in info.value.message


def test_a_missing_root_is_refused_not_crashed(tmp_path: Path) -> None:
    policy = PathPolicy([str(tmp_path / "gone")])
    with pytest.raises(Conflict) as info:
        policy.source(str(tmp_path / "gone" / "x"))
    assert info.value.code == "root_unavailable"


def test_the_data_directory_and_credentials_are_never_reached(tmp_path: Path) -> None:
    """Outside the roots it is outside_roots or symlink_escape; and where it is reachable all the
    same (a bind mount, or here a data directory under a root, which start-up refuses) its device
    and inode stop the walk: data_dir."""
    root = tmp_path / "root"
    data = root / "state"
    (data / "keys").mkdir(parents=True)
    (data / "keys" / "hpke-1.json").write_bytes(b"private key")
    (data / "jobs.sqlite3").write_bytes(b"db")
    token = root / "token"
    token.write_text("secret")
    (root / "share").mkdir()
    (root / "share" / "keys").symlink_to(data / "keys")
    policy = PathPolicy([str(root)], data_dir=str(data), private=[str(token)])
    for raw in (data / "keys" / "hpke-1.json", data / "jobs.sqlite3", root / "share" / "keys" / "hpke-1.json", token):
        assert refused(policy.source, str(raw)).code == "data_dir", raw
    assert refused(policy.existing, str(data)).code == "data_dir"
    assert refused(policy.destination, str(data / "keys" / "hpke-1.json"), True).code == "data_dir"
    assert refused(policy.destination, str(root / "share" / "keys" / "new"), True).code == "data_dir"
    assert refused(policy.destination, str(token), True).code == "data_dir"  # never replaced by an output
    outside = PathPolicy([str(root / "share")], data_dir=str(data))
    assert refused(outside.source, str(data / "keys" / "hpke-1.json")).code == "outside_roots"
    assert refused(outside.source, str(root / "share" / "keys" / "hpke-1.json")).code == "symlink_escape"


def test_no_descriptor_outlives_a_resolution(tmp_path: Path) -> None:
    inside = tmp_path / "in"
    (inside / "a" / "b").mkdir(parents=True)
    (inside / "a" / "b" / "f").write_bytes(b"x")
    (inside / "link").symlink_to(inside / "a")
    (inside / "out").symlink_to(tmp_path)
    policy = PathPolicy([str(inside)])
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(50):
        for raw in ("a/b/f", "link/b/f", "a/b/missing", "a/b/f/x", "out/in/a/b/f", "a", "a/b/f"):
            for call in (policy.source, policy.existing):
                with contextlib.suppress(BadRequest, NotFound):
                    call(f"{inside}/{raw}").close()
            with contextlib.suppress(BadRequest, AlreadyExists):
                policy.destination(f"{inside}/{raw}", True).close()
    assert len(os.listdir("/proc/self/fd")) == before


def test_hard_links_to_the_data_directorys_files_are_refused_even_right_after_they_appear(tmp_path: Path) -> None:
    """A hard link into a root has the data directory file's (device, inode): refused ``data_dir`` as a
    source, as a path and as a destination to replace, even for a file made after the last scan (a
    file with more than one link makes the check rescan at once); other hard links are just files."""
    root, data = tmp_path / "root", tmp_path / "data"
    (data / "keys").mkdir(parents=True)
    root.mkdir()
    for name in ("keys/hpke-1.json", "keys/engine.key", "session-key", "api-tokens", "jobs.sqlite3"):
        (data / name).write_bytes(b"engine state " + name.encode())
    policy = PathPolicy([str(root)], data_dir=str(data))
    assert policy.forbidden()  # the scan is cached from here on
    (data / "keys" / "hpke-2.json").write_bytes(b"a key made by a rotation")
    before = {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}
    for number, original in enumerate(sorted(before)):
        link = root / f"link-{number}"
        os.link(original, link)
        assert refused(policy.source, str(link)).code == "data_dir", original
        assert refused(policy.existing, str(link)).code == "data_dir", original
        assert refused(policy.destination, str(link), True).code == "data_dir", original
    assert {p: p.read_bytes() for p in data.rglob("*") if p.is_file()} == before
    (root / "mine").write_bytes(b"a user's file")
    os.link(root / "mine", root / "mine-too")
    with policy.source(str(root / "mine-too")) as source:
        assert source.st is not None and source.st.st_nlink == 2


def test_overwriting_a_destination_replaces_its_name_never_the_file_behind_another_link(tmp_path: Path) -> None:
    """With overwrite the output is renamed over the name: a file the old name shared its inode with
    (another link) keeps its bytes; nothing is truncated or written through the old name."""
    (tmp_path / "other").write_bytes(b"kept as it was")
    os.link(tmp_path / "other", tmp_path / "dest")
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        out = AtomicOutput(fd, "dest", temporary_for("dest", "job-1"), overwrite=True)
        os.write(out.open(), b"the new output")
        out.commit()
    finally:
        os.close(fd)
    assert (tmp_path / "other").read_bytes() == b"kept as it was" and (tmp_path / "other").stat().st_nlink == 1
    assert (tmp_path / "dest").read_bytes() == b"the new output"


def test_a_stale_scan_never_refuses_a_users_file(tmp_path: Path) -> None:
    """A file removed from the data directory since the last scan (a SQLite journal, a rewritten
    ports.json) frees its inode, which a user's new file on the same filesystem may get: a hit in the
    cached scan is confirmed by a fresh one before anything is refused. (Seen under the FIFO-flip rewrap
    test: the cached set here stands for such a scan, holding the user's file's inode.)"""
    root, data = tmp_path / "root", tmp_path / "data"
    root.mkdir()
    data.mkdir()
    (root / "mine").write_bytes(b"a user's file")
    (root / "folder").mkdir()
    policy = PathPolicy([str(root)], data_dir=str(data))
    scanned = policy.forbidden()
    for name in ("mine", "folder"):
        st = os.stat(root / name)
        policy._forbidden = scanned | {(st.st_dev, st.st_ino)}  # what the scan held before the inode was reused
        with policy.existing(str(root / name)) as found:
            assert found.path == f"{root}/{name}"
        assert (st.st_dev, st.st_ino) not in policy._forbidden  # the fresh scan replaced the stale one
