"""Races against path resolution (engine/files/beneath.py, paths.py) and rewrap (rewrap_job.py): a
parent directory flipped between a real directory and a symlink out of the root while sources are
opened and outputs created, a file flipped to a FIFO, and rewrap's files swapped after the request.

Each race runs many times (bounded in time); nothing may ever be read from or written outside the
root, and nothing may block."""

from __future__ import annotations

import contextlib
import os
import stat
import time
from typing import TYPE_CHECKING

import pytest

from engine.errors import AlreadyExists, BadRequest, Conflict, NotFound
from engine.files import rewrap_job
from engine.files.output import AtomicOutput, temporary_for
from engine.files.paths import PathPolicy
from engine.files.sealed import parse_header
from engine.files.sealed_files import rewrap_at, seal_bytes
from engine.keys.keystore import Keystore
from tests.utils import flipping

if TYPE_CHECKING:
    from pathlib import Path

INSIDE, SECRET = b"inside the root " * 64, b"OUTSIDE SECRET " * 64
RACE_S = 2.0


def listing(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


@pytest.mark.parametrize("target", ["absolute", "relative"])
def test_a_parent_directory_swapped_for_a_symlink_never_redirects(tmp_path: Path, target: str) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    sub, parked = root / "share" / "sub", root / "share" / ".parked"
    sub.mkdir(parents=True)
    outside.mkdir()
    (sub / "data.bin").write_bytes(INSIDE)
    (outside / "data.bin").write_bytes(SECRET)
    before = listing(outside)
    link = str(outside) if target == "absolute" else "../../outside"
    policy = PathPolicy([str(root)])

    def flip() -> None:  # the real directory moved aside, a symlink out in its place, and back
        os.rename(sub, parked)
        os.symlink(link, sub)
        os.unlink(sub)
        os.rename(parked, sub)
        time.sleep(0.0002)  # a moment as it should be, so some requests get through

    outcomes: dict[str, int] = {}
    with flipping(flip) as flips:
        deadline, n = time.monotonic() + RACE_S, 0
        while time.monotonic() < deadline or n < 200:
            n += 1
            try:
                with policy.source(str(sub / "data.bin")) as source:
                    assert os.pread(source.fd, len(INSIDE) + 1, 0) == INSIDE
                with policy.destination(str(sub / f"out-{n}"), False) as dest:
                    out = AtomicOutput(dest.dir_fd, dest.name, temporary_for(dest.name, f"job-{n}"), overwrite=False)
                    out.open()
                    out.commit()
                outcomes["admitted"] = outcomes.get("admitted", 0) + 1
            except (BadRequest, NotFound) as exc:
                outcomes[exc.code or ""] = outcomes.get(exc.code or "", 0) + 1
    assert listing(outside) == before, "something was written outside the root"
    assert flips[0] > 50 and outcomes.get("admitted", 0) > 0, (flips, outcomes)
    assert set(outcomes) <= {"admitted", "symlink_escape", "not_found", "no_directory"}, outcomes
    written = {p.name for p in (sub if sub.is_dir() and not sub.is_symlink() else parked).iterdir()}
    assert len(written - {"data.bin"}) == outcomes["admitted"]  # every admitted output is inside


def test_a_file_swapped_for_a_fifo_is_refused_and_never_blocks(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "data.bin").write_bytes(INSIDE)
    os.mkfifo(root / "fifo")
    os.link(root / "data.bin", root / "file")
    policy = PathPolicy([str(root)])

    def flip() -> None:
        os.rename(root / "fifo", root / "data.bin")  # the FIFO over the name
        os.link(root / "data.bin", root / "fifo")
        os.rename(root / "file", root / "data.bin")  # the file back
        os.link(root / "data.bin", root / "file")

    codes: dict[str, int] = {}
    with flipping(flip):
        deadline = time.monotonic() + RACE_S
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                with policy.source(str(root / "data.bin")) as source:
                    assert stat.S_ISREG(os.fstat(source.fd).st_mode)
                    assert os.pread(source.fd, len(INSIDE) + 1, 0) == INSIDE
                codes["opened"] = codes.get("opened", 0) + 1
            except (BadRequest, NotFound) as exc:
                codes[exc.code or ""] = codes.get(exc.code or "", 0) + 1
            assert time.monotonic() - started < 1.0
    assert codes.get("opened", 0) > 0 and codes.get("not_a_file", 0) > 0, codes
    assert set(codes) <= {"opened", "not_a_file", "source_changed", "not_found"}, codes


@pytest.fixture
def keystore(tmp_path: Path) -> Keystore:
    return Keystore.open(tmp_path / "data")


def sealed_to_an_old_key(store: Keystore) -> bytes:
    """A sealed file to the current key (the test rotates next, so the key becomes an old one)."""
    return seal_bytes(INSIDE, store.current.recipient, block_bytes=4096)


def test_rewrap_of_a_file_swapped_for_a_fifo_fails_at_once(tmp_path: Path, keystore: Keystore) -> None:
    root = tmp_path / "root"
    (root / "dir").mkdir(parents=True)
    blob = sealed_to_an_old_key(keystore)
    (root / "dir" / "a.sv").write_bytes(blob)
    (root / "named.sv").write_bytes(blob)
    keystore.rotate()
    policy = PathPolicy([str(root)])
    in_dir, named = rewrap_job.plan(policy, str(root / "dir")), rewrap_job.plan(policy, str(root / "named.sv"))
    try:
        for path in (root / "dir" / "a.sv", root / "named.sv"):
            path.unlink()
            os.mkfifo(path)
        started = time.monotonic()
        with pytest.raises(BadRequest) as listed:  # reached again at its turn: opened O_NONBLOCK, refused
            rewrap_job._rewrap_one(in_dir, ("a.sv",), keystore, ".a.sv.job-1.part")
        with pytest.raises(Conflict) as held:  # read through the request's descriptor; not renamed over a FIFO
            rewrap_job._rewrap_one(named, (), keystore, ".named.sv.job-1.part")
        assert time.monotonic() - started < 1.0
    finally:
        in_dir.close()
        named.close()
    assert listed.value.code == "not_a_file" and "FIFO" in listed.value.message
    assert held.value.code == "source_changed"
    assert sorted(p.name for p in root.rglob("*")) == ["a.sv", "dir", "named.sv"]  # no temporary left
    assert stat.S_ISFIFO((root / "named.sv").lstat().st_mode)


def test_rewrap_never_follows_a_directory_swapped_for_a_symlink(tmp_path: Path, keystore: Keystore) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "top" / "sub").mkdir(parents=True)
    outside.mkdir()
    blob = sealed_to_an_old_key(keystore)
    (root / "top" / "sub" / "f.sv").write_bytes(blob)
    (outside / "f.sv").write_bytes(blob)
    keystore.rotate()
    found = rewrap_job.plan(PathPolicy([str(root)]), str(root / "top"))
    try:
        assert found.files == [("sub", "f.sv")]
        (root / "top" / "sub").rename(root / "top" / "moved")
        (root / "top" / "sub").symlink_to(outside)
        with pytest.raises(Conflict) as info:
            rewrap_job._rewrap_one(found, ("sub", "f.sv"), keystore, ".f.sv.job-2.part")
    finally:
        found.close()
    assert info.value.code == "source_changed"
    assert (outside / "f.sv").read_bytes() == blob and os.listdir(outside) == ["f.sv"]


