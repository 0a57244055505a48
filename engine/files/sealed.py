"""The sealed (encrypted) file format, version 1: an HPKE-wrapped data key, then AES-256-GCM blocks.

Header (big-endian, docs/FORMATS.md has the full description and a test vector)::

    0  magic "SVSEAL" | 6 version=1 | 7 flags (bit 0: blocks are zstd frames) | 8 header_bytes u32
    12 kem_id=0x647A | 14 kdf_id=0x0001 | 16 aead_id=0x0002 | 18 reserved u16=0
    20 block_bytes u32 | 24 original_bytes u64 | 32 key_id[16] | 48 file_id[16] | 64 nonce_prefix[8]
    72 wrapped_key_bytes u32 | 76 wrapped key: HPKE enc (1120) || HPKE ciphertext of the data key (48)

The wrapped key is HPKE base-mode single-shot encryption of a fresh 256-bit data key to the
recipient's public key with ``info = INFO_LABEL || header[0:76]``, so every header field (sizes,
flags, ids, even the key id) is authenticated when the data key is opened; re-wrapping writes a new
header (its length may change: ``header_bytes``) around the same blocks.

Blocks (the STREAM construction, as age and Tink use): block i of ``n = max(1, ceil(original /
block_bytes))`` is sealed with AES-256-GCM under the data key, nonce = nonce_prefix || i (u32) and
associated data = file_id || i (u64) || last (u8, 1 for block n-1 only). Plain mode: records are
``ciphertext || tag`` back to back, so offsets are computable. zstd mode: a record is ``u32 length ||
ciphertext || tag`` of the block's zstd frame. Reordered, dropped, duplicated, spliced or altered
blocks fail to authenticate; a cut file fails its size check first.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import zstandard
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from engine.files.errors import AuthenticationFailed, CorruptFile
from engine.files.fileio import pread_exact
from engine.keys.keyfile import AEAD_ID, KDF_ID, KEM_ID, Recipient

if TYPE_CHECKING:
    from collections.abc import Iterator

MAGIC, VERSION = b"SVSEAL", 1
FLAG_ZSTD = 0x01
INFO_LABEL = b"sigmavault sealed file v1\x00"
FIXED = struct.Struct(">6sBBIHHHHIQ16s16s8sI")  # the 76 bytes before the wrapped key
KEY_BYTES, TAG_BYTES, NONCE_PREFIX_BYTES, FILE_ID_BYTES = 32, 16, 8, 16
WRAPPED_KEY_BYTES = hpke.KEM.MLKEM768_X25519.enc_length() + KEY_BYTES + TAG_BYTES  # 1120 + 48
MAX_BLOCK_BYTES = 64 << 20
MAX_BLOCKS = 1 << 32
LENGTH = struct.Struct(">I")
_NONCE = struct.Struct(">8sI")
_AD = struct.Struct(">16sQB")
SUITE = hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)


class DataKey:
    """A file's 256-bit data key. Its repr hides it; ``material`` is for the worker slot header."""

    __slots__ = ("_aead", "_key")

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError("a data key is 32 bytes")
        self._key = bytes(key)
        self._aead = AESGCM(self._key)

    def __repr__(self) -> str:
        return "DataKey(<hidden>)"

    @property
    def aead(self) -> AESGCM:
        return self._aead

    @property
    def material(self) -> bytes:
        return self._key


