"""zstd and lz4 frames made to lie: declared sizes forged in the header, sizes left out, frames cut.

zstd (RFC 8878): magic, Frame_Header_Descriptor (bits 7-6 Frame_Content_Size_flag, bit 5
Single_Segment, bit 2 checksum, bits 1-0 dictionary id), Window_Descriptor unless single-segment, the
content size, then the blocks. A frame made without a content size is rebuilt with an 8-byte one.

lz4 (lz4 frame format 1.6.x): magic, FLG (bit 3 content size present), BD, the 8-byte content size,
then HC = (xxh32(FLG..content size) >> 8) & 0xFF, then the blocks; HC is recomputed, so the forged
header is well formed and only its size lies.
"""

from __future__ import annotations

import struct

import lz4.frame
import zstandard

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
LZ4_MAGIC = b"\x04\x22\x4d\x18"
_P1, _P2, _P3, _P4, _P5 = 2654435761, 2246822519, 3266489917, 668265263, 374761393
_M = 0xFFFFFFFF


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _M


def xxh32(data: bytes, seed: int = 0) -> int:
    """XXH32 (the lz4 frame header checksum), in Python: it only ever sees a few header bytes here."""
    n, i = len(data), 0
    if n >= 16:
        v = [(seed + _P1 + _P2) & _M, (seed + _P2) & _M, seed & _M, (seed - _P1) & _M]
        while i + 16 <= n:
            for k in range(4):
                lane = int.from_bytes(data[i + 4 * k : i + 4 * k + 4], "little")
                v[k] = (_rotl((v[k] + lane * _P2) & _M, 13) * _P1) & _M
            i += 16
        h = (_rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)) & _M
    else:
        h = (seed + _P5) & _M
    h = (h + n) & _M
    while i + 4 <= n:
        h = (_rotl((h + int.from_bytes(data[i : i + 4], "little") * _P3) & _M, 17) * _P4) & _M
        i += 4
    while i < n:
        h = (_rotl((h + data[i] * _P5) & _M, 11) * _P1) & _M
        i += 1
    h ^= h >> 15
    h = (h * _P2) & _M
    h ^= h >> 13
    h = (h * _P3) & _M
    return h ^ (h >> 16)


def zstd_frame(data: bytes, *, declare: bool = True, level: int = 3) -> bytes:
    return zstandard.ZstdCompressor(level=level, write_content_size=declare, write_checksum=False).compress(data)


def zstd_declaring(data: bytes, declared: int, level: int = 3) -> bytes:
    """A real frame of ``data`` whose header declares ``declared`` bytes (8-byte content size)."""
    frame = zstd_frame(data, declare=False, level=level)
    fhd = frame[4]
    assert fhd & 0xE3 == 0, "made without a content size, checksum or dictionary"
    window = frame[5:6]  # not single-segment: the window descriptor follows the descriptor
    return ZSTD_MAGIC + bytes([fhd | 0xC0]) + window + struct.pack("<Q", declared) + frame[6:]


def lz4_frame(data: bytes, *, declare: bool = True) -> bytes:
    out: bytes = lz4.frame.compress(data, store_size=declare, content_checksum=False)
    return out


def lz4_declaring(data: bytes, declared: int) -> bytes:
    """A real lz4 frame of ``data`` whose header declares ``declared`` bytes, with a valid header checksum."""
    frame = lz4_frame(data, declare=False)
    flg, bd = frame[4], frame[5]
    assert not flg & 0x09, "made without a content size or dictionary id"
    descriptor = bytes([flg | 0x08, bd]) + struct.pack("<Q", declared)
    return LZ4_MAGIC + descriptor + bytes([(xxh32(descriptor) >> 8) & 0xFF]) + frame[7:]
