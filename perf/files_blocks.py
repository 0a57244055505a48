"""Per-block cost of the file-job worker kinds, for orientation (not a recorded benchmark):
``python -m perf.files_blocks [--file-mib 256] [--skip-cli]``.

1. Each handler on 1 MiB blocks of mixed data (half random, half text), slot to slot, median of
   interleaved rounds: what one worker can reach per core.
2. One process running the handlers over a whole file in /dev/shm (read into the slot with preadv,
   handler, write from the slot): a one-core floor for a job, beside the CLIs on the same file
   (`zstd -T2 -3`, `zstd -d --no-sparse`, `lz4 -1`, `age`).
3. A 4 KiB range read from the middle of a zstd seekable file (1 MiB frames).
"""

from __future__ import annotations

import argparse
import mmap
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import lz4.frame
import numpy as np
import zstandard

from engine.core.agents.params import encode_params
from engine.core.agents.registry import build_handlers
from engine.core.agents.sealing import write_slot_header
from engine.core.codes import Kind
from engine.files.sealed import DataKey, SealedHeader, new_header
from engine.files.zstd_frames import frame_checksum
from engine.files.zstd_seekable import SeekTableBuilder, read_range, read_seek_table
from engine.keys.keyfile import Recipient, key_id_of, xwing_private_key

if TYPE_CHECKING:
    from collections.abc import Callable

MIB = 1 << 20
SLOT = MIB + 8192
TEXT = b"SigmaVault keeps the NAS's files safe: blocks are compressed, sealed and written in order. "