@dataclass(frozen=True, repr=False)
class SealedHeader:
    flags: int
    block_bytes: int
    original_bytes: int
    key_id: bytes
    file_id: bytes
    nonce_prefix: bytes
    wrapped_key: bytes
    version: int = VERSION

    def __repr__(self) -> str:
        return (
            f"SealedHeader(key_id={self.key_id.hex()}, file_id={self.file_id.hex()}, compressed={self.compressed}, "
            f"block_bytes={self.block_bytes}, original_bytes={self.original_bytes})"
        )

    @property
    def compressed(self) -> bool:
        return bool(self.flags & FLAG_ZSTD)

    @property
    def header_bytes(self) -> int:
        return FIXED.size + len(self.wrapped_key)

    @property
    def n_blocks(self) -> int:
        return max(1, -(-self.original_bytes // self.block_bytes))

    def plain_bytes(self, index: int) -> int:
        """Plaintext length of block ``index``."""
        return min(self.block_bytes, self.original_bytes - index * self.block_bytes)

    def fixed_bytes(self) -> bytes:
        return FIXED.pack(
            MAGIC,
            self.version,
            self.flags,
            self.header_bytes,
            KEM_ID,
            KDF_ID,
            AEAD_ID,
            0,
            self.block_bytes,
            self.original_bytes,
            self.key_id,
            self.file_id,
            self.nonce_prefix,
            len(self.wrapped_key),
        )

    def info(self) -> bytes:
        return INFO_LABEL + self.fixed_bytes()

    def to_bytes(self) -> bytes:
        return self.fixed_bytes() + self.wrapped_key

    def sealed_bytes(self) -> int | None:
        """Whole file size in plain mode (records have computable sizes); None in zstd mode."""
        return None if self.compressed else self.header_bytes + self.original_bytes + TAG_BYTES * self.n_blocks


def new_header(
    recipient: Recipient, *, original_bytes: int, block_bytes: int, compressed: bool = False
) -> tuple[SealedHeader, DataKey]:
    """A header for a new file (fresh data key, file id and nonce prefix) and its data key."""
    if not 1 <= block_bytes <= MAX_BLOCK_BYTES:
        raise ValueError(f"block_bytes must be in 1-{MAX_BLOCK_BYTES}, got {block_bytes}")
    if original_bytes < 0 or -(-original_bytes // block_bytes) > MAX_BLOCKS:
        raise ValueError(f"{original_bytes} bytes need more than {MAX_BLOCKS} blocks of {block_bytes}")
    key = os.urandom(KEY_BYTES)
    flags = FLAG_ZSTD if compressed else 0
    file_id, prefix = os.urandom(FILE_ID_BYTES), os.urandom(NONCE_PREFIX_BYTES)
    header = SealedHeader(
        flags, block_bytes, original_bytes, recipient.key_id, file_id, prefix, bytes(WRAPPED_KEY_BYTES)
    )
    return _wrap(header, key, recipient), DataKey(key)


def _wrap(header: SealedHeader, key: bytes, recipient: Recipient) -> SealedHeader:
    shell = replace(header, key_id=recipient.key_id, wrapped_key=bytes(WRAPPED_KEY_BYTES))
    wrapped = SUITE.encrypt(key, recipient.public_key, info=shell.info())
    assert len(wrapped) == WRAPPED_KEY_BYTES
    return replace(shell, wrapped_key=wrapped)


def header_length(prefix: bytes) -> int:
    """Total header size from its first 12 bytes (magic and version checked)."""
    if len(prefix) < 12 or prefix[:6] != MAGIC:
        raise CorruptFile("not a sealed file (no SVSEAL magic)", code="not_sealed")
    if prefix[6] != VERSION:
        raise CorruptFile(
            f"sealed format version {prefix[6]} is not supported (this reader knows {VERSION})",
            code="unsupported_version",
        )
    return int.from_bytes(prefix[8:12], "big")


def parse_header(buf: bytes) -> SealedHeader:
    if len(buf) < FIXED.size:
        raise CorruptFile(f"sealed header is cut short ({len(buf)} bytes)", code="truncated")
    total = header_length(buf)
    (_, version, flags, _, kem, kdf, aead, reserved, block_bytes, original, key_id, file_id, prefix, wrapped_len) = (
        FIXED.unpack_from(buf)
    )
    if (kem, kdf, aead) != (KEM_ID, KDF_ID, AEAD_ID):
        raise CorruptFile(f"unsupported suite kem={kem:#06x} kdf={kdf:#06x} aead={aead:#06x}", code="unsupported_suite")
    if flags & ~FLAG_ZSTD or reserved:
        raise CorruptFile(f"sealed header sets unknown flags {flags:#04x}", code="unsupported_version")
    if wrapped_len != WRAPPED_KEY_BYTES or total != FIXED.size + wrapped_len or not 1 <= block_bytes <= MAX_BLOCK_BYTES:
        raise CorruptFile("sealed header's lengths are inconsistent", code="header_tampered")
    if len(buf) < total:
        raise CorruptFile(f"sealed header is cut short ({len(buf)} of {total} bytes)", code="truncated")
    return SealedHeader(flags, block_bytes, original, key_id, file_id, prefix, bytes(buf[FIXED.size : total]), version)


def read_header(fd: int) -> SealedHeader:
    prefix = pread_exact(fd, FIXED.size, 0, "sealed header")
    total = header_length(prefix)
    return parse_header(prefix + pread_exact(fd, max(0, total - FIXED.size), FIXED.size, "sealed header"))


def open_data_key(header: SealedHeader, private_key: hpke.MLKEM768X25519PrivateKey, key_id: bytes) -> DataKey:
    """Unwrap the data key with the private key whose id is ``key_id`` (the header names its key)."""
    if key_id != header.key_id:
        raise AuthenticationFailed(
            f"the file is sealed to key {header.key_id.hex()}, not to key {key_id.hex()}", code="wrong_key"
        )
    try:
        return DataKey(SUITE.decrypt(header.wrapped_key, private_key, info=header.info()))
    except InvalidTag:
        raise AuthenticationFailed(
            "the sealed header does not authenticate: a header field or the wrapped key was altered",
            code="header_tampered",
        ) from None


def rewrap_header(
    header: SealedHeader, private_key: hpke.MLKEM768X25519PrivateKey, old_key_id: bytes, recipient: Recipient
) -> SealedHeader:
    """The same file's header re-wrapped to ``recipient``: the blocks stay valid as they are."""
    key = open_data_key(header, private_key, old_key_id)
    return _wrap(header, key.material, recipient)


# --- blocks ---------------------------------------------------------------------------------------


def nonce(prefix: bytes, index: int) -> bytes:
    return _NONCE.pack(prefix, index)


def associated_data(file_id: bytes, index: int, last: bool) -> bytes:
    return _AD.pack(file_id, index, last)


def seal_block(key: DataKey, header: SealedHeader, index: int, plaintext: bytes | memoryview, level: int = 3) -> bytes:
    """The record of block ``index`` as it is written to the file (reference path, allocating)."""
    last = index == header.n_blocks - 1
    ad = associated_data(header.file_id, index, last)
    if header.compressed:
        frame = zstandard.ZstdCompressor(level=level, write_checksum=False).compress(plaintext)
        sealed = key.aead.encrypt(nonce(header.nonce_prefix, index), frame, ad)
        return LENGTH.pack(len(sealed)) + sealed
    return key.aead.encrypt(nonce(header.nonce_prefix, index), plaintext, ad)


def open_block(key: DataKey, header: SealedHeader, index: int, record: bytes | memoryview) -> bytes:
    """The plaintext of the record at position ``index``, or the error that says what is wrong."""
    body = memoryview(record)
    if header.compressed:
        if len(body) < LENGTH.size or LENGTH.unpack_from(body)[0] != len(body) - LENGTH.size:
            raise CorruptFile(f"block {index}: record length does not match its prefix", code="corrupt_block")
        body = body[LENGTH.size :]
    try:
        plain = key.aead.decrypt(
            nonce(header.nonce_prefix, index),
            body,
            associated_data(header.file_id, index, index == header.n_blocks - 1),
        )
    except InvalidTag:
        raise explain_block_failure(key, header, index, body) from None
    if header.compressed:
        plain = decompress_block(plain, header.plain_bytes(index), index)
    if len(plain) != header.plain_bytes(index):
        raise CorruptFile(
            f"block {index} holds {len(plain)} bytes, the header says {header.plain_bytes(index)}", code="corrupt_block"
        )
    return plain


def decompress_block(frame: bytes | memoryview, expected: int, index: int) -> bytes:
    """A sealed block's zstd frame, refused unless it declares exactly ``expected`` bytes."""
    try:
        declared = zstandard.frame_content_size(frame)
        if declared != expected:
            raise CorruptFile(
                f"block {index}'s frame declares {declared} bytes, the header says {expected}", code="corrupt_block"
            )
        return zstandard.ZstdDecompressor().decompress(frame, max_output_size=expected)
    except zstandard.ZstdError as exc:
        raise CorruptFile(f"block {index}'s zstd frame is corrupt: {exc}", code="corrupt_block") from None


def explain_block_failure(
    key: DataKey, header: SealedHeader, position: int, body: bytes | memoryview, tries: int = 4096
) -> AuthenticationFailed:
    """Why the block at ``position`` failed: sealed for another position (reordered or duplicated),
    or not sealed under this file's key and id at all (altered, or spliced from another file).
    Runs only on failure; tries at most ``tries`` positions around ``position``."""
    n = header.n_blocks
    lo, hi = max(0, position - tries // 2), min(n, position + tries // 2)
    for j in range(lo, hi):
        if j == position:
            continue
        try:
            key.aead.decrypt(nonce(header.nonce_prefix, j), body, associated_data(header.file_id, j, j == n - 1))
        except InvalidTag:
            continue
        return AuthenticationFailed(
            f"block at position {position} is block {j} of this file: blocks were reordered or duplicated",
            code="blocks_reordered",
            metadata={"position": position, "block": j},
        )
    return AuthenticationFailed(
        f"block {position} does not authenticate: its bytes were altered, or it was spliced in from another file",
        code="block_tampered",
        metadata={"position": position},
    )


@dataclass(frozen=True)
class Record:
    index: int
    offset: int
    length: int  # bytes of the record in the file (length prefix included in zstd mode)
    plain_bytes: int
    last: bool


def iter_records(fd: int, header: SealedHeader, file_bytes: int | None = None) -> Iterator[Record]:
    """Where each block's record is. Plain mode checks the file size first (cut or padded files fail
    before any block); zstd mode reads each length prefix (one pread per block)."""
    size = os.fstat(fd).st_size if file_bytes is None else file_bytes
    n, expected = header.n_blocks, header.sealed_bytes()
    if expected is not None and size != expected:
        what, code = ("truncated", "truncated") if size < expected else ("followed by extra bytes", "trailing_data")
        raise CorruptFile(
            f"sealed file is {what}: {size} bytes, its header promises {expected}",
            code=code,
            metadata={"size": size, "expected": expected},
        )
    pos = header.header_bytes
    bound = header.block_bytes + (header.block_bytes >> 7) + 1024 + TAG_BYTES  # zstd's bound, generously
    for i in range(n):
        if header.compressed:
            length = LENGTH.size + LENGTH.unpack(pread_exact(fd, LENGTH.size, pos, f"block {i}'s length"))[0]
            if length > LENGTH.size + bound or length < LENGTH.size + TAG_BYTES:
                raise CorruptFile(f"block {i}'s length prefix {length} is impossible", code="corrupt_block")
            if pos + length > size:
                raise CorruptFile(f"sealed file is truncated inside block {i}", code="truncated")
        else:
            length = header.plain_bytes(i) + TAG_BYTES
        yield Record(i, pos, length, header.plain_bytes(i), i == n - 1)
        pos += length
    if pos != size:
        raise CorruptFile(f"sealed file has {size - pos} bytes after its last block", code="trailing_data")
