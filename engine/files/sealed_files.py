"""Whole-file operations on the sealed format that are not block jobs: re-wrapping a file's header to
a new key, and the in-memory reference path (``seal_bytes``/``open_bytes``) that tests, test vectors
and small inline payloads use. Big files go through the workers block by block (engine/agents/sealing.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.files.errors import CorruptFile
from engine.files.sealed import (
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
from engine.fsutil import fsync_directory

if TYPE_CHECKING:
    from cryptography.hazmat.primitives import hpke

    from engine.keyfile import Recipient
    from engine.keys import Keystore


def seal_bytes(data: bytes, recipient: Recipient, block_bytes: int = 1 << 20, compressed: bool = False,
               level: int = 3) -> bytes:  # fmt: skip
    header, key = new_header(recipient, original_bytes=len(data), block_bytes=block_bytes, compressed=compressed)
    return header.to_bytes() + seal_blocks(key, header, data, level)


def seal_blocks(key: DataKey, header: SealedHeader, data: bytes, level: int = 3) -> bytes:
    view = memoryview(data)
    b = header.block_bytes
    return b"".join(seal_block(key, header, i, view[i * b : i * b + header.plain_bytes(i)], level)
                    for i in range(header.n_blocks))  # fmt: skip


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


def rewrap_file(path: str | Path, keystore: Keystore, recipient: Recipient | None = None, *,
                tmp: Path | None = None) -> dict[str, Any]:  # fmt: skip
    """Re-wrap ``path``'s data key from whichever keystore key it is sealed to, to ``recipient``
    (default: the keystore's current key), without re-encrypting: a new header is written to a
    temporary file beside it, the blocks are copied after it (copy_file_range: a reflink on
    btrfs/XFS), the copy is fsynced and renamed over the original. A crash leaves the old file or
    the new one, never a file whose data key is lost. ``tmp`` names the temporary file (a job records
    it first, so a crash's leftover is removed at the next start)."""
    path = Path(path)
    target = recipient or keystore.current.recipient
    src = os.open(path, os.O_RDONLY)
    tmp = tmp or path.with_name(f".{path.name}.rewrap-{os.getpid()}.tmp")
    try:
        header = read_header(src)
        if header.key_id == target.key_id:
            return {"path": str(path), "key_id": target.key_id.hex(), "rewrapped": False}
        old = keystore.get(header.key_id)
        new = rewrap_header(header, old.private_key, old.key_id, target)
        size = os.fstat(src).st_size
        dst = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, os.stat(path).st_mode & 0o777)
        try:
            os.write(dst, new.to_bytes())
            _copy_range(src, dst, header.header_bytes, size - header.header_bytes)
            os.fsync(dst)
        finally:
            os.close(dst)
        os.replace(tmp, path)
        fsync_directory(path.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        os.close(src)
    return {"path": str(path), "key_id": target.key_id.hex(), "previous_key_id": header.key_id.hex(), "rewrapped": True}


def _copy_range(src: int, dst: int, offset: int, count: int) -> None:
    out = os.lseek(dst, 0, os.SEEK_END)
    while count > 0:
        n = os.copy_file_range(src, dst, count, offset, out)
        if n == 0:
            raise CorruptFile("sealed file shrank while being re-wrapped", code="truncated")
        offset, out, count = offset + n, out + n, count - n