def test_rewrap_keeps_each_files_owner_group_and_mode(tmp_path: Path, keystore: Keystore) -> None:
    (tmp_path / "f.sv").write_bytes(sealed_to_an_old_key(keystore))
    os.chmod(tmp_path / "f.sv", 0o640)
    owner = (4242, 4343) if os.geteuid() == 0 else (os.getuid(), os.getgid())
    if os.geteuid() == 0:
        os.chown(tmp_path / "f.sv", *owner)
    second = keystore.rotate()
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        assert rewrap_at(fd, "f.sv", keystore).rewrapped is True
    finally:
        os.close(fd)
    st = (tmp_path / "f.sv").stat()
    assert (st.st_uid, st.st_gid) == owner and stat.S_IMODE(st.st_mode) == 0o640
    assert parse_header((tmp_path / "f.sv").read_bytes()).key_id == second.key_id


def test_descriptors_of_a_rewrap_plan_are_closed(tmp_path: Path, keystore: Keystore) -> None:
    root = tmp_path / "root"
    (root / "d" / "e").mkdir(parents=True)
    (root / "d" / "e" / "f.sv").write_bytes(sealed_to_an_old_key(keystore))
    keystore.rotate()
    policy = PathPolicy([str(root)])
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(20):
        found = rewrap_job.plan(policy, str(root / "d"))
        try:
            rewrap_job._rewrap_one(found, found.files[0], keystore, ".f.sv.job-3.part")
        finally:
            found.close()
        with contextlib.suppress(BadRequest, NotFound, AlreadyExists):
            rewrap_job.plan(policy, str(root / "missing")).close()
    assert len(os.listdir("/proc/self/fd")) == before


def test_rewrap_never_reads_or_replaces_a_hard_link_to_a_key_file(tmp_path: Path, keystore: Keystore) -> None:
    """A directory holding a hard link to the keystore's private key is refused at the request; a file
    swapped for such a link after the listing fails ``data_dir`` at its turn, neither read nor replaced."""
    root, data = tmp_path / "root", tmp_path / "data"
    (root / "top").mkdir(parents=True)
    key_file = next((data / "keys").glob("hpke-*.json"))
    (root / "top" / "f.sv").write_bytes(sealed_to_an_old_key(keystore))
    keystore.rotate()
    policy = PathPolicy([str(root)], data_dir=str(data))
    key_bytes = key_file.read_bytes()
    os.link(key_file, root / "top" / "key.json")
    with pytest.raises(BadRequest) as info:
        rewrap_job.plan(policy, str(root / "top"))
    assert info.value.code == "data_dir"
    os.unlink(root / "top" / "key.json")
    found = rewrap_job.plan(policy, str(root / "top"))
    try:
        assert found.files == [("f.sv",)]
        os.unlink(root / "top" / "f.sv")
        os.link(key_file, root / "top" / "f.sv")
        with pytest.raises(BadRequest) as info:
            rewrap_job._rewrap_one(found, ("f.sv",), keystore, ".f.sv.job-4.part")
    finally:
        found.close()
    assert info.value.code == "data_dir"
    assert key_file.read_bytes() == key_bytes and os.path.samefile(key_file, root / "top" / "f.sv")
    assert sorted(os.listdir(root / "top")) == ["f.sv"]
