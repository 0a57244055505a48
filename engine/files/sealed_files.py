"""Whole-file operations on the sealed format that are not block jobs: re-wrapping a file's header to
a new key, and the in-memory reference path (``seal_bytes``/``open_bytes``) that tests, test vectors
and small inline payloads use. Big files go through the workers block by block (engine/core/agents/sealing.py)."""

from __future__ import annotations

import dataclasses
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from engine.common.atomic import AtomicFile
from engine.errors import BadRequest, Conflict
from engine.files.beneath import FILE_FLAGS
from engine.files.errors import CorruptFile
from engine.files.fileio import write_all
from engine.files.models import Rewrapped
from engine.files.paths import kind_of
from engine.files.sealed import (
    MAGIC,
    DataKey,
    SealedHeader,
    iter_records,
    new_header,
    open_block,
    open_data_key,
    parse_header,
    read_header,
    rewrap_header,
    seal_block,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives import hpke

    from engine.keys.keyfile import Recipient
    from engine.keys.keystore import Keystore


def seal_bytes(
    data: bytes, recipient: Recipient, block_bytes: int = 1 << 20, compressed: bool = False, level: int = 3
) -> bytes:
    header, key = new_header(recipient, original_bytes=len(data), block_bytes=block_bytes, compressed=compressed)
    return header.to_bytes() + seal_blocks(key, header, data, level)


def seal_blocks(key: DataKey, header: SealedHeader, data: bytes, level: int = 3) -> bytes:
    view = memoryview(data)
    b = header.block_bytes
    return b"".join(
        seal_block(key, header, i, view[i * b : i * b + header.plain_bytes(i)], level) for i in range(header.n_blocks)
    )


def open_bytes(blob: bytes, private_key: hpke.MLKEM768X25519PrivateKey, key_id: bytes) -> bytes:
    header = parse_header(blob)
    key = open_data_key(header, private_key, key_id)
    return open_blocks(key, header, blob)


def open_blocks(key: DataKey, header: SealedHeader, blob: bytes) -> bytes:
    """Every block of a whole sealed file held in memory, checked in order."""
    view = memoryview(blob)
    with _MemoryFd(blob) as fd:
        return b"".join(
            open_block(key, header, rec.index, view[rec.offset : rec.offset + rec.length])
            for rec in iter_records(fd, header, len(blob))
        )


class _MemoryFd:
    """A descriptor onto bytes (memfd) so the fd-based record walker serves in-memory files too."""

    def __init__(self, data: bytes) -> None:
        self.fd = os.memfd_create("sealed", os.MFD_CLOEXEC)
        os.write(self.fd, data)

    def __enter__(self) -> int:
        return self.fd

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)


def rewrap_file(
    path: str | Path, keystore: Keystore, recipient: Recipient | None = None, *, tmp: Path | None = None
) -> Rewrapped:
    """``rewrap_at`` for a path (its directory opened here): for tools and tests; jobs hold descriptors."""
    path = Path(path)
    dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        result = rewrap_at(dir_fd, path.name, keystore, recipient, tmp=tmp.name if tmp else None)
    finally:
        os.close(dir_fd)
    return dataclasses.replace(result, path=str(path))


def open_regular(dir_fd: int, name: str) -> int:
    """``name`` in ``dir_fd`` opened O_NOFOLLOW | O_NONBLOCK and checked to be a regular file: a
    symlink fails (ELOOP), a FIFO opens at once and is refused (it never parks the thread)."""
    fd = os.open(name, FILE_FLAGS, dir_fd=dir_fd)
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise BadRequest(f"{name!r} is {kind_of(mode)}, not a sealed file", code="not_a_file")
    return fd


def rewrap_at(
    dir_fd: int,
    name: str,
    keystore: Keystore,
    recipient: Recipient | None = None,
    *,
    tmp: str | None = None,
    fd: int = -1,
    skip_unsealed: bool = False,
) -> Rewrapped:
    """Re-wrap the data key of the file ``name`` in the directory open as ``dir_fd`` from whichever
    keystore key it is sealed to, to ``recipient`` (default: the keystore's current key), without
    re-encrypting: a new header is written to a temporary file beside it (engine/common/atomic.py:
    created O_EXCL | O_NOFOLLOW, given the file's owner, group and mode), the blocks are copied
    after it (copy_file_range: a reflink on btrfs/XFS), the copy is fsynced and renamed over the
    original, all under ``dir_fd``. A crash leaves the old file or the new one, never a file whose
    data key is lost. ``fd``: the file already open (a job's, held since its request); ``tmp``
    names the temporary file (a job records it first, so a crash's leftover is removed at the next
    start); ``skip_unsealed``: a file without the sealed magic is left alone (``skipped``)."""
    target = recipient or keystore.current.recipient
    src = fd if fd >= 0 else open_regular(dir_fd, name)
    tmp = tmp or f".{name}.rewrap-{os.getpid()}.tmp"
    try:
        if skip_unsealed and os.pread(src, len(MAGIC), 0) != MAGIC:
            return Rewrapped("", False, skipped=True)
        header = read_header(src)
        if header.key_id == target.key_id:
            return Rewrapped(target.key_id.hex(), False)
        old = keystore.get(header.key_id)
        new = rewrap_header(header, old.private_key, old.key_id, target)
        st = os.fstat(src)
        owner, mode = (st.st_uid, st.st_gid), stat.S_IMODE(st.st_mode)
        with AtomicFile(dir_fd, name, tmp, mode=mode, owner=owner) as out:
            dst = out.open()
            write_all(dst, memoryview(new.to_bytes()))
            _copy_range(src, dst, header.header_bytes, st.st_size - header.header_bytes)
            out.sync()
            _still_there(dir_fd, name, st)
            out.publish()
    finally:
        if src != fd:
            os.close(src)
    return Rewrapped(target.key_id.hex(), True, previous_key_id=header.key_id.hex())


def _still_there(dir_fd: int, name: str, st: os.stat_result) -> None:
    """The name still holds the file that was copied (not one swapped in meanwhile, nor a FIFO)."""
    try:
        now = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        now = None
    if now is None or (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
        raise Conflict(
            f"{name!r} was replaced or removed while it was re-wrapped; it was left as it is", code="source_changed"
        )


def _copy_range(src: int, dst: int, offset: int, count: int) -> None:
    out = os.lseek(dst, 0, os.SEEK_END)
    while count > 0:
        n = os.copy_file_range(src, dst, count, offset, out)
        if n == 0:
            raise CorruptFile("sealed file shrank while being re-wrapped", code="truncated")
        offset, out, count = offset + n, out + n, count - n