def mixed(n: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    words = rng.integers(0, len(TEXT) - 16, size=n // 32 + 1)
    text = b"".join(TEXT[w : w + 16] for w in words.tolist())[: n - n // 2]
    return bytes(rng.integers(0, 256, n // 2, dtype=np.uint8)) + text


def slot() -> memoryview:
    return memoryview(mmap.mmap(-1, SLOT))


def recipient() -> Recipient:
    _, public = xwing_private_key(os.urandom(32))
    return Recipient(key_id_of(public), public)


def per_block(rounds: int) -> None:
    handlers = build_handlers(os.urandom(32))
    block = mixed(MIB, 1)
    header, key = new_header(recipient(), original_bytes=4 * MIB, block_bytes=MIB)
    zheader, zkey = new_header(recipient(), original_bytes=4 * MIB, block_bytes=MIB, compressed=True)
    cases: dict[str, tuple[Kind, memoryview, int, int]] = {}

    def add(
        name: str,
        kind: Kind,
        payload: bytes,
        params: dict[str, object],
        hdr: tuple[SealedHeader, DataKey] | None = None,
        plain: int = 0,
    ) -> bytes:
        src = slot()
        at = 0
        if hdr is not None:
            h, k = hdr
            at = write_slot_header(src, k, h.file_id, h.nonce_prefix, 0, False, plain)
        src[at : at + len(payload)] = payload
        param = encode_params(kind, params)
        cases[name] = (kind, src, at + len(payload), param)
        dst = slot()
        n = handlers[kind](src, at + len(payload), param, dst)
        return bytes(dst[:n])

    zframe = add("zstd_frame level 3", Kind.ZSTD_FRAME, block, {"level": 3})
    add("zstd_frame level 1", Kind.ZSTD_FRAME, block, {"level": 1})
    lframe = add("lz4_frame level 0", Kind.LZ4_FRAME, block, {"level": 0})
    add("decompress zstd frame", Kind.DECOMPRESS, zframe, {"codec": "zstd"})
    add("decompress lz4 frame", Kind.DECOMPRESS, lframe, {"codec": "lz4"})
    record = add("seal_block plain", Kind.SEAL_BLOCK, block, {}, (header, key))
    zrecord = add("seal_block zstd-3", Kind.SEAL_BLOCK, block, {"codec": "zstd", "level": 3}, (zheader, zkey))
    add("open_block plain", Kind.OPEN_BLOCK, record, {}, (header, key), MIB)
    add("open_block zstd", Kind.OPEN_BLOCK, zrecord, {"codec": "zstd"}, (zheader, zkey), MIB)
    add("encrypt (legacy inline kind)", Kind.ENCRYPT, block, {})
    times: dict[str, list[float]] = {name: [] for name in cases}
    dst = slot()
    for _ in range(rounds):
        for name, (kind, src, length, param) in cases.items():
            t0 = time.perf_counter()
            handlers[kind](src, length, param, dst)
            times[name].append(time.perf_counter() - t0)
    print(f"per 1 MiB block (mixed data), median of {rounds} interleaved rounds, one core:")
    for name, values in times.items():
        med = statistics.median(values)
        print(f"  {name:32s} {med * 1e6:8.0f} us  {MIB / med / 1e6:8.0f} MB/s")
    print(f"  sizes: zstd-3 frame {len(zframe)}, lz4 frame {len(lframe)}, sealed zstd record {len(zrecord)}")
    lz4_variants(block, rounds)


def lz4_variants(block: bytes, rounds: int) -> None:
    variants: dict[str, dict[str, Any]] = {
        "64KB blocks, linked, no checksums (lz4 defaults)": {},
        "64KB independent + content/block sums": {
            "block_linked": False,
            "content_checksum": True,
            "block_checksum": True,
        },
        "1MB independent + content/block sums": {
            "block_size": 6,
            "block_linked": False,
            "content_checksum": True,
            "block_checksum": True,
        },
        "1MB independent + content sum": {"block_size": 6, "block_linked": False, "content_checksum": True},
    }
    frames = {k: lz4.frame.compress(block, **v) for k, v in variants.items()}
    res: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in variants}
    for _ in range(rounds):
        for k, v in variants.items():
            t0 = time.perf_counter()
            lz4.frame.compress(block, **v)
            t1 = time.perf_counter()
            lz4.frame.decompress(frames[k])
            res[k][0].append(t1 - t0)
            res[k][1].append(time.perf_counter() - t1)
    print("lz4 frame options (compress / decompress us per MiB):")
    for k, (c, d) in res.items():
        print(f"  {k:52s} {statistics.median(c) * 1e6:6.0f} / {statistics.median(d) * 1e6:6.0f}  ({len(frames[k])} B)")


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


def whole_file(mib: int, skip_cli: bool) -> None:
    handlers = build_handlers(os.urandom(32))
    with tempfile.TemporaryDirectory(dir="/dev/shm") as tmp:
        d = Path(tmp)
        src = d / "input"
        with open(src, "wb") as f:
            for i in range(mib):
                f.write(mixed(MIB, 100 + i))  # distinct blocks
        header, key = new_header(recipient(), original_bytes=mib * MIB, block_bytes=MIB)

        def run(kind: Kind, params: dict[str, object], out: Path, sealed: bool = False) -> None:
            s, t = slot(), slot()
            param = encode_params(kind, params)
            fin, fout = os.open(src, os.O_RDONLY), os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                for i in range(mib):
                    at = (
                        write_slot_header(s, key, header.file_id, header.nonce_prefix, i, i == mib - 1) if sealed else 0
                    )
                    n = os.preadv(fin, [s[at : at + MIB]], i * MIB)
                    m = handlers[kind](s, at + n, param, t)
                    os.write(fout, t[:m])
            finally:
                os.close(fin)
                os.close(fout)

        rows = {
            "one process: zstd_frame -3": timed(lambda: run(Kind.ZSTD_FRAME, {"level": 3}, d / "o.zst")),
            "one process: lz4_frame": timed(lambda: run(Kind.LZ4_FRAME, {"level": 0}, d / "o.lz4")),
            "one process: seal_block plain": timed(lambda: run(Kind.SEAL_BLOCK, {}, d / "o.sv", sealed=True)),
        }
        if not skip_cli:
            sh("age-keygen", "-o", str(d / "age.key"))
            recip = next(
                line.split(": ")[1] for line in (d / "age.key").read_text().splitlines() if "public key" in line
            )
            rows |= {
                "zstd -T2 -3": timed(lambda: sh("zstd", "-T2", "-3", "-q", "-f", str(src), "-o", str(d / "c.zst"))),
                "zstd -d --no-sparse": timed(
                    lambda: sh("zstd", "-d", "-q", "-f", "--no-sparse", str(d / "c.zst"), "-o", str(d / "c.out"))
                ),
                "lz4 -1": timed(lambda: sh("lz4", "-1", "-q", "-f", str(src), str(d / "c.lz4"))),
                "age encrypt": timed(lambda: sh("age", "-r", recip, "-o", str(d / "c.age"), str(src))),
                "age decrypt": timed(
                    lambda: sh("age", "-d", "-i", str(d / "age.key"), "-o", str(d / "c.dec"), str(d / "c.age"))
                ),
            }
        print(f"whole {mib} MiB file in /dev/shm (tmpfs), one run each (orientation only):")
        for name, secs in rows.items():
            print(f"  {name:32s} {secs:7.2f} s  {mib * MIB / secs / 1e6:7.0f} MB/s")
        for name in ("o.zst", "c.zst", "o.lz4", "c.lz4"):
            if (d / name).exists():
                print(f"  size {name}: {(d / name).stat().st_size / (mib * MIB):.4f} of the input")


def range_reads(n: int) -> None:
    data = b"".join(mixed(MIB, 500 + i) for i in range(64))
    cctx = zstandard.ZstdCompressor(level=3, write_checksum=True)
    builder, parts = SeekTableBuilder(), []
    for i in range(0, len(data), MIB):
        frame = cctx.compress(data[i : i + MIB])
        builder.add(len(frame), MIB, frame_checksum(frame))
        parts.append(frame)
    with tempfile.NamedTemporaryFile(dir="/dev/shm") as f:
        f.write(b"".join(parts) + builder.to_bytes())
        f.flush()
        fd = f.fileno()
        rng = np.random.default_rng(3)
        lat = []
        for off in rng.integers(0, len(data) - 4096, n).tolist():
            t0 = time.perf_counter()
            table = read_seek_table(fd)
            assert table is not None
            out = read_range(fd, table, off, 4096)
            lat.append(time.perf_counter() - t0)
            assert out == data[off : off + 4096]
        lat.sort()
        print(
            f"4 KiB range read at random offsets of a 64 MiB seekable file (1 MiB frames), table read each time:"
            f" p50 {lat[len(lat) // 2] * 1e3:.2f} ms, p90 {lat[int(len(lat) * 0.9)] * 1e3:.2f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--file-mib", type=int, default=256)
    parser.add_argument("--skip-cli", action="store_true")
    args = parser.parse_args()
    per_block(args.rounds)
    range_reads(200)
    whole_file(args.file_mib, args.skip_cli)


if __name__ == "__main__":
    main()
